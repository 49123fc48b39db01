// Package dbtest gives each test its own real PostgreSQL database, cloned
// in milliseconds from a template database migrated once per schema.
//
// The server is TEST_DATABASE_URL when set (any database on it; the
// harness creates and drops its own), otherwise a throwaway cluster that
// this package starts in a temporary folder (fsync off) and removes when
// the test binary ends. Packages that use it call dbtest.Main from TestMain.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"signoff/internal/database"
)

var (
	once      sync.Once
	serverURL string // a URL on the server; its path is replaced per database
	cluster   *database.Cluster
	tempDir   string
	setupErr  error
	template  string
)

// Main runs the tests and then stops and removes the throwaway cluster,
// if this process started one.
func Main(m *testing.M) {
	code := m.Run()
	Shutdown()
	os.Exit(code)
}

// Shutdown stops the throwaway cluster started by this process, if any.
func Shutdown() {
	if cluster != nil {
		_ = cluster.Stop(context.Background())
		cluster = nil
	}
	if tempDir != "" {
		_ = os.RemoveAll(tempDir)
		tempDir = ""
	}
}

// StartCluster starts a throwaway cluster in a new temporary folder, tuned
// for tests, and returns it with a function that stops and removes it.
func StartCluster(ctx context.Context) (*database.Cluster, func(), error) {
	dir, err := os.MkdirTemp("", "signoff-test-")
	if err != nil {
		return nil, nil, fmt.Errorf("dbtest: temp folder: %w", err)
	}
	_ = os.Chmod(dir, 0o755)
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, err := database.NewCluster(dir+"/pg", quiet)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, nil, err
	}
	c.Settings = map[string]string{
		"fsync":              "off",
		"synchronous_commit": "off",
		"full_page_writes":   "off",
		"max_connections":    "400",
		"shared_buffers":     "128MB",
	}
	if _, err := c.Start(ctx); err != nil {
		_ = os.RemoveAll(dir)
		return nil, nil, err
	}
	stop := func() {
		_ = c.Stop(context.Background())
		_ = os.RemoveAll(dir)
	}
	return c, stop, nil
}

func setup() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	serverURL = os.Getenv("TEST_DATABASE_URL")
	if serverURL == "" {
		c, _, err := StartCluster(ctx)
		if err != nil {
			setupErr = err
			return
		}
		cluster = c
		tempDir = strings.TrimSuffix(c.Dir, "/pg")
		serverURL = c.URL("postgres")
	}
	template, setupErr = ensureTemplate(ctx)
}

// ensureTemplate creates (once per schema, under an advisory lock shared
// by every test process on the server) a migrated template database named
// after the hash of the migrations.
func ensureTemplate(ctx context.Context) (string, error) {
	migs, err := database.Migrations()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write([]byte(database.GrantSQL(database.AppRole)))
	for _, m := range migs {
		h.Write([]byte(m.Name))
		h.Write([]byte(m.SQL))
	}
	fmt.Fprintf(h, "river:%d", database.RiverVersion())
	name := "signoff_tpl_" + hex.EncodeToString(h.Sum(nil))[:16]

	admin, err := database.Open(ctx, withDatabase(serverURL, "postgres"))
	if err != nil {
		return "", err
	}
	defer admin.Close()
	conn, err := admin.Pool.Acquire(ctx)
	if err != nil {
		return "", fmt.Errorf("dbtest: acquire: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(7071)`); err != nil {
		return "", fmt.Errorf("dbtest: lock: %w", err)
	}
	defer func() { _, _ = conn.Exec(context.Background(), `SELECT pg_advisory_unlock(7071)`) }()
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", fmt.Errorf("dbtest: look for template: %w", err)
	}
	if exists {
		return name, nil
	}
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+name); err != nil {
		return "", fmt.Errorf("dbtest: create template: %w", err)
	}
	db, err := database.Open(ctx, withDatabase(serverURL, name))
	if err != nil {
		return "", err
	}
	_, err = db.Migrate(ctx)
	if err == nil {
		err = admin.EnsureRole(ctx, database.AppRole, appPassword())
	}
	if err == nil {
		err = db.Grant(ctx, database.AppRole)
	}
	db.Close()
	if err != nil {
		_, _ = conn.Exec(ctx, `DROP DATABASE `+name)
		return "", err
	}
	if _, err := conn.Exec(ctx, `ALTER DATABASE `+name+` WITH IS_TEMPLATE true`); err != nil {
		return "", fmt.Errorf("dbtest: mark template: %w", err)
	}
	return name, nil
}

// New returns a fresh, migrated database for this test, dropped when the
// test ends, connected as the application's role (database.AppRole), as
// the server connects: every test proves the grants are enough. Its clock
// is the wall clock; tests that need another set db.Now.
func New(t testing.TB) *database.DB {
	t.Helper()
	db, _ := NewWithOwner(t)
	return db
}

// NewWithOwner is New, and also returns a connection to the same database
// as the server's superuser (the schema's owner), for tests that tamper
// with records as an attacker with the database's own superuser would.
// Both share one clock function only if the test sets them alike.
func NewWithOwner(t testing.TB) (app, owner *database.DB) {
	t.Helper()
	url := NewURL(t)
	owner, err := database.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(owner.Close)
	app, err = database.Open(context.Background(), AppURL(t, url))
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(app.Close)
	return app, owner
}

// AppURL is url (from NewURL) connecting as the application's role.
func AppURL(t testing.TB, url string) string {
	t.Helper()
	u, err := database.WithUser(url, database.AppRole, appPassword())
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	return u
}

// appPassword is the application role's password on the test server:
// none on a throwaway cluster (trust authentication over its socket);
// with TEST_DATABASE_URL, the password of that URL, if it has one.
func appPassword() string {
	u, err := url.Parse(serverURL)
	if err != nil || u.User == nil {
		return ""
	}
	p, _ := u.User.Password()
	return p
}

// NewURL creates a fresh, migrated database for this test and returns its
// URL as the server's superuser (the owner of the schema); the database
// is dropped when the test ends. AppURL turns it into the application's.
func NewURL(t testing.TB) string {
	t.Helper()
	once.Do(setup)
	if setupErr != nil {
		t.Fatalf("dbtest: no test database server: %v", setupErr)
	}
	ctx := context.Background()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "signoff_test_" + hex.EncodeToString(b[:])
	admin, err := database.Open(ctx, withDatabase(serverURL, "postgres"))
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	defer admin.Close()
	if _, err := admin.Pool.Exec(ctx, `CREATE DATABASE `+name+` TEMPLATE `+template); err != nil {
		t.Fatalf("dbtest: clone template: %v", err)
	}
	t.Cleanup(func() {
		admin, err := database.Open(context.Background(), withDatabase(serverURL, "postgres"))
		if err != nil {
			return
		}
		defer admin.Close()
		_, _ = admin.Pool.Exec(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
	})
	return withDatabase(serverURL, name)
}

// withDatabase returns raw with its database name replaced by name.
func withDatabase(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

// Scalar runs q on db and returns its one value, failing the test when
// the query fails: the count, id or text a test checks.
func Scalar[T any](t testing.TB, db *database.DB, q string, args ...any) T {
	t.Helper()
	var v T
	if err := db.Pool.QueryRow(context.Background(), q, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

// Exec runs q on db, failing the test when it fails.
func Exec(t testing.TB, db *database.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Pool.Exec(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
