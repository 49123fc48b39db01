package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
)

// HasPassword reports whether an account has a password set.
func (s *Store) HasPassword(ctx context.Context, accountID int64) (bool, error) {
	var has bool
	err := s.db.Pool.QueryRow(ctx, `SELECT password_hash IS NOT NULL FROM accounts WHERE id = $1`, accountID).Scan(&has)
	if err != nil {
		return false, fmt.Errorf("auth: has password: %w", err)
	}
	return has, nil
}

// SetPassword sets an account's own password. When one is set already,
// the current one must be given. Every other session of the account ends
// (a password changed because it leaked must shut the door); the session
// with token session, the one changing it, stays.
func (s *Store) SetPassword(ctx context.Context, a Account, session, current, next, confirm, ip string) error {
	var v apperr.Validation
	var hash *string
	if err := s.db.Pool.QueryRow(ctx, `SELECT password_hash FROM accounts WHERE id = $1`, a.ID).Scan(&hash); err != nil {
		return fmt.Errorf("auth: set password: %w", err)
	}
	if hash != nil {
		ok, err := checkPassword(current, *hash)
		if err != nil {
			return fmt.Errorf("auth: set password: %w", err)
		}
		v.Check(ok, "current_password", "Your current password is not right")
	}
	CheckNewPassword(&v, a.Email, next, confirm)
	if err := v.Err(); err != nil {
		return err
	}
	newHash, err := HashPassword(next)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE accounts SET password_hash = $2 WHERE id = $1`, a.ID, newHash); err != nil {
			return fmt.Errorf("auth: set password: %w", err)
		}
		sum := sha256.Sum256([]byte(session))
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE account_id = $1 AND token_hash <> $2`, a.ID, sum[:]); err != nil {
			return fmt.Errorf("auth: end other sessions: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: a.SchoolID, At: s.db.Now(), Actor: a.Actor(ip),
			Action: "account.password_set", Subject: fmt.Sprintf("account %d", a.ID)})
	})
}

// CheckNewPassword adds the rules every chosen password must meet to v,
// on the fields "new_password" and "confirm_password".
func CheckNewPassword(v *apperr.Validation, email, next, confirm string) {
	switch {
	case len([]rune(next)) < MinPasswordLength:
		v.Add("new_password", fmt.Sprintf("Your new password must be at least %d characters long; three random words work well", MinPasswordLength))
	case len(next) > 200:
		v.Add("new_password", "Your new password must be 200 characters or fewer")
	case email != "" && strings.EqualFold(next, email):
		v.Add("new_password", "Your new password must not be your email address")
	}
	v.Check(v.Has("new_password") || next == confirm, "confirm_password", "The two passwords are not the same")
}

// AssignableRoles are the roles an admin gives or takes away on a staff
// account; staff, governor and parent follow from the person's records.
var AssignableRoles = []Role{Admin, Head}

// SetRoles gives an account exactly the assignable roles in want (other
// roles are kept). An administrator must have a password, and a school
// cannot lose its last administrator.
func (s *Store) SetRoles(ctx context.Context, schoolID, accountID int64, want []Role, actor audit.Actor) error {
	for _, r := range want {
		if !slices.Contains(AssignableRoles, r) {
			return &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "roles", Message: "Choose roles from the list"}}}
		}
	}
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		var roles []string
		var hasPassword bool
		err := tx.QueryRow(ctx, `SELECT roles::text[], password_hash IS NOT NULL FROM accounts WHERE school_id = $1 AND id = $2 FOR UPDATE`,
			schoolID, accountID).Scan(&roles, &hasPassword)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "There is no such account")
		}
		if err != nil {
			return fmt.Errorf("auth: set roles: %w", err)
		}
		var next []string
		for _, r := range roles {
			if !slices.Contains(AssignableRoles, Role(r)) {
				next = append(next, r)
			}
		}
		for _, r := range want {
			next = append(next, string(r))
		}
		if slices.Contains(want, Admin) && !hasPassword {
			return &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "roles",
				Message: "An administrator must sign in with a password: ask them to set one under “Your account” first"}}}
		}
		if slices.Contains(roles, string(Admin)) && !slices.Contains(want, Admin) {
			var others int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM accounts WHERE school_id = $1 AND id <> $2 AND 'admin' = ANY (roles) AND disabled_at IS NULL`,
				schoolID, accountID).Scan(&others); err != nil {
				return fmt.Errorf("auth: set roles: %w", err)
			}
			if others == 0 {
				return &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "roles",
					Message: "This is the school's only administrator: make someone else an administrator first"}}}
			}
		}
		slices.Sort(roles)
		sortedNext := slices.Clone(next)
		slices.Sort(sortedNext)
		if slices.Equal(roles, sortedNext) {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE accounts SET roles = $2 WHERE id = $1`, accountID, next); err != nil {
			return fmt.Errorf("auth: set roles: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: s.db.Now(), Actor: actor, Action: "account.roles_changed",
			Subject: fmt.Sprintf("account %d", accountID), Detail: map[string]string{"from": strings.Join(roles, ","), "to": strings.Join(sortedNext, ",")}})
	})
}

// ForPerson returns the account of a person, if they have one.
func (s *Store) ForPerson(ctx context.Context, schoolID, personID int64) (Account, bool, error) {
	a, err := scanAccount(s.db.Pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts a`+accountPeople+` JOIN people p ON p.account_id = a.id
		WHERE p.school_id = $1 AND p.id = $2`, schoolID, personID))
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, false, nil
	}
	if err != nil {
		return Account{}, false, fmt.Errorf("auth: account of person: %w", err)
	}
	return a, true, nil
}
