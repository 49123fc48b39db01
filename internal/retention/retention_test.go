package retention_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/consent"
	"signoff/internal/database"
	"signoff/internal/database/dbtest"
	"signoff/internal/demo"
	"signoff/internal/jobs"
	"signoff/internal/jobs/jobstest"
	"signoff/internal/retention"
	"signoff/internal/signing"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var office = audit.Actor{Name: "office", IP: "127.0.0.1"}

type fixture struct {
	t      *testing.T
	db     *database.DB
	st     *retention.Store
	school int64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := dbtest.New(t)
	if _, err := demo.Load(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: db, st: retention.NewStore(db)}
	f.school = f.id(`SELECT id FROM schools`)
	return f
}

func (f *fixture) id(q string, args ...any) int64 {
	f.t.Helper()
	var id int64
	if err := f.db.Pool.QueryRow(context.Background(), q, args...).Scan(&id); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
	return id
}

func (f *fixture) exec(q string, args ...any) {
	f.t.Helper()
	if _, err := f.db.Pool.Exec(context.Background(), q, args...); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
}

func TestScheduleDefaultsAndChanges(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	periods, err := f.st.Schedule(ctx, f.school)
	if err != nil {
		t.Fatal(err)
	}
	if len(periods) != len(retention.Rules) {
		t.Fatalf("periods: %d, kinds: %d", len(periods), len(retention.Rules))
	}
	byKind := map[retention.Kind]retention.Period{}
	for _, p := range periods {
		byKind[p.Kind] = p
		if p.Custom || p.Source == "" || p.Trigger == "" {
			t.Errorf("%s: %+v", p.Kind, p)
		}
	}
	if p := byKind[retention.StaffSignatures]; p.Months != 72 || p.Describe() != "the member of staff's date of leaving + 6 years" {
		t.Fatalf("staff signatures: %d months, %q", p.Months, p.Describe())
	}
	typed := map[retention.Kind]string{}
	for _, r := range retention.Rules {
		typed[r.Kind] = "72"
	}
	typed[retention.Outbox] = "abc"
	typed[retention.Audit] = "0"
	err = f.st.SaveSchedule(ctx, f.school, office, typed)
	fields := apperr.FieldsOf(err)
	if apperr.CodeOf(err) != apperr.Invalid || len(fields) != 2 || fields[0].Field != string(retention.Audit) && fields[1].Field != string(retention.Audit) {
		t.Fatalf("bad periods: %v %+v", err, fields)
	}
	if n := f.id(`SELECT count(*) FROM retention_periods`); n != 0 {
		t.Fatalf("a refused schedule saved %d periods", n)
	}
	for _, r := range retention.Rules {
		typed[r.Kind] = "72"
	}
	typed[retention.Outbox] = "24"
	if err := f.st.SaveSchedule(ctx, f.school, office, typed); err != nil {
		t.Fatal(err)
	}
	periods, _ = f.st.Schedule(ctx, f.school)
	changed := 0
	for _, p := range periods {
		if p.Custom {
			changed++
		}
		if p.Kind == retention.Outbox && (p.Months != 24 || !p.Custom) {
			t.Fatalf("outbox period: %+v", p)
		}
	}
	// Outbox and sign-ins moved from 12 months to 24 and 72.
	if changed != 2 {
		t.Fatalf("custom periods: %d, want 2", changed)
	}
	if n := f.id(`SELECT count(*) FROM audit_log WHERE action = 'retention.period_changed'`); n != 2 {
		t.Fatalf("audited changes: %d, want 2", n)
	}
}

// TestRunErasesWhatIsDueKeepingTheChain: a pupil who left seven years ago
// (a paper form with its scan, and a parent's answers online), a member of
// staff who left seven years ago, another under a legal hold, an old
// session, an old email and an old audit entry. The preview names them
// and changes nothing; the run erases the personal fields, keeps the
// references, answers and seals, removes the scan, the session and the
// email, anonymises the leavers whose records are all erased, keeps the
// held person's, reports and audits, and the audit chain still verifies.
//
// It runs with the store's own batch (each kind's several items in one
// statement) and with batches of two (the three consents and the three
// leavers in two batches each, the last one partly filled).
func TestRunErasesWhatIsDueKeepingTheChain(t *testing.T) {
	t.Parallel()
	for _, batch := range []int{0, 2} {
		t.Run(fmt.Sprintf("batch %d", batch), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			if batch > 0 {
				f.st = retention.NewStoreBatch(f.db, batch)
			}
			testRunErases(t, f)
		})
	}
}

