package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"signoff/internal/database/dbtest"
	"signoff/internal/demo"
	"signoff/internal/web"
)

func TestMain(m *testing.M) {
	code := m.Run()
	dbtest.Shutdown()
	if built.path != "" {
		_ = os.RemoveAll(filepath.Dir(built.path))
	}
	os.Exit(code)
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestConfigDefaultsAndErrors(t *testing.T) {
	c, err := loadConfig(env(nil))
	if err != nil || c.Addr != ":8080" || c.DataDir != "./data" || c.SecureCookies {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	if _, err := loadConfig(env(map[string]string{"SIGNOFF_SECURE_COOKIES": "maybe"})); err == nil {
		t.Fatal("a bad SIGNOFF_SECURE_COOKIES was accepted")
	}
	c, err = loadConfig(env(map[string]string{"SIGNOFF_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7 ,fd00::/8", "SIGNOFF_METRICS_ADDR": "127.0.0.1:9090",
		"SIGNOFF_METRICS_TOKEN": "0123456789abcdef0123", "SIGNOFF_JOBS_POLL_ONLY": "true"}))
	if err != nil || len(c.TrustedProxies) != 3 || c.TrustedProxies[1].String() != "192.168.1.7/32" || c.MetricsAddr != "127.0.0.1:9090" || !c.JobsPollOnly {
		t.Fatalf("proxies, metrics, jobs: %+v %v", c, err)
	}
	if c, _ := loadConfig(env(nil)); c.MemoryLimit != web.DefaultMemoryLimit {
		t.Errorf("default memory limit: %d", c.MemoryLimit)
	}
	for v, want := range map[string]int64{"256": 256 << 20, "off": 0, " OFF ": 0} {
		if c, err := loadConfig(env(map[string]string{"SIGNOFF_MEMORY_LIMIT": v})); err != nil || c.MemoryLimit != want {
			t.Errorf("SIGNOFF_MEMORY_LIMIT=%q: %d %v", v, c.MemoryLimit, err)
		}
	}
	for v, want := range map[string]int64{"": 0, "64": 64 << 20, "0": -1} {
		if c, err := loadConfig(env(map[string]string{"SIGNOFF_PAGE_CACHE_MB": v})); err != nil || c.PageCacheBytes != want {
			t.Errorf("SIGNOFF_PAGE_CACHE_MB=%q: %d %v", v, c.PageCacheBytes, err)
		}
	}
	for v, want := range map[string]int{"": 0, "12": 12, " 1 ": 1} {
		if c, err := loadConfig(env(map[string]string{"SIGNOFF_SUBMISSIONS_AT_ONCE": v})); err != nil || c.SubmissionsAtOnce != want {
			t.Errorf("SIGNOFF_SUBMISSIONS_AT_ONCE=%q: %d %v", v, c.SubmissionsAtOnce, err)
		}
	}
	if c, err := loadConfig(env(map[string]string{"SIGNOFF_MEMORY_LIMIT": "256", "GOMEMLIMIT": "1GiB"})); err != nil || c.MemoryLimit != 0 {
		t.Errorf("with GOMEMLIMIT the runtime's own limit is kept: %d %v", c.MemoryLimit, err)
	}
	for name, vars := range map[string]map[string]string{
		"SIGNOFF_MEMORY_LIMIT":        {"SIGNOFF_MEMORY_LIMIT": "lots"},
		"SIGNOFF_PAGE_CACHE_MB":       {"SIGNOFF_PAGE_CACHE_MB": "-1"},
		"SIGNOFF_TRUSTED_PROXIES":     {"SIGNOFF_TRUSTED_PROXIES": "10.0.0.0/8,proxy.example"},
		"SIGNOFF_METRICS_TOKEN":       {"SIGNOFF_METRICS_TOKEN": "short"},
		"SIGNOFF_METRICS_ADDR":        {"SIGNOFF_METRICS_ADDR": "9090"},
		"SIGNOFF_JOBS_POLL_ONLY":      {"SIGNOFF_JOBS_POLL_ONLY": "sometimes"},
		"SIGNOFF_SUBMISSIONS_AT_ONCE": {"SIGNOFF_SUBMISSIONS_AT_ONCE": "0"},
	} {
		if _, err := loadConfig(env(vars)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("a bad %s: %v", name, err)
		}
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"serve"}, env(map[string]string{"SIGNOFF_LOG_LEVEL": "loud"}), &out, &errOut); code != 2 ||
		!strings.Contains(errOut.String(), "SIGNOFF_LOG_LEVEL") {
		t.Fatalf("bad log level: exit %d, %s", code, errOut.String())
	}
	if code := run([]string{"nonsense"}, env(nil), &out, &errOut); code != 2 {
		t.Fatalf("unknown command: exit %d", code)
	}
	out.Reset()
	if code := run([]string{"version"}, env(nil), &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "signoff ") {
		t.Fatalf("version: %d %q", code, out.String())
	}
}

func TestSessionKeys(t *testing.T) {
	dir := t.TempDir()
	k1, err := sessionKeys(config{DataDir: dir})
	if err != nil || len(k1) != 2 || len(k1[0]) != 32 || len(k1[1]) != 32 {
		t.Fatalf("generated keys: %v", err)
	}
	k2, err := sessionKeys(config{DataDir: dir})
	if err != nil || !bytes.Equal(k1[0], k2[0]) {
		t.Fatal("the generated key is not kept in the data folder")
	}
	if _, err := sessionKeys(config{DataDir: dir, SessionKey: "too-short"}); err == nil {
		t.Fatal("a short SIGNOFF_SESSION_KEY was accepted")
	}
}

func TestSecretKey(t *testing.T) {
	dir := t.TempDir()
	k1, err := secretKey(config{DataDir: dir})
	if err != nil || len(k1) != 32 {
		t.Fatalf("generated key: %d bytes, %v", len(k1), err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "secret.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret.key: %v %v (want mode 0600)", fi, err)
	}
	k2, err := secretKey(config{DataDir: dir})
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatal("the generated key is not kept in the data folder")
	}
	given := strings.Repeat("ab", 32)
	k3, err := secretKey(config{DataDir: dir, SecretKey: given})
	if err != nil || hex.EncodeToString(k3) != given {
		t.Fatalf("SIGNOFF_SECRET_KEY not used: %v", err)
	}
	if _, err := secretKey(config{DataDir: dir, SecretKey: "too-short"}); err == nil {
		t.Fatal("a short SIGNOFF_SECRET_KEY was accepted")
	}
}

