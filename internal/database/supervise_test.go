package database_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"signoff/internal/database"
)

// lockedBuffer is a log destination that tests can read while it is written.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func startTestCluster(t *testing.T, log *slog.Logger) *database.Cluster {
	t.Helper()
	dir, err := os.MkdirTemp("", "signoff-supervise-")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(dir, 0o755)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	c, err := database.NewCluster(filepath.Join(dir, "pg"), log)
	if err != nil {
		t.Fatal(err)
	}
	c.Settings["fsync"] = "off"
	if _, err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	return c
}

func killPostmaster(t *testing.T, c *database.Cluster) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(c.Dir, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(data), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
}

// TestSuperviseRestartsAKilledPostmaster kills the private cluster's
// postmaster with SIGKILL while a pool is connected: the supervisor must
// notice, restart it with crash recovery, log it, and the same pool must
// work again with the committed data intact.
func TestSuperviseRestartsAKilledPostmaster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	logs := &lockedBuffer{}
	c := startTestCluster(t, slog.New(slog.NewTextHandler(logs, nil)))
	if err := c.EnsureDatabase(ctx, "signoff"); err != nil {
		t.Fatal(err)
	}
	db, err := database.Open(ctx, c.URL("signoff"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Pool.Exec(ctx, `CREATE TABLE kept (v text); INSERT INTO kept VALUES ('committed')`); err != nil {
		t.Fatal(err)
	}

	supCtx, stop := context.WithCancel(ctx)
	restarts := make(chan struct{}, 4)
	done := make(chan error, 1)
	go func() {
		done <- c.Supervise(supCtx, database.Supervision{Every: 100 * time.Millisecond,
			OnRestart: func() { restarts <- struct{}{} }})
	}()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Supervise after cancel: %v", err)
		}
	}()

	killed := time.Now()
	killPostmaster(t, c)
	select {
	case <-restarts:
	case <-time.After(45 * time.Second):
		t.Fatalf("not restarted within 45s; log:\n%s", logs.String())
	}
	var v string
	deadline := time.Now().Add(10 * time.Second)
	for {
		err = db.Pool.QueryRow(ctx, `SELECT v FROM kept`).Scan(&v)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || v != "committed" {
		t.Fatalf("after the restart: %q %v", v, err)
	}
	t.Logf("back %.1fs after the kill", time.Since(killed).Seconds())
	out := logs.String()
	for _, want := range []string{"has stopped; restarting it", "was restarted"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if !c.Running(ctx) {
		t.Error("cluster not running after the restart")
	}
}

// TestSuperviseGivesUp makes every restart fail (a setting PostgreSQL
// refuses) after the postmaster is killed: the supervisor must try the
// given number of times, log that it gives up, and return ErrGaveUp.
func TestSuperviseGivesUp(t *testing.T) {
	t.Parallel()
	logs := &lockedBuffer{}
	c := startTestCluster(t, slog.New(slog.NewTextHandler(logs, nil)))
	c.Settings["shared_buffers"] = "not-a-size"
	killPostmaster(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := c.Supervise(ctx, database.Supervision{Every: 50 * time.Millisecond, MaxFailures: 2})
	if !errors.Is(err, database.ErrGaveUp) {
		t.Fatalf("Supervise = %v, want ErrGaveUp; log:\n%s", err, logs.String())
	}
	out := logs.String()
	if got := strings.Count(out, "restarting the private PostgreSQL server failed"); got != 2 {
		t.Errorf("%d failed attempts logged, want 2:\n%s", got, out)
	}
	if !strings.Contains(out, "giving up on the private PostgreSQL server") {
		t.Errorf("no give-up line:\n%s", out)
	}
	delete(c.Settings, "shared_buffers")
	time.Sleep(300 * time.Millisecond)
}
