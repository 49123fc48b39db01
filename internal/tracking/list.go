package tracking

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/database"
	"signoff/internal/people"
	"signoff/internal/schooltime"
)

// ListQuery chooses, sorts and pages a form's list.
type ListQuery struct {
	SchoolID int64
	FormID   int64
	Signed   bool   // the signed list; else the outstanding list
	Group    string // only this group (staff role); "" all
	Search   string // name or email contains
	Sort     string // "name", "group", "email", "reminded", "signed"
	Desc     bool
	Page     int // from 1
	PerPage  int // 0: 50; -1: all (exports, chase lists)
	// PersonIDs, when not empty, keeps only these people.
	PersonIDs []int64
}

// Row is one person in a list.
type Row struct {
	Person       people.Person
	PupilID      int64
	PupilName    string
	Group        string
	SignedAt     *time.Time
	Reference    string
	LastReminder *time.Time
	Reminders    int
}

// How a list is read (issue 15). The obligations table (migration 0012)
// holds every request with the signature that counts; reminder_totals
// (0020) the last reminder to each. A page sorted by name walks the
// school's people in name order (people_by_name) and looks up each one's
// request of the form until the page is full, so page 1 reads about a
// page of rows whatever the school's size; the count is a separate
// statement over the obligations alone, sent in the same batch. Sorted by
// last reminder, the page is the never-reminded in name order (they come
// first) followed by the reminded by time, each side read only as far as
// the page reaches. The other sorts read every matching request.
//
// The walk reads the people of the form's kind: staff for a staff form,
// parents and carers for a parents' form (a guardianship's parent is a
// person of kind parent: the MIS import and the demo make them so).

// counts is countsNow with the academic year as a named argument, on the
// request's columns: the walk's o is a projection of an obligation (read
// from its primary key alone), not a whole row.
const counts = `signoff_counts(o.signature_id, o.sig_year, @year)`

// listArgs are the named arguments of the list's statements.
func (q ListQuery) args(year int, limit, offset int) pgx.NamedArgs {
	return pgx.NamedArgs{"school": q.SchoolID, "form": q.FormID, "year": year, "grp": q.Group,
		"like": "%" + database.LikeEscape(strings.ToLower(q.search())) + "%", "ids": q.PersonIDs, "limit": limit, "offset": offset}
}

func (q ListQuery) search() string { return strings.TrimSpace(q.Search) }

// requestCond is what a request o must be to be listed (its person aside).
func (q ListQuery) requestCond() string {
	c := "o.school_id = @school AND o.form_id = @form AND " + stateCond(q.Signed)
	if q.Group != "" {
		c += " AND o.grp = @grp"
	}
	if len(q.PersonIDs) > 0 {
		c += " AND o.person_id = ANY (@ids)"
	}
	return c
}

// stateCond is "the request o is signed" (its signature counts now,
// withdrawn consents included), or outstanding.
func stateCond(signed bool) string {
	if signed {
		return counts
	}
	return "NOT " + counts
}

// personCond is what the person p must be (true without a search).
func (q ListQuery) personCond() string {
	if q.search() == "" {
		return "true"
	}
	return `(lower(p.given_name || ' ' || p.family_name) LIKE @like OR lower(p.family_name || ', ' || p.given_name) LIKE @like
		OR coalesce(p.email, '') LIKE @like)`
}

// orderBy is the list's order over listedColumns, each
// name preceded by l ("" or "l.").
func (q ListQuery) orderBy(l string) string {
	dir := " ASC"
	if q.Desc {
		dir = " DESC"
	}
	name := l + "fam" + dir + ", " + l + "giv" + dir + ", " + l + "pid" + dir + ", " + l + "pup" + dir
	switch q.Sort {
	case "group":
		return l + "grp" + dir + ", " + name
	case "email":
		return l + "email" + dir + " NULLS LAST, " + l + "pid, " + l + "pup"
	case "reminded":
		return l + "last_at" + dir + " NULLS FIRST, " + name
	case "signed":
		return l + "signed_at" + dir + " NULLS LAST, " + l + "pid, " + l + "pup"
	}
	return name
}

// listedColumns are the columns of a listed request (o, its person p and
// its reminders rt), the sort keys among them. Only the person's id and
// name keys are read, so that the walk reads people_by_name alone (and
// the request the obligations' primary key alone, which includes the
// columns read here); the email only to sort by it.
func (q ListQuery) listedColumns() string {
	email := "NULL::text"
	if q.Sort == "email" {
		email = "p.email"
	}
	return `o.person_id AS pid, o.pupil_id AS pup, o.grp, lower(p.family_name) AS fam, lower(p.given_name) AS giv, ` + email + ` AS email,
	CASE WHEN ` + counts + ` THEN o.signed_at END AS signed_at,
	CASE WHEN ` + counts + ` THEN o.reference END AS reference,
	rt.last_at, rt.sent`
}