func testRunErases(t *testing.T, f *fixture) {
	ctx := context.Background()
	cs := consent.NewStore(f.db)

	// The pupil: one parent's paper form with a scan, the other's online.
	photo := f.id(`SELECT id FROM forms WHERE title = 'Photo consent'`)
	pupil := f.id(`SELECT g.pupil_id FROM guardianships g WHERE g.parental_responsibility
		AND NOT EXISTS (SELECT 1 FROM signatures s WHERE s.pupil_id = g.pupil_id)
		GROUP BY g.pupil_id HAVING count(*) = 2 ORDER BY g.pupil_id LIMIT 1`)
	mum := f.id(`SELECT min(parent_id) FROM guardianships WHERE pupil_id = $1 AND parental_responsibility`, pupil)
	dad := f.id(`SELECT max(parent_id) FROM guardianships WHERE pupil_id = $1 AND parental_responsibility`, pupil)
	_, items, err := cs.Form(ctx, f.school, photo)
	if err != nil {
		t.Fatal(err)
	}
	answers, acks := map[int64]bool{}, map[int64]bool{}
	for _, it := range items {
		if it.Kind == consent.AckItem {
			acks[it.ID] = true
		} else {
			answers[it.ID] = true
		}
	}
	name := func(id int64) string {
		var n string
		_ = f.db.Pool.QueryRow(ctx, `SELECT given_name || ' ' || family_name FROM people WHERE id = $1`, id).Scan(&n)
		return n
	}
	officeAccount := f.id(`SELECT id FROM accounts WHERE email = $1`, demo.AdminEmail)
	day := f.db.Now().AddDate(0, 0, -3)
	paper, err := cs.Submit(ctx, consent.Submission{SchoolID: f.school, FormID: photo, PupilID: pupil, ParentID: mum, Answers: answers, Acks: acks,
		TypedName: name(mum), Paper: true, PaperDate: &day, Scan: &consent.Scan{Filename: "form.pdf", Data: append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("x"), 50)...)},
		Actor: audit.Actor{AccountID: officeAccount, Name: "Karen Holloway", IP: "198.51.100.7"}, UserAgent: "OfficeBrowser"})
	if err != nil {
		t.Fatal(err)
	}
	web, err := cs.Submit(ctx, consent.Submission{SchoolID: f.school, FormID: photo, PupilID: pupil, ParentID: dad, Answers: answers, Acks: acks,
		TypedName: name(dad), Actor: audit.Actor{Name: name(dad), IP: "203.0.113.9"}, UserAgent: "DadPhone/1.0"})
	if err != nil {
		t.Fatal(err)
	}
	// A second pupil who left, with a paper form and its scan: two scans
	// and three consents erased.
	pupil2 := f.id(`SELECT g.pupil_id FROM guardianships g WHERE g.parental_responsibility AND g.pupil_id <> $1
		AND NOT EXISTS (SELECT 1 FROM signatures s WHERE s.pupil_id = g.pupil_id)
		ORDER BY g.pupil_id LIMIT 1`, pupil)
	parent2 := f.id(`SELECT min(parent_id) FROM guardianships WHERE pupil_id = $1 AND parental_responsibility`, pupil2)
	paper2, err := cs.Submit(ctx, consent.Submission{SchoolID: f.school, FormID: photo, PupilID: pupil2, ParentID: parent2, Answers: answers, Acks: acks,
		TypedName: name(parent2), Paper: true, PaperDate: &day, Scan: &consent.Scan{Filename: "form2.pdf", Data: append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("y"), 50)...)},
		Actor: audit.Actor{AccountID: officeAccount, Name: "Karen Holloway", IP: "198.51.100.7"}, UserAgent: "OfficeBrowser"})
	if err != nil {
		t.Fatal(err)
	}
	f.exec(`UPDATE people SET left_at = now() - interval '7 years' WHERE id = ANY ($1)`, []int64{pupil, pupil2})

	// Two members of staff with signatures who left seven years ago; one is held.
	leaver := f.id(`SELECT s.person_id FROM signatures s JOIN people p ON p.id = s.person_id WHERE p.kind = 'staff'
		GROUP BY s.person_id ORDER BY count(*) DESC, s.person_id LIMIT 1`)
	held := f.id(`SELECT s.person_id FROM signatures s JOIN people p ON p.id = s.person_id WHERE p.kind = 'staff' AND s.person_id <> $1 ORDER BY s.person_id LIMIT 1`, leaver)
	f.exec(`UPDATE people SET left_at = now() - interval '7 years' WHERE id = ANY ($1)`, []int64{leaver, held})
	if err := f.st.PlaceHold(ctx, f.school, held, "", office); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("a hold without a reason: %v", err)
	}
	if err := f.st.PlaceHold(ctx, f.school, held, "Employment tribunal claim 2026/123", office); err != nil {
		t.Fatal(err)
	}
	if err := f.st.PlaceHold(ctx, f.school, held, "Again", office); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("a second hold: %v", err)
	}

	// An ended session, a sent email and an audit entry, all old.
	f.exec(`INSERT INTO sessions (token_hash, account_id, created_at, last_seen_at, expires_at, ip, user_agent)
		VALUES ('\x01', $1, now() - interval '3 years', now() - interval '3 years', now() - interval '3 years', '192.0.2.1', 'Old')`, officeAccount)
	f.exec(`INSERT INTO outbox (school_id, to_address, subject, body_text, created_at, next_attempt_at, sent_at)
		VALUES ($1, 'old@example.org', 'An old message', 'Body', now() - interval '18 months', now(), now() - interval '18 months')`, f.school)
	if err := f.db.InTx(ctx, func(tx pgx.Tx) error {
		return audit.Record(ctx, tx, audit.Entry{SchoolID: f.school, At: f.db.Now().AddDate(-7, 0, 0), Actor: audit.Actor{Name: "Someone Long Gone", IP: "192.0.2.99"},
			Action: "test.old", Subject: "an old thing", Detail: map[string]string{"email": "gone@example.org"}})
	}); err != nil {
		t.Fatal(err)
	}

	staffSigs := f.id(`SELECT count(*) FROM signatures WHERE person_id = $1`, leaver)
	plan, err := f.st.Preview(ctx, f.school, f.db.Now())
	if err != nil {
		t.Fatal(err)
	}
	if staffSigs < 2 {
		t.Fatalf("the staff leaver has %d signatures: too few to fill a batch of two", staffSigs)
	}
	want := map[retention.Kind]int{retention.ParentConsents: 3, retention.PaperScans: 2, retention.StaffSignatures: int(staffSigs),
		retention.Outbox: 1, retention.Leavers: 3}
	for k, n := range want {
		if plan.Counts[k] != n {
			t.Errorf("preview %s: %d, want %d (%v)", k, plan.Counts[k], n, plan.Items[k])
		}
	}
	if plan.Counts[retention.Audit] < 1 || plan.Counts[retention.SignIns] < 1 || plan.Held != 1 {
		t.Errorf("preview audit %d, sign-ins %d, held %d", plan.Counts[retention.Audit], plan.Counts[retention.SignIns], plan.Held)
	}
	if n := f.id(`SELECT count(*) FROM signatures WHERE erased_at IS NOT NULL`); n != 0 {
		t.Fatalf("the preview erased %d records", n)
	}
	if n := f.id(`SELECT count(*) FROM signature_scans`); n != 2 {
		t.Fatalf("the preview removed a scan")
	}
	if n := f.id(`SELECT count(*) FROM retention_runs`); n != 0 {
		t.Fatal("the preview left a report")
	}

	// A run may not apply the future.
	if _, err := f.st.Apply(ctx, f.school, f.db.Now().AddDate(1, 0, 0), retention.FromOffice, office); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("applying a future date: %v", err)
	}

	var answersBefore []byte
	_ = f.db.Pool.QueryRow(ctx, `SELECT answers FROM signatures WHERE id = $1`, web.ID).Scan(&answersBefore)
	rep, err := f.st.Apply(ctx, f.school, f.db.Now(), retention.FromOffice, office)
	if err != nil {
		t.Fatal(err)
	}
	for k, n := range want {
		if rep.Counts[k] != n {
			t.Errorf("report %s: %d, want %d", k, rep.Counts[k], n)
		}
	}
	if rep.ID == 0 {
		t.Fatalf("report: %+v", rep)
	}
	for _, ref := range []string{paper.Reference, web.Reference, paper2.Reference} {
		var typed, ip, ua, reference string
		var answers []byte
		var drawn []byte
		if err := f.db.Pool.QueryRow(ctx, `SELECT typed_name, ip, user_agent, drawn_signature, reference, answers FROM signatures WHERE reference = $1`, ref).
			Scan(&typed, &ip, &ua, &drawn, &reference, &answers); err != nil {
			t.Fatal(err)
		}
		if typed != "(erased)" || ip != "" || ua != "" || drawn != nil || reference != ref {
			t.Fatalf("%s after the run: %q %q %q", ref, typed, ip, ua)
		}
		if ref == web.Reference && !bytes.Equal(answers, answersBefore) {
			t.Fatalf("the answers changed: %s → %s", answersBefore, answers)
		}
	}
	if n := f.id(`SELECT count(*) FROM signature_scans`); n != 0 {
		t.Fatal("the scan is still there")
	}
	if n := f.id(`SELECT count(*) FROM erased_scans WHERE signature_id = ANY ($1) AND sha256 <> ''`, []int64{paper.ID, paper2.ID}); n != 2 {
		t.Fatal("the erased scans' hashes are not kept")
	}
	if n := f.id(`SELECT count(*) FROM signatures WHERE person_id = $1 AND erased_at IS NULL`, leaver); n != 0 {
		t.Fatalf("%d of the leaver's signatures are not erased", n)
	}
	if n := f.id(`SELECT count(*) FROM signatures WHERE person_id = $1 AND erased_at IS NOT NULL`, held); n != 0 {
		t.Fatal("a held person's signatures were erased")
	}
	var given, email string
	if err := f.db.Pool.QueryRow(ctx, `SELECT given_name, coalesce(email, '') FROM people WHERE id = $1`, leaver).Scan(&given, &email); err != nil {
		t.Fatal(err)
	}
	if given != "Removed" || email != "" {
		t.Fatalf("the staff leaver is not anonymised: %q %q", given, email)
	}
	if n := f.id(`SELECT count(*) FROM people WHERE id = ANY ($1) AND anonymised_at IS NOT NULL`, []int64{pupil, pupil2}); n != 2 {
		t.Fatal("a pupil who left is not anonymised")
	}
	if n := f.id(`SELECT count(*) FROM people WHERE id = ANY ($1) AND anonymised_at IS NOT NULL`, []int64{held, mum, dad}); n != 0 {
		t.Fatal("a held person or a current parent was anonymised")
	}
	if n := f.id(`SELECT count(*) FROM outbox WHERE subject = 'An old message'`); n != 0 {
		t.Fatal("the old email is still there")
	}
	if n := f.id(`SELECT count(*) FROM sessions WHERE token_hash = '\x01'`); n != 0 {
		t.Fatal("the old session is still there")
	}
	var actor, ip string
	_ = f.db.Pool.QueryRow(ctx, `SELECT actor, ip FROM audit_log WHERE action = 'test.old'`).Scan(&actor, &ip)
	if actor != "(erased)" || ip != "" {
		t.Fatalf("the old audit entry: %q %q", actor, ip)
	}
	// One signature.erased entry for each erased record, naming it.
	if n := f.id(`SELECT count(*) FROM audit_log WHERE action = 'signature.erased'`); n != 3+staffSigs {
		t.Fatalf("signature.erased entries: %d, want %d", n, 3+staffSigs)
	}
	if n := f.id(`SELECT count(*) FROM signatures s WHERE s.erased_at IS NOT NULL AND (SELECT count(*) FROM audit_log a
		WHERE a.school_id = s.school_id AND a.action = 'signature.erased' AND a.subject = 'signature ' || s.reference) <> 1`); n != 0 {
		t.Fatalf("%d erased records without exactly one signature.erased entry", n)
	}
	if n := f.id(`SELECT count(*) FROM audit_log WHERE action = 'retention.applied'`); n != 1 {
		t.Fatal("the run is not audited")
	}
	broken, _, err := audit.Verify(ctx, f.db)
	if err != nil || broken != nil {
		t.Fatalf("the audit chain after the run: %v %+v", err, broken)
	}
	// The database still refuses any other change to a record.
	if _, err := f.db.Pool.Exec(ctx, `UPDATE signatures SET typed_name = 'Back again' WHERE id = $1`, web.ID); err == nil {
		t.Fatal("an erased record could be changed")
	}
	if _, err := f.db.Pool.Exec(ctx, `UPDATE audit_log SET subject = 'changed' WHERE action = 'test.old'`); err == nil {
		t.Fatal("an audit entry could be changed")
	}

	// Nothing more is due; lifting the hold makes the held person's due.
	again, err := f.st.Preview(ctx, f.school, f.db.Now())
	if err != nil {
		t.Fatal(err)
	}
	if again.Total() != 0 {
		t.Fatalf("after the run, the preview still finds %v", again.Counts)
	}
	if err := f.st.LiftHold(ctx, f.school, held, office); err != nil {
		t.Fatal(err)
	}
	lifted, _ := f.st.Preview(ctx, f.school, f.db.Now())
	if lifted.Counts[retention.StaffSignatures] == 0 || lifted.Counts[retention.Leavers] != 1 {
		t.Fatalf("after lifting the hold: %v", lifted.Counts)
	}
	reports, err := f.st.Reports(ctx, f.school, 10)
	if err != nil || len(reports) != 1 || reports[0].Origin != retention.FromOffice {
		t.Fatalf("reports: %v %+v", err, reports)
	}
}

