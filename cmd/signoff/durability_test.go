package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"signoff/internal/database"
)

// serverProcess is a `signoff serve` process over a private cluster.
type serverProcess struct {
	t    *testing.T
	cmd  *exec.Cmd
	logs *lockedBuffer
}

func startServe(t *testing.T, bin, addr, data string, logs *lockedBuffer) *serverProcess {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--demo")
	cmd.Env = append(os.Environ(), "SIGNOFF_ADDR="+addr, "SIGNOFF_DATA="+data, "SIGNOFF_BASE_URL=http://"+addr, "DATABASE_URL=")
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &serverProcess{t: t, cmd: cmd, logs: logs}
	waitServeReady(t, addr, 45*time.Second, logs)
	return s
}

func waitServeReady(t *testing.T, addr string, d time.Duration, logs *lockedBuffer) {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Second}
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		res, err := c.Get("http://" + addr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
	}
	t.Fatalf("server on %s not ready within %v; log:\n%s", addr, d, logs.String())
}

func (s *serverProcess) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_, _ = s.cmd.Process.Wait()
}

// signer is one member of staff signing through HTTP.
type signer struct {
	email, first, last string
	c                  *http.Client
}

type ack struct {
	email string
	form  string
	ref   string
}

var (
	formLinkRE = regexp.MustCompile(`href="/forms/(\d+)"`)
	versionRE  = regexp.MustCompile(`name="version_id" value="(\d+)"`)
	sigRefRE   = regexp.MustCompile(`^/signatures/(SG-[0-9A-Z-]+)`)
)

