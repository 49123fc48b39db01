package people

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/database"
)

// Link is one parent–pupil link, seen from either side.
type Link struct {
	Person                 Person // the child (from a parent) or the parent (from a child)
	Relationship           string
	ParentalResponsibility bool
	Priority               int
}

// ChildrenOf returns a parent's current children, youngest year first.
func (s *Store) ChildrenOf(ctx context.Context, schoolID, parentID int64) ([]Link, error) {
	return s.links(ctx, childrenOfSQL, schoolID, parentID)
}

const childrenOfSQL = `SELECT ` + Columns + `, g.relationship, g.parental_responsibility, g.priority ` + childrenOfFrom + `
	ORDER BY p.year_group, lower(p.given_name)`

// childrenOfFrom is which rows ChildrenOf reads: the current children of
// parent $2 at school $1 (p), with their links (g).
const childrenOfFrom = `FROM guardianships g JOIN people p ON p.id = g.pupil_id
	WHERE g.school_id = $1 AND g.parent_id = $2 AND p.left_at IS NULL`

// QueueChildrenOf queues ChildrenOf's read into dst, for a page that
// sends it with its other reads in one round trip.
func QueueChildrenOf(r *database.Reads, schoolID, parentID int64, dst *[]Link) {
	r.Rows(childrenOfSQL, []any{schoolID, parentID}, func(rows pgx.Rows) (err error) {
		*dst, err = collectLinks(rows)
		return err
	})
}

// QueueParentAndChildren queues, as one statement, the parent's own
// record (Get: NotFound when there is none) and ChildrenOf's read: the
// family page's first two reads, one statement fewer on every look
// (issue 15). The parent's row comes first (sort_part 0), then the
// children in ChildrenOf's order.
func QueueParentAndChildren(r *database.Reads, schoolID, parentID int64, parent *Person, children *[]Link) {
	r.Rows(parentAndChildrenSQL, []any{schoolID, parentID}, func(rows pgx.Rows) error {
		found := false
		*children = nil
		for rows.Next() {
			var l Link
			var part int
			var year *int16
			var name string
			p, err := Scan(rows, &l.Relationship, &l.ParentalResponsibility, &l.Priority, &part, &year, &name)
			if err != nil {
				return fmt.Errorf("people: parent and children: %w", err)
			}
			if part == 0 {
				*parent, found = p, true
				continue
			}
			l.Person = p
			*children = append(*children, l)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("people: parent and children: %w", err)
		}
		if !found {
			return apperr.New(apperr.NotFound, "There is no such person")
		}
		return nil
	})
}

const parentAndChildrenSQL = `SELECT ` + Columns + `, '', false, 0, 0 AS sort_part, 0::smallint AS sort_year, '' AS sort_name ` + getFrom + `
	UNION ALL
	SELECT ` + Columns + `, g.relationship, g.parental_responsibility, g.priority, 1, p.year_group, lower(p.given_name) ` + childrenOfFrom + `
	ORDER BY sort_part, sort_year, sort_name`

// GuardiansOf returns a pupil's parents and carers, by priority.
func (s *Store) GuardiansOf(ctx context.Context, schoolID, pupilID int64) ([]Link, error) {
	return s.links(ctx, `SELECT `+Columns+`, g.relationship, g.parental_responsibility, g.priority
		FROM guardianships g JOIN people p ON p.id = g.parent_id
		WHERE g.school_id = $1 AND g.pupil_id = $2 AND p.left_at IS NULL
		ORDER BY g.priority, lower(p.family_name)`, schoolID, pupilID)
}

