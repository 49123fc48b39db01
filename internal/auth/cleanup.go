package auth

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"signoff/internal/letters"
	"signoff/internal/ratelimit"
)

// Cleaned says how many rows a clean-up removed.
type Cleaned struct {
	Sessions int64 // expired, or idle past the idle timeout
	Links    int64 // sign-in links used or expired; family links stopped or expired a while ago
}

// linkKept is how long a stopped or expired family link is kept, so the
// office can still see when it was last used.
const linkKept = 90 * 24 * time.Hour

// CleanUp deletes sessions that can no longer be used, sign-in links that
// were used or have expired, and family links stopped or expired more
// than 90 days ago. Run it on a schedule (once across servers).
func (s *Store) CleanUp(ctx context.Context, tx pgx.Tx, now time.Time) (Cleaned, error) {
	var c Cleaned
	tag, err := tx.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2`, now, now.Add(-s.IdleTimeout))
	if err != nil {
		return c, fmt.Errorf("auth: clean up sessions: %w", err)
	}
	c.Sessions = tag.RowsAffected()
	tag, err = tx.Exec(ctx, `DELETE FROM access_links WHERE
		(purpose = 'sign_in' AND (used_at IS NOT NULL OR expires_at <= $1))
		OR (purpose = 'family' AND least(coalesce(revoked_at, expires_at), expires_at) <= $2)`, now, now.Add(-linkKept))
	if err != nil {
		return c, fmt.Errorf("auth: clean up links: %w", err)
	}
	c.Links = tag.RowsAffected()
	return c, nil
}

// CleanUpArgs is the periodic job that deletes what can no longer be used:
// sessions, links and rate-limit counters (see CleanUp and
// ratelimit.CleanUp).
type CleanUpArgs struct{}

// Kind names the job.
func (CleanUpArgs) Kind() string { return "auth_cleanup" }

// CleanUpWorker runs CleanUpArgs jobs, in one transaction. Running it
// twice is harmless.
type CleanUpWorker struct {
	river.WorkerDefaults[CleanUpArgs]
	Store *Store
	Log   *slog.Logger
}

// Work deletes expired sessions, used and expired links, old counters
// and printed letter batches past their hour.
func (w *CleanUpWorker) Work(ctx context.Context, _ *river.Job[CleanUpArgs]) error {
	var c Cleaned
	var counters, letterBatches int64
	now := w.Store.db.Now()
	err := w.Store.db.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		if c, err = w.Store.CleanUp(ctx, tx, now); err != nil {
			return err
		}
		if counters, err = ratelimit.CleanUp(ctx, tx, now); err != nil {
			return err
		}
		letterBatches, err = letters.CleanUp(ctx, tx, now)
		return err
	})
	if err != nil {
		return err
	}
	log := w.Log
	if log == nil {
		log = slog.Default()
	}
	log.Info("clean-up ran", "sessions", c.Sessions, "links", c.Links, "rate_limit_counters", counters, "letter_batches", letterBatches)
	return nil
}
