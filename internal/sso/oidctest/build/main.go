// Command build builds the tests' OpenID provider (ORY Hydra) into the
// cache that oidctest uses, so that `make test-deps` pays for it once,
// before the tests run in parallel.
package main

import (
	"fmt"
	"os"

	"signoff/internal/sso/oidctest"
)

func main() {
	path, err := oidctest.Binary()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("OpenID provider for tests:", path)
}
