// Package ratelimit counts attempts in fixed time windows, in PostgreSQL,
// so that every running server shares the same counts.
package ratelimit

import (
	"context"
	"fmt"
	"time"

	"signoff/internal/apperr"
	"signoff/internal/database"
)

// Rule is a limit: at most Max attempts per Window for one key.
type Rule struct {
	Name   string // "sign-in by address"
	Max    int
	Window time.Duration
}

// Limiter checks rules against the shared counters.
type Limiter struct{ db *database.DB }

// New returns a Limiter.
func New(db *database.DB) *Limiter { return &Limiter{db: db} }

// Allow counts one attempt for key under rule and returns a TooMany
// error when the attempt is over the limit.
func (l *Limiter) Allow(ctx context.Context, rule Rule, key string) error {
	now := l.db.Now()
	window := now.Truncate(rule.Window)
	var count int
	err := l.db.Pool.QueryRow(ctx, `INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $2, 1)
		ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limits.count + 1 RETURNING count`,
		rule.Name+":"+key, window).Scan(&count)
	if err != nil {
		return fmt.Errorf("ratelimit: %w", err)
	}
	if count == 1 && now.Second()%10 == 0 {
		// Now and then, forget windows long past.
		_, _ = l.db.Pool.Exec(ctx, `DELETE FROM rate_limits WHERE window_start < $1`, now.Add(-24*time.Hour))
	}
	if count > rule.Max {
		return tooMany(window.Add(rule.Window).Sub(now))
	}
	return nil
}

// Check refuses with TooMany when key has used up rule's attempts in the
// current window, without counting an attempt (see Hit).
func (l *Limiter) Check(ctx context.Context, rule Rule, key string) error {
	now := l.db.Now()
	window := now.Truncate(rule.Window)
	var count int
	err := l.db.Pool.QueryRow(ctx, `SELECT coalesce(sum(count), 0) FROM rate_limits WHERE key = $1 AND window_start = $2`,
		rule.Name+":"+key, window).Scan(&count)
	if err != nil {
		return fmt.Errorf("ratelimit: %w", err)
	}
	if count >= rule.Max {
		return tooMany(window.Add(rule.Window).Sub(now))
	}
	return nil
}

// Hit counts one attempt (a failed sign-in, say) for key under rule.
func (l *Limiter) Hit(ctx context.Context, rule Rule, key string) error {
	now := l.db.Now()
	_, err := l.db.Pool.Exec(ctx, `INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $2, 1)
		ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limits.count + 1`, rule.Name+":"+key, now.Truncate(rule.Window))
	if err != nil {
		return fmt.Errorf("ratelimit: %w", err)
	}
	return nil
}

func tooMany(wait time.Duration) error {
	wait = wait.Round(time.Minute)
	if wait < time.Minute {
		wait = time.Minute
	}
	return apperr.New(apperr.TooMany, "Too many attempts. Please wait %s and try again.", humanMinutes(wait))
}

func humanMinutes(d time.Duration) string {
	m := int(d.Minutes())
	if m == 1 {
		return "1 minute"
	}
	return fmt.Sprintf("%d minutes", m)
}
