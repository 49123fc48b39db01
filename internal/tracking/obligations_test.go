package tracking_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/audit"
	"signoff/internal/consent"
	"signoff/internal/database"
	"signoff/internal/database/dbtest"
	"signoff/internal/demo"
	"signoff/internal/people"
	"signoff/internal/policies"
	"signoff/internal/schooltime"
	"signoff/internal/signing"
	"signoff/internal/tracking"
)

// consistent fails the test when the maintained obligations differ from
// the derivation from scratch.
func consistent(t *testing.T, st *tracking.Store, after string) {
	t.Helper()
	res, err := st.CheckObligations(context.Background(), false)
	if err != nil {
		t.Fatalf("after %s: %v", after, err)
	}
	if res.Differences != 0 {
		t.Fatalf("after %s: %d obligations differ from the derivation (forms %v)", after, res.Differences, res.Forms)
	}
	if res.Figures != 0 {
		t.Fatalf("after %s: %d rows of the kept figures differ from the obligations' sums", after, res.Figures)
	}
	if res.Reminders != 0 {
		t.Fatalf("after %s: %d rows of reminder_totals differ from the reminders", after, res.Reminders)
	}
	if res.Rows == 0 {
		t.Fatalf("after %s: no obligations at all", after)
	}
}

// figures returns a form's figures now.
func figures(t *testing.T, st *tracking.Store, schoolID, formID int64) tracking.FormFigures {
	t.Helper()
	f, err := st.Form(context.Background(), schoolID, formID)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// want checks a form's audience, signed and withdrawn figures, and that
// its outstanding list has as many rows as it says.
func want(t *testing.T, st *tracking.Store, f tracking.FormFigures, audience, signed, withdrawn int, after string) {
	t.Helper()
	if f.Audience != audience || f.Signed != signed || f.Withdrawn != withdrawn {
		t.Fatalf("after %s: %s has %d/%d signed, %d withdrawn; want %d/%d, %d", after, f.Title, f.Signed, f.Audience, f.Withdrawn, signed, audience, withdrawn)
	}
	_, total, err := st.List(context.Background(), tracking.ListQuery{SchoolID: f.SchoolID, FormID: f.FormID, PerPage: 1})
	if err != nil || total != f.Outstanding() {
		t.Fatalf("after %s: outstanding list of %d (%v), figures say %d", after, total, err, f.Outstanding())
	}
}

// demoSchool loads the demo school into a fresh database whose clock
// reads *now (a test moves it by setting now), and checks the maintained
// obligations against the derivation once loaded.
func demoSchool(t *testing.T, now *time.Time) (*database.DB, demo.Result, *tracking.Store) {
	t.Helper()
	db := dbtest.New(t)
	db.Now = func() time.Time { return *now }
	d, err := demo.Load(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	st := tracking.NewStore(db)
	consistent(t, st, "loading the demo")
	return db, d, st
}

// TestObligationsFollowEveryChange makes each kind of change that alters
// who owes what, through the code that makes it, and checks at once (no
// job run in between) that the figures are right and the maintained
// table equals the derivation from scratch.
func TestObligationsFollowEveryChange(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	db, d, st := demoSchool(t, &now)
	ctx := context.Background()
	school := d.School.ID
	sg := signing.NewStore(db)
	cs := consent.NewStore(db)
	actor := audit.System("test")

	// A staff form and one member of staff who owes it.
	var formID, policyID, personID int64
	var typed string
	err := db.Pool.QueryRow(ctx, `SELECT f.id, f.policy_id, p.id, p.given_name || ' ' || p.family_name
		FROM forms f JOIN people p ON p.school_id = f.school_id AND p.kind = 'staff' AND p.staff_role = ANY (f.audience_staff_roles)
		WHERE f.school_id = $1 AND f.policy_id IS NOT NULL
		  AND NOT EXISTS (SELECT 1 FROM signatures s WHERE s.form_id = f.id AND s.person_id = p.id)
		ORDER BY f.id, p.id LIMIT 1`, school).Scan(&formID, &policyID, &personID, &typed)
	if err != nil {
		t.Fatal(err)
	}
	before := figures(t, st, school, formID)
	if before.Signed == 0 || before.Outstanding() == 0 {
		t.Fatalf("demo form %s: %d/%d signed, want some of each", before.Title, before.Signed, before.Audience)
	}

	// A signature.
	versionID, _, err := sg.CurrentVersion(ctx, formID)
	if err != nil {
		t.Fatal(err)
	}
	if _, created, err := sg.Sign(ctx, signing.SignInput{SchoolID: school, FormID: formID, PersonID: personID, VersionID: versionID,
		Agreed: true, TypedName: typed, Actor: actor}); err != nil || !created {
		t.Fatalf("sign: %v %v", created, err)
	}
	want(t, st, figures(t, st, school, formID), before.Audience, before.Signed+1, 0, "a signature")
	consistent(t, st, "a signature")
	p, err := people.NewStore(db).Get(ctx, school, personID)
	if err != nil {
		t.Fatal(err)
	}
	owed, err := sg.ToSign(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range owed {
		if o.Form.ID == formID {
			t.Fatal("the form just signed is still to sign")
		}
	}

	// Publishing: a minor version keeps every signature; a major one asks
	// everyone again.
	pol := policies.NewStore(db)
	publish := func(major bool) {
		t.Helper()
		v, err := pol.CreateRevision(ctx, school, policyID, actor, fmt.Sprintf("# Revised\n\nMajor: %v.", major), major)
		if err != nil {
			t.Fatal(err)
		}
		day := now.Add(-24 * time.Hour)
		if _, err := pol.RecordMeeting(ctx, school, v.ID, actor, policies.MeetingInput{Date: &day, Body: "Full Governing Body", Meeting: "Autumn term"}); err != nil {
			t.Fatal(err)
		}
		if err := db.InTx(ctx, func(tx pgx.Tx) error {
			_, err := policies.PublishVersionTx(ctx, tx, now, school, v.ID, actor)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	publish(false)
	want(t, st, figures(t, st, school, formID), before.Audience, before.Signed+1, 0, "a minor version")
	consistent(t, st, "a minor version")
	publish(true)
	want(t, st, figures(t, st, school, formID), before.Audience, 0, 0, "a major version")
	consistent(t, st, "a major version")
	if owed, err := sg.ToSign(ctx, p); err != nil || len(owed) == 0 || owed[0].Why == "" {
		t.Fatalf("after a major version: to sign %+v %v, want the form again with a reason", owed, err)
	}

	// Staff signatures written one a statement (migration 0026's way
	// through the trigger: it sets the one request they can change), each
	// checked against the derivation: one of the version the major one
	// replaced counts for nothing.
	staffSign := func(after string, person, version int64, ref string) {
		t.Helper()
		if _, err := db.Pool.Exec(ctx, `INSERT INTO signatures (school_id, form_id, person_id, version_id, version_sha256, statement, typed_name,
				academic_year, method, ip, user_agent, reference, signed_at)
			SELECT $1, $2, $3, v.id, v.sha256, 'I agree.', 'Test Signer', $4, 'web', '', '', $5, $6 FROM policy_versions v WHERE v.id = $7`,
			school, formID, person, schooltime.AcademicYear(now), ref, now, version); err != nil {
			t.Fatalf("%s: %v", after, err)
		}
		consistent(t, st, after)
	}
	current, _, err := sg.CurrentVersion(ctx, formID)
	if err != nil {
		t.Fatal(err)
	}
	var colleague int64
	if err := db.Pool.QueryRow(ctx, `SELECT min(p.id) FROM people p JOIN forms f ON f.id = $1
		WHERE p.school_id = f.school_id AND p.kind = 'staff' AND p.left_at IS NULL AND p.staff_role = ANY (f.audience_staff_roles) AND p.id <> $2
		  AND NOT EXISTS (SELECT 1 FROM signatures s WHERE s.form_id = f.id AND s.person_id = p.id)`,
		formID, personID).Scan(&colleague); err != nil {
		t.Fatal(err)
	}
	staffSign("a signature of the version before the major one", colleague, versionID, "SG-TEST-OLD-0001")
	want(t, st, figures(t, st, school, formID), before.Audience, 0, 0, "a signature of the version before the major one")
	// One of the major version once a minor one has followed it: no longer
	// the form's current version, still no older than its last major one,
	// so it counts (the trigger's shortcut, migration 0029, takes only a
	// signature of the current version; this one goes the full way).
	publish(false)
	staffSign("a signature of the major version after a minor one", colleague, current, "SG-TEST-MAJOR-0001")
	want(t, st, figures(t, st, school, formID), before.Audience, 1, 0, "a signature of the major version after a minor one")

	// Staff: a leaver, a joiner, a change of role.
	f0 := figures(t, st, school, formID)
	if _, err := db.Pool.Exec(ctx, `UPDATE people SET left_at = $2 WHERE id = $1`, personID, now); err != nil {
		t.Fatal(err)
	}
	want(t, st, figures(t, st, school, formID), f0.Audience-1, f0.Signed, 0, "a leaver")
	consistent(t, st, "a leaver")
	staffSign("a leaver's signature", personID, current, "SG-TEST-LEFT-0001")
	want(t, st, figures(t, st, school, formID), f0.Audience-1, f0.Signed, 0, "a leaver's signature")
	var role string
	if err := db.Pool.QueryRow(ctx, `SELECT audience_staff_roles[1] FROM forms WHERE id = $1`, formID).Scan(&role); err != nil {
		t.Fatal(err)
	}
	joiner := people.Person{SchoolID: school, Kind: people.Staff, GivenName: "New", FamilyName: "Starter", Email: "new.starter@hollybrook.example.sch.uk",
		StaffRole: people.StaffRole(role)}
	if err := db.InTx(ctx, func(tx pgx.Tx) error { return people.CreateTx(ctx, tx, &joiner) }); err != nil {
		t.Fatal(err)
	}
	want(t, st, figures(t, st, school, formID), f0.Audience, f0.Signed, 0, "a joiner")
	consistent(t, st, "a joiner")
	if _, err := db.Pool.Exec(ctx, `UPDATE people SET staff_role = 'visitor' WHERE id = $1`, joiner.ID); err != nil {
		t.Fatal(err)
	}
	want(t, st, figures(t, st, school, formID), f0.Audience-1, f0.Signed, 0, "a change of role")
	consistent(t, st, "a change of role")
	staffSign("a signature by someone whose role is no longer asked", joiner.ID, current, "SG-TEST-ROLE-0001")
	want(t, st, figures(t, st, school, formID), f0.Audience-1, f0.Signed, 0, "a signature by someone whose role is no longer asked")
	if _, err := db.Pool.Exec(ctx, `UPDATE people SET staff_role = $2 WHERE id = $1`, joiner.ID, role); err != nil {
		t.Fatal(err)
	}
	want(t, st, figures(t, st, school, formID), f0.Audience, f0.Signed+1, 0, "a change of role back, signed while away")
	consistent(t, st, "a change of role back, signed while away")

	// Parents' forms: a form for each parent, renewed each key stage.
	_, err = cs.Create(ctx, school, actor, consent.NewForm{Kind: signing.Consent, Title: "Trips", Signer: signing.EachParent, Renewal: signing.EachKeyStage,
		Items: []consent.Item{{Label: "Local trips on foot"}}})
	if err != nil {
		t.Fatal(err)
	}
	consistent(t, st, "a new parents' form")
	var tripsID, pupilID, parentID, itemID int64
	var parentName string
	err = db.Pool.QueryRow(ctx, `SELECT f.id, g.pupil_id, g.parent_id, pp.given_name || ' ' || pp.family_name, i.id
		FROM forms f JOIN form_items i ON i.form_id = f.id
		JOIN guardianships g ON g.school_id = f.school_id AND g.parental_responsibility
		JOIN people pp ON pp.id = g.parent_id
		JOIN people c ON c.id = g.pupil_id AND c.year_group = 2
		WHERE f.school_id = $1 AND f.title = 'Trips' ORDER BY g.pupil_id, g.parent_id LIMIT 1`, school).Scan(&tripsID, &pupilID, &parentID, &parentName, &itemID)
	if err != nil {
		t.Fatal(err)
	}
	trips := figures(t, st, school, tripsID)
	if trips.Audience == 0 || trips.Signed != 0 {
		t.Fatalf("new parents' form: %d/%d", trips.Signed, trips.Audience)
	}
	// A parent's answers (yes), then a change to no (a withdrawal).
	if _, err := cs.Submit(ctx, consent.Submission{SchoolID: school, FormID: tripsID, PupilID: pupilID, ParentID: parentID,
		Answers: map[int64]bool{itemID: true}, TypedName: parentName, Actor: actor}); err != nil {
		t.Fatal(err)
	}
	want(t, st, figures(t, st, school, tripsID), trips.Audience, 1, 0, "a parent's consent")
	consistent(t, st, "a parent's consent")
	if _, err := cs.Change(ctx, school, tripsID, pupilID, parentID, itemID, false, actor, "", "en"); err != nil {
		t.Fatal(err)
	}
	want(t, st, figures(t, st, school, tripsID), trips.Audience, 0, 1, "a withdrawal")
	consistent(t, st, "a withdrawal")
	// The child moves up a key stage (year 2 to 3): the record no longer counts.
	if _, err := db.Pool.Exec(ctx, `UPDATE people SET year_group = 3, reg_class = '3Z' WHERE id = $1`, pupilID); err != nil {
		t.Fatal(err)
	}
	want(t, st, figures(t, st, school, tripsID), trips.Audience, 0, 0, "a new key stage")
	consistent(t, st, "a new key stage (and class)")
	groups, err := st.Groups(ctx, school, tripsID)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, g := range groups {
		found = found || g.Group == "3Z"
	}
	if !found {
		t.Fatalf("groups %+v have no 3Z after the class move", groups)
	}
	// A paper form recorded by the office for the other parent.
	var otherID int64
	var otherName string
	if err := db.Pool.QueryRow(ctx, `SELECT g.parent_id, p.given_name || ' ' || p.family_name FROM guardianships g JOIN people p ON p.id = g.parent_id
		WHERE g.pupil_id = $1 AND g.parent_id <> $2 AND g.parental_responsibility LIMIT 1`, pupilID, parentID).Scan(&otherID, &otherName); err == nil {
		day := now.Add(-24 * time.Hour)
		if _, err := cs.Submit(ctx, consent.Submission{SchoolID: school, FormID: tripsID, PupilID: pupilID, ParentID: otherID,
			Answers: map[int64]bool{itemID: true}, TypedName: otherName, Paper: true, PaperDate: &day, Actor: audit.Actor{Name: "Office", AccountID: 0}}); err != nil {
			t.Fatal(err)
		}
		want(t, st, figures(t, st, school, tripsID), trips.Audience, 1, 0, "a paper form")
		consistent(t, st, "a paper form")
	}
	// A new guardian with parental responsibility: one more to ask.
	carer := people.Person{SchoolID: school, Kind: people.Parent, GivenName: "New", FamilyName: "Carer", Email: "new.carer@example.org"}
	if err := db.InTx(ctx, func(tx pgx.Tx) error {
		if err := people.CreateTx(ctx, tx, &carer); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO guardianships (school_id, parent_id, pupil_id, relationship, parental_responsibility, priority)
			VALUES ($1, $2, $3, 'Carer', true, 3)`, school, carer.ID, pupilID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	tr := figures(t, st, school, tripsID)
	if tr.Audience != trips.Audience+1 {
		t.Fatalf("after a new guardian: audience %d, want %d", tr.Audience, trips.Audience+1)
	}
	consistent(t, st, "a new guardian")
	// The child leaves: every request for them goes.
	if _, err := db.Pool.Exec(ctx, `UPDATE people SET left_at = $2 WHERE id = $1`, pupilID, now); err != nil {
		t.Fatal(err)
	}
	if f := figures(t, st, school, tripsID); f.Audience >= tr.Audience-1 {
		t.Fatalf("after the child left: audience %d, was %d", f.Audience, tr.Audience)
	}
	consistent(t, st, "a pupil leaving")

	// Closing a form takes it off the dashboards.
	if err := cs.Close(ctx, school, tripsID, actor); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Form(ctx, school, tripsID); err == nil {
		t.Fatal("a closed form is still on the dashboard")
	}
	consistent(t, st, "closing a form")

	// Erasure leaves who owes what as it was.
	var sigID int64
	if err := db.Pool.QueryRow(ctx, `SELECT id FROM signatures WHERE school_id = $1 ORDER BY id LIMIT 1`, school).Scan(&sigID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `SELECT signoff_erase_signature($1, $2)`, sigID, now); err != nil {
		t.Fatal(err)
	}
	consistent(t, st, "erasing a signature")

	// A new academic year: yearly forms are owed again with no change at
	// all (the home-school agreement is renewed each year).
	var agreementID int64
	if err := db.Pool.QueryRow(ctx, `SELECT id FROM forms WHERE school_id = $1 AND renewal = 'each_year'`, school).Scan(&agreementID); err != nil {
		t.Fatal(err)
	}
	ag := figures(t, st, school, agreementID)
	if ag.Signed == 0 {
		t.Fatal("the demo's agreement has no signatures")
	}
	now = time.Date(2027, 9, 2, 9, 0, 0, 0, time.UTC)
	want(t, st, figures(t, st, school, agreementID), ag.Audience, 0, 0, "a new academic year")
}

// TestObligationsConcurrentParents: both parents of a child sign a form
// each parent signs at the same moment; neither signature is lost.
// swimming loads the demo school with a parents' form "Swimming" that
// each parent signs.
func swimming(t *testing.T) (*database.DB, int64) {
	t.Helper()
	db := dbtest.New(t)
	ctx := context.Background()
	d, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := consent.NewStore(db).Create(ctx, d.School.ID, audit.System("test"), consent.NewForm{Kind: signing.Consent, Title: "Swimming",
		Signer: signing.EachParent, Renewal: signing.UntilWithdrawn, Items: []consent.Item{{Label: "Swimming lessons"}}}); err != nil {
		t.Fatal(err)
	}
	return db, d.School.ID
}

func TestObligationsConcurrentParents(t *testing.T) {
	t.Parallel()
	db, school := swimming(t)
	ctx := context.Background()
	cs := consent.NewStore(db)
	type pair struct {
		Form, Item, Pupil, Parent int64
		Name                      string
	}
	rows, err := db.Pool.Query(ctx, `SELECT f.id, i.id, g.pupil_id, g.parent_id, p.given_name || ' ' || p.family_name
		FROM forms f JOIN form_items i ON i.form_id = f.id
		JOIN guardianships g ON g.school_id = f.school_id AND g.parental_responsibility
		JOIN people p ON p.id = g.parent_id
		WHERE f.title = 'Swimming' AND g.pupil_id IN (SELECT pupil_id FROM guardianships WHERE parental_responsibility GROUP BY pupil_id HAVING count(*) = 2)
		ORDER BY g.pupil_id, g.parent_id LIMIT 8`)
	if err != nil {
		t.Fatal(err)
	}
	pairs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[pair])
	if err != nil || len(pairs) < 4 {
		t.Fatalf("%d parent pairs (%v)", len(pairs), err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(pairs))
	for _, p := range pairs {
		wg.Go(func() {
			_, err := cs.Submit(ctx, consent.Submission{SchoolID: school, FormID: p.Form, PupilID: p.Pupil, ParentID: p.Parent,
				Answers: map[int64]bool{p.Item: true}, TypedName: p.Name, Actor: audit.System("test")})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	st := tracking.NewStore(db)
	f := figures(t, st, school, pairs[0].Form)
	if f.Signed != len(pairs) {
		t.Fatalf("%d parents signed at once, figures say %d", len(pairs), f.Signed)
	}
	consistent(t, st, "parents signing at once")
}

// demoStore is a database with the demo loaded, and its tracking Store.
func demoStore(t *testing.T) (*database.DB, *tracking.Store) {
	t.Helper()
	db := dbtest.New(t)
	if _, err := demo.Load(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return db, tracking.NewStore(db)
}

// TestObligationsCheckPutsRight: the nightly check finds a row made wrong
// behind the triggers' back, puts it right and records the run.
func TestObligationsCheckPutsRight(t *testing.T) {
	t.Parallel()
	db, st := demoStore(t)
	ctx := context.Background()
	if _, err := db.Pool.Exec(ctx, `UPDATE obligations SET signature_id = NULL, signed_at = NULL, reference = NULL
		WHERE (form_id, person_id, pupil_id) = (SELECT form_id, person_id, pupil_id FROM obligations WHERE signature_id IS NOT NULL LIMIT 1)`); err != nil {
		t.Fatal(err)
	}
	// Another row: the one above is unsigned now (any row could be that one
	// again, wherever its new version landed in the table).
	if _, err := db.Pool.Exec(ctx, `DELETE FROM obligations WHERE (form_id, person_id, pupil_id) = (SELECT form_id, person_id, pupil_id FROM obligations WHERE signature_id IS NOT NULL LIMIT 1)`); err != nil {
		t.Fatal(err)
	}
	res, err := st.CheckObligations(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	// The changed row counts twice (the right one missing, the wrong one extra).
	if res.Differences != 3 || len(res.Forms) == 0 {
		t.Fatalf("check found %+v, want 3 differences", res)
	}
	consistent(t, st, "the check")
	var runs, diffs int64
	if err := db.Pool.QueryRow(ctx, `SELECT count(*), max(differences) FROM obligation_checks`).Scan(&runs, &diffs); err != nil || runs != 1 || diffs != 3 {
		t.Fatalf("recorded runs %d, differences %d (%v)", runs, diffs, err)
	}
}

// TestObligationsCheckPutsFiguresRight: the nightly check finds the kept
// figures (obligation_counts, obligation_days) made wrong behind the
// triggers' back, rebuilds them from the obligations and records it; the
// dashboard's figures are right again.
func TestObligationsCheckPutsFiguresRight(t *testing.T) {
	t.Parallel()
	db, st := demoStore(t)
	ctx := context.Background()
	var schoolID, formID int64
	if err := db.Pool.QueryRow(ctx, `SELECT school_id, form_id FROM obligations WHERE signature_id IS NOT NULL LIMIT 1`).Scan(&schoolID, &formID); err != nil {
		t.Fatal(err)
	}
	before := figures(t, st, schoolID, formID)
	if _, err := db.Pool.Exec(ctx, `UPDATE obligation_counts SET signed = signed + 5, requests = requests + 7
		WHERE (school_id, form_id, grp, sig_year, slot) = (SELECT school_id, form_id, grp, sig_year, slot FROM obligation_counts WHERE form_id = $1 LIMIT 1)`, formID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `DELETE FROM obligation_days WHERE form_id = $1`, formID); err != nil {
		t.Fatal(err)
	}
	if wrong := figures(t, st, schoolID, formID); wrong.Audience != before.Audience+7 || wrong.Signed != before.Signed+5 {
		t.Fatalf("the dashboard does not read the kept figures: %+v after making them wrong, %+v before", wrong, before)
	}
	res, err := st.CheckObligations(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if res.Differences != 0 || res.Figures < 2 {
		t.Fatalf("check found %+v, want no obligation and at least 2 figure differences", res)
	}
	consistent(t, st, "the check")
	if after := figures(t, st, schoolID, formID); after != before {
		t.Fatalf("figures after the check %+v, want %+v", after, before)
	}
	points, _, err := st.Trend(ctx, before)
	if err != nil || len(points) == 0 || points[len(points)-1].Cumulative != before.Signed {
		t.Fatalf("trend after the check ends at %v (%v), want %d", points, err, before.Signed)
	}
	var diffs int64
	if err := db.Pool.QueryRow(ctx, `SELECT differences FROM obligation_checks ORDER BY id DESC LIMIT 1`).Scan(&diffs); err != nil || diffs != res.Figures {
		t.Fatalf("recorded differences %d (%v), want %d", diffs, err, res.Figures)
	}
}

// TestObligationsCheckPutsReminderTotalsRight: the nightly check finds
// reminder_totals made wrong behind the triggers' back (a request's count
// and time changed, a row with no reminder behind it), rebuilds them from
// the reminders and records it.
func TestObligationsCheckPutsReminderTotalsRight(t *testing.T) {
	t.Parallel()
	db, st := demoStore(t)
	ctx := context.Background()
	var schoolID, formID, personID int64
	if err := db.Pool.QueryRow(ctx, `SELECT o.school_id, o.form_id, o.person_id FROM obligations o
		WHERE o.pupil_id = 0 AND NOT EXISTS (SELECT 1 FROM reminders r WHERE r.form_id = o.form_id AND r.person_id = o.person_id) LIMIT 1`).Scan(&schoolID, &formID, &personID); err != nil {
		t.Fatal(err)
	}
	sent := db.Now().Add(-48 * time.Hour).Truncate(time.Second)
	if _, err := db.Pool.Exec(ctx, `INSERT INTO reminders (school_id, form_id, person_id, sent_on, origin, created_at) VALUES ($1, $2, $3, $4, 'office', $5)`,
		schoolID, formID, personID, sent.Format(time.DateOnly), sent); err != nil {
		t.Fatal(err)
	}
	consistent(t, st, "a reminder")
	if _, err := db.Pool.Exec(ctx, `UPDATE reminder_totals SET sent = sent + 3, last_at = last_at + interval '1 day' WHERE form_id = $1 AND person_id = $2`, formID, personID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO reminder_totals (form_id, person_id, pupil_id, last_at, sent) VALUES ($1, $2, 424242, $3, 1)`, formID, personID, sent); err != nil {
		t.Fatal(err)
	}
	res, err := st.CheckObligations(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if res.Differences != 0 || res.Figures != 0 || res.Reminders != 3 {
		t.Fatalf("check found %+v, want only 3 reminder_totals differences (a changed row both ways, an extra one)", res)
	}
	consistent(t, st, "the check")
	var n, last int64
	if err := db.Pool.QueryRow(ctx, `SELECT sent, extract(epoch FROM last_at)::bigint FROM reminder_totals WHERE form_id = $1 AND person_id = $2 AND pupil_id = 0`, formID, personID).Scan(&n, &last); err != nil || n != 1 || last != sent.Unix() {
		t.Fatalf("reminder_totals after the check: sent %d, last %d (%v), want 1, %d", n, last, err, sent.Unix())
	}
	var diffs int64
	if err := db.Pool.QueryRow(ctx, `SELECT differences FROM obligation_checks ORDER BY id DESC LIMIT 1`).Scan(&diffs); err != nil || diffs != 3 {
		t.Fatalf("recorded differences %d (%v), want 3", diffs, err)
	}
}

// TestGroupsAndTrendMatchTheObligations: every open form's figures by
// group and its trend, read from the kept sums, equal the same figures
// counted from the obligations row by row.
func TestGroupsAndTrendMatchTheObligations(t *testing.T) {
	t.Parallel()
	db, st := demoStore(t)
	ctx := context.Background()
	var schoolIDs []int64
	if err := db.Pool.QueryRow(ctx, `SELECT array_agg(DISTINCT school_id) FROM obligations`).Scan(&schoolIDs); err != nil {
		t.Fatal(err)
	}
	forms, err := st.Forms(ctx, schoolIDs)
	if err != nil || len(forms) == 0 {
		t.Fatalf("forms %v (%v)", forms, err)
	}
	ay := schooltime.AcademicYear(db.Now())
	parents := 0
	for _, f := range forms {
		if f.ForParents {
			parents++
		}
		groups, err := st.Groups(ctx, f.SchoolID, f.FormID)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][2]int{}
		for _, g := range groups {
			got[g.Group] = [2]int{g.Audience, g.Signed}
		}
		rows, err := db.Pool.Query(ctx, `SELECT grp, count(*), count(*) FILTER (WHERE signoff_counts(signature_id, sig_year, $2) AND NOT withdrawn)
			FROM obligations WHERE form_id = $1 GROUP BY grp`, f.FormID, ay)
		if err != nil {
			t.Fatal(err)
		}
		wantGroups := map[string][2]int{}
		for rows.Next() {
			var g string
			var n, s int
			if err := rows.Scan(&g, &n, &s); err != nil {
				t.Fatal(err)
			}
			wantGroups[g] = [2]int{n, s}
		}
		rows.Close()
		if fmt.Sprint(got) != fmt.Sprint(wantGroups) {
			t.Fatalf("%s by group: %v, counted from the obligations %v", f.Title, got, wantGroups)
		}
		points, _, err := st.Trend(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(points) == 0 || points[len(points)-1].Cumulative != f.Signed {
			t.Fatalf("%s: trend %v does not end at its %d signed", f.Title, points, f.Signed)
		}
	}
	if parents == 0 {
		t.Fatal("the demo has no parents' form to check")
	}
}

// TestObligationsSecondWriterWaits: two transactions each record one
// parent's consent for the same child of a form each parent signs; the
// second's refresh waits for the first to commit and then sees it, so
// neither parent's record is lost (without the refresh's lock the second
// would write its stale view of the first parent's request).
func TestObligationsSecondWriterWaits(t *testing.T) {
	t.Parallel()
	db, school := swimming(t)
	ctx := context.Background()
	var formID, pupilID int64
	var parents []int64
	if err := db.Pool.QueryRow(ctx, `SELECT f.id, g.pupil_id, array_agg(g.parent_id ORDER BY g.parent_id)
		FROM forms f JOIN guardianships g ON g.school_id = f.school_id AND g.parental_responsibility
		WHERE f.title = 'Swimming' GROUP BY f.id, g.pupil_id HAVING count(*) = 2 ORDER BY g.pupil_id LIMIT 1`).Scan(&formID, &pupilID, &parents); err != nil {
		t.Fatal(err)
	}
	record := func(tx pgx.Tx, parent int64, ref string) error {
		_, err := tx.Exec(ctx, `INSERT INTO signatures (school_id, form_id, person_id, pupil_id, statement, typed_name, answers, academic_year,
				reference, signed_at, part)
			VALUES ($1, $2, $3, $4, 'I confirm my answers for my child.', 'A Parent', '{}', 2026, $5, now(), 'parent')`,
			school, formID, parent, pupilID, ref)
		return err
	}
	first, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Rollback(ctx)
	if err := record(first, parents[0], "SG-TEST-0000-0001"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- db.InTx(ctx, func(tx pgx.Tx) error { return record(tx, parents[1], "SG-TEST-0000-0002") })
	}()
	select {
	case err := <-done:
		t.Fatalf("the second writer did not wait for the first (%v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := first.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var signed int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM obligations WHERE form_id = $1 AND pupil_id = $2 AND signature_id IS NOT NULL`,
		formID, pupilID).Scan(&signed); err != nil || signed != 2 {
		t.Fatalf("%d of the child's 2 requests signed (%v), want both", signed, err)
	}
	consistent(t, tracking.NewStore(db), "two writers")
}
