package onboarding

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/auth"
	"signoff/internal/codes"
	"signoff/internal/ratelimit"
)

// The first-run set-up page's limits: failed codes per IP, as for sign-in.
var LimitSetupByIP = ratelimit.Rule{Name: "setup-code-ip", Max: 10, Window: 15 * time.Minute}

// newCode is 80 random bits as XXXX-XXXX-XXXX-XXXX.
func newCode() (string, error) {
	code, err := codes.New("", 16)
	if err != nil {
		return "", fmt.Errorf("onboarding: set-up code: %w", err)
	}
	return code, nil
}

// normaliseCode reads a code as a person might copy it: any case, with
// or without dashes and spaces, O for 0 and I or L for 1.
func normaliseCode(s string) string { return codes.Normalise("", s, 16) }

func hashCode(code string) []byte {
	sum := sha256.Sum256([]byte(normaliseCode(code)))
	return sum[:]
}

// NeedsSetup reports whether the installation has no school yet.
func (s *Store) NeedsSetup(ctx context.Context) (bool, error) {
	var any bool
	if err := s.db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schools)`).Scan(&any); err != nil {
		return false, fmt.Errorf("onboarding: any school: %w", err)
	}
	return !any, nil
}

// NewSetupCode makes a fresh one-time set-up code when the installation
// has no school (replacing any earlier one), and returns it for `serve`
// to print; only its SHA-256 is stored. With a school, it returns "".
func (s *Store) NewSetupCode(ctx context.Context) (string, error) {
	code, err := newCode()
	if err != nil {
		return "", err
	}
	made := false
	err = s.db.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE setup_codes IN EXCLUSIVE MODE`); err != nil {
			return fmt.Errorf("onboarding: lock set-up code: %w", err)
		}
		var any bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schools)`).Scan(&any); err != nil {
			return fmt.Errorf("onboarding: any school: %w", err)
		}
		if any {
			_, err := tx.Exec(ctx, `DELETE FROM setup_codes`)
			return err
		}
		made = true
		_, err := tx.Exec(ctx, `INSERT INTO setup_codes (id, code_hash, created_at) VALUES (1, $1, $2)
			ON CONFLICT (id) DO UPDATE SET code_hash = excluded.code_hash, created_at = excluded.created_at`, hashCode(code), s.db.Now())
		return err
	})
	if err != nil || !made {
		return "", err
	}
	return code, nil
}

var errBadCode = &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "code",
	Message: "The set-up code is not right: copy it from the log of signoff serve (it changes each time the server starts)"}}}

// SetUpFirstSchool creates the installation's first school and its
// administrator (with the password given) when code is the current
// set-up code, and signs the administrator in, in one transaction. The
// code stops working once a school exists. Wrong codes count against the
// IP like failed sign-ins.
func (s *Store) SetUpFirstSchool(ctx context.Context, code string, n NewSchool, ip, userAgent string) (Created, string, error) {
	// Every attempt counts as a wrong code until it turns out otherwise,
	// so that many at once cannot all be tried.
	attempt, err := s.accounts.BeginAttempt(ctx, LimitSetupByIP, ip)
	if err != nil {
		return Created{}, "", err
	}
	var out Created
	var session string
	defer func() {
		if err != errBadCode {
			_ = attempt.Succeeded(context.WithoutCancel(ctx))
		}
	}()
	var v apperr.Validation
	v.Check(strings.TrimSpace(code) != "", "code", "Enter the set-up code from the log of signoff serve")
	for _, f := range apperr.FieldsOf(n.Validate()) {
		v.Add(f.Field, f.Message)
	}
	if n.AdminPassword == "" && !v.Has("new_password") {
		v.Add("new_password", fmt.Sprintf("Choose a password for your account, at least %d characters long", auth.MinPasswordLength))
	}
	if err = v.Err(); err != nil {
		return Created{}, "", err
	}
	err = s.db.InTx(ctx, func(tx pgx.Tx) error {
		var stored []byte
		err := tx.QueryRow(ctx, `SELECT code_hash FROM setup_codes WHERE id = 1 FOR UPDATE`).Scan(&stored)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "This installation has been set up already: sign in instead")
		}
		if err != nil {
			return fmt.Errorf("onboarding: set-up code: %w", err)
		}
		if subtle.ConstantTimeCompare(stored, hashCode(code)) != 1 {
			return errBadCode
		}
		var any bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schools)`).Scan(&any); err != nil {
			return fmt.Errorf("onboarding: any school: %w", err)
		}
		if any {
			return apperr.New(apperr.NotFound, "This installation has been set up already: sign in instead")
		}
		out, err = s.createSchoolTx(ctx, tx, n, audit.Actor{Name: "first-run set-up", IP: ip}, nil)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM setup_codes`); err != nil {
			return fmt.Errorf("onboarding: remove set-up code: %w", err)
		}
		session, err = s.accounts.OpenSessionTx(ctx, tx, out.Account.ID, ip, userAgent)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: out.School.ID, At: s.db.Now(), Actor: out.Account.Actor(ip),
			Action: "account.signed_in", Subject: fmt.Sprintf("account %d", out.Account.ID), Detail: map[string]string{"method": "first-run set-up"}})
	})
	if err != nil {
		return Created{}, "", err
	}
	return out, session, nil
}
