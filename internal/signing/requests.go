package signing

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/people"
	"signoff/internal/schooltime"
)

// A request is derived, never stored: a person owes a form when they are
// in its audience now and hold no signature that still counts. A
// signature counts when it is of the current version or of a version no
// older than the last major one, and, for yearly forms, was given in the
// current academic year.

// validSignature is the SQL condition "person p holds a signature of form
// f that still counts"; it expects fc (form_current) in scope and the
// academic year as $AY.
const validSignature = `EXISTS (SELECT 1 FROM signatures s JOIN policy_versions sv ON sv.id = s.version_id
	WHERE s.form_id = f.id AND s.person_id = p.id AND s.pupil_id IS NULL AND sv.number >= fc.floor_number
	  AND (f.renewal <> 'each_year' OR s.academic_year = $AY))`

// Owed is a form a person must sign now, with the version to sign.
type Owed struct {
	Form          Form
	VersionID     int64
	VersionNumber int
	PublishedAt   time.Time
	// Why says what changed when the person signed before: "new_version"
	// or "new_year"; empty when they never signed.
	Why string
}

// ToSign returns what a member of staff must sign now, soonest due first.
func (s *Store) ToSign(ctx context.Context, p people.Person) ([]Owed, error) {
	if p.Kind != people.Staff || p.LeftAt != nil {
		return nil, nil
	}
	ay := schooltime.AcademicYear(s.db.Now())
	rows, err := s.db.Pool.Query(ctx, sqlAY(`SELECT `+formColumns+`, fc.version_id, fc.number, fc.published_at,
			CASE WHEN last.number IS NULL THEN ''
			     WHEN last.number < fc.floor_number THEN 'new_version'
			     ELSE 'new_year' END
		FROM forms f
		JOIN form_current fc ON fc.form_id = f.id
		JOIN people p ON p.id = $2
		LEFT JOIN LATERAL (SELECT sv.number FROM signatures s JOIN policy_versions sv ON sv.id = s.version_id
			WHERE s.form_id = f.id AND s.person_id = p.id AND s.pupil_id IS NULL
			ORDER BY sv.number DESC LIMIT 1) last ON true
		WHERE f.school_id = $1 AND f.closed_at IS NULL AND p.staff_role = ANY (f.audience_staff_roles)
		  AND NOT `+validSignature+`
		ORDER BY f.due_on NULLS LAST, lower(f.title)`), p.SchoolID, p.ID, ay)
	if err != nil {
		return nil, fmt.Errorf("signing: to sign: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Owed, error) {
		var o Owed
		f, err := scanForm(r, &o.VersionID, &o.VersionNumber, &o.PublishedAt, &o.Why)
		o.Form = f
		return o, err
	})
	if err != nil {
		return nil, fmt.Errorf("signing: to sign: %w", err)
	}
	return out, nil
}

// Owes returns the request of one form for one person: the version they
// must sign, or ok false when they owe nothing (signed, or not in the
// audience: see Form.InAudience).
func (s *Store) Owes(ctx context.Context, p people.Person, formID int64) (Owed, bool, error) {
	all, err := s.ToSign(ctx, p)
	if err != nil {
		return Owed{}, false, err
	}
	for _, o := range all {
		if o.Form.ID == formID {
			return o, true, nil
		}
	}
	return Owed{}, false, nil
}

// CurrentVersion returns the version a form asks people to sign now.
func (s *Store) CurrentVersion(ctx context.Context, formID int64) (versionID int64, number int, err error) {
	err = s.db.Pool.QueryRow(ctx, `SELECT version_id, number FROM form_current WHERE form_id = $1`, formID).Scan(&versionID, &number)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, apperr.New(apperr.NotFound, "This form has no published version")
	}
	if err != nil {
		return 0, 0, fmt.Errorf("signing: current version: %w", err)
	}
	return versionID, number, nil
}

// FormStats are a form's figures now.
type FormStats struct {
	Form          Form
	VersionNumber int
	Audience      int
	Signed        int
}

// Outstanding is how many in the audience have not signed.
func (f FormStats) Outstanding() int { return f.Audience - f.Signed }

// Percent is the share signed, 0 to 100, rounded down.
func (f FormStats) Percent() int {
	if f.Audience == 0 {
		return 0
	}
	return f.Signed * 100 / f.Audience
}

const statsQuery = `SELECT ` + formColumns + `, fc.number,
		count(p.id), count(p.id) FILTER (WHERE ` + validSignature + `)
	FROM forms f
	JOIN form_current fc ON fc.form_id = f.id
	LEFT JOIN people p ON p.school_id = f.school_id AND p.kind = 'staff' AND p.left_at IS NULL
		AND p.staff_role = ANY (f.audience_staff_roles)
	WHERE f.school_id = $1 AND ($2::bigint = 0 OR f.id = $2)
	GROUP BY f.id, fc.number, fc.floor_number
	ORDER BY f.closed_at NULLS FIRST, lower(f.title)`

// Stats returns every form of the school with its figures.
func (s *Store) Stats(ctx context.Context, schoolID int64) ([]FormStats, error) {
	return s.stats(ctx, schoolID, 0)
}

