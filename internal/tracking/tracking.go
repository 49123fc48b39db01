// Package tracking answers the office's question "who hasn't signed, and
// have we chased them?" and the trust's "are we compliant?": figures per
// form and per school, the trend since publication, the lists of who has
// and hasn't signed with the last reminder to each, reminders sent by the
// office or on the school's schedule, and exports.
//
// The lists are built on one query, requestsSQL: one row per request (a
// person, and for parents' forms a child, who is asked to sign an open
// form) with the signature that counts now, if any, read from the
// obligations table the database maintains (migration 0012); the figures
// are sums of that table the database keeps beside it (obligation_counts,
// obligation_days: migration 0017).
package tracking

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/database"
	"signoff/internal/people"
	"signoff/internal/schooltime"
)

// requestsSQL (completed by requests) yields one row per request of the open forms of the schools
// in $1 (bigint[]), of form $2 only unless it is 0, for academic year $3:
//
//	school_id, form_id, person_id, pupil_id (NULL for staff forms),
//	grp (the staff role; for parents' forms the child's class),
//	signed_at, reference (NULL when outstanding), withdrawn (consents)
//
// It reads the obligations table (migration 0012), which the database
// keeps in the same transaction as every change that alters who owes what
// (see signoff_obligations_derive for the rule: which signature still
// counts, and for parents' forms who is asked). Only the academic year is
// applied here: a yearly form's signature counts in its own year.
const requestsSQL = `
	SELECT o.school_id, o.form_id, o.person_id, nullif(o.pupil_id, 0) AS pupil_id, o.grp,
		CASE WHEN ` + countsNow + ` THEN o.signed_at END AS signed_at,
		CASE WHEN ` + countsNow + ` THEN o.reference END AS reference,
		(o.withdrawn AND ` + countsNow + `) AS withdrawn
	FROM obligations o
	WHERE o.school_id = ANY ($1::bigint[]) AND `

// requests is requestsSQL for one form (formID not 0) or for all: the
// form's condition is chosen here, not with "$2 = 0 OR ..." in SQL, so
// that PostgreSQL's cached generic plan still reads the form's rows
// through the index rather than every obligation.
func requests(formID int64) string {
	if formID == 0 {
		return requestsSQL + `$2::bigint = 0`
	}
	return requestsSQL + `o.form_id = $2`
}

// countsNow is "the obligation's signature counts in academic year $3"
// (migration 0027's signoff_obligation_counts, inlined by PostgreSQL).
const countsNow = `signoff_obligation_counts(o, $3)`

// countedSum is the SQL sum of an obligation_counts column over the rows
// whose signatures count in academic year $3: migration 0027's
// signoff_counts_in_year, the counting rule's one home, on the sums.
func countedSum(col string) string {
	return "coalesce(sum(" + col + ") FILTER (WHERE signoff_counts_in_year(c.sig_year, $3)), 0)"
}

// Store reads the figures and sends reminders.
type Store struct{ db *database.DB }

// NewStore returns a Store.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

// FormFigures are one open form's figures now.
type FormFigures struct {
	FormID        int64
	SchoolID      int64
	SchoolName    string
	Title         string
	Kind          string
	VersionNumber int
	PublishedAt   time.Time
	DueOn         *time.Time
	Audience      int
	Signed        int
	Withdrawn     int // consents withdrawn (0 until parents' consent forms exist)
	LastReminder  *time.Time
	ForParents    bool  // a parents' form: one request per child (and parent), grouped by class
	PolicyID      int64 // the policy a staff form acknowledges (0 for none)
}

// Outstanding is how many still have to sign.
func (f FormFigures) Outstanding() int { return f.Audience - f.Signed - f.Withdrawn }

// Percent is the share signed, rounded down (100 only when all have signed).
func (f FormFigures) Percent() int { return percent(f.Signed, f.Audience) }

func percent(n, of int) int {
	if of == 0 {
		return 100
	}
	return n * 100 / of
}

// formsSQL reads the figures of the open forms of the schools in $1
// (bigint[]) in academic year $2, by school then title (migration 0024's
// signoff_forms_figures, inlined into the statement); scanForm reads a
// row. The figures are sums kept by the database (obligation_counts,
// migration 0017): a few rows per form, whatever the school's size; the
// last reminder is reminder_totals' latest (migration 0020).
const formsSQL = `SELECT * FROM signoff_forms_figures($1, $2) x`

