package tracking_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/database"
	"signoff/internal/database/dbtest"
	"signoff/internal/schooltime"
	"signoff/internal/tracking"
	"signoff/internal/tracking/benchdata"
)

// oracleOrder is each sort's order, written out for the oracle query
// (o the obligation, p the person, r the reminders aggregated from the
// reminders table).
var oracleOrder = map[string]string{
	"name":     "lower(p.family_name) %[1]s, lower(p.given_name) %[1]s, p.id %[1]s, o.pupil_id %[1]s",
	"group":    "o.grp %[1]s, lower(p.family_name) %[1]s, lower(p.given_name) %[1]s, p.id %[1]s, o.pupil_id %[1]s",
	"email":    "p.email %[1]s NULLS LAST, p.id, o.pupil_id",
	"reminded": "r.last %[1]s NULLS FIRST, lower(p.family_name) %[1]s, lower(p.given_name) %[1]s, p.id %[1]s, o.pupil_id %[1]s",
	"signed":   "o.signed_at %[1]s NULLS LAST, p.id, o.pupil_id",
}

type listed struct {
	person, pupil int64
	last          *time.Time
	sent          int
}

// oracle is a form's signed or outstanding list from scratch: the
// requests with the reminders counted from the reminders table.
func oracle(t *testing.T, db *database.DB, formID int64, signed bool, sort string, desc bool) []listed {
	t.Helper()
	dir := "ASC"
	if desc {
		dir = "DESC"
	}
	rows, err := db.Pool.Query(context.Background(), `SELECT o.person_id, o.pupil_id, r.last, coalesce(r.n, 0)
		FROM obligations o JOIN people p ON p.id = o.person_id
		LEFT JOIN (SELECT form_id, person_id, coalesce(pupil_id, 0) AS pupil_id, max(created_at) AS last, count(*) AS n
			FROM reminders GROUP BY 1, 2, 3) r ON (r.form_id, r.person_id, r.pupil_id) = (o.form_id, o.person_id, o.pupil_id)
		WHERE o.form_id = $1 AND signoff_counts(o.signature_id, o.sig_year, $2) = $3
		ORDER BY `+fmt.Sprintf(oracleOrder[sort], dir), formID, schooltime.AcademicYear(db.Now()), signed)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []listed
	for rows.Next() {
		var l listed
		if err := rows.Scan(&l.person, &l.pupil, &l.last, &l.sent); err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	return out
}

func asListed(rows []tracking.Row) []listed {
	out := make([]listed, len(rows))
	for i, r := range rows {
		out[i] = listed{r.Person.ID, r.PupilID, r.LastReminder, r.Reminders}
	}
	return out
}

func sameListed(a, b []listed) bool {
	return slices.EqualFunc(a, b, func(x, y listed) bool {
		return x.person == y.person && x.pupil == y.pupil && x.sent == y.sent &&
			(x.last == nil) == (y.last == nil) && (x.last == nil || x.last.Equal(*y.last))
	})
}

// TestListPagesAndSorts reads every list of a school's staff and parents'
// forms in every order, whole and page by page, after reminders on two
// days, and compares each with the list from scratch; then filters by
// group, search and people.
func TestListPagesAndSorts(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	ctx := context.Background()
	cfg := benchdata.Config{Schools: 1, StaffPerSchool: 12, PupilsPerSch: 30, ParentsPerSch: 45, FormsPerSchool: 2, ParentForms: 3, SignedShare: 0.5,
		Large: benchdata.Size{Staff: 9, Pupils: 40, Parents: 70}, Password: "list-pw", Seed: 11}
	res, err := benchdata.Generate(ctx, db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	st := tracking.NewStore(db)
	school := res.LargeID
	forms, err := st.Forms(ctx, []int64{school})
	if err != nil {
		t.Fatal(err)
	}
	parents := 0
	for _, f := range forms {
		if f.ForParents {
			parents++
		}
	}
	if parents == 0 || parents == len(forms) {
		t.Fatalf("%d parents' forms of %d: want both kinds", parents, len(forms))
	}

	// Reminders: every third outstanding request today, every second
	// tomorrow (some reminded twice, some once, most never).
	day := db.Now()
	for round, every := range []int{3, 2} {
		db.Now = func() time.Time { return day.Add(time.Duration(round) * 24 * time.Hour) }
		for _, f := range forms {
			all, _, err := st.List(ctx, tracking.ListQuery{SchoolID: school, FormID: f.FormID, PerPage: -1})
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for i, r := range all {
				if i%every == 0 {
					ids = append(ids, r.Person.ID)
				}
			}
			if _, err := st.Remind(ctx, tracking.RemindInput{SchoolID: school, FormID: f.FormID, PersonIDs: ids, Actor: audit.System("test"),
				Origin: tracking.ByOffice, BaseURL: "http://x"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	totalsAgree(t, db, "two rounds of reminders")

	reminded := 0
	for _, f := range forms {
		for _, signed := range []bool{false, true} {
			sorts := []string{"name", "group", "email", "reminded"}
			want := f.Outstanding()
			if signed {
				sorts[3], want = "signed", f.Signed+f.Withdrawn
			}
			for _, sort := range sorts {
				for _, desc := range []bool{false, true} {
					what := fmt.Sprintf("%s (signed %v) by %s, desc %v", f.Title, signed, sort, desc)
					q := tracking.ListQuery{SchoolID: school, FormID: f.FormID, Signed: signed, Sort: sort, Desc: desc}
					q.PerPage = -1
					all, total, err := st.List(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					wantRows := oracle(t, db, f.FormID, signed, sort, desc)
					if total != want || len(all) != want || !sameListed(asListed(all), wantRows) {
						t.Fatalf("%s: %d rows (total %d), want %d:\n got %v\nwant %v", what, len(all), total, want, asListed(all), wantRows)
					}
					q.PerPage = 4
					var paged []tracking.Row
					for q.Page = 1; q.Page <= (want+3)/4; q.Page++ {
						rows, total, err := st.List(ctx, q)
						if err != nil || total != want || len(rows) != min(4, want-(q.Page-1)*4) {
							t.Fatalf("%s: page %d has %d rows, total %d (%v); want total %d", what, q.Page, len(rows), total, err, want)
						}
						paged = append(paged, rows...)
					}
					if !sameListed(asListed(paged), wantRows) {
						t.Fatalf("%s: page by page\n got %v\nwant %v", what, asListed(paged), wantRows)
					}
					// Past the end: no rows, the count still right.
					if rows, total, err := st.List(ctx, q); err != nil || len(rows) != 0 || total != want {
						t.Fatalf("%s: past the end, %d rows, total %d, %v", what, len(rows), total, err)
					}
				}
			}
		}
		all, _, err := st.List(ctx, tracking.ListQuery{SchoolID: school, FormID: f.FormID, PerPage: -1})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range all {
			if r.Reminders > 0 {
				reminded++
			}
			if r.Person.Kind == "parent" != f.ForParents || (r.PupilID != 0) != f.ForParents || (r.PupilName != "") != f.ForParents {
				t.Fatalf("%s: row %+v", f.Title, r)
			}
		}
		if len(all) < 2 {
			continue
		}
		// Filters: by group, by a name's letters, by ticked people.
		r := all[len(all)/2]
		filters := map[string]tracking.ListQuery{
			"group":  {Group: r.Group},
			"search": {Search: "  " + strings.ToUpper(r.Person.FamilyName[:3]) + " "},
			"people": {PersonIDs: []int64{r.Person.ID, all[0].Person.ID}},
		}
		keep := map[string]func(tracking.Row) bool{
			"group": func(x tracking.Row) bool { return x.Group == r.Group },
			"search": func(x tracking.Row) bool {
				s := strings.ToLower(r.Person.FamilyName[:3])
				return strings.Contains(strings.ToLower(x.Person.GivenName+" "+x.Person.FamilyName), s) ||
					strings.Contains(strings.ToLower(x.Person.FamilyName+", "+x.Person.GivenName), s) || strings.Contains(x.Person.Email, s)
			},
			"people": func(x tracking.Row) bool { return x.Person.ID == r.Person.ID || x.Person.ID == all[0].Person.ID },
		}
		for name, q := range filters {
			var want []tracking.Row
			for _, x := range all {
				if keep[name](x) {
					want = append(want, x)
				}
			}
			q.SchoolID, q.FormID, q.PerPage = school, f.FormID, 2
			rows, total, err := st.List(ctx, q)
			if err != nil || total != len(want) || !sameListed(asListed(rows), asListed(want[:min(2, len(want))])) {
				t.Fatalf("%s filtered by %s: %v (total %d, %v), want %v (%d)", f.Title, name, asListed(rows), total, err, asListed(want), len(want))
			}
		}
	}
	if reminded == 0 {
		t.Fatal("no outstanding row shows a reminder")
	}

	// The dashboard's one round trip reads what its parts read one by one.
	for _, f := range forms {
		q := tracking.ListQuery{SchoolID: school, FormID: f.FormID, Sort: "reminded", Page: 2, PerPage: 3}
		fp, err := st.FormPage(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		groups, err := st.Groups(ctx, school, f.FormID)
		if err != nil {
			t.Fatal(err)
		}
		points, weekly, err := st.Trend(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		rows, total, err := st.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if f, err = st.Form(ctx, school, f.FormID); err != nil || f.LastReminder == nil {
			t.Fatalf("%s: %+v %v, want a last reminder", f.Title, f, err)
		}
		if !sameForm(fp.Form, f) || !slices.Equal(fp.Groups, groups) || !slices.Equal(fp.Trend, points) || fp.Weekly != weekly ||
			fp.Matching != total || !sameListed(asListed(fp.Rows), asListed(rows)) || len(groups) == 0 || len(points) == 0 {
			t.Fatalf("%s: the form page reads %+v\nits parts %+v %+v %v %v %d", f.Title, fp, f, groups, points, asListed(rows), total)
		}
	}
	if _, err := st.FormPage(ctx, tracking.ListQuery{SchoolID: res.SchoolIDs[0], FormID: forms[0].FormID}); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("another school's form page: %v, want not found", err)
	}

	// The exports: each form's list as the page lists it, and every
	// form's one after another in the dashboard's order.
	for _, signed := range []bool{false, true} {
		every, err := st.ExportList(ctx, school, 0, signed)
		if err != nil {
			t.Fatal(err)
		}
		at := 0
		for _, f := range forms {
			one, err := st.ExportList(ctx, school, f.FormID, signed)
			if err != nil {
				t.Fatal(err)
			}
			// The same list with its form's figures, in one round trip.
			now, err := st.Form(ctx, school, f.FormID)
			if err != nil {
				t.Fatal(err)
			}
			if title, same, err := st.ExportForm(ctx, school, f.FormID, signed); err != nil || title != now.Title || !reflect.DeepEqual(same, one) {
				t.Fatalf("export of %s with its title: %q, %d rows, %v; want %q and the list's %d rows", f.Title, title, len(same.Rows), err, now.Title, len(one.Rows))
			}
			all, _, err := st.List(ctx, tracking.ListQuery{SchoolID: school, FormID: f.FormID, Signed: signed, Sort: "name", PerPage: -1})
			if err != nil {
				t.Fatal(err)
			}
			if len(one.Rows) != len(all) || at+len(all) > len(every.Rows) {
				t.Fatalf("export of %s (signed %v): %d rows, the list has %d", f.Title, signed, len(one.Rows), len(all))
			}
			for i, r := range all {
				line := []string{f.Title, fmt.Sprint(f.VersionNumber), r.Person.FamilyName, r.Person.GivenName, r.Person.Email,
					tracking.GroupLabel(r.Group), r.PupilName, stamp(r.LastReminder), fmt.Sprint(r.Reminders)}
				if signed {
					line[7], line[8] = stamp(r.SignedAt), r.Reference
				}
				if !slices.Equal(one.Rows[i], line) || !slices.Equal(every.Rows[at+i], line) {
					t.Fatalf("export of %s, row %d: %q (all forms: %q), want %q", f.Title, i, one.Rows[i], every.Rows[at+i], line)
				}
			}
			at += len(all)
		}
		if at != len(every.Rows) {
			t.Fatalf("export of every form: %d rows, the forms' lists %d", len(every.Rows), at)
		}
	}
	// The forms' order in the export of every form, with ties: two staff
	// forms due the same day titled so that the case decides a byte
	// order ("Banana" before "apple") but not the export's (apple, then
	// Banana), and a parents' form with no due date, which comes last.
	var staffForms []int64
	var undated tracking.FormFigures
	for _, f := range forms {
		if !f.ForParents {
			staffForms = append(staffForms, f.FormID)
		} else {
			undated = f
		}
	}
	if len(staffForms) < 2 {
		t.Fatalf("%d staff forms, want 2", len(staffForms))
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE forms SET due_on = CASE WHEN id = $2 THEN NULL WHEN id = ANY ($3) THEN DATE '2031-01-31' ELSE DATE '2030-01-01' END,
			title = CASE id WHEN $3[1] THEN 'Banana policy' WHEN $3[2] THEN 'apple policy' ELSE title END
		WHERE school_id = $1`, school, undated.FormID, staffForms[:2]); err != nil {
		t.Fatal(err)
	}
	every, err := st.ExportList(ctx, school, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, row := range every.Rows {
		if len(titles) == 0 || titles[len(titles)-1] != row[0] {
			titles = append(titles, row[0])
		}
	}
	if n := len(titles); n < 3 || !slices.Equal(titles[n-3:], []string{"apple policy", "Banana policy", undated.Title}) {
		t.Fatalf("export of every form: forms in the order %q, want apple policy, Banana policy (due last), then %q (no due date)", titles, undated.Title)
	}
	if _, _, err := st.ExportForm(ctx, res.SchoolIDs[0], forms[0].FormID, false); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("another school's form's export: %v, want not found", err)
	}
	// A form with nobody to list (its audience emptied) still has its
	// title, and an empty table; in the export of every form it has no row.
	if _, err := db.Pool.Exec(ctx, `DELETE FROM obligations WHERE form_id = $1`, forms[0].FormID); err != nil {
		t.Fatal(err)
	}
	for _, signed := range []bool{false, true} {
		title, empty, err := st.ExportForm(ctx, school, forms[0].FormID, signed)
		if err != nil || title == "" || len(empty.Rows) != 0 || len(empty.Header) != 9 {
			t.Fatalf("export of a form with nobody (signed %v): %q, %d rows, %d columns, %v; want its title and no rows", signed, title, len(empty.Rows), len(empty.Header), err)
		}
		every, err := st.ExportList(ctx, school, 0, signed)
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range every.Rows {
			if row[0] == title {
				t.Fatalf("export of every form (signed %v): a row %q of the form with nobody", signed, row)
			}
		}
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE forms SET closed_at = now() WHERE id = $1`, forms[0].FormID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.ExportForm(ctx, school, forms[0].FormID, false); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("a closed form's export: %v, want not found", err)
	}
}

// sameForm compares figures, the times they point to rather than the
// pointers.
func sameForm(a, b tracking.FormFigures) bool {
	same := func(x, y *time.Time) bool { return (x == nil) == (y == nil) && (x == nil || x.Equal(*y)) }
	if !same(a.LastReminder, b.LastReminder) || !same(a.DueOn, b.DueOn) {
		return false
	}
	a.LastReminder, b.LastReminder, a.DueOn, b.DueOn = nil, nil, nil, nil
	return a == b
}

func stamp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.In(schooltime.London).Format("2006-01-02 15:04")
}

// totalsAgree fails the test when reminder_totals differs from the
// reminders counted from scratch.
func totalsAgree(t *testing.T, db *database.DB, after string) {
	t.Helper()
	var diff, n int
	err := db.Pool.QueryRow(context.Background(), `WITH d AS (SELECT form_id, person_id, coalesce(pupil_id, 0), max(created_at), count(*)::int FROM reminders GROUP BY 1, 2, 3),
		k AS (SELECT form_id, person_id, pupil_id, last_at, sent FROM reminder_totals)
		SELECT (SELECT count(*) FROM (SELECT * FROM d EXCEPT SELECT * FROM k) a) + (SELECT count(*) FROM (SELECT * FROM k EXCEPT SELECT * FROM d) b),
			(SELECT count(*) FROM reminder_totals)`).Scan(&diff, &n)
	if err != nil || diff != 0 || n == 0 {
		t.Fatalf("after %s: reminder totals differ in %d rows of %d (%v)", after, diff, n, err)
	}
}

// TestReminderTotalsFollowReminders: a reminder deleted or moved to
// another time (nothing in Signoff does either, and the application's role
// may not delete one; a repair by the schema's owner might) leaves the
// totals right, and so does linking a reminder to its email.
func TestReminderTotalsFollowReminders(t *testing.T) {
	t.Parallel()
	db, owner := dbtest.NewWithOwner(t)
	ctx := context.Background()
	res, err := benchdata.Generate(ctx, db, benchdata.Config{Schools: 1, StaffPerSchool: 8, PupilsPerSch: 10, ParentsPerSch: 15, FormsPerSchool: 1,
		ParentForms: 1, SignedShare: 0.3, Password: "totals-pw", Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	st := tracking.NewStore(db)
	forms, err := st.Forms(ctx, res.SchoolIDs)
	if err != nil {
		t.Fatal(err)
	}
	day := db.Now()
	for i := range 3 {
		db.Now = func() time.Time { return day.Add(time.Duration(i) * 24 * time.Hour) }
		for _, f := range forms {
			if _, err := st.Remind(ctx, tracking.RemindInput{SchoolID: f.SchoolID, FormID: f.FormID, Actor: audit.System("test"),
				Origin: tracking.BySchedule, BaseURL: "http://x"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	totalsAgree(t, db, "three rounds")
	for what, sql := range map[string]string{
		"moving a reminder":    `UPDATE reminders SET created_at = created_at + interval '3 days' WHERE id = (SELECT min(id) FROM reminders)`,
		"deleting the latest":  `DELETE FROM reminders WHERE id IN (SELECT max(id) FROM reminders GROUP BY form_id)`,
		"deleting a request's": `DELETE FROM reminders WHERE (form_id, person_id) = (SELECT form_id, person_id FROM reminders ORDER BY id LIMIT 1)`,
		"linking the outbox":   `UPDATE reminders SET outbox_id = NULL WHERE id = (SELECT max(id) FROM reminders)`,
	} {
		if _, err := owner.Pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		totalsAgree(t, db, what)
	}
}
