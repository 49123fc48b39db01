package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/database"
	"signoff/internal/ratelimit"
)

// PurposeSetUp is a new account's single-use link to choose its password.
const PurposeSetUp = "set_up"

// SetUpLinkLifetime is how long a set-up link works.
const SetUpLinkLifetime = 7 * 24 * time.Hour

// InvitationLifetime is how long the sign-in link in a staff invitation works.
const InvitationLifetime = 7 * 24 * time.Hour

// IssueSetUpLinkTx creates a single-use set-up link for account inside
// tx, replacing any earlier one, and returns its token (only the token's
// SHA-256 is stored).
func IssueSetUpLinkTx(ctx context.Context, tx pgx.Tx, now time.Time, schoolID, accountID int64, actor audit.Actor) (string, error) {
	token, err := newLongToken()
	if err != nil {
		return "", err
	}
	if _, err := tx.Exec(ctx, `UPDATE access_links SET revoked_at = $2 WHERE account_id = $1 AND purpose = 'set_up' AND used_at IS NULL AND revoked_at IS NULL`,
		accountID, now); err != nil {
		return "", fmt.Errorf("auth: replace set-up link: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO access_links (token_hash, school_id, account_id, purpose, created_at, expires_at, created_by)
		VALUES ($1, $2, $3, 'set_up', $4, $5, $6)`, hashToken(token), schoolID, accountID, now, now.Add(SetUpLinkLifetime), database.NullID(actor.AccountID)); err != nil {
		return "", fmt.Errorf("auth: create set-up link: %w", err)
	}
	if err := audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: actor, Action: "account.set_up_link_issued",
		Subject: fmt.Sprintf("account %d", accountID), Detail: map[string]string{"expires": now.Add(SetUpLinkLifetime).Format(time.DateOnly)}}); err != nil {
		return "", err
	}
	return token, nil
}

// IssueSignInLinkTx creates a single-use sign-in link for account inside
// tx, working for lifetime (an invitation's link lasts longer than one
// asked for on the sign-in page), and returns its token.
func IssueSignInLinkTx(ctx context.Context, tx pgx.Tx, now time.Time, schoolID, accountID int64, lifetime time.Duration, actor audit.Actor) (string, error) {
	token, err := newLongToken()
	if err != nil {
		return "", err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO access_links (token_hash, school_id, account_id, purpose, created_at, expires_at, created_by)
		VALUES ($1, $2, $3, 'sign_in', $4, $5, $6)`, hashToken(token), schoolID, accountID, now, now.Add(lifetime), database.NullID(actor.AccountID)); err != nil {
		return "", fmt.Errorf("auth: create sign-in link: %w", err)
	}
	return token, nil
}

var errBadSetUpLink = apperr.New(apperr.Unauthenticated, "This set-up link has expired or has already been used. Ask whoever set up your account for a new one, or sign in if you have chosen your password.")

// PeekSetUpLink returns the account a set-up link is for, without using it.
func (s *Store) PeekSetUpLink(ctx context.Context, token string) (Account, error) {
	return s.peekLink(ctx, token, "set_up", errBadSetUpLink)
}

// UseSetUpLink uses a set-up link once: it sets the account's password
// (with the usual rules) and opens a session, in one transaction.
func (s *Store) UseSetUpLink(ctx context.Context, token, password, confirm, ip, userAgent string) (Account, string, error) {
	if err := s.limits.Allow(ctx, LimitLinkUseByIP, ip); err != nil {
		return Account{}, "", err
	}
	a, err := s.PeekSetUpLink(ctx, token)
	if err != nil {
		return Account{}, "", err
	}
	var v apperr.Validation
	CheckNewPassword(&v, a.Email, password, confirm)
	if err := v.Err(); err != nil {
		return Account{}, "", err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return Account{}, "", err
	}
	now := s.db.Now()
	var session string
	err = s.db.InTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE access_links SET used_at = $2 WHERE token_hash = $1 AND purpose = 'set_up'
			AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2`, hashToken(token), now)
		if err != nil {
			return fmt.Errorf("auth: use set-up link: %w", err)
		}
		if tag.RowsAffected() != 1 {
			return errBadSetUpLink
		}
		if _, err := tx.Exec(ctx, `UPDATE accounts SET password_hash = $2 WHERE id = $1`, a.ID, hash); err != nil {
			return fmt.Errorf("auth: set password: %w", err)
		}
		session, err = s.createSessionTx(ctx, tx, a.ID, Via{IdentifiedBy: "Chose their password with a set-up link emailed to their address (" + a.Email + ")", IP: ip, UserAgent: userAgent})
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: a.SchoolID, At: now, Actor: a.Actor(ip),
			Action: "account.set_up", Subject: fmt.Sprintf("account %d", a.ID), Detail: map[string]string{"method": "set-up link"}})
	})
	if err != nil {
		return Account{}, "", err
	}
	return a, session, nil
}

// OpenSessionTx opens a session for account inside tx (the first-run
// set-up signs its new administrator in with the school it creates).
func (s *Store) OpenSessionTx(ctx context.Context, tx pgx.Tx, accountID int64, ip, userAgent string) (string, error) {
	return s.createSessionTx(ctx, tx, accountID, Via{IdentifiedBy: "Signed in with the password they chose when setting up the school", IP: ip, UserAgent: userAgent})
}

// BeginAttempt counts an attempt for key under rule as a failure before
// it is checked (see ratelimit.Limiter.Begin); call Succeeded on the
// result when it was not one.
func (s *Store) BeginAttempt(ctx context.Context, rule ratelimit.Rule, key string) (*ratelimit.Attempt, error) {
	return s.limits.Begin(ctx, rule, key)
}

// GetTx returns an account by id inside tx.
func (s *Store) GetTx(ctx context.Context, tx pgx.Tx, id int64) (Account, error) {
	a, err := scanAccount(tx.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts a`+accountPeople+` WHERE a.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, apperr.New(apperr.NotFound, "There is no such account")
	}
	if err != nil {
		return Account{}, fmt.Errorf("auth: get account: %w", err)
	}
	return a, nil
}
