package ratelimit_test

import (
	"context"
	"testing"
	"time"

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

func TestCheckCountsOnlyHits(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	l := ratelimit.New(db)
	rule := ratelimit.Rule{Name: "failures", Max: 2, Window: time.Hour}
	ctx := context.Background()
	for range 5 {
		if err := l.Check(ctx, rule, "k"); err != nil {
			t.Fatalf("checks alone count: %v", err)
		}
	}
	_ = l.Hit(ctx, rule, "k")
	_ = l.Hit(ctx, rule, "k")
	if err := l.Check(ctx, rule, "k"); apperr.CodeOf(err) != apperr.TooMany {
		t.Fatalf("after two hits: %v", err)
	}
}
