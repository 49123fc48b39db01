package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
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
