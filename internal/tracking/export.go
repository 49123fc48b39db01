package tracking

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/database"
	"signoff/internal/schooltime"
	"signoff/internal/spreadsheet"
)

// ExportList builds the signed or outstanding list of the forms of a
// school (one form when formID is not 0) as a table, for
// spreadsheet.WriteCSV or WriteXLSX: the forms in the dashboard's order
// (due date, then title), each one's people by name, in one statement.
func (s *Store) ExportList(ctx context.Context, schoolID, formID int64, signed bool) (spreadsheet.Table, error) {
	var r database.Reads
	var t spreadsheet.Table
	s.queueExport(&r, schoolID, formID, signed, &t, nil)
	if err := s.db.Send(ctx, &r); err != nil {
		return spreadsheet.Table{}, fmt.Errorf("tracking: export list: %w", err)
	}
	return t, nil
}

// ExportForm is ExportList of one form (formID not 0) with the form's
// title (for the download's name). Another school's form, or a closed
// one, is not found. A first look at an export is a page built afresh
// (the page cache keeps it afterwards), so its read is the cheapest that
// says it: one statement, the list's, whose rows carry the title (a form
// with nobody listed gives one row of the form alone), rather than the
// title and the list apart (issue 15: a second statement on the same
// form cost a quarter of a miss's database time), and with its generic
// plan (database.Reads.GenericPlans: planning the list afresh cost twice
// its reading; its plan is the same index lookups whatever the school
// and form).
func (s *Store) ExportForm(ctx context.Context, schoolID, formID int64, signed bool) (string, spreadsheet.Table, error) {
	var (
		r     database.Reads
		t     spreadsheet.Table
		title *string
	)
	r.GenericPlans()
	s.queueExport(&r, schoolID, formID, signed, &t, &title)
	if err := s.db.Send(ctx, &r); err != nil {
		return "", spreadsheet.Table{}, fmt.Errorf("tracking: export list: %w", err)
	}
	if title == nil {
		return "", spreadsheet.Table{}, apperr.New(apperr.NotFound, "There is no such form")
	}
	return *title, t, nil
}

// WarmReads queues the reads of a form's export of its outstanding list
// (no school's) for database.DB.WarmWith: a connection then serves the
// export's first look with its statement prepared, planned and its
// tables' catalogue loaded.
func (s *Store) WarmReads(r *database.Reads) {
	// ExportForm's read, for form -1, which no form is (0 would queue the
	// export of every form, another statement); finding nothing is no
	// error here (a batch that fails loses the statements it prepared).
	var (
		t     spreadsheet.Table
		title *string
	)
	r.GenericPlans()
	s.queueExport(r, 0, -1, false, &t, &title)
}

// openForm is the condition on forms f (with form_current fc) of a form
// the dashboards show: not closed, and a staff form only once published.
const openForm = `f.closed_at IS NULL AND (fc.form_id IS NOT NULL OR f.audience = 'parents')`

// queueExport queues ExportList's read into r, to fill t and, when
// firstTitle is not nil, to point it at the title of the forms' first (nil
// when no form is listed).
func (s *Store) queueExport(r *database.Reads, schoolID, formID int64, signed bool, out *spreadsheet.Table, firstTitle **string) {
	t := spreadsheet.Table{Sheet: "Outstanding"}
	t.Header = []string{"Form", "Version", "Surname", "First name", "Email", "Role or group", "Child", "Last reminder", "Reminders sent"}
	if signed {
		t.Sheet = "Signed"
		t.Header = []string{"Form", "Version", "Surname", "First name", "Email", "Role or group", "Child", "Signed at (UK time)", "Reference"}
	}
	oneForm := ""
	if formID != 0 {
		oneForm = " AND f.id = @form"
	}
	// The forms are ranked apart (a dozen rows), so that the sort of the
	// rows compares a number, then the person's name keys: ordering every
	// row by lower(title) under the database's collation cost more than
	// reading them (issue 15). The order is the same: the forms by due
	// date, title and id, each one's people by name. Each form is joined
	// to its people on the left, so that a form with nobody listed still
	// gives a row (its title; its person NULL, a row not in the table).
	// A staff request's child is pupil 0, looked up as NULL, which finds
	// nothing without reading the index (`pupil_id <> 0` beside the join
	// still read it for every row: 72 of a staff form's 193 buffers).
	r.Rows(`WITH lf AS (SELECT f.id, f.title, coalesce(fc.number, 1) AS version,
				row_number() OVER (ORDER BY f.due_on NULLS LAST, lower(f.title), f.id) AS rank
			FROM forms f
			LEFT JOIN form_current fc ON fc.form_id = f.id
			WHERE f.school_id = @school`+oneForm+` AND `+openForm+`)
		SELECT lf.title, lf.version, p.family_name, coalesce(p.given_name, ''), coalesce(p.email, ''), coalesce(o.grp, ''),
			coalesce(pu.given_name || ' ' || pu.family_name, ''), o.signed_at, coalesce(o.reference, ''), rt.last_at, coalesce(rt.sent, 0)
		FROM lf
		LEFT JOIN (obligations o
			JOIN people p ON p.id = o.person_id
			LEFT JOIN people pu ON pu.id = nullif(o.pupil_id, 0)
			LEFT JOIN reminder_totals rt ON (rt.form_id, rt.person_id, rt.pupil_id) = (o.form_id, o.person_id, o.pupil_id))
		ON o.form_id = lf.id AND o.school_id = @school AND `+stateCond(signed)+`
		ORDER BY lf.rank, lower(p.family_name), lower(p.given_name), p.id, o.pupil_id`,
		[]any{pgx.NamedArgs{"school": schoolID, "form": formID, "year": schooltime.AcademicYear(s.db.Now())}}, func(rows pgx.Rows) error {
			var (
				title, given, email, grp, child, ref string
				family                               *string
				version, sent                        int
				signedAt, last                       *time.Time
			)
			first := ""
			_, err := pgx.ForEachRow(rows, []any{&title, &version, &family, &given, &email, &grp, &child, &signedAt, &ref, &last, &sent}, func() error {
				if first == "" {
					first = title
				}
				if family == nil {
					return nil // a form with nobody listed
				}
				when, what := stamp(signedAt), ref // the row's last two cells, in one allocation with the rest
				if !signed {
					when, what = stamp(last), strconv.Itoa(sent)
				}
				t.Rows = append(t.Rows, []string{title, strconv.Itoa(version), *family, given, email, GroupLabel(grp), child, when, what})
				return nil
			})
			if err == nil {
				*out = t
				if firstTitle != nil && first != "" {
					*firstTitle = &first
				}
			}
			return err
		})
}

func stamp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.In(schooltime.London).Format("2006-01-02 15:04")
}
