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
	s.queueExport(&r, schoolID, formID, signed, &t)
	if err := s.db.Send(ctx, &r); err != nil {
		return spreadsheet.Table{}, fmt.Errorf("tracking: export list: %w", err)
	}
	return t, nil
}

// ExportForm is ExportList of one form (formID not 0) with the form's
// title (for the download's name), both read in one round trip. Another
// school's form, or a closed one, is not found. A first look at an
// export is a page built afresh (the page cache keeps it afterwards), so
// its reads are the cheapest that say it: the title rather than the
// form's figures (signoff_form_figures, which nothing here shows), and
// both statements with their generic plans (database.Reads.GenericPlans:
// planning the list afresh cost twice its reading; its plan is the same
// index lookups whatever the school and form).
func (s *Store) ExportForm(ctx context.Context, schoolID, formID int64, signed bool) (string, spreadsheet.Table, error) {
	var (
		r     database.Reads
		t     spreadsheet.Table
		title string
	)
	s.queueExportForm(&r, schoolID, formID, signed, &title, &t)
	if err := s.db.Send(ctx, &r); err != nil {
		return "", spreadsheet.Table{}, fmt.Errorf("tracking: export list: %w", err)
	}
	return title, t, nil
}

// queueExportForm queues ExportForm's reads into r, to fill title and t.
func (s *Store) queueExportForm(r *database.Reads, schoolID, formID int64, signed bool, title *string, t *spreadsheet.Table) {
	r.GenericPlans()
	r.Row(exportTitleSQL, []any{schoolID, formID},
		database.One(func(row pgx.Row) error { return row.Scan(title) }, apperr.New(apperr.NotFound, "There is no such form"), "tracking: export's form"))
	s.queueExport(r, schoolID, formID, signed, t)
}

// exportTitleSQL is the title of form $2 of school $1 when it is open.
const exportTitleSQL = `SELECT f.title FROM forms f LEFT JOIN form_current fc ON fc.form_id = f.id
		WHERE f.school_id = $1 AND f.id = $2 AND ` + openForm

// WarmReads queues the reads of a form's export of its outstanding list
// (no school's) for database.DB.WarmWith: a connection then serves the
// export's first look with its statements prepared, planned and their
// tables' catalogue loaded.
func (s *Store) WarmReads(r *database.Reads) {
	// ExportForm's reads, but that finding no form is no error here (a
	// batch that fails loses the statements it prepared). The form is -1,
	// which no form is: 0 would queue the export of every form, another
	// statement.
	var t spreadsheet.Table
	r.GenericPlans()
	r.Row(exportTitleSQL, []any{int64(0), int64(-1)}, func(row pgx.Row) error {
		var title string
		_ = row.Scan(&title) // pgx.ErrNoRows
		return nil
	})
	s.queueExport(r, 0, -1, false, &t)
}

// openForm is the condition on forms f (with form_current fc) of a form
// the dashboards show: not closed, and a staff form only once published.
const openForm = `f.closed_at IS NULL AND (fc.form_id IS NOT NULL OR f.audience = 'parents')`

// queueExport queues ExportList's read into r, to fill t.
func (s *Store) queueExport(r *database.Reads, schoolID, formID int64, signed bool, out *spreadsheet.Table) {
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
	// date, title and id, each one's people by name.
	r.Rows(`WITH lf AS (SELECT f.id, f.title, coalesce(fc.number, 1) AS version,
				row_number() OVER (ORDER BY f.due_on NULLS LAST, lower(f.title), f.id) AS rank
			FROM forms f
			LEFT JOIN form_current fc ON fc.form_id = f.id
			WHERE f.school_id = @school`+oneForm+` AND `+openForm+`)
		SELECT lf.title, lf.version, p.family_name, p.given_name, coalesce(p.email, ''), o.grp,
			coalesce(pu.given_name || ' ' || pu.family_name, ''), o.signed_at, coalesce(o.reference, ''), rt.last_at, coalesce(rt.sent, 0)
		FROM lf
		JOIN obligations o ON o.form_id = lf.id AND o.school_id = @school
		JOIN people p ON p.id = o.person_id
		LEFT JOIN people pu ON pu.id = o.pupil_id AND o.pupil_id <> 0
		LEFT JOIN reminder_totals rt ON (rt.form_id, rt.person_id, rt.pupil_id) = (o.form_id, o.person_id, o.pupil_id)
		WHERE `+stateCond(signed)+`
		ORDER BY lf.rank, lower(p.family_name), lower(p.given_name), p.id, o.pupil_id`,
		[]any{pgx.NamedArgs{"school": schoolID, "form": formID, "year": schooltime.AcademicYear(s.db.Now())}}, func(rows pgx.Rows) error {
			var (
				title, family, given, email, grp, child, ref string
				version, sent                                int
				signedAt, last                               *time.Time
			)
			_, err := pgx.ForEachRow(rows, []any{&title, &version, &family, &given, &email, &grp, &child, &signedAt, &ref, &last, &sent}, func() error {
				line := []string{title, strconv.Itoa(version), family, given, email, GroupLabel(grp), child}
				if signed {
					line = append(line, stamp(signedAt), ref)
				} else {
					line = append(line, stamp(last), strconv.Itoa(sent))
				}
				t.Rows = append(t.Rows, line)
				return nil
			})
			if err == nil {
				*out = t
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
