package ratelimit_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/database/dbtest"
	"signoff/internal/ratelimit"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestLimitPerKeyAndWindow(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	now := time.Date(2026, 11, 30, 10, 0, 5, 0, time.UTC)
	db.Now = func() time.Time { return now }
	l := ratelimit.New(db)
	rule := ratelimit.Rule{Name: "test", Max: 3, Window: 15 * time.Minute}
	ctx := context.Background()
	for i := range 3 {
		if err := l.Allow(ctx, rule, "a@example.org"); err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	err := l.Allow(ctx, rule, "a@example.org")
	if apperr.CodeOf(err) != apperr.TooMany {
		t.Fatalf("fourth attempt: %v, want too many", err)
	}
	if err := l.Allow(ctx, rule, "b@example.org"); err != nil {
		t.Fatalf("another key is limited too: %v", err)
	}
	now = now.Add(15 * time.Minute)
	if err := l.Allow(ctx, rule, "a@example.org"); err != nil {
		t.Fatalf("the next window is still limited: %v", err)
	}
}

// TestBeginCountsBeforeChecking sends 20 attempts at once for one key
// whose limit is 10: at most 10 may be let through to be checked, however
// the goroutines interleave (each is counted in the same statement that
// decides).
func TestBeginCountsBeforeChecking(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	l := ratelimit.New(db)
	rule := ratelimit.Rule{Name: "failures", Max: 10, Window: 15 * time.Minute}
	ctx := context.Background()
	var through, refused atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := l.Begin(ctx, rule, "a@example.org")
			if err == nil {
				through.Add(1)
			} else if apperr.CodeOf(err) == apperr.TooMany {
				refused.Add(1)
			} else {
				t.Errorf("attempt: %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if through.Load() != 10 || refused.Load() != 10 {
		t.Fatalf("%d let through and %d refused, want 10 and 10", through.Load(), refused.Load())
	}
}

// TestLockLastsFromTheLastFailure: failures spread over time keep the
// lock until a whole window has passed since the last one (not until a
// clock-aligned bucket ends), and a success gives its attempt back.
func TestLockLastsFromTheLastFailure(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	now := time.Date(2026, 11, 30, 10, 14, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	l := ratelimit.New(db)
	rule := ratelimit.Rule{Name: "failures", Max: 3, Window: 15 * time.Minute}
	ctx := context.Background()
	ok, err := l.Begin(ctx, rule, "k")
	if err != nil {
		t.Fatal(err)
	}
	if err := ok.Succeeded(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 3 { // 10:14, 10:15, 10:16: across a quarter-hour boundary
		if _, err := l.Begin(ctx, rule, "k"); err != nil {
			t.Fatalf("failure %d refused: %v (a success must not count)", i+1, err)
		}
		now = now.Add(time.Minute)
	}
	now = time.Date(2026, 11, 30, 10, 30, 0, 0, time.UTC) // a new fixed bucket, but 14 minutes after the last failure
	_, err = l.Begin(ctx, rule, "k")
	if apperr.CodeOf(err) != apperr.TooMany {
		t.Fatalf("14 minutes after the last failure: %v, want too many", err)
	}
	if !strings.Contains(apperr.MessageOf(err), "1 minute") {
		t.Errorf("message %q should say to wait 1 minute", apperr.MessageOf(err))
	}
	now = time.Date(2026, 11, 30, 10, 31, 0, 0, time.UTC)
	if _, err := l.Begin(ctx, rule, "k"); err != nil {
		t.Fatalf("15 minutes after the last failure: %v, want it allowed", err)
	}
	// A key longer than any real address is kept by its hash.
	if _, err := l.Begin(ctx, rule, strings.Repeat("x", 100_000)); err != nil {
		t.Fatalf("long key: %v", err)
	}
}

// TestCleanUpForgetsOldCounters removes counters not used for a day and
// keeps the rest.
func TestCleanUpForgetsOldCounters(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	l := ratelimit.New(db)
	ctx := context.Background()
	rule := ratelimit.Rule{Name: "r", Max: 5, Window: time.Hour}
	_ = l.Allow(ctx, rule, "old")
	_, _ = l.Begin(ctx, rule, "old")
	now = now.Add(25 * time.Hour)
	_ = l.Allow(ctx, rule, "new")
	_, _ = l.Begin(ctx, rule, "new")
	var n int64
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		n, err = ratelimit.CleanUp(ctx, tx, now)
		return err
	})
	if err != nil || n != 2 {
		t.Fatalf("CleanUp = %d, %v; want 2 rows", n, err)
	}
	var left int
	_ = db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM rate_limits) + (SELECT count(*) FROM rate_failures)`).Scan(&left)
	if left != 2 {
		t.Fatalf("%d counters left, want the 2 recent ones", left)
	}
}
