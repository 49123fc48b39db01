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

// Members returns the school's enabled members, by name: who can own a
// policy, approve it or be named to.
func Members(ctx context.Context, db *database.DB, schoolID int64) ([]Member, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id, display_name, coalesce(email, ''), roles::text[] FROM accounts
		WHERE school_id = $1 AND disabled_at IS NULL AND roles && ARRAY['admin', 'head', 'governor', 'staff']
		ORDER BY lower(display_name), id`, schoolID)
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