// TestRunsOnceADayOnRiverAcrossTwoServers: the periodic River job, on two
// servers, runs the day's retention once between them.
func TestRunsOnceADayOnRiverAcrossTwoServers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.exec(`INSERT INTO outbox (school_id, to_address, subject, body_text, created_at, next_attempt_at, sent_at)
		VALUES ($1, 'old@example.org', 'An old message', 'Body', now() - interval '18 months', now(), now() - interval '18 months')`, f.school)
	var runs, done int64
	jobstest.OnTwoServers(t, f.db, func(reg *jobs.Registry, d *database.DB) {
		jobs.Add(reg, &retention.Worker{Scheduler: &retention.Scheduler{Store: retention.NewStore(d), DB: d}})
		reg.Every("retention_run", time.Hour, retention.Args{})
	}, func() bool {
		runs = f.id(`SELECT count(*) FROM job_runs WHERE job = 'retention'`)
		done = f.id(`SELECT count(*) FROM river_job WHERE kind = 'retention_run' AND state = 'completed'`)
		return runs > 0 && done > 0
	})
	if runs != 1 || done != 1 {
		t.Fatalf("two servers: %d retention runs and %d completed jobs, want 1 and 1", runs, done)
	}
	if n := f.id(`SELECT count(*) FROM outbox WHERE subject = 'An old message'`); n != 0 {
		t.Fatal("the scheduled run did not remove the old email")
	}
	if n := f.id(`SELECT count(*) FROM retention_runs WHERE origin = 'schedule'`); n != 1 {
		t.Fatalf("scheduled reports: %d", n)
	}
	// Run again the same day: nothing happens.
	ran, err := (&retention.Scheduler{Store: f.st, DB: f.db}).RunOnce(ctx)
	if err != nil || ran {
		t.Fatalf("a second run the same day: %v %v", ran, err)
	}
}