func scanForm(r pgx.CollectableRow) (FormFigures, error) {
	var f FormFigures
	err := r.Scan(&f.FormID, &f.SchoolID, &f.SchoolName, &f.Title, &f.Kind, &f.VersionNumber, &f.PublishedAt, &f.DueOn,
		&f.Audience, &f.Signed, &f.Withdrawn, &f.LastReminder, &f.ForParents, &f.PolicyID)
	return f, err
}

// Forms returns the figures of every open form of the schools, by school
// then title (one form's are Form's).
func (s *Store) Forms(ctx context.Context, schoolIDs []int64) ([]FormFigures, error) {
	rows, err := s.db.Pool.Query(ctx, formsSQL, schoolIDs, schooltime.AcademicYear(s.db.Now()))
	if err != nil {
		return nil, fmt.Errorf("tracking: forms: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanForm)
	if err != nil {
		return nil, fmt.Errorf("tracking: forms: %w", err)
	}
	return out, nil
}

// Form returns one open form's figures; another school's form, or a closed
// one, is not found.
func (s *Store) Form(ctx context.Context, schoolID, formID int64) (FormFigures, error) {
	var r database.Reads
	var forms []FormFigures
	queueForm(&r, schoolID, formID, schooltime.AcademicYear(s.db.Now()), &forms)
	if err := s.db.Send(ctx, &r); err != nil {
		return FormFigures{}, fmt.Errorf("tracking: form: %w", err)
	}
	return theForm(forms)
}

// formSQL reads one form's figures as formsSQL does, form $2 of school
// $1 in academic year $3, through migration 0024's signoff_form_figures:
// a form's dashboards and exports read it on every view, and the function
// keeps the statement's generic plan (as a prepared statement it was
// planned afresh each time, which cost more than running it).
const formSQL = `SELECT * FROM signoff_form_figures($1, $2, $3)`

// queueForm queues the read of Form's figures (form formID of school
// schoolID in academic year ay) into r, to fill forms (for theForm).
func queueForm(r *database.Reads, schoolID, formID int64, ay int, forms *[]FormFigures) {
	r.Rows(formSQL, []any{schoolID, formID, ay}, func(rows pgx.Rows) (err error) {
		*forms, err = pgx.CollectRows(rows, scanForm)
		return err
	})
}

// theForm is the one form Forms found, or not found.
func theForm(forms []FormFigures) (FormFigures, error) {
	if len(forms) == 0 {
		return FormFigures{}, apperr.New(apperr.NotFound, "There is no such form")
	}
	return forms[0], nil
}

// GroupFigures are the figures of one group of a form's audience: a staff
// role (for parents' forms, a year group or class).
type GroupFigures struct {
	Group    string // the stored value, e.g. "teaching_assistant"
	Label    string // "Teaching assistant"
	Audience int
	Signed   int
}

// Outstanding is how many in the group still have to sign.
func (g GroupFigures) Outstanding() int { return g.Audience - g.Signed }

// Percent is the share of the group signed.
func (g GroupFigures) Percent() int { return percent(g.Signed, g.Audience) }

// groupsSQL reads the figures by group of form $2 of school $1 in
// academic year $3; scanGroup reads a row.
var groupsSQL = `SELECT c.grp, sum(c.requests), ` + countedSum("c.signed") + `
		FROM obligation_counts c WHERE c.school_id = $1 AND c.form_id = $2
		GROUP BY c.grp HAVING sum(c.requests) > 0`

func scanGroup(r pgx.CollectableRow) (GroupFigures, error) {
	var g GroupFigures
	err := r.Scan(&g.Group, &g.Audience, &g.Signed)
	g.Label = GroupLabel(g.Group)
	return g, err
}

func sortGroups(out []GroupFigures) {
	order := map[string]int{}
	for i, r := range people.StaffRoles {
		order[string(r)] = i
	}
	sortFunc(out, func(a, b GroupFigures) bool {
		oa, okA := order[a.Group]
		ob, okB := order[b.Group]
		if okA && okB {
			return oa < ob
		}
		return a.Label < b.Label
	})
}

// GroupLabel is a group as people read it.
func GroupLabel(g string) string {
	if r := people.StaffRole(g); r.Valid() {
		return r.Label()
	}
	return g
}

// Point is one day (or week) of the trend since publication.
type Point struct {
	Day        time.Time // the first day of the bucket, midnight UTC of the London date
	New        int       // signatures that count, given in the bucket
	Cumulative int
}

// trendSQL reads the signatures that count in academic year $3 of form
// $2 of school $1, per London date; readDays reads its rows.
const trendSQL = `SELECT d.day, sum(d.signed)
		FROM obligation_days d WHERE d.school_id = $1 AND d.form_id = $2 AND signoff_counts_in_year(d.sig_year, $3)
		GROUP BY d.day HAVING sum(d.signed) <> 0 ORDER BY 1`

func readDays(rows pgx.Rows) (map[time.Time]int, error) {
	perDay := map[time.Time]int{}
	var d time.Time
	var n int
	_, err := pgx.ForEachRow(rows, []any{&d, &n}, func() error {
		perDay[d] = n
		return nil
	})
	return perDay, err
}

// trend is the form's trend from its signatures per day.
func trend(f FormFigures, perDay map[time.Time]int, now time.Time) (points []Point, weekly bool) {
	var first time.Time
	for d := range perDay {
		if first.IsZero() || d.Before(first) {
			first = d
		}
	}
	start := londonDate(f.PublishedAt)
	if !first.IsZero() && first.Before(start) {
		// Signatures of an earlier version that still count.
		start = first
	}
	today := londonDate(now)
	if today.Before(start) {
		today = start
	}
	days := int(today.Sub(start).Hours()/24) + 1
	step := 1
	if days > 31 {
		step, weekly = 7, true
		// Start weeks on a Monday.
		for start.Weekday() != time.Monday {
			start = start.AddDate(0, 0, -1)
		}
	}
	total := 0
	for d := start; !d.After(today); d = d.AddDate(0, 0, step) {
		n := 0
		for i := range step {
			n += perDay[d.AddDate(0, 0, i)]
		}
		total += n
		points = append(points, Point{Day: d, New: n, Cumulative: total})
	}
	return points, weekly
}

// londonDate is t's calendar date in London, as midnight UTC.
func londonDate(t time.Time) time.Time {
	y, m, d := t.In(schooltime.London).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// SchoolFigures are one school's compliance for the trust view.
type SchoolFigures struct {
	SchoolID    int64
	Name        string
	Forms       int
	FormsDone   int // forms everyone has signed
	Audience    int // requests in all
	Signed      int
	Outstanding int
	Lowest      string // the form with the lowest share signed
	LowestPct   int
}

// Percent is the share of all requests signed.
func (f SchoolFigures) Percent() int { return percent(f.Signed, f.Audience) }

// TrustSchools returns the schools of the trust of school schoolID (just
// that school when it belongs to no trust).
func (s *Store) TrustSchools(ctx context.Context, schoolID int64) (trustName string, ids []int64, names map[int64]string, err error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT sc.id, sc.name, coalesce(t.name, '')
		FROM schools me
		JOIN schools sc ON sc.id = me.id OR (me.trust_id IS NOT NULL AND sc.trust_id = me.trust_id)
		LEFT JOIN trusts t ON t.id = me.trust_id
		WHERE me.id = $1 ORDER BY lower(sc.name)`, schoolID)
	if err != nil {
		return "", nil, nil, fmt.Errorf("tracking: trust schools: %w", err)
	}
	defer rows.Close()
	names = map[int64]string{}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name, &trustName); err != nil {
			return "", nil, nil, fmt.Errorf("tracking: trust schools: %w", err)
		}
		ids = append(ids, id)
		names[id] = name
	}
	return trustName, ids, names, rows.Err()
}

// Trust returns every school of the trust side by side, and each school's forms.
func (s *Store) Trust(ctx context.Context, schoolID int64) (trustName string, schools []SchoolFigures, forms []FormFigures, err error) {
	trustName, ids, names, err := s.TrustSchools(ctx, schoolID)
	if err != nil {
		return "", nil, nil, err
	}
	forms, err = s.Forms(ctx, ids)
	if err != nil {
		return "", nil, nil, err
	}
	by := map[int64]*SchoolFigures{}
	for _, id := range ids {
		schools = append(schools, SchoolFigures{SchoolID: id, Name: names[id], LowestPct: 101})
	}
	for i := range schools {
		by[schools[i].SchoolID] = &schools[i]
	}
	for _, f := range forms {
		sf := by[f.SchoolID]
		sf.Forms++
		sf.Audience += f.Audience
		sf.Signed += f.Signed
		sf.Outstanding += f.Outstanding()
		if f.Outstanding() == 0 {
			sf.FormsDone++
		}
		if f.Percent() < sf.LowestPct {
			sf.Lowest, sf.LowestPct = f.Title, f.Percent()
		}
	}
	for i := range schools {
		if schools[i].LowestPct > 100 {
			schools[i].LowestPct = 100
		}
	}
	return trustName, schools, forms, nil
}

func sortFunc[T any](s []T, less func(a, b T) bool) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && less(s[j], s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