// GuardiansOfPupils returns the parents and carers of many pupils at
// once, by pupil, each by priority.
func (s *Store) GuardiansOfPupils(ctx context.Context, schoolID int64, pupilIDs []int64) (map[int64][]Link, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT `+Columns+`, g.relationship, g.parental_responsibility, g.priority, g.pupil_id
		FROM guardianships g JOIN people p ON p.id = g.parent_id
		WHERE g.school_id = $1 AND g.pupil_id = ANY ($2) AND p.left_at IS NULL
		ORDER BY g.pupil_id, g.priority, lower(p.family_name)`, schoolID, pupilIDs)
	if err != nil {
		return nil, fmt.Errorf("people: guardians: %w", err)
	}
	defer rows.Close()
	out := map[int64][]Link{}
	for rows.Next() {
		var l Link
		var pupil int64
		if l.Person, err = Scan(rows, &l.Relationship, &l.ParentalResponsibility, &l.Priority, &pupil); err != nil {
			return nil, fmt.Errorf("people: guardians: %w", err)
		}
		out[pupil] = append(out[pupil], l)
	}
	return out, rows.Err()
}

func (s *Store) links(ctx context.Context, q string, args ...any) ([]Link, error) {
	rows, err := s.db.Pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("people: links: %w", err)
	}
	return collectLinks(rows)
}

func collectLinks(rows pgx.Rows) ([]Link, error) {
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Link, error) {
		var l Link
		var err error
		l.Person, err = Scan(r, &l.Relationship, &l.ParentalResponsibility, &l.Priority)
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("people: links: %w", err)
	}
	return out, nil
}

// ChildOf returns pupil pupilID when it is a current child of parent
// parentID; any other pupil is not found, so a parent changing an id in
// an address learns nothing.
func (s *Store) ChildOf(ctx context.Context, schoolID, parentID, pupilID int64) (Link, error) {
	all, err := s.ChildrenOf(ctx, schoolID, parentID)
	if err != nil {
		return Link{}, err
	}
	for _, l := range all {
		if l.Person.ID == pupilID {
			return l, nil
		}
	}
	return Link{}, apperr.New(apperr.NotFound, "Page not found")
}

// PupilFilter narrows a pupil list.
type PupilFilter struct {
	YearGroup *YearGroup
	RegClass  string
	Search    string
}

// ListPupils returns a school's current pupils by class and name.
func (s *Store) ListPupils(ctx context.Context, schoolID int64, f PupilFilter) ([]Person, error) {
	var year *int16
	if f.YearGroup != nil {
		y := int16(*f.YearGroup)
		year = &y
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT `+Columns+` FROM people p
		WHERE p.school_id = $1 AND p.kind = 'pupil' AND p.left_at IS NULL
		  AND ($2::smallint IS NULL OR p.year_group = $2)
		  AND ($3 = '' OR p.reg_class = $3)
		  AND ($4 = '' OR (p.given_name || ' ' || p.preferred_name || ' ' || p.family_name || ' ' || coalesce(p.mis_id, '')) ILIKE '%' || $4 || '%')
		ORDER BY p.year_group, p.reg_class, lower(p.family_name), lower(p.given_name)`,
		schoolID, year, strings.TrimSpace(f.RegClass), database.LikeEscape(strings.TrimSpace(f.Search)))
	if err != nil {
		return nil, fmt.Errorf("people: list pupils: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Person, error) { return Scan(r) })
	if err != nil {
		return nil, fmt.Errorf("people: list pupils: %w", err)
	}
	return out, nil
}

// Classes returns the school's registration classes with their year
// groups, in order.
func (s *Store) Classes(ctx context.Context, schoolID int64) ([]Class, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT year_group, reg_class, count(*) FROM people
		WHERE school_id = $1 AND kind = 'pupil' AND left_at IS NULL AND reg_class IS NOT NULL
		GROUP BY year_group, reg_class ORDER BY year_group, reg_class`, schoolID)
	if err != nil {
		return nil, fmt.Errorf("people: classes: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Class, error) {
		var c Class
		var y int16
		err := r.Scan(&y, &c.Name, &c.Pupils)
		c.YearGroup = YearGroup(y)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("people: classes: %w", err)
	}
	return out, nil
}

// Class is a registration class.
type Class struct {
	YearGroup YearGroup
	Name      string
	Pupils    int
}

// GetKind returns person id of the school when it is of kind k.
func (s *Store) GetKind(ctx context.Context, schoolID, id int64, k Kind) (Person, error) {
	p, err := s.Get(ctx, schoolID, id)
	if err != nil {
		return Person{}, err
	}
	if p.Kind != k {
		return Person{}, apperr.New(apperr.NotFound, "There is no such person")
	}
	return p, nil
}

// ParentEmailTx returns the email address of the parent or carer whose
// sign-in account is accountID, read inside tx; "" when they have none.
func ParentEmailTx(ctx context.Context, tx pgx.Tx, accountID int64) (string, error) {
	var to string
	err := tx.QueryRow(ctx, `SELECT coalesce(p.email, '') FROM people p WHERE p.account_id = $1 AND p.kind = 'parent' ORDER BY p.id LIMIT 1`, accountID).Scan(&to)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("people: parent's email: %w", err)
	}
	return to, nil
}
