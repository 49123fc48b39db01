package database

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Supervision says how Supervise watches the private cluster.
type Supervision struct {
	// Every is how often the postmaster is looked at (default 1s).
	Every time.Duration
	// MaxFailures is how many restarts in a row may fail before giving up
	// (default 5). The wait between them doubles from Every, up to 30s.
	MaxFailures int
	// OnRestart, when set, is called after each successful restart.
	OnRestart func()
}

// ErrGaveUp is returned by Supervise when the cluster could not be
// restarted after Supervision.MaxFailures attempts in a row.
var ErrGaveUp = errors.New("database: the private PostgreSQL could not be restarted; giving up")

// Supervise watches the cluster's postmaster until ctx ends. When it has
// died (killed, out of memory) it is started again: PostgreSQL runs crash
// recovery, and the connection pool reconnects on its own, so the server
// comes back without a restart. Each death and restart is logged; after
// MaxFailures failed restarts in a row Supervise logs why and returns
// ErrGaveUp. It returns nil when ctx ends.
func (c *Cluster) Supervise(ctx context.Context, s Supervision) error {
	if s.Every <= 0 {
		s.Every = time.Second
	}
	if s.MaxFailures <= 0 {
		s.MaxFailures = 5
	}
	failures := 0
	wait := s.Every
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		if c.postmasterAlive() {
			failures, wait = 0, s.Every
			continue
		}
		if failures == 0 {
			c.Log.Error("the private PostgreSQL server has stopped; restarting it", "dir", c.Dir)
		}
		startCtx, cancel := context.WithTimeout(ctx, 90*time.Second)
		_, err := c.Start(startCtx)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if err == nil {
			c.Log.Warn("the private PostgreSQL server was restarted (crash recovery done)", "dir", c.Dir, "attempts", failures+1)
			failures, wait = 0, s.Every
			if s.OnRestart != nil {
				s.OnRestart()
			}
			continue
		}
		failures++
		c.Log.Error("restarting the private PostgreSQL server failed", "dir", c.Dir, "attempt", failures, "of", s.MaxFailures, "err", err)
		if failures >= s.MaxFailures {
			c.Log.Error("giving up on the private PostgreSQL server: start it by hand (see server.log) and restart signoff",
				"dir", c.Dir, "log", filepath.Join(c.Dir, "server.log"), "attempts", failures)
			return fmt.Errorf("%w after %d attempts: %v", ErrGaveUp, failures, err)
		}
		wait = min(s.Every<<failures, 30*time.Second)
	}
}

// postmasterAlive reports whether the process named in postmaster.pid is
// a live (not zombie) postgres process. It reads /proc only, so it is
// cheap enough to call every second.
func (c *Cluster) postmasterAlive() bool {
	data, err := os.ReadFile(filepath.Join(c.Dir, "postmaster.pid"))
	if err != nil {
		return false
	}
	first, _, _ := strings.Cut(string(data), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	return err == nil && pid > 0 && isPostgres(pid)
}