// FormStats returns one form's figures.
func (s *Store) FormStats(ctx context.Context, schoolID, formID int64) (FormStats, error) {
	all, err := s.stats(ctx, schoolID, formID)
	if err != nil {
		return FormStats{}, err
	}
	if len(all) == 0 {
		return FormStats{}, apperr.New(apperr.NotFound, "There is no such form")
	}
	return all[0], nil
}

func (s *Store) stats(ctx context.Context, schoolID, formID int64) ([]FormStats, error) {
	ay := schooltime.AcademicYear(s.db.Now())
	rows, err := s.db.Pool.Query(ctx, sqlAY(statsQuery), schoolID, formID, ay)
	if err != nil {
		return nil, fmt.Errorf("signing: stats: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (FormStats, error) {
		var st FormStats
		f, err := scanForm(r, &st.VersionNumber, &st.Audience, &st.Signed)
		st.Form = f
		return st, err
	})
	if err != nil {
		return nil, fmt.Errorf("signing: stats: %w", err)
	}
	return out, nil
}

// Sort orders a list of people.
type Sort struct {
	By   string // "name", "role", "email" or "signed"
	Desc bool
}

func (s Sort) orderBy() string {
	dir := " ASC"
	if s.Desc {
		dir = " DESC"
	}
	switch s.By {
	case "role":
		return "p.staff_role" + dir + ", lower(p.family_name), lower(p.given_name)"
	case "email":
		return "p.email" + dir
	case "signed":
		return "cur.signed_at" + dir + " NULLS LAST, lower(p.family_name)"
	}
	return "lower(p.family_name)" + dir + ", lower(p.given_name)" + dir + ", p.id"
}

// Row is one person in a form's signed or outstanding list.
type Row struct {
	Person    people.Person
	SignedAt  *time.Time // when the signature that counts was given
	Reference string
	// LastSignedVersion is the latest version they signed before, if any
	// (for the outstanding list: "signed version 1").
	LastSignedVersion int
}

// People returns the form's audience, signed or outstanding, sorted.
func (s *Store) People(ctx context.Context, schoolID, formID int64, signed bool, sort Sort) ([]Row, error) {
	ay := schooltime.AcademicYear(s.db.Now())
	cond := "NOT "
	if signed {
		cond = ""
	}
	rows, err := s.db.Pool.Query(ctx, sqlAY(`SELECT `+people.Columns+`,
			cur.signed_at, coalesce(cur.reference, ''), coalesce(last.number, 0)
		FROM forms f
		JOIN form_current fc ON fc.form_id = f.id
		JOIN people p ON p.school_id = f.school_id AND p.kind = 'staff' AND p.left_at IS NULL
			AND p.staff_role = ANY (f.audience_staff_roles)
		LEFT JOIN LATERAL (SELECT s.signed_at, s.reference FROM signatures s JOIN policy_versions sv ON sv.id = s.version_id
			WHERE s.form_id = f.id AND s.person_id = p.id AND s.pupil_id IS NULL AND sv.number >= fc.floor_number
			  AND (f.renewal <> 'each_year' OR s.academic_year = $AY)
			ORDER BY s.signed_at DESC LIMIT 1) cur ON true
		LEFT JOIN LATERAL (SELECT sv.number FROM signatures s JOIN policy_versions sv ON sv.id = s.version_id
			WHERE s.form_id = f.id AND s.person_id = p.id AND s.pupil_id IS NULL
			ORDER BY sv.number DESC LIMIT 1) last ON true
		WHERE f.school_id = $1 AND f.id = $2 AND `+cond+validSignature+`
		ORDER BY `+sort.orderBy()), schoolID, formID, ay)
	if err != nil {
		return nil, fmt.Errorf("signing: people: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Row, error) {
		var row Row
		var err error
		row.Person, err = people.Scan(r, &row.SignedAt, &row.Reference, &row.LastSignedVersion)
		return row, err
	})
	if err != nil {
		return nil, fmt.Errorf("signing: people: %w", err)
	}
	return out, nil
}

// sqlAY puts the academic-year parameter ($3 in every query here) in
// place of $AY.
func sqlAY(q string) string {
	return strings.ReplaceAll(q, "$AY", "$3")
}

// OwedCounts returns, for each member of staff who owes anything, how
// many forms they still have to sign.
func (s *Store) OwedCounts(ctx context.Context, schoolID int64) (map[int64]int, error) {
	ay := schooltime.AcademicYear(s.db.Now())
	rows, err := s.db.Pool.Query(ctx, `SELECT p.id, count(*)
		FROM forms f
		JOIN form_current fc ON fc.form_id = f.id
		JOIN people p ON p.school_id = f.school_id AND p.kind = 'staff' AND p.left_at IS NULL
			AND p.staff_role = ANY (f.audience_staff_roles)
		WHERE f.school_id = $1 AND f.closed_at IS NULL AND NOT `+strings.ReplaceAll(validSignature, "$AY", "$2")+`
		GROUP BY p.id`, schoolID, ay)
	if err != nil {
		return nil, fmt.Errorf("signing: owed counts: %w", err)
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("signing: owed counts: %w", err)
		}
		out[id] = n
	}
	return out, rows.Err()
}
