package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"signoff/internal/database/dbtest"
	"signoff/internal/demo"
	"signoff/internal/signkey"
)

// TestBackupRestoreRoundTrip serves the demo from a data folder with its
// private cluster, has a member of staff sign, backs everything up while
// the server runs, restores into a fresh data folder, serves that, and
// checks that what people see is the same: the office's dashboard, the
// signed copy's bytes and its verification, and the sessions of people
// signed in before the backup (the session key came back too).
func TestBackupRestoreRoundTrip(t *testing.T) {
	t.Parallel()
	root, err := os.MkdirTemp("", "signoff-backup-test-")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(root, 0o755) // reachable by the postgres user when run as root
	t.Cleanup(func() { _ = os.RemoveAll(root) })
	dataA, dataB, archive := filepath.Join(root, "a"), filepath.Join(root, "b"), filepath.Join(root, "signoff.backup")

	baseA, stopA := startServer(t, dataA, "--demo")
	daniel, karen := newClient(t), newClient(t)
	signIn(t, daniel, baseA, demo.StaffEmail)
	signIn(t, karen, baseA, demo.AdminEmail)

	// Daniel signs the first form he owes.
	home := get(t, daniel, baseA+"/")
	formPath := regexp.MustCompile(`href="(/forms/\d+)"`).FindStringSubmatch(home)
	if formPath == nil {
		t.Fatalf("Daniel's home page has no form to sign:\n%s", home)
	}
	form := get(t, daniel, baseA+formPath[1])
	version := regexp.MustCompile(`name="version_id" value="(\d+)"`).FindStringSubmatch(form)
	if version == nil {
		t.Fatalf("the form page has no version: %s", form)
	}
	resp, err := daniel.PostForm(baseA+formPath[1], url.Values{"agree": {"yes"}, "typed_name": {"Daniel Okafor"}, "version_id": {version[1]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ref := strings.TrimPrefix(resp.Request.URL.Path, "/signatures/")
	if resp.StatusCode != http.StatusOK || ref == resp.Request.URL.Path || resp.Request.URL.Query().Get("signed") != "1" {
		t.Fatalf("signing ended at %s (%d)", resp.Request.URL, resp.StatusCode)
	}
	copyBefore := getBytes(t, daniel, baseA+"/signatures/"+ref+"/copy.pdf")
	dashBefore := get(t, karen, baseA+"/admin/tracking")
	if !strings.Contains(dashBefore, "IT acceptable use policy") {
		t.Fatalf("the dashboard does not show the demo's forms:\n%s", dashBefore)
	}

	// Back up while the server runs, then stop it.
	var out, errOut bytes.Buffer
	vars := func(data string) func(string) string {
		return env(map[string]string{"SIGNOFF_DATA": data, "SIGNOFF_LOG_LEVEL": "warn"})
	}
	if code := run([]string{"backup", archive}, vars(dataA), &out, &errOut); code != 0 {
		t.Fatalf("backup: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "4 file(s)") {
		t.Errorf("backup output (the data folder holds session.key, secret.key and the signing key and certificate): %s", out.String())
	}
	if fi, err := os.Stat(archive); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the archive: %v %v (want mode 0600: it holds the session key)", fi, err)
	}
	stopA()

	// A backup is never written into the data folder, and a restore never
	// into a folder or database that holds something.
	out.Reset()
	errOut.Reset()
	if code := run([]string{"backup", filepath.Join(dataA, "inside.backup")}, vars(dataA), &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "outside the data folder") {
		t.Fatalf("backup into the data folder: exit %d %s", code, errOut.String())
	}
	errOut.Reset()
	if code := run([]string{"restore", archive}, vars(dataA), &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "is not empty") {
		t.Fatalf("restore over the live folder: exit %d %s", code, errOut.String())
	}
	errOut.Reset()
	damaged := filepath.Join(root, "damaged.backup")
	raw, _ := os.ReadFile(archive)
	raw[len(raw)/2] ^= 0xff
	_ = os.WriteFile(damaged, raw, 0o600)
	if code := run([]string{"restore", damaged}, vars(filepath.Join(root, "c")), &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "damaged") {
		t.Fatalf("restore of a damaged archive: exit %d %s", code, errOut.String())
	}
	if _, err := os.Stat(filepath.Join(root, "c")); err == nil {
		t.Fatal("a damaged archive created a data folder")
	}

	// An empty data folder but a database that holds Signoff's tables.
	errOut.Reset()
	full := env(map[string]string{"SIGNOFF_DATA": filepath.Join(root, "d"), "DATABASE_URL": dbtest.NewURL(t), "SIGNOFF_LOG_LEVEL": "warn"})
	if code := run([]string{"restore", archive}, full, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "the database is not empty") {
		t.Fatalf("restore into a database with tables: exit %d %s", code, errOut.String())
	}
	if entries, _ := os.ReadDir(filepath.Join(root, "d")); len(entries) != 0 {
		t.Fatalf("a refused restore wrote %d files", len(entries))
	}

	out.Reset()
	errOut.Reset()
	if code := run([]string{"restore", archive}, vars(dataB), &out, &errOut); code != 0 {
		t.Fatalf("restore: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	keyA, _ := os.ReadFile(filepath.Join(dataA, "session.key"))
	keyB, err := os.ReadFile(filepath.Join(dataB, "session.key"))
	if err != nil || len(keyA) == 0 || !bytes.Equal(keyA, keyB) {
		t.Fatalf("session.key did not come back (%v)", err)
	}
	secretA, _ := os.ReadFile(filepath.Join(dataA, "secret.key"))
	secretB, err := os.ReadFile(filepath.Join(dataB, "secret.key"))
	if err != nil || len(secretA) == 0 || !bytes.Equal(secretA, secretB) {
		t.Fatalf("secret.key did not come back (%v)", err)
	}
	errOut.Reset()
	if code := run([]string{"restore", archive}, vars(dataB), &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "is not empty") {
		t.Fatalf("a second restore: exit %d %s", code, errOut.String())
	}

	// The restored copy, served without --demo: the same cookies still
	// sign Karen and Daniel in (host-only cookies go to every port).
	baseB, _ := startServer(t, dataB)
	dashAfter := get(t, karen, baseB+"/admin/tracking")
	if dashAfter != dashBefore {
		t.Errorf("the dashboard differs after the restore:\nbefore:\n%s\nafter:\n%s", dashBefore, dashAfter)
	}
	// Each copy is signed when it is issued (so its bytes differ by the
	// signing time): after the restore it is signed with the same key, and
	// the copy issued before still verifies.
	copyAfter := getBytes(t, daniel, baseB+"/signatures/"+ref+"/copy.pdf")
	before, after := signkey.CheckPDF(copyBefore), signkey.CheckPDF(copyAfter)
	if !before.Valid || !after.Valid || signkey.Fingerprint(before.Certificate) != signkey.Fingerprint(after.Certificate) {
		t.Errorf("the signed copy after the restore is not signed with the same key: %+v %+v", before, after)
	}
	for _, f := range []string{signkey.KeyFile, signkey.CertFile} {
		a, _ := os.ReadFile(filepath.Join(dataA, f))
		b, err := os.ReadFile(filepath.Join(dataB, f))
		if err != nil || len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s did not come back (%v)", f, err)
		}
	}
	verified := get(t, newClient(t), baseB+"/verify/"+ref)
	if !strings.Contains(verified, ref) || !strings.Contains(verified, "Daniel Okafor") {
		t.Errorf("verification after the restore:\n%s", verified)
	}
	stranger := newClient(t)
	if resp, err := stranger.Get(baseB + "/admin/tracking"); err != nil || !strings.HasPrefix(resp.Request.URL.Path, "/sign-in") {
		t.Fatalf("a stranger reached the dashboard: %v %v", resp.Request.URL, err)
	}
}

// startServer runs `signoff serve` on a free local port with data as its
// data folder, and returns its address and a function that stops it
// (called at cleanup too).
func startServer(t *testing.T, data string, args ...string) (string, func()) {
	t.Helper()
	// One public address for both servers, as after a restore onto a new
	// machine behind the same name (signed copies carry it in their QR code).
	return startServerWith(t, map[string]string{"SIGNOFF_DATA": data, "SIGNOFF_BASE_URL": "https://signoff.example.sch.uk"}, args...)
}

// startServerWith is startServer with these settings (SIGNOFF_ADDR is added).
func startServerWith(t *testing.T, vars map[string]string, args ...string) (string, func()) {
	t.Helper()
	addr := freeAddr(t)
	base := "http://" + addr
	all := map[string]string{"SIGNOFF_ADDR": addr}
	for k, v := range vars {
		all[k] = v
	}
	cfg, err := loadConfig(env(all))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() { done <- serve(ctx, cfg, log, args, io.Discard) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(90 * time.Second)
	for {
		select {
		case code := <-done:
			stopped = true
			t.Fatalf("serve exited with %d before it was ready", code)
		default:
		}
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, stop
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the server did not become ready")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func newClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

func signIn(t *testing.T, c *http.Client, base, email string) {
	t.Helper()
	resp, err := c.PostForm(base+"/sign-in", url.Values{"email": {email}, "password": {demo.Password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.HasPrefix(resp.Request.URL.Path, "/sign-in") {
		t.Fatalf("sign-in as %s ended at %s (%d)", email, resp.Request.URL, resp.StatusCode)
	}
}

func getBytes(t *testing.T, c *http.Client, u string) []byte {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || strings.HasPrefix(resp.Request.URL.Path, "/sign-in") {
		t.Fatalf("GET %s: %d at %s", u, resp.StatusCode, resp.Request.URL)
	}
	return body
}

func get(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	return string(getBytes(t, c, u))
}
