package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// lockedBuffer is an io.Writer a server process writes to while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// built is the signoff binary, built once for every test that runs it as
// a process of its own.
var built struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

// buildSignoff builds this command once per test run, in a folder the
// private cluster's postgres user may enter when the tests run as root,
// and returns the binary's path.
func buildSignoff(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "signoff-bin-")
		if err != nil {
			built.err = err
			return
		}
		_ = os.Chmod(dir, 0o755)
		built.path = filepath.Join(dir, "signoff")
		build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", built.path, ".")
		built.out, built.err = build.CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("go build: %v\n%s", built.err, built.out)
	}
	return built.path
}