// walked selects the matching requests by walking the school's people of
// the form's kind (in name order when that is the order asked for) and
// looking up each one's request; more is added to its WHERE.
func (q ListQuery) walked(more string) string {
	return `SELECT ` + q.listedColumns() + `
		FROM people p
		JOIN LATERAL (SELECT o.form_id, o.person_id, o.pupil_id, o.grp, o.signature_id, o.sig_year, o.signed_at, o.reference
			FROM obligations o WHERE o.person_id = p.id AND ` + q.requestCond() + ` ORDER BY o.pupil_id) o ON true
		LEFT JOIN reminder_totals rt ON (rt.form_id, rt.person_id, rt.pupil_id) = (o.form_id, o.person_id, o.pupil_id)
		WHERE p.school_id = @school AND ` + q.personCond() + more + `
		  AND p.kind = (SELECT CASE WHEN f.audience = 'parents' THEN 'parent' ELSE 'staff' END FROM forms f WHERE f.id = @form)`
}

// reminded selects the matching requests that have been reminded, from
// the form's reminder totals.
func (q ListQuery) reminded() string {
	return `SELECT ` + q.listedColumns() + `
		FROM reminder_totals rt
		JOIN obligations o ON (o.form_id, o.person_id, o.pupil_id) = (rt.form_id, rt.person_id, rt.pupil_id) AND ` + q.requestCond() + `
		JOIN people p ON p.id = o.person_id AND ` + q.personCond() + `
		WHERE rt.form_id = @form`
}

// pageSQL is the statement of one page (all rows when paged is false).
func (q ListQuery) pageSQL(paged bool) string {
	limit := ""
	if paged {
		limit = " LIMIT @limit OFFSET @offset"
	}
	var page string
	switch {
	case q.Sort == "reminded" && paged:
		// The never-reminded first (NULLS FIRST either way), then the
		// reminded; each side at most as far as the page's end.
		reach := " LIMIT @limit::bigint + @offset::bigint"
		byName := q
		byName.Sort = "name"
		page = `(` + q.walked(" AND rt.form_id IS NULL") + ` ORDER BY ` + byName.orderBy("") + reach + `)
			UNION ALL
			(` + q.reminded() + ` ORDER BY ` + q.orderBy("") + reach + `)`
	default:
		page = q.walked("")
	}
	return `WITH listed AS (SELECT * FROM (` + page + `) x ORDER BY ` + q.orderBy("") + limit + `)
		SELECT ` + people.Columns + `, l.pup, coalesce(pu.given_name || ' ' || pu.family_name, ''), l.grp,
			l.signed_at, coalesce(l.reference, ''), l.last_at, coalesce(l.sent, 0)
		FROM listed l
		JOIN people p ON p.id = l.pid
		LEFT JOIN people pu ON pu.id = l.pup AND l.pup <> 0
		ORDER BY ` + q.orderBy("l.")
}

// countSQL counts the matching requests.
func (q ListQuery) countSQL() string {
	if q.search() == "" {
		return `SELECT count(*) FROM obligations o WHERE ` + q.requestCond()
	}
	return `SELECT count(*) FROM obligations o JOIN people p ON p.id = o.person_id WHERE ` + q.requestCond() + ` AND ` + q.personCond()
}

// List returns one page of a form's signed or outstanding list and how
// many match in all.
func (s *Store) List(ctx context.Context, q ListQuery) ([]Row, int, error) {
	var r database.Reads
	var rows []Row
	var total int
	s.queueList(&r, q, &rows, &total)
	if err := s.db.Send(ctx, &r); err != nil {
		return nil, 0, fmt.Errorf("tracking: list: %w", err)
	}
	return rows, total, nil
}

// queueList queues the reads of List into r, to fill rows and total.
func (s *Store) queueList(r *database.Reads, q ListQuery, rows *[]Row, total *int) {
	per := q.PerPage
	if per == 0 {
		per = 50
	}
	page := max(q.Page, 1)
	args := []any{q.args(schooltime.AcademicYear(s.db.Now()), max(per, 0), (page-1)*max(per, 0))}
	r.Rows(q.pageSQL(per > 0), args, func(res pgx.Rows) error {
		var err error
		*rows, err = pgx.CollectRows(res, scanRow)
		return err
	})
	r.Row(q.countSQL(), args, func(res pgx.Row) error { return res.Scan(total) })
}

func scanRow(r pgx.CollectableRow) (Row, error) {
	var row Row
	var err error
	row.Person, err = people.Scan(r, &row.PupilID, &row.PupilName, &row.Group, &row.SignedAt, &row.Reference, &row.LastReminder, &row.Reminders)
	return row, err
}
