package onboarding

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/auth"
	"signoff/internal/people"
)

// Grant is what GrantTrustAdmin did.
type Grant struct {
	Account auth.Account
	// Created says a new account was made for the address.
	Created bool
	// SetUpToken is a set-up link's token when the account has no
	// password yet; "" when it can sign in already.
	SetUpToken string
}

// GrantDeliver queues, inside the granting transaction, the email telling
// the new trust administrator (with their set-up link when token is set).
type GrantDeliver func(ctx context.Context, tx pgx.Tx, trustName string, a auth.Account, token string) error

// GrantTrustAdmin makes the account with email a trust administrator of
// trust trustID. An account of one of the trust's schools gets the role;
// an address with no account gets a new account (at homeSchoolID, one of
// the trust's schools, or the trust's first school when 0) with only that
// role. An account without a password gets a set-up link.
func (s *Store) GrantTrustAdmin(ctx context.Context, trustID, homeSchoolID int64, email, name string, actor audit.Actor, deliver GrantDeliver) (Grant, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	name = strings.TrimSpace(name)
	p := people.Person{Kind: people.Staff, StaffRole: people.Support, GivenName: "x", FamilyName: "x", Email: email}
	if email == "" || p.Validate() != nil || len(email) > 254 {
		return Grant{}, &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "email", Message: "Enter an email address in the right format, like name@trust.example.org"}}}
	}
	if len([]rune(name)) > 200 {
		return Grant{}, &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "name", Message: "The name must be 200 characters or fewer"}}}
	}
	now := s.db.Now()
	var g Grant
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		var trustName string
		if err := tx.QueryRow(ctx, `SELECT name FROM trusts WHERE id = $1`, trustID).Scan(&trustName); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return apperr.New(apperr.NotFound, "There is no such trust")
			}
			return fmt.Errorf("onboarding: trust: %w", err)
		}
		var id, schoolID int64 // schoolID: the existing account's school
		var roles []string
		var hasPassword, inTrust bool
		var disabled *time.Time
		err := tx.QueryRow(ctx, `SELECT a.id, a.school_id, a.roles::text[], a.password_hash IS NOT NULL, a.disabled_at, coalesce(sc.trust_id = $2, false)
			FROM accounts a JOIN schools sc ON sc.id = a.school_id WHERE a.email = $1 FOR UPDATE OF a`, email, trustID).
			Scan(&id, &schoolID, &roles, &hasPassword, &disabled, &inTrust)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			if homeSchoolID == 0 {
				err := tx.QueryRow(ctx, `SELECT id FROM schools WHERE trust_id = $1 ORDER BY id LIMIT 1`, trustID).Scan(&homeSchoolID)
				if errors.Is(err, pgx.ErrNoRows) {
					return &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "email",
						Message: "The trust has no school yet: add a school to it first"}}}
				}
				if err != nil {
					return fmt.Errorf("onboarding: trust's first school: %w", err)
				}
			}
			if name == "" {
				name = nameFromEmail(email)
			}
			a := auth.Account{SchoolID: homeSchoolID, Email: email, DisplayName: name, Roles: []auth.Role{auth.TrustAdmin}}
			if err := auth.CreateAccountTx(ctx, tx, &a, ""); err != nil {
				return err
			}
			g = Grant{Account: a, Created: true}
		case err != nil:
			return fmt.Errorf("onboarding: account: %w", err)
		case !inTrust:
			return &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "email",
				Message: "This address has an account at a school outside the trust: use another address"}}}
		case disabled != nil:
			return &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "email",
				Message: "This address's account has been closed (they have left their school): use another address"}}}
		case slices.Contains(roles, string(auth.TrustAdmin)):
			return &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "email",
				Message: "This person is a trust administrator already"}}}
		default:
			if _, err := tx.Exec(ctx, `UPDATE accounts SET roles = array_append(roles, 'trust_admin') WHERE id = $1`, id); err != nil {
				return fmt.Errorf("onboarding: grant: %w", err)
			}
			a, err := s.accounts.GetTx(ctx, tx, id)
			if err != nil {
				return err
			}
			g = Grant{Account: a}
		}
		if g.Created || !hasPassword {
			token, err := auth.IssueSetUpLinkTx(ctx, tx, now, g.Account.SchoolID, g.Account.ID, actor)
			if err != nil {
				return err
			}
			g.SetUpToken = token
		}
		if err := audit.Record(ctx, tx, audit.Entry{SchoolID: g.Account.SchoolID, At: now, Actor: actor, Action: "trust.admin_granted",
			Subject: fmt.Sprintf("account %d", g.Account.ID), Detail: map[string]string{"trust": trustName, "email": email}}); err != nil {
			return err
		}
		if deliver != nil {
			return deliver(ctx, tx, trustName, g.Account, g.SetUpToken)
		}
		return nil
	})
	if err != nil {
		return Grant{}, err
	}
	return g, nil
}

