package consent

import (
	"fmt"

	"github.com/jackc/pgx/v5"

	"signoff/internal/database"
	"signoff/internal/people"
	"signoff/internal/schooltime"
)

// QueueConflicts queues into r the read of the pupils of a form whose
// parents disagree now, to fill out when r is sent: for some consent item,
// one parent's current record that counts says yes and another's says no.
// It is what ChildConsent.HasConflict says of each child Consents returns,
// in one query, for the form's dashboard (which need not build every
// child's state to list the few in conflict), sent with its figures in one
// round trip. A staff form has no conflicts (the read stops at the form).
func (s *Store) QueueConflicts(r *database.Reads, schoolID, formID int64, out *[]people.Person) {
	r.Rows(conflictsSQL, []any{schoolID, formID, schooltime.AcademicYear(s.db.Now())}, func(rows pgx.Rows) (err error) {
		*out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (people.Person, error) { return people.Scan(r) })
		if err != nil {
			return fmt.Errorf("consent: conflicts: %w", err)
		}
		return nil
	})
}

// conflictsSQL finds the conflicts of form $2 of school $1 in academic
// year $3. Only a child with current records from two parents can be in
// conflict: those are found first, and kept apart from the rest of the
// query, so that the planner never walks every guardianship ("two
// parents" is min and max differing: count(DISTINCT) sorted each child's
// records apart, most of the statement's time). The form's rule and its
// consent items are read once (not per record), and each record's answer
// to an item is looked up in its answers rather than every answer
// expanded. A record counts as consent's pages judge it: current
// (signatures_current) and signoff_record_counts (migration 0022).
var conflictsSQL = `WITH cur AS MATERIALIZED (
			SELECT s.pupil_id, s.person_id, s.answers, s.academic_year, s.key_stage FROM signatures_current s
			WHERE s.school_id = $1 AND s.form_id = $2 AND s.part IN ('', 'parent')
			  AND EXISTS (SELECT 1 FROM forms pf WHERE pf.id = $2 AND pf.audience = 'parents')),
		two AS MATERIALIZED (SELECT cur.* FROM cur
			WHERE cur.pupil_id IN (SELECT pupil_id FROM cur GROUP BY pupil_id HAVING min(person_id) <> max(person_id))),
		f AS MATERIALIZED (SELECT f.renewal FROM forms f WHERE f.id = $2),
		items AS MATERIALIZED (SELECT i.id::text AS key FROM form_items i WHERE i.form_id = $2 AND i.kind = 'consent')
		SELECT ` + people.Columns + ` FROM people p WHERE p.id IN (
			SELECT s.pupil_id FROM two s
			CROSS JOIN f
			JOIN people c ON c.id = s.pupil_id AND c.left_at IS NULL
			CROSS JOIN items i
			WHERE EXISTS (SELECT 1 FROM guardianships g WHERE g.parent_id = s.person_id AND g.pupil_id = s.pupil_id AND g.parental_responsibility)
			  AND signoff_record_counts(f.renewal, s.academic_year, s.key_stage, c.year_group, $3)
			GROUP BY s.pupil_id, i.key
			HAVING bool_or(s.answers -> i.key = 'true'::jsonb) AND bool_or(s.answers -> i.key = 'false'::jsonb))
		ORDER BY lower(p.family_name), lower(p.given_name), p.id`
