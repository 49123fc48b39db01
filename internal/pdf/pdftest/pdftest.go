// Package pdftest reads PDFs in tests with the command-line tools Debian
// ships (poppler-utils: pdftotext, pdfinfo, pdfsig, pdftoppm; and qpdf).
// They are required, not optional: `make test-deps` installs them.
package pdftest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Tool is the path of a command-line tool, failing the test when it is
// not installed.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found in PATH: install poppler-utils and qpdf (make test-deps, or apt-get install -y poppler-utils qpdf)", name)
	}
	return p
}

// File writes data to a new file in the test's temporary folder and
// returns its path.
func File(t testing.TB, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "document.pdf")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Run runs a tool and returns what it wrote to its standard output,
// failing the test (with both outputs) when it fails.
func Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(Tool(t, name), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// Sig is pdfsig's report on a PDF: its signatures and whether each
// validates. (pdfsig's exit status is not checked: it fails for a file
// without signatures, which a test may mean to show.)
func Sig(t testing.TB, data []byte) string {
	t.Helper()
	out, _ := exec.Command(Tool(t, "pdfsig"), File(t, data)).CombinedOutput()
	return string(out)
}
