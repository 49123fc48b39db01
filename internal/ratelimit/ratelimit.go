// Package ratelimit counts attempts in PostgreSQL, so that every running
// server shares the same counts: requests in fixed time windows (Allow),
// and failures that lock a key for a while after the last one (Begin).
package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

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
// error when the attempt is over the limit. Windows are fixed: the count
// starts again at each multiple of rule.Window.
func (l *Limiter) Allow(ctx context.Context, rule Rule, key string) error {
	now := l.db.Now()
	window := now.Truncate(rule.Window)
	var count int
	err := l.db.Pool.QueryRow(ctx, `INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $2, 1)
		ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limits.count + 1 RETURNING count`,
		storedKey(rule, key), window).Scan(&count)
	if err != nil {
		return fmt.Errorf("ratelimit: %w", err)
	}
	if count > rule.Max {
		return tooMany(window.Add(rule.Window).Sub(now))
	}
	return nil
}

// Attempt is one attempt counted as a failure until Succeeded says
// otherwise.
type Attempt struct {
	l   *Limiter
	key string
}

// Begin counts an attempt for key under rule as a failure before it is
// checked, in one statement, so that attempts arriving together cannot
// all slip under the limit: of many at once, at most rule.Max are let
// through. When rule.Max failures have been counted and rule.Window has
// not passed since the last of them, it refuses with TooMany (even the
// right password waits): the lock lasts rule.Window from the last
// failure. Call Succeeded when the attempt turns out right.
func (l *Limiter) Begin(ctx context.Context, rule Rule, key string) (*Attempt, error) {
	now := l.db.Now()
	k := storedKey(rule, key)
	var count int
	err := l.db.Pool.QueryRow(ctx, `INSERT INTO rate_failures AS f (key, count, last_at) VALUES ($1, 1, $2)
		ON CONFLICT (key) DO UPDATE SET
			count = CASE WHEN f.last_at <= $2 - $3::interval THEN 1 ELSE f.count + 1 END,
			last_at = $2
		WHERE f.last_at <= $2 - $3::interval OR f.count < $4
		RETURNING count`, k, now, rule.Window, rule.Max).Scan(&count)
	if errors.Is(err, pgx.ErrNoRows) {
		var last time.Time
		if err := l.db.Pool.QueryRow(ctx, `SELECT last_at FROM rate_failures WHERE key = $1`, k).Scan(&last); err != nil {
			return nil, fmt.Errorf("ratelimit: %w", err)
		}
		return nil, tooMany(last.Add(rule.Window).Sub(now))
	}
	if err != nil {
		return nil, fmt.Errorf("ratelimit: %w", err)
	}
	return &Attempt{l: l, key: k}, nil
}

// Succeeded takes back the failure Begin counted.
func (a *Attempt) Succeeded(ctx context.Context) error {
	if a == nil {
		return nil
	}
	_, err := a.l.db.Pool.Exec(ctx, `UPDATE rate_failures SET count = greatest(count - 1, 0) WHERE key = $1`, a.key)
	if err != nil {
		return fmt.Errorf("ratelimit: %w", err)
	}
	return nil
}

// Kept is how long counters are kept after their last use; every rule's
// window is shorter.
const Kept = 24 * time.Hour

// CleanUp deletes counters not used for Kept (fixed windows that started
// before, failures last counted before) and says how many went.
func CleanUp(ctx context.Context, tx pgx.Tx, now time.Time) (int64, error) {
	a, err := tx.Exec(ctx, `DELETE FROM rate_limits WHERE window_start < $1`, now.Add(-Kept))
	if err != nil {
		return 0, fmt.Errorf("ratelimit: clean up: %w", err)
	}
	b, err := tx.Exec(ctx, `DELETE FROM rate_failures WHERE last_at < $1`, now.Add(-Kept))
	if err != nil {
		return 0, fmt.Errorf("ratelimit: clean up: %w", err)
	}
	return a.RowsAffected() + b.RowsAffected(), nil
}

// storedKey is the counter's key: the rule's name and the key, or its
// SHA-256 when that would be long (an address someone pasted a page into).
func storedKey(rule Rule, key string) string {
	k := rule.Name + ":" + key
	if len(k) <= 200 && utf8.ValidString(k) {
		return k
	}
	sum := sha256.Sum256([]byte(key))
	return rule.Name + ":sha256:" + hex.EncodeToString(sum[:])
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
