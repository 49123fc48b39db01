package signing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/people"
	"signoff/internal/schooltime"
)

// A request is a row of the obligations table, which the database keeps
// in the same transaction as every change that alters it (migration 0012,
// signoff_obligations_derive): a person owes a form when they are in its
// audience now and hold no signature that still counts. A signature
// counts when it is of the current version or of a version no older than
// the last major one, and, for yearly forms, was given in the current
// academic year (applied here: signoff_obligation_counts, migration 0027).

// Owed is a form a person must sign now, with the version to sign.
type Owed struct {
	Form          Form
	VersionID     int64
	VersionNumber int
	PublishedAt   time.Time
	// Why says what changed when the person signed before: "new_version"
	// or "new_year"; empty when they never signed. It reads the
	// obligation's signature_id (signoff_staff_current, migration 0016):
	// one that counts but for the academic year is "new_year"; none while
	// the person signed an older version is "new_version".
	Why string
}

// ToSign returns what a member of staff must sign now, soonest due first.
func (s *Store) ToSign(ctx context.Context, p people.Person) ([]Owed, error) {
	if !mayOwe(p) {
		return nil, nil
	}
	rows, err := s.db.Pool.Query(ctx, toSignSQL, p.SchoolID, p.ID, schooltime.AcademicYear(s.db.Now()))
	if err != nil {
		return nil, fmt.Errorf("signing: to sign: %w", err)
	}
	return collectOwed(rows)
}

const toSignSQL = `SELECT ` + formColumns + `, fc.version_id, fc.number, fc.published_at,
		CASE WHEN o.signature_id IS NOT NULL THEN 'new_year'
		     WHEN EXISTS (SELECT 1 FROM signatures s WHERE s.form_id = f.id AND s.person_id = o.person_id AND s.pupil_id IS NULL)
		     THEN 'new_version'
		     ELSE '' END
	FROM obligations o
	JOIN forms f ON f.id = o.form_id
	JOIN form_current fc ON fc.form_id = f.id
	WHERE o.person_id = $2 AND o.pupil_id = 0 AND o.school_id = $1 AND NOT signoff_obligation_counts(o, $3)
	ORDER BY f.due_on NULLS LAST, lower(f.title)`

// mayOwe says whether p can owe a staff form: a member of staff who has
// not left.
func mayOwe(p people.Person) bool { return p.Kind == people.Staff && p.LeftAt == nil }

func collectOwed(rows pgx.Rows) ([]Owed, error) {
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

// OwedCounts returns, for each member of staff who owes anything, how
// many forms they still have to sign.
func (s *Store) OwedCounts(ctx context.Context, schoolID int64) (map[int64]int, error) {
	ay := schooltime.AcademicYear(s.db.Now())
	rows, err := s.db.Pool.Query(ctx, `SELECT o.person_id, count(*)
		FROM obligations o
		WHERE o.school_id = $1 AND o.pupil_id = 0 AND NOT signoff_obligation_counts(o, $2)
		GROUP BY o.person_id`, schoolID, ay)
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
