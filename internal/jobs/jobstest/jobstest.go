// Package jobstest runs River clients in tests as separate servers would:
// each on a pool of its own over the test's database.
package jobstest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"signoff/internal/database"
	"signoff/internal/jobs"
)

// Server starts a River client on a new pool over db's database, with the
// workers and periodic jobs that register adds for that pool, and stops it
// (then closes the pool) when the test ends. now, when not nil, is the
// pool's clock. Options.ID names the server.
func Server(t testing.TB, db *database.DB, o jobs.Options, now func() time.Time, register func(reg *jobs.Registry, pool *database.DB)) *jobs.Client {
	t.Helper()
	c, stop := start(t, db, o, now, register)
	t.Cleanup(stop)
	return c
}

// OnTwoServers runs the jobs that register adds on two servers (clients
// server-0 and server-1, each on its own pool) until done holds, failing
// the test after 20 seconds, and stops both before it returns, so that
// what they did can then be counted.
func OnTwoServers(t testing.TB, db *database.DB, register func(reg *jobs.Registry, pool *database.DB), done func() bool) {
	t.Helper()
	for i := range 2 {
		_, stop := start(t, db, jobs.Options{ID: fmt.Sprintf("server-%d", i), PollInterval: 100 * time.Millisecond}, nil, register)
		defer stop()
	}
	WaitFor(t, 20*time.Second, "the jobs on two servers", done)
}

// WaitFor polls cond every 50 ms until it holds, and fails the test when
// it still does not after d.
func WaitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func start(t testing.TB, db *database.DB, o jobs.Options, now func() time.Time, register func(*jobs.Registry, *database.DB)) (*jobs.Client, func()) {
	t.Helper()
	pool, err := database.Open(context.Background(), db.Pool.Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	if now != nil {
		pool.Now = now
	}
	reg := jobs.NewRegistry()
	register(reg, pool)
	c, err := jobs.New(pool, reg, o)
	if err == nil {
		err = c.Start(context.Background())
	}
	if err != nil {
		pool.Close()
		t.Fatal(err)
	}
	return c, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Stop(ctx); err != nil {
			t.Errorf("stopping River client %q: %v", o.ID, err)
		}
		pool.Close()
	}
}
