package auth

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"signoff/internal/database"
)

// Member is an account that works at a school: the office, a head, a
// governor or staff (never a parent's account alone).
type Member struct {
	AccountID int64
	Name      string
	Email     string
	Roles     []Role
}

// Has reports whether the member holds role r.
func (m Member) Has(r Role) bool { return slices.Contains(m.Roles, r) }

// memberWhere is the one statement of who is a member of school $1: an
// enabled account holding a role that works at the school.
const memberWhere = `school_id = $1 AND disabled_at IS NULL AND roles && ARRAY['admin', 'head', 'governor', 'staff']`

// Members returns the school's enabled members, by name: who can own a
// policy, approve it or be named to.
func Members(ctx context.Context, db *database.DB, schoolID int64) ([]Member, error) {
	return members(ctx, db.Pool, schoolID)
}

// MembersTx is Members inside tx.
func MembersTx(ctx context.Context, tx pgx.Tx, schoolID int64) ([]Member, error) {
	return members(ctx, tx, schoolID)
}

// IsMemberTx reports, inside tx, whether account id is a member of the
// school (see Members).
func IsMemberTx(ctx context.Context, tx pgx.Tx, schoolID, id int64) (bool, error) {
	var ok bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE `+memberWhere+` AND id = $2)`, schoolID, id).Scan(&ok); err != nil {
		return false, fmt.Errorf("auth: member: %w", err)
	}
	return ok, nil
}

func members(ctx context.Context, q database.Querier, schoolID int64) ([]Member, error) {
	rows, err := q.Query(ctx, `SELECT id, display_name, coalesce(email, ''), roles::text[] FROM accounts
		WHERE `+memberWhere+` ORDER BY lower(display_name), id`, schoolID)
	if err != nil {
		return nil, fmt.Errorf("auth: members: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Member, error) {
		var m Member
		var roles []string
		err := r.Scan(&m.AccountID, &m.Name, &m.Email, &roles)
		for _, x := range roles {
			m.Roles = append(m.Roles, Role(x))
		}
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("auth: members: %w", err)
	}
	return out, nil
}

// Members returns the school's enabled members (see Members).
func (s *Store) Members(ctx context.Context, schoolID int64) ([]Member, error) {
	return Members(ctx, s.db, schoolID)
}

// NameSQL is SQL for the display name of the account whose id is the SQL
// expression id (” for none): for other packages' statements that show
// who did something, so that they read the name in the same statement,
// with no round trip of its own, without naming accounts' columns.
func NameSQL(id string) string {
	return `coalesce((SELECT na.display_name FROM accounts na WHERE na.id = ` + id + `), '')`
}

// EmailSQL is SQL for the email address of the account whose id is the
// SQL expression id (” for none or no address); see NameSQL.
func EmailSQL(id string) string {
	return `coalesce((SELECT ea.email FROM accounts ea WHERE ea.id = ` + id + `), '')`
}