func TestDemoAndAuditVerifyCommands(t *testing.T) {
	url := dbtest.NewURL(t)
	// The server's role owns nothing; migrations run as the owner.
	vars := env(map[string]string{"DATABASE_URL": dbtest.AppURL(t, url), "SIGNOFF_MIGRATE_DATABASE_URL": url})
	var out, errOut bytes.Buffer
	if code := run([]string{"grants"}, vars, &out, &errOut); code != 0 ||
		!strings.Contains(out.String(), "GRANT SELECT, INSERT ON public.\"signatures\" TO \"signoff_app\"") {
		t.Fatalf("grants: exit %d\n%s", code, out.String())
	}
	out.Reset()
	if code := run([]string{"demo"}, vars, &out, &errOut); code != 0 {
		t.Fatalf("demo: exit %d\n%s", code, errOut.String())
	}
	for _, w := range []string{"Loaded the demo school", "hollybrook-demo", demo.AdminEmail, demo.StaffEmail, demo.HeadEmail, demo.GovernorEmail, "/f/"} {
		if !strings.Contains(out.String(), w) {
			t.Fatalf("demo output lacks %q: %s", w, out.String())
		}
	}
	// The printed head and governor really are the head and a governor.
	check, err := openTestDB(url)
	if err != nil {
		t.Fatal(err)
	}
	for email, role := range map[string]string{demo.HeadEmail: "head", demo.GovernorEmail: "governor", demo.AdminEmail: "admin"} {
		var has bool
		if err := check.QueryRow(context.Background(), `SELECT $2 = ANY(roles) FROM accounts WHERE email = $1`, email, role).Scan(&has); err != nil || !has {
			t.Errorf("%s: role %s %v (%v)", email, role, has, err)
		}
	}
	check.Close()
	out.Reset()
	if code := run([]string{"demo"}, vars, &out, &errOut); code != 0 || !strings.Contains(out.String(), "already loaded") {
		t.Fatalf("second demo: %d %s", code, out.String())
	}
	out.Reset()
	if code := run([]string{"jobs", "--all"}, vars, &out, &errOut); code != 0 || !strings.Contains(out.String(), "KIND") ||
		!strings.Contains(out.String(), "LAST ERROR") || !strings.Contains(out.String(), "(no jobs)") {
		t.Fatalf("jobs: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	if code := run([]string{"jobs", "--limit", "0"}, vars, &out, &errOut); code != 2 {
		t.Fatalf("jobs --limit 0: exit %d, want 2", code)
	}
	out.Reset()
	if code := run([]string{"audit", "verify"}, vars, &out, &errOut); code != 0 || !strings.Contains(out.String(), "intact") {
		t.Fatalf("audit verify: exit %d %s %s", code, out.String(), errOut.String())
	}
	// Break the chain as a superuser could, and the command says where.
	db, err := openTestDB(url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(context.Background(), `ALTER TABLE audit_log DISABLE TRIGGER audit_log_immutable;
		UPDATE audit_log SET actor = 'someone else' WHERE id = (SELECT min(id) + 3 FROM audit_log);
		ALTER TABLE audit_log ENABLE TRIGGER audit_log_immutable;`); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run([]string{"audit", "verify"}, vars, &out, &errOut); code != 1 || !strings.Contains(out.String(), "broken: school ") || !strings.Contains(out.String(), "audit entry ") {
		t.Fatalf("tampered audit verify: exit %d %s", code, out.String())
	}
	out.Reset()
	if code := run([]string{"migrate"}, vars, &out, &errOut); code != 0 || !strings.Contains(out.String(), "applied 0") {
		t.Fatalf("migrate: %d %s", code, out.String())
	}
}
