// Command withdb starts one throwaway PostgreSQL cluster, runs the command
// given on its command line with TEST_DATABASE_URL pointing at it, then
// stops and removes the cluster. `make test` uses it so that every test
// package of a run shares one server (each test still gets its own
// database cloned from a migrated template).
//
//	go run ./internal/database/dbtest/withdb go test -race ./...
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"signoff/internal/database/dbtest"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: withdb COMMAND [ARG...]")
		os.Exit(2)
	}
	if os.Getenv("TEST_DATABASE_URL") != "" {
		os.Exit(run(os.Args[1:]))
	}
	c, stop, err := dbtest.StartCluster(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "withdb:", err)
		os.Exit(1)
	}
	os.Setenv("TEST_DATABASE_URL", c.URL("postgres"))
	code := run(os.Args[1:])
	stop()
	os.Exit(code)
}

func run(args []string) int {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	signal.Ignore(syscall.SIGINT) // the child gets Ctrl-C; we clean up after it
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "withdb:", err)
		return 1
	}
	return 0
}
