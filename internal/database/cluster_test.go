package database_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
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
