package policies

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/database"
)

// Publishing: the rule of what may be published, what publishing records
// for reviews, and claiming the notice to a published version's audience.

// CheckPublishable is the publishing rule: whether v may be published
// now. An approved version may (approved by its approvers under the
// school's rule, or by the board at a meeting). A first version may also
// be published as a draft: the school adopting a policy its governors
// approved before it came to Signoff; it can equally be sent for approval
// first. A later version only once approved; one sent for approval waits
// for the decision, whatever its number. PublishVersionTx applies it.
func CheckPublishable(v Version) error {
	switch {
	case v.Status == Approved:
		return nil
	case v.Status == Draft && v.Number == 1:
		return nil
	case v.Status == Draft || v.Status == AwaitingApproval:
		return apperr.New(apperr.Conflict, "Version %d must be approved before it is published", v.Number)
	case v.Status == Published:
		return apperr.New(apperr.Conflict, "Version %d is already published", v.Number)
	}
	return apperr.New(apperr.Conflict, "Version %d is %s and cannot be published", v.Number, strings.ToLower(v.Status.Label()))
}

// recordPublishedTx moves the review date on when a version is published
// (from its approval date, else today) and, for an approved version,
// records the review that ended in it. Called by PublishVersionTx.
func recordPublishedTx(ctx context.Context, tx pgx.Tx, now time.Time, v Version, actor audit.Actor) error {
	var cycle int
	if err := tx.QueryRow(ctx, `SELECT review_cycle_years FROM policies WHERE id = $1`, v.PolicyID).Scan(&cycle); err != nil {
		return fmt.Errorf("policies: publish review: %w", err)
	}
	reviewed := Today(now)
	if v.ApprovedOn != nil {
		reviewed = *v.ApprovedOn
	}
	next := NextReview(reviewed, cycle)
	if _, err := tx.Exec(ctx, `UPDATE policies SET next_review_on = $2 WHERE id = $1`, v.PolicyID, next); err != nil {
		return fmt.Errorf("policies: publish review: %w", err)
	}
	if v.ApprovalMethod == "" {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO policy_reviews (school_id, policy_id, version_id, outcome, reviewed_on, approved_by_body, meeting, minute_ref,
			note, next_review_on, recorded_by, recorded_at)
		VALUES ($1, $2, $3, 'new_version', $4, $5, $6, $7, $8, $9, $10, $11)`,
		v.SchoolID, v.PolicyID, v.ID, reviewed, v.ApprovedByBody, v.ApprovalMeeting, v.MinuteRef, v.ChangeNote, next, database.NullID(actor.AccountID), now)
	if err != nil {
		return fmt.Errorf("policies: publish review: %w", err)
	}
	return nil
}

// ClaimNoticeTx marks that the audience of published version versionID
// is being told, inside the transaction that tells them, and returns the
// version and its policy's title. ok is false when there is nobody to
// tell: the version is not published, is a first version (announced by
// the request to sign itself) or was told before. The version's row is
// locked, so two callers never both tell.
func ClaimNoticeTx(ctx context.Context, tx pgx.Tx, now time.Time, schoolID, versionID int64) (v Version, title string, ok bool, err error) {
	v, err = versionTx(ctx, tx, schoolID, versionID, true)
	if err != nil {
		return Version{}, "", false, err
	}
	var notified bool
	if err := tx.QueryRow(ctx, `SELECT v.notified_at IS NOT NULL, p.title FROM policy_versions v JOIN policies p ON p.id = v.policy_id WHERE v.id = $1`, v.ID).
		Scan(&notified, &title); err != nil {
		return Version{}, "", false, fmt.Errorf("policies: notice: %w", err)
	}
	if v.Status != Published || v.Number == 1 || notified {
		return v, title, false, nil
	}
	if _, err := tx.Exec(ctx, `UPDATE policy_versions SET notified_at = $2 WHERE id = $1`, v.ID, now); err != nil {
		return Version{}, "", false, fmt.Errorf("policies: notice: %w", err)
	}
	return v, title, true, nil
}

// Unannounced lists the revisions published since since whose audience
// has not been told (a server stopped between publishing and telling),
// as school and version ids.
func Unannounced(ctx context.Context, db *database.DB, since time.Time) ([][2]int64, error) {
	rows, err := db.Pool.Query(ctx, `SELECT school_id, id FROM policy_versions
		WHERE status = 'published' AND number > 1 AND notified_at IS NULL AND published_at > $1 ORDER BY id`, since)
	if err != nil {
		return nil, fmt.Errorf("policies: unannounced: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]int64, error) {
		var p [2]int64
		return p, r.Scan(&p[0], &p[1])
	})
	if err != nil {
		return nil, fmt.Errorf("policies: unannounced: %w", err)
	}
	return out, nil
}
