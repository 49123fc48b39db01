package signing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/database"
	"signoff/internal/mail"
	"signoff/internal/people"
	"signoff/internal/policies"
)

// NotifyPublished emails everyone in the audience of the policy's staff
// form that a new version is published: to sign it again when it is a
// major revision, to read it when minor. One message per person per
// version (a second call sends nothing). First versions are announced by
// the request itself and are not emailed. Publish does this in its own
// transaction; this is for a version published but not told.
func (s *Store) NotifyPublished(ctx context.Context, schoolID, versionID int64, baseURL string) (int, error) {
	sent := 0
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		sent, err = notifyPublishedTx(ctx, tx, s.db.Now(), schoolID, versionID, baseURL)
		return err
	})
	return sent, err
}

func notifyPublishedTx(ctx context.Context, tx pgx.Tx, now time.Time, schoolID, versionID int64, baseURL string) (int, error) {
	v, title, ok, err := policies.ClaimNoticeTx(ctx, tx, now, schoolID, versionID)
	if err != nil || !ok {
		return 0, err
	}
	f, err := scanForm(tx.QueryRow(ctx, `SELECT `+formColumns+` FROM forms f
		WHERE f.school_id = $1 AND f.policy_id = $2 AND f.kind = 'acknowledgement' AND f.closed_at IS NULL`, schoolID, v.PolicyID))
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("signing: notify: %w", err)
	}
	audience, err := people.StaffInRolesTx(ctx, tx, schoolID, f.AudienceRoles)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, p := range audience {
		if p.Email == "" {
			continue
		}
		name := p.FullName()
		subject := "New version to read and sign: " + title
		text := fmt.Sprintf("Dear %s,\n\nVersion %d of the %s has been approved and published. It replaces the version you signed before, so please read it and sign it again:\n%s/forms/%d\n",
			name, v.Number, title, baseURL, f.ID)
		if !v.Major {
			subject = "Updated: " + title
			text = fmt.Sprintf("Dear %s,\n\nVersion %d of the %s has been published. The changes are minor, so you do not need to sign it again. You can read it here:\n%s/forms/%d\n",
				name, v.Number, title, baseURL, f.ID)
		}
		if v.ChangeNote != "" {
			text += "\nWhat has changed:\n" + v.ChangeNote + "\n"
		}
		_, queued, err := mail.Enqueue(ctx, tx, now, mail.Message{SchoolID: schoolID, To: p.Email, ToName: name, Subject: subject, Text: text,
			Kind: "policy_published", DedupeKey: fmt.Sprintf("school:%d:policy-version:%d:person:%d", schoolID, v.ID, p.ID)})
		if err != nil {
			return sent, err
		}
		if queued {
			sent++
		}
	}
	return sent, nil
}

// NotifyPending tells the audience of revisions published in the last
// week whose audience has not been told (a server stopped between
// publishing and telling). The review scheduler calls it.
func NotifyPending(ctx context.Context, db *database.DB, baseURL string) (int, error) {
	pending, err := policies.Unannounced(ctx, db, db.Now().AddDate(0, 0, -7))
	if err != nil {
		return 0, err
	}
	s := NewStore(db)
	total := 0
	for _, p := range pending {
		n, err := s.NotifyPublished(ctx, p[0], p[1], baseURL)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}