// signAll signs in and signs every form the person owes, retrying through
// errors (the server or its database may be down for a moment); it
// returns each signature the server acknowledged (answered with its
// reference).
func (s *signer) signAll(base string, stop <-chan struct{}) ([]ack, error) {
	var acks []ack
	try := func(f func() error) error {
		var err error
		for range 200 {
			if err = f(); err == nil {
				return nil
			}
			select {
			case <-stop:
				return err
			case <-time.After(150 * time.Millisecond):
			}
		}
		return err
	}
	post := func(path string, form url.Values) (*http.Response, string, error) {
		res, err := s.c.PostForm(base+path, form)
		if err != nil {
			return nil, "", err
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res, string(body), nil
	}
	get := func(path string) (int, string, error) {
		res, err := s.c.Get(base + path)
		if err != nil {
			return 0, "", err
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body), nil
	}
	err := try(func() error {
		res, _, err := post("/sign-in", url.Values{"email": {s.email}, "password": {"hollybrook-demo"}})
		if err != nil {
			return err
		}
		if res.StatusCode != http.StatusSeeOther {
			return fmt.Errorf("sign in: %d", res.StatusCode)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var owed []string
	err = try(func() error {
		status, body, err := get("/")
		if err != nil || status != 200 {
			return fmt.Errorf("home: %d %v", status, err)
		}
		owed = nil
		for _, m := range formLinkRE.FindAllStringSubmatch(body, -1) {
			owed = append(owed, m[1])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, form := range owed {
		err := try(func() error {
			status, body, err := get("/forms/" + form)
			if err != nil || status != 200 {
				return fmt.Errorf("form %s: %d %v", form, status, err)
			}
			m := versionRE.FindStringSubmatch(body)
			if m == nil {
				return nil // signed already (the home page lists signed forms too)
			}
			res, _, err := post("/forms/"+form, url.Values{"version_id": {m[1]}, "agree": {"yes"}, "typed_name": {s.first + " " + s.last}})
			if err != nil {
				return err
			}
			ref := sigRefRE.FindStringSubmatch(res.Header.Get("Location"))
			if res.StatusCode != http.StatusSeeOther || ref == nil {
				return fmt.Errorf("sign form %s: %d %s", form, res.StatusCode, res.Header.Get("Location"))
			}
			acks = append(acks, ack{email: s.email, form: form, ref: ref[1]})
			return nil
		})
		if err != nil {
			return acks, err
		}
	}
	return acks, nil
}

// TestDurabilityUnderKills runs the real binary over its private
// PostgreSQL with staff signing concurrently over HTTP; the server is
// killed with SIGKILL and started again, then the cluster's postmaster is
// killed with SIGKILL and the server's supervision must bring it back by
// itself. Every signature the server acknowledged must be there exactly
// once, and nobody may hold two signatures of one version.
func TestDurabilityUnderKills(t *testing.T) {
	dir, err := os.MkdirTemp("", "signoff-durability-")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(dir, 0o755) // the cluster runs as postgres when we are root
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	bin := buildSignoff(t)
	addr := freeAddr(t)
	data := filepath.Join(dir, "data")
	logs := &lockedBuffer{}
	start := time.Now()
	srv := startServe(t, bin, addr, data, logs)
	pgDir := filepath.Join(data, "postgres")
	t.Cleanup(func() {
		srv.kill()
		if c, err := database.NewCluster(pgDir, nil); err == nil {
			_ = c.Stop(context.Background())
		}
	})

	// The demo's staff sign what they owe, eight at a time.
	f, err := os.Open("../../internal/demo/content/staff.csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bufio.NewReader(f)).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	jobs := make(chan []string, len(rows))
	for _, r := range rows[1:] {
		if r[4] != "" {
			jobs <- r
		}
	}
	close(jobs)
	stop := make(chan struct{})
	var mu sync.Mutex
	var acks []ack
	var failures []string
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range jobs {
				jar, _ := cookiejar.New(nil)
				s := &signer{email: r[4], first: r[2], last: r[3], c: &http.Client{Jar: jar, Timeout: 20 * time.Second,
					CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
				got, err := s.signAll("http://"+addr, stop)
				mu.Lock()
				acks = append(acks, got...)
				if err != nil {
					failures = append(failures, s.email+": "+err.Error())
				}
				mu.Unlock()
			}
		}()
	}
	acked := func() int { mu.Lock(); defer mu.Unlock(); return len(acks) }
	waitAcks := func(n int) {
		for deadline := time.Now().Add(20 * time.Second); acked() < n && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		}
	}

	// Kill the server mid-load, and start it again on the same data.
	waitAcks(5)
	srv.kill()
	killedServerAt := acked()
	srv = startServe(t, bin, addr, data, logs)

	// Kill the postmaster mid-load: supervision must restart it.
	waitAcks(killedServerAt + 5)
	pid := postmasterPID(t, pgDir)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill postmaster %d: %v", pid, err)
	}
	killedPGAt := acked()
	wg.Wait()
	close(stop)
	if len(failures) > 0 {
		t.Errorf("signers gave up: %v", failures)
		_ = os.WriteFile(filepath.Join(os.TempDir(), "signoff-durability.log"), []byte(logs.String()), 0o644)
		t.Logf("server log in %s", filepath.Join(os.TempDir(), "signoff-durability.log"))
	}
	if !strings.Contains(logs.String(), "was restarted") {
		t.Errorf("the server did not log restarting PostgreSQL:\n%s", logs.String())
	}
	t.Logf("%d signatures acknowledged (%d before the server was killed, %d before PostgreSQL was) in %v",
		len(acks), killedServerAt, killedPGAt, time.Since(start).Round(time.Millisecond))
	if killedPGAt >= len(acks) {
		t.Errorf("no signature was acknowledged after PostgreSQL was killed")
	}

	// Every acknowledged signature is stored once; nobody signed twice.
	c, err := database.NewCluster(pgDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	db, err := database.Open(context.Background(), c.URL("signoff"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	seen := map[string]bool{}
	for _, a := range acks {
		if seen[a.ref] {
			t.Errorf("reference %s acknowledged twice", a.ref)
		}
		seen[a.ref] = true
		var n int
		var email string
		if err := db.Pool.QueryRow(ctx, `SELECT count(*), coalesce(min(p.email), '') FROM signatures s JOIN people p ON p.id = s.person_id
			WHERE s.reference = $1`, a.ref).Scan(&n, &email); err != nil {
			t.Fatal(err)
		}
		if n != 1 || email != a.email {
			t.Errorf("acknowledged signature %s (%s, form %s): %d stored, signer %q", a.ref, a.email, a.form, n, email)
		}
	}
	var dups int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM signatures WHERE pupil_id IS NULL
		GROUP BY person_id, form_id, version_id, academic_year, part HAVING count(*) > 1) d`).Scan(&dups); err != nil {
		t.Fatal(err)
	}
	if dups != 0 {
		t.Errorf("%d people hold two signatures of one version", dups)
	}
}

func postmasterPID(t *testing.T, pgDir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(pgDir, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}
