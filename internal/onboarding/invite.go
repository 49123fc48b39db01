package onboarding

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/auth"
	"signoff/internal/people"
)

// Who is invited: "never" (those never invited), "all", or a staff role
// ("teacher", ...).
type Who string

// The choices besides a staff role.
const (
	WhoNeverInvited Who = "never"
	WhoAll          Who = "all"
)

// Validate checks the choice.
func (w Who) Validate() error {
	if w == WhoNeverInvited || w == WhoAll || people.StaffRole(w).Valid() {
		return nil
	}
	return &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "who", Message: "Choose who to invite"}}}
}

// Label describes the choice: "everyone never invited", "all staff", "teachers".
func (w Who) Label() string {
	switch w {
	case WhoNeverInvited:
		return "staff who have never been invited"
	case WhoAll:
		return "all staff"
	}
	return "staff with the role " + people.StaffRole(w).Label()
}

// Invitee is a member of staff an invitation goes to.
type Invitee struct {
	AccountID int64
	PersonID  int64
	SchoolID  int64
	Name      string
	Email     string
	InvitedAt *time.Time
}

// Invitations go to current staff with an email address and an account
// that signs in by link: not administrators (who sign in with their
// password) and not closed accounts.
const inviteesQuery = `SELECT a.id, p.id, p.school_id, p.given_name || ' ' || p.family_name, a.email, a.invited_at
	FROM people p JOIN accounts a ON a.id = p.account_id
	WHERE p.school_id = $1 AND p.kind = 'staff' AND p.left_at IS NULL AND a.email IS NOT NULL AND a.disabled_at IS NULL
	  AND NOT ('admin' = ANY (a.roles))
	  AND ($2 = 'all' OR ($2 = 'never' AND a.invited_at IS NULL) OR p.staff_role = $2)
	ORDER BY lower(p.family_name), lower(p.given_name), p.id`

// Invitees lists who an invitation to who would go to.
func (s *Store) Invitees(ctx context.Context, schoolID int64, who Who) ([]Invitee, error) {
	if err := who.Validate(); err != nil {
		return nil, err
	}
	return collectInvitees(s.db.Pool.Query(ctx, inviteesQuery, schoolID, string(who)))
}

func collectInvitees(rows pgx.Rows, err error) ([]Invitee, error) {
	if err != nil {
		return nil, fmt.Errorf("onboarding: invitees: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Invitee, error) {
		var i Invitee
		return i, r.Scan(&i.AccountID, &i.PersonID, &i.SchoolID, &i.Name, &i.Email, &i.InvitedAt)
	})
	if err != nil {
		return nil, fmt.Errorf("onboarding: invitees: %w", err)
	}
	return out, nil
}

// InviteDeliver queues, inside the inviting transaction, the invitation
// email carrying a single-use sign-in link's token.
type InviteDeliver func(ctx context.Context, tx pgx.Tx, i Invitee, token string) (queued bool, err error)

// Invite sends each of who an invitation with a single-use sign-in link
// (working for auth.InvitationLifetime), through the outbox, in one
// transaction with the links and the record of when each was invited.
// It returns how many invitations were queued.
func (s *Store) Invite(ctx context.Context, schoolID int64, who Who, actor audit.Actor, deliver InviteDeliver) (int, error) {
	if err := who.Validate(); err != nil {
		return 0, err
	}
	now := s.db.Now()
	sent := 0
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		list, err := collectInvitees(tx.Query(ctx, inviteesQuery+` FOR UPDATE OF a`, schoolID, string(who)))
		if err != nil {
			return err
		}
		for _, i := range list {
			token, err := auth.IssueSignInLinkTx(ctx, tx, now, schoolID, i.AccountID, auth.InvitationLifetime, actor)
			if err != nil {
				return err
			}
			queued, err := deliver(ctx, tx, i, token)
			if err != nil {
				return err
			}
			if !queued {
				continue
			}
			sent++
			if _, err := tx.Exec(ctx, `UPDATE accounts SET invited_at = $2 WHERE id = $1`, i.AccountID, now); err != nil {
				return fmt.Errorf("onboarding: note invitation: %w", err)
			}
		}
		if sent == 0 {
			return nil
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: actor, Action: "staff.invited",
			Subject: fmt.Sprintf("school %d", schoolID), Detail: map[string]string{"who": string(who), "count": fmt.Sprint(sent)}})
	})
	if err != nil {
		return 0, err
	}
	return sent, nil
}

// Access is when a member of staff's account was invited and last signed in.
type Access struct {
	HasAccount   bool
	InvitedAt    *time.Time
	LastSignedIn *time.Time
}

// StaffAccess returns, for each current member of staff with an account,
// when they were invited and last signed in.
func (s *Store) StaffAccess(ctx context.Context, schoolID int64) (map[int64]Access, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT p.id, a.invited_at, a.last_signed_in_at FROM people p JOIN accounts a ON a.id = p.account_id
		WHERE p.school_id = $1 AND p.kind = 'staff'`, schoolID)
	if err != nil {
		return nil, fmt.Errorf("onboarding: staff access: %w", err)
	}
	defer rows.Close()
	out := map[int64]Access{}
	for rows.Next() {
		var id int64
		a := Access{HasAccount: true}
		if err := rows.Scan(&id, &a.InvitedAt, &a.LastSignedIn); err != nil {
			return nil, fmt.Errorf("onboarding: staff access: %w", err)
		}
		out[id] = a
	}
	return out, rows.Err()
}