// RemoveTrustAdmin takes the trust administrator role from an account of
// the trust. A trust keeps at least one administrator; an account left
// with no role is closed and its sessions end.
func (s *Store) RemoveTrustAdmin(ctx context.Context, trustID, accountID int64, actor audit.Actor) error {
	now := s.db.Now()
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		var schoolID int64
		var roles []string
		err := tx.QueryRow(ctx, `SELECT a.school_id, a.roles::text[] FROM accounts a JOIN schools sc ON sc.id = a.school_id
			WHERE a.id = $1 AND sc.trust_id = $2 AND 'trust_admin' = ANY (a.roles) FOR UPDATE OF a`, accountID, trustID).Scan(&schoolID, &roles)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "There is no such trust administrator")
		}
		if err != nil {
			return fmt.Errorf("onboarding: remove trust admin: %w", err)
		}
		var others int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM accounts a JOIN schools sc ON sc.id = a.school_id
			WHERE sc.trust_id = $1 AND a.id <> $2 AND 'trust_admin' = ANY (a.roles) AND a.disabled_at IS NULL`, trustID, accountID).Scan(&others); err != nil {
			return fmt.Errorf("onboarding: remove trust admin: %w", err)
		}
		if others == 0 {
			return apperr.New(apperr.Conflict, "This is the trust's only administrator: make someone else a trust administrator first")
		}
		left := slices.DeleteFunc(slices.Clone(roles), func(r string) bool { return r == string(auth.TrustAdmin) })
		if _, err := tx.Exec(ctx, `UPDATE accounts SET roles = $2 WHERE id = $1`, accountID, left); err != nil {
			return fmt.Errorf("onboarding: remove trust admin: %w", err)
		}
		if len(left) == 0 {
			if _, err := tx.Exec(ctx, `UPDATE accounts SET disabled_at = $2 WHERE id = $1`, accountID, now); err != nil {
				return fmt.Errorf("onboarding: close account: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE account_id = $1`, accountID); err != nil {
			return fmt.Errorf("onboarding: end sessions: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: actor, Action: "trust.admin_removed",
			Subject: fmt.Sprintf("account %d", accountID)})
	})
}

// TrustAdmin is one administrator of a trust, as its page lists them.
type TrustAdmin struct {
	AccountID    int64
	Name, Email  string
	School       string // the school their account belongs to
	HasPassword  bool
	LastSignedIn *time.Time
}

// TrustAdmins lists a trust's administrators, by name.
func (s *Store) TrustAdmins(ctx context.Context, trustID int64) ([]TrustAdmin, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT a.id, a.display_name, coalesce(a.email, ''), sc.name, a.password_hash IS NOT NULL, a.last_signed_in_at
		FROM accounts a JOIN schools sc ON sc.id = a.school_id
		WHERE sc.trust_id = $1 AND 'trust_admin' = ANY (a.roles) AND a.disabled_at IS NULL
		ORDER BY lower(a.display_name), a.id`, trustID)
	if err != nil {
		return nil, fmt.Errorf("onboarding: trust admins: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (TrustAdmin, error) {
		var t TrustAdmin
		return t, r.Scan(&t.AccountID, &t.Name, &t.Email, &t.School, &t.HasPassword, &t.LastSignedIn)
	})
	if err != nil {
		return nil, fmt.Errorf("onboarding: trust admins: %w", err)
	}
	return out, nil
}

// SchoolSummary returns a school's administrators' addresses and how
// many current staff it has.
func (s *Store) SchoolSummary(ctx context.Context, schoolID int64) (admins []string, staff int, err error) {
	err = s.db.Pool.QueryRow(ctx, `SELECT
			coalesce((SELECT array_agg(a.email ORDER BY a.email) FROM accounts a WHERE a.school_id = $1 AND 'admin' = ANY (a.roles)
			  AND a.disabled_at IS NULL AND a.email IS NOT NULL), '{}'),
			(SELECT count(*) FROM people p WHERE p.school_id = $1 AND p.kind = 'staff' AND p.left_at IS NULL)`, schoolID).Scan(&admins, &staff)
	if err != nil {
		return nil, 0, fmt.Errorf("onboarding: school summary: %w", err)
	}
	return admins, staff, nil
}
