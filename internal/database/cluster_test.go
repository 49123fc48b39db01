package database_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"signoff/internal/database"
)

// TestPrivateClusterSurvivesACrash starts a private cluster, kills its
// server as a crash would, leaves a postmaster.pid naming a live process
// that is not PostgreSQL (as after a container restart), and starts it
// again: the data must still be there.
func TestPrivateClusterSurvivesACrash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "signoff-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(dir, 0o755)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	c, err := database.NewCluster(filepath.Join(dir, "pg"), nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Settings["fsync"] = "off"
	started, err := c.Start(ctx)
	if err != nil || !started {
		t.Fatalf("first start: started=%v err=%v", started, err)
	}
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	again, err := c.Start(ctx)
	if err != nil || again {
		t.Fatalf("starting a running cluster: started=%v err=%v (want it reused)", again, err)
	}
	if err := c.EnsureDatabase(ctx, "signoff"); err != nil {
		t.Fatal(err)
	}
	db, err := database.Open(ctx, c.URL("signoff"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	pidFile := filepath.Join(c.Dir, "postmaster.pid")
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(string(data[:indexByte(data, '\n')]))
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100 && syscall.Kill(pid, 0) == nil; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	// The stale lock names a live process that is not PostgreSQL: this test.
	stale := append([]byte(strconv.Itoa(os.Getpid())), data[indexByte(data, '\n'):]...)
	if err := os.WriteFile(pidFile, stale, 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // let the killed server's children go
	started, err = c.Start(ctx)
	if err != nil || !started {
		t.Fatalf("start after a crash: started=%v err=%v", started, err)
	}
	db, err = database.Open(ctx, c.URL("signoff"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v string
	if err := db.Pool.QueryRow(ctx, `SELECT v FROM kept`).Scan(&v); err != nil || v != "still here" {
		t.Fatalf("data after a crash: %q %v", v, err)
	}
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if c.Running(ctx) {
		t.Fatal("still running after stop")
	}
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return len(b)
}

// TestClusterInAFolderThePostgresUserCannotEnter puts the data folder
// inside a 0700 folder (as a clone in /root is) and starts the cluster.
// Run as root, the cluster runs as "postgres", which cannot enter it, so it
// must be kept under the given home instead, and found there again by the
// next start; run as anyone else the folder is the user's own and is used
// as it is. Either way the server starts and keeps what is written to it.
func TestClusterInAFolderThePostgresUserCannotEnter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	private := t.TempDir() // 0700, like /root
	if err := os.Chmod(private, 0o700); err != nil {
		t.Fatal(err)
	}
	home, err := os.MkdirTemp("", "signoff-home-")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(home, 0o755)
	t.Cleanup(func() { _ = os.RemoveAll(home) })
	want := filepath.Join(private, "clone", "data", "postgres")

	c, err := database.NewClusterWithHome(want, filepath.Join(home, "signoff"), nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Settings["fsync"] = "off"
	if os.Geteuid() == 0 {
		if filepath.Dir(filepath.Dir(c.Dir)) != filepath.Join(home, "signoff") || filepath.Base(c.Dir) != "postgres" {
			t.Fatalf("as root the cluster is in %s, want it under %s/signoff/<hash>/postgres", c.Dir, home)
		}
		note, err := os.ReadFile(filepath.Join(filepath.Dir(c.Dir), "FOR.txt"))
		if err != nil || !strings.Contains(string(note), want) {
			t.Fatalf("the relocated cluster's note does not name %s: %q, %v", want, note, err)
		}
	} else if c.Dir != want {
		t.Fatalf("cluster in %s, want %s (the folder is our own)", c.Dir, want)
	}
	if _, err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	db, err := database.Open(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `CREATE TABLE kept (v text); INSERT INTO kept VALUES ('found again')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	again, err := database.NewClusterWithHome(want, filepath.Join(home, "signoff"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Dir != c.Dir || !again.Initialised() {
		t.Fatalf("second start looks in %s (initialised %v), want the first cluster %s", again.Dir, again.Initialised(), c.Dir)
	}
	if _, err := again.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = again.Stop(context.Background()) })
	db, err = database.Open(ctx, again.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v string
	if err := db.Pool.QueryRow(ctx, `SELECT v FROM kept`).Scan(&v); err != nil || v != "found again" {
		t.Fatalf("after a restart: %q, %v", v, err)
	}
}
