package web_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"signoff/internal/database/dbtest"
	"signoff/internal/sso/oidctest"
)

// The W3C Nu HTML checker (vnu.jar, from the npm package vnu-jar, on
// Debian's Java) checks every HTML page the HTTP and browser tests of this
// package fetch: each distinct page is saved as the tests run, and
// TestMain runs the checker over them once every test has finished. One
// error fails the run. make test-deps installs the checker.

var pages = struct {
	sync.Mutex
	dir  string
	seen map[string]bool
	n    int
}{seen: map[string]bool{}}

// maxPages bounds the pages kept for the checker.
const maxPages = 1500

// idNumbers stands for the numbers in a path, so that pages of one route
// with the same content are checked once.
var idNumbers = regexp.MustCompile(`[0-9]+`)

// keepPage saves an HTML page for the checker, once per content.
func keepPage(method, path string, status int, header http.Header, body []byte) {
	// Redirects carry a stub of HTML from net/http, not a page of ours.
	if !strings.HasPrefix(header.Get("Content-Type"), "text/html") || len(body) == 0 || (status >= 300 && status < 400) {
		return
	}
	sum := sha256.Sum256(body)
	key := hex.EncodeToString(sum[:12])
	pages.Lock()
	defer pages.Unlock()
	if pages.dir == "" || pages.seen[key] || pages.n >= maxPages {
		return
	}
	pages.seen[key] = true
	pages.n++
	name := fmt.Sprintf("%04d-%s-%d-%s.html", pages.n, method, status, strings.Trim(idNumbers.ReplaceAllString(strings.NewReplacer("/", "_", "?", "_", "&", "_", "=", "-", "%", "").Replace(path), "N"), "_"))
	if len(name) > 150 {
		name = name[:150] + ".html"
	}
	_ = os.WriteFile(filepath.Join(pages.dir, name), body, 0o644)
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "signoff-pages-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pages.dir = dir
	code := m.Run()
	oidctest.StopShared()
	dbtest.Shutdown()
	if msg := postProblems(); msg != "" {
		fmt.Fprintln(os.Stderr, "post/redirect/get:\n"+msg)
		code = 1
	}
	if code == 0 && pages.n > 0 {
		if msg := nuCheck(dir); msg != "" {
			fmt.Fprintln(os.Stderr, msg)
			code = 1
		} else {
			fmt.Printf("nu checker: %d pages, 0 errors\n", pages.n)
		}
	}
	if code == 0 {
		_ = os.RemoveAll(dir)
	} else {
		fmt.Fprintf(os.Stderr, "the pages checked are kept in %s\n", dir)
	}
	os.Exit(code)
}

// vnuJar finds the checker where make test-deps puts it.
func vnuJar() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	jar := filepath.Join(cache, "signoff", "vnu", "node_modules", "vnu-jar", "build", "dist", "vnu.jar")
	if _, err := os.Stat(jar); err != nil {
		return "", fmt.Errorf("the Nu HTML checker is not at %s: run make test-deps", jar)
	}
	return jar, nil
}

type nuMessage struct {
	Type     string `json:"type"`
	SubType  string `json:"subType"`
	URL      string `json:"url"`
	LastLine int    `json:"lastLine"`
	Message  string `json:"message"`
	Extract  string `json:"extract"`
}

// nuCheck runs the checker over the folder and describes its errors ("" for none).
func nuCheck(dir string) string {
	jar, err := vnuJar()
	if err != nil {
		return "nu checker: " + err.Error()
	}
	java, err := exec.LookPath("java")
	if err != nil {
		return "nu checker: no java (install default-jre-headless, or run make test-deps)"
	}
	var out, stderr bytes.Buffer
	cmd := exec.Command(java, "-Xss1024k", "-jar", jar, "--errors-only", "--format", "json", "--skip-non-html", dir)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	runErr := cmd.Run()
	var res struct {
		Messages []nuMessage `json:"messages"`
	}
	// The checker writes its JSON report to stderr, and exits 1 when it found errors.
	report := stderr.Bytes()
	if len(bytes.TrimSpace(report)) == 0 {
		report = out.Bytes()
	}
	if err := json.Unmarshal(report, &res); err != nil {
		return fmt.Sprintf("nu checker: %v (%v)\n%s", err, runErr, stderr.String())
	}
	var lines []string
	for _, m := range res.Messages {
		if m.Type != "error" && m.SubType != "fatal" {
			continue
		}
		lines = append(lines, fmt.Sprintf("%s:%d: %s\n\t%s", filepath.Base(m.URL), m.LastLine, m.Message, strings.TrimSpace(m.Extract)))
	}
	if len(lines) == 0 {
		return ""
	}
	sort.Strings(lines)
	return fmt.Sprintf("nu checker: %d errors in the pages the tests fetched:\n%s", len(lines), strings.Join(lines, "\n"))
}

// TestNuCheckerFindsErrors: the checker runs, and reports a broken page.
func TestNuCheckerFindsErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := `<!DOCTYPE html><html lang="en"><head><title>x</title></head><body><p id="a">one</p><p id="a">two</p><div aria-describedby="">x</div></body></html>`
	if err := os.WriteFile(filepath.Join(dir, "bad.html"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	msg := nuCheck(dir)
	if !strings.Contains(msg, "Duplicate ID") || !strings.Contains(msg, "aria-describedby") {
		t.Fatalf("the checker did not report the broken page:\n%s", msg)
	}
}