// TestErasureForgetsHowTheSignerWasIdentified: a signature made after a
// single sign-on keeps "Microsoft 365 account <address>"; erasure blanks
// it with the other personal fields.
func TestErasureForgetsHowTheSignerWasIdentified(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	person := f.id(`SELECT id FROM people WHERE email = $1`, demo.StaffEmail)
	form := f.id(`SELECT id FROM forms WHERE kind = 'acknowledgement' AND NOT EXISTS
		(SELECT 1 FROM signatures s WHERE s.form_id = forms.id AND s.person_id = $1) ORDER BY id LIMIT 1`, person)
	st := signing.NewStore(f.db)
	version, _, err := st.CurrentVersion(ctx, form)
	if err != nil {
		t.Fatal(err)
	}
	sig, _, err := st.Sign(ctx, signing.SignInput{SchoolID: f.school, FormID: form, PersonID: person, VersionID: version, Agreed: true,
		TypedName: "Daniel Okafor", Actor: audit.Actor{Name: "Daniel Okafor", IP: "192.0.2.7"}, UserAgent: "Test",
		IdentifiedBy: "Microsoft 365 account dokafor@hollybrook.example.sch.uk, tenant 1"})
	if err != nil {
		t.Fatal(err)
	}
	var erased bool
	if err := f.db.Pool.QueryRow(ctx, `SELECT signoff_erase_signature($1, now())`, sig.ID).Scan(&erased); err != nil || !erased {
		t.Fatalf("erase: %v %v", erased, err)
	}
	if n := f.id(`SELECT count(*) FROM signatures WHERE id = $1 AND identified_by IS NULL AND typed_name = '(erased)'`, sig.ID); n != 1 {
		t.Fatal("the erased signature still says how its signer was identified")
	}
}
