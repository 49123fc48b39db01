package consent_test

import (
	"bytes"
	"context"
	"reflect"
	"testing"
	"time"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/consent"
	"signoff/internal/database"
	"signoff/internal/database/dbtest"
	"signoff/internal/demo"
	"signoff/internal/people"
	"signoff/internal/schooltime"
	"signoff/internal/signing"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

type fixture struct {
	db      *database.DB
	store   *consent.Store
	school  int64
	form    signing.Form
	items   []consent.Item
	pupil   people.Person
	parents []people.Link // the pupil's parents with parental responsibility
	clock   time.Time
}

var office = audit.Actor{Name: "office", IP: "127.0.0.1"}

// newFixture loads the demo school and publishes a photo consent form to
// every year group, signed by each parent.
func newFixture(t *testing.T, signer signing.Signer) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: dbtest.New(t), clock: time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)}
	f.db.Now = func() time.Time { return f.clock }
	if _, err := demo.Load(ctx, f.db); err != nil {
		t.Fatal(err)
	}
	_ = f.db.Pool.QueryRow(ctx, `SELECT id FROM schools`).Scan(&f.school)
	f.store = consent.NewStore(f.db)
	var err error
	f.form, err = f.store.Create(ctx, f.school, office, consent.NewForm{
		Kind: signing.Consent, Title: "Photo consent", Intro: "We like to celebrate what children do.",
		Signer: signer, Renewal: signing.UntilWithdrawn,
		Items: []consent.Item{
			{Label: "Photos in class displays", Photo: true},
			{Label: "Photos on the school website", Photo: true},
			{Label: "Name alongside a photo"},
			{Label: "I have read the privacy notice", Kind: consent.AckItem},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, f.items, err = f.store.Form(ctx, f.school, f.form.ID)
	if err != nil {
		t.Fatal(err)
	}
	// A pupil with two parents who both hold parental responsibility.
	var pupilID int64
	if err := f.db.Pool.QueryRow(ctx, `SELECT pupil_id FROM guardianships WHERE parental_responsibility
		GROUP BY pupil_id HAVING count(*) >= 2 ORDER BY pupil_id LIMIT 1`).Scan(&pupilID); err != nil {
		t.Fatal(err)
	}
	ps := people.NewStore(f.db)
	f.pupil, _ = ps.Get(ctx, f.school, pupilID)
	links, _ := ps.GuardiansOf(ctx, f.school, pupilID)
	for _, l := range links {
		if l.ParentalResponsibility {
			f.parents = append(f.parents, l)
		}
	}
	return f
}

func (f *fixture) answers(yes ...bool) (map[int64]bool, map[int64]bool) {
	a, acks := map[int64]bool{}, map[int64]bool{}
	i := 0
	for _, it := range f.items {
		if it.Kind == consent.AckItem {
			acks[it.ID] = true
			continue
		}
		a[it.ID] = yes[i]
		i++
	}
	return a, acks
}

func (f *fixture) submit(t *testing.T, parent people.Person, yes ...bool) consent.Record {
	t.Helper()
	a, acks := f.answers(yes...)
	rec, err := f.store.Submit(context.Background(), consent.Submission{SchoolID: f.school, FormID: f.form.ID, PupilID: f.pupil.ID,
		ParentID: parent.ID, Answers: a, Acks: acks, TypedName: parent.FullName(), Actor: audit.Actor{Name: parent.FullName()}})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	return rec
}

func (f *fixture) state(t *testing.T) consent.ChildConsent {
	t.Helper()
	_, _, all, err := f.store.Consents(context.Background(), f.school, f.form.ID, f.pupil.RegClass)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range all {
		if c.Pupil.ID == f.pupil.ID {
			return c
		}
	}
	t.Fatal("the pupil is not in their class list")
	return consent.ChildConsent{}
}

func TestGiveChangeWithdrawKeepsHistory(t *testing.T) {
	t.Parallel()
	f := newFixture(t, signing.OneParent)
	ctx := context.Background()
	mum := f.parents[0].Person
	if c := f.state(t); c.Returned || !c.NoPhotos(f.items) {
		t.Fatalf("before anything: %+v", c)
	}
	first := f.submit(t, mum, true, true, true)
	if c := f.state(t); !c.Returned || c.Items[f.items[1].ID] != consent.Given || c.NoPhotos(f.items) {
		t.Fatalf("after consent: %+v", c)
	}
	// Withdraw the website item: at once, as a new record.
	f.clock = f.clock.Add(time.Hour)
	changed, err := f.store.Change(ctx, f.school, f.form.ID, f.pupil.ID, mum.ID, f.items[1].ID, false, audit.Actor{Name: mum.FullName()}, "ua", "en")
	if err != nil {
		t.Fatal(err)
	}
	if changed.SupersedesID != first.ID {
		t.Fatalf("the change supersedes %d, want %d", changed.SupersedesID, first.ID)
	}
	c := f.state(t)
	if c.Items[f.items[1].ID] != consent.Refused || c.Items[f.items[0].ID] != consent.Given {
		t.Fatalf("after withdrawal: %+v", c.Items)
	}
	hist, err := f.store.History(ctx, f.school, f.form.ID, f.pupil.ID)
	if err != nil || len(hist) != 2 || !hist[1].Superseded || hist[0].Superseded {
		t.Fatalf("history: %v %+v", err, hist)
	}
	var withdrawn int
	_ = f.db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'consent.withdrawn'`).Scan(&withdrawn)
	if withdrawn != 1 {
		t.Fatalf("audit entries for the withdrawal: %d", withdrawn)
	}
}

func TestMostRestrictiveAnswerWinsAndConflictShows(t *testing.T) {
	t.Parallel()
	f := newFixture(t, signing.EachParent)
	if len(f.parents) < 2 {
		t.Fatal("the fixture pupil needs two parents")
	}
	f.submit(t, f.parents[0].Person, true, true, true)
	f.submit(t, f.parents[1].Person, true, false, true)
	c := f.state(t)
	if c.Items[f.items[1].ID] != consent.Refused || !c.Conflict[f.items[1].ID] || !c.HasConflict() {
		t.Fatalf("disagreement: items %+v conflict %+v", c.Items, c.Conflict)
	}
	if c.Items[f.items[0].ID] != consent.Given || c.Conflict[f.items[0].ID] {
		t.Fatalf("agreement on displays: %+v", c.Items)
	}
	// QueueConflicts (one query, sent with the dashboard's figures) names
	// the same children as every child's state.
	_, _, all, err := f.store.Consents(context.Background(), f.school, f.form.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	var want []int64
	for _, ch := range all {
		if ch.HasConflict() {
			want = append(want, ch.Pupil.ID)
		}
	}
	got, err := f.conflicts()
	if err != nil || len(got) != len(want) || len(got) != 1 || got[0].ID != f.pupil.ID || want[0] != f.pupil.ID {
		t.Fatalf("conflicts %+v (%v), every child's state says %v", got, err, want)
	}
	// A parent changing their answer to agree ends it.
	f.submit(t, f.parents[1].Person, true, true, true)
	if got, err := f.conflicts(); err != nil || len(got) != 0 {
		t.Fatalf("after agreeing: conflicts %+v (%v)", got, err)
	}
}

// conflicts is the form's conflicts as its dashboard reads them: queued
// with QueueConflicts and sent.
func (f *fixture) conflicts() ([]people.Person, error) {
	var r database.Reads
	var out []people.Person
	f.store.QueueConflicts(&r, f.school, f.form.ID, &out)
	err := f.db.Send(context.Background(), &r)
	return out, err
}

func TestOwedOncePerChildOrByEachParent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, signer := range []signing.Signer{signing.OneParent, signing.EachParent} {
		f := newFixture(t, signer)
		owed := func(parent people.Person) bool {
			_, cf, err := f.store.ChildForm(ctx, f.school, parent.ID, f.pupil.ID, f.form.ID)
			if err != nil {
				t.Fatal(err)
			}
			return cf.Owed
		}
		if !owed(f.parents[0].Person) || !owed(f.parents[1].Person) {
			t.Fatalf("%s: both parents should owe it at first", signer)
		}
		f.submit(t, f.parents[0].Person, true, true, true)
		if owed(f.parents[0].Person) {
			t.Fatalf("%s: the parent who signed still owes it", signer)
		}
		if got, want := owed(f.parents[1].Person), signer == signing.EachParent; got != want {
			t.Fatalf("%s: the other parent owes it: %v, want %v", signer, got, want)
		}
	}
}

func TestValidationAndOwnership(t *testing.T) {
	t.Parallel()
	f := newFixture(t, signing.OneParent)
	ctx := context.Background()
	mum := f.parents[0].Person
	_, err := f.store.Submit(ctx, consent.Submission{SchoolID: f.school, FormID: f.form.ID, PupilID: f.pupil.ID, ParentID: mum.ID,
		Answers: map[int64]bool{f.items[0].ID: true}, Actor: office})
	fields := apperr.FieldsOf(err)
	if apperr.CodeOf(err) != apperr.Invalid || len(fields) < 4 {
		t.Fatalf("incomplete submission: %v %+v", err, fields)
	}
	// A parent of another child cannot answer for this one.
	var other int64
	_ = f.db.Pool.QueryRow(ctx, `SELECT parent_id FROM guardianships WHERE parent_id NOT IN (SELECT parent_id FROM guardianships WHERE pupil_id = $1) LIMIT 1`, f.pupil.ID).Scan(&other)
	a, acks := f.answers(true, true, true)
	_, err = f.store.Submit(ctx, consent.Submission{SchoolID: f.school, FormID: f.form.ID, PupilID: f.pupil.ID, ParentID: other,
		Answers: a, Acks: acks, TypedName: "Someone", Actor: office})
	if apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("another family's parent: %v", err)
	}
	if _, _, err := f.store.ChildForm(ctx, f.school, other, f.pupil.ID, f.form.ID); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("another family's child form: %v", err)
	}
	var n int
	_ = f.db.Pool.QueryRow(ctx, `SELECT count(*) FROM signatures WHERE form_id = $1`, f.form.ID).Scan(&n)
	if n != 0 {
		t.Fatalf("refused submissions stored %d records", n)
	}
	// The form's text is frozen once signed.
	f.submit(t, mum, true, true, true)
	if _, err := f.db.Pool.Exec(ctx, `UPDATE forms SET intro_md = 'changed' WHERE id = $1`, f.form.ID); err == nil {
		t.Fatal("changing a signed form's text succeeded")
	}
	if _, err := f.db.Pool.Exec(ctx, `UPDATE form_items SET label = 'changed' WHERE form_id = $1`, f.form.ID); err == nil {
		t.Fatal("changing a signed form's question succeeded")
	}
}

func TestPaperFormWithScan(t *testing.T) {
	t.Parallel()
	f := newFixture(t, signing.OneParent)
	ctx := context.Background()
	mum := f.parents[0].Person
	a, acks := f.answers(true, false, false)
	day := time.Date(2026, 9, 20, 0, 0, 0, 0, time.UTC)
	bad := consent.Submission{SchoolID: f.school, FormID: f.form.ID, PupilID: f.pupil.ID, ParentID: mum.ID, Answers: a, Acks: acks,
		TypedName: mum.FullName(), Paper: true, PaperDate: &day, Scan: &consent.Scan{Filename: "x.exe", Data: []byte("MZ not a scan")},
		Actor: audit.Actor{AccountID: 0, Name: "office"}}
	if _, err := f.store.Submit(ctx, bad); apperr.CodeOf(err) != apperr.Invalid || apperr.FieldsOf(err)[0].Field != "scan" {
		t.Fatalf("a scan that is not PDF/JPEG/PNG: %v", err)
	}
	var officeID int64
	_ = f.db.Pool.QueryRow(ctx, `SELECT id FROM accounts WHERE email = $1`, demo.AdminEmail).Scan(&officeID)
	good := bad
	good.Scan = &consent.Scan{Filename: "form.pdf", Data: append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("x"), 100)...)}
	good.Actor = audit.Actor{AccountID: officeID, Name: "Karen Holloway"}
	rec, err := f.store.Submit(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Method != signing.Paper || !rec.HasScan {
		t.Fatalf("paper record: %+v", rec)
	}
	got, err := f.store.RecordByReference(ctx, f.school, rec.Reference)
	if err != nil || got.RecordedBy != "Karen Holloway" || got.PaperDate == nil {
		t.Fatalf("stored paper record: %v %+v", err, got)
	}
	sc, err := f.store.ScanOf(ctx, f.school, rec.ID)
	if err != nil || sc.ContentType != "application/pdf" {
		t.Fatalf("scan: %v %s", err, sc.ContentType)
	}
	if c := f.state(t); c.Items[f.items[1].ID] != consent.Refused || c.Items[f.items[0].ID] != consent.Given {
		t.Fatalf("state after paper form: %+v", c.Items)
	}
}

func TestClassModeAndSchoolPart(t *testing.T) {
	t.Parallel()
	f := newFixture(t, signing.OneParent)
	ctx := context.Background()
	agreement, err := f.store.Create(ctx, f.school, office, consent.NewForm{Kind: signing.Agreement, Title: "Home-school agreement",
		SchoolPart: "We will teach well.", ParentPart: "I will read with my child.", ChildPart: "I will be kind.",
		Signer: signing.OneParent, Renewal: signing.EachYear})
	if err != nil {
		t.Fatal(err)
	}
	var teacher people.Person
	ps := people.NewStore(f.db)
	staff, _ := ps.ListStaff(ctx, f.school, people.StaffFilter{Role: people.Teacher})
	teacher = staff[0]
	in := consent.ChildInput{SchoolID: f.school, FormID: agreement.ID, PupilID: f.pupil.ID, Agreed: true, TypedName: f.pupil.GivenName,
		Witness: teacher, Actor: audit.Actor{Name: teacher.FullName()}}
	rec, err := f.store.SignChild(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Method != signing.Class || rec.Part != consent.PartChild {
		t.Fatalf("child record: %+v", rec)
	}
	again, err := f.store.SignChild(ctx, in)
	if err != nil || again.ID != rec.ID {
		t.Fatalf("signing twice in a year: %v %d %d", err, again.ID, rec.ID)
	}
	stored, _ := f.store.RecordByReference(ctx, f.school, rec.Reference)
	if stored.WitnessName != teacher.FullName() {
		t.Fatalf("witness: %q", stored.WitnessName)
	}
	// Next academic year the child signs again.
	f.clock = time.Date(2027, 9, 10, 9, 0, 0, 0, time.UTC)
	next, err := f.store.SignChild(ctx, in)
	if err != nil || next.ID == rec.ID {
		t.Fatalf("next year: %v", err)
	}
	head := staff[0]
	sch, err := f.store.SignSchool(ctx, f.school, agreement.ID, head, head.FullName(), audit.Actor{Name: head.FullName()})
	if err != nil || sch.Part != consent.PartSchool {
		t.Fatalf("school part: %v %+v", err, sch)
	}
	if _, ok, _ := f.store.SchoolSignature(ctx, f.school, agreement.ID); !ok {
		t.Fatal("the school part is not found")
	}
}

// TestRecordKeyStage: a record is of the key stage of the child's year
// group when it is given (SQL's signoff_key_stage, the one home of key
// stages): 0 early years, 1 (years 1–2), 2 (3–6), 3 (7–9), 4 (10–11), 5
// (sixth form).
func TestRecordKeyStage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, signing.OneParent)
	parent := f.parents[0].Person
	for _, c := range []struct{ year, want int }{{-2, 0}, {-1, 0}, {0, 0}, {1, 1}, {2, 1}, {3, 2}, {6, 2}, {7, 3}, {9, 3}, {10, 4}, {11, 4}, {12, 5}, {14, 5}} {
		if _, err := f.db.Pool.Exec(ctx, `UPDATE people SET year_group = $1 WHERE id = $2`, c.year, f.pupil.ID); err != nil {
			t.Fatal(err)
		}
		rec := f.submit(t, parent, c.year%2 == 0, true, true)
		got, err := f.store.RecordByReference(ctx, f.school, rec.Reference)
		if err != nil {
			t.Fatal(err)
		}
		if rec.KeyStage != c.want || got.KeyStage != c.want {
			t.Errorf("year group %d: the record made is of key stage %d, read back %d; want %d", c.year, rec.KeyStage, got.KeyStage, c.want)
		}
	}
}

// A family's page reads all its children's forms at once; each agrees
// with the one child's form read on its own, but for the questions and
// the child's consent (Items, State), which no family list shows.
func TestForParentMatchesEachChildForm(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, signing.EachParent)
	second, err := f.store.Create(ctx, f.school, office, consent.NewForm{
		Kind: signing.Consent, Title: "Sun cream", Signer: signing.OneParent, Renewal: signing.UntilWithdrawn,
		Items: []consent.Item{{Label: "Staff may help with sun cream"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	parent := f.parents[0].Person
	f.submit(t, parent, true, false, true)
	f.submit(t, f.parents[1].Person, false, false, false)
	all, err := f.store.ForParent(ctx, f.school, parent.ID)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]int{}
	for _, child := range all {
		for _, got := range child.Forms {
			seen[got.Form.ID]++
			_, want, err := f.store.ChildForm(ctx, f.school, parent.ID, child.Link.Person.ID, got.Form.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Items != nil || !reflect.DeepEqual(got.State, consent.ChildConsent{}) {
				t.Fatalf("child %d form %d: the family page has the questions or the consent (%d items), on its own %d", child.Link.Person.ID, got.Form.ID, len(got.Items), len(want.Items))
			}
			want.Items, want.State = nil, consent.ChildConsent{}
			if !reflect.DeepEqual(emptyAsNil(got), emptyAsNil(want)) {
				t.Fatalf("child %d form %d: family page %+v, on its own %+v", child.Link.Person.ID, got.Form.ID, got, want)
			}
			if child.Link.Person.ID == f.pupil.ID && got.Form.ID == f.form.ID && (got.Mine == nil || len(got.Others) != 1 || got.Owed) {
				t.Fatalf("the signed form: %+v", got)
			}
		}
	}
	if seen[f.form.ID] == 0 || seen[second.ID] == 0 {
		t.Fatalf("forms on the family page: %v", seen)
	}
	// Family is the same with the parent's own record, read together.
	me, again, err := f.store.Family(ctx, f.school, parent.ID)
	if err != nil || me.ID != parent.ID || me.GivenName != parent.GivenName || !reflect.DeepEqual(again, all) {
		t.Fatalf("Family: %v, %+v, %+v; want %+v", err, me, again, all)
	}
	if _, _, err := f.store.Family(ctx, f.school, parent.ID+1000); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("Family of nobody: %v, want not found", err)
	}
}

// emptyAsNil makes a form's empty lists nil, for comparing.
func emptyAsNil(cf consent.ChildForm) consent.ChildForm {
	if len(cf.Items) == 0 {
		cf.Items = nil
	}
	if len(cf.Others) == 0 {
		cf.Others = nil
	}
	if len(cf.State.Records) == 0 {
		cf.State.Records = nil
	}
	return cf
}

// TestRecordCountsByRenewal: whether a parent's record still counts, for
// each renewal rule, before and after signing, after a withdrawal, and when
// the academic year or the child's key stage moves on, as the class list
// (Consents), the parent's page (ChildForm), the record read back and the
// obligations the dashboards count (signoff_obligations_derive) each say:
// one rule, signoff_record_counts (migration 0022), read by all four.
func TestRecordCountsByRenewal(t *testing.T) {
	t.Parallel()
	for _, renewal := range []signing.Renewal{signing.UntilWithdrawn, signing.EachYear, signing.EachKeyStage} {
		t.Run(string(renewal), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, signing.OneParent)
			ctx := context.Background()
			form, err := f.store.Create(ctx, f.school, office, consent.NewForm{Kind: signing.Consent, Title: "Trip " + string(renewal),
				Signer: signing.OneParent, Renewal: renewal, Items: []consent.Item{{Label: "Local walks"}}})
			if err != nil {
				t.Fatal(err)
			}
			f.form = form
			if _, f.items, err = f.store.Form(ctx, f.school, form.ID); err != nil {
				t.Fatal(err)
			}
			parent := f.parents[0].Person
			var last consent.Record
			expect := func(step string, want bool) {
				t.Helper()
				var derived bool
				if err := f.db.Pool.QueryRow(ctx, `SELECT coalesce(bool_or(signoff_counts(d.signature_id, d.sig_year, $3)), false)
					FROM signoff_obligations_derive(ARRAY[$1::bigint], ARRAY[$2::bigint]) d`,
					form.ID, f.pupil.ID, schooltime.AcademicYear(f.clock)).Scan(&derived); err != nil {
					t.Fatal(err)
				}
				_, cf, err := f.store.ChildForm(ctx, f.school, parent.ID, f.pupil.ID, form.ID)
				if err != nil {
					t.Fatal(err)
				}
				read := false
				if last.ID != 0 {
					got, err := f.store.RecordByReference(ctx, f.school, last.Reference)
					if err != nil {
						t.Fatal(err)
					}
					read = got.Counts
				}
				if class := f.state(t).Returned; class != want || (cf.Mine != nil) != want || read != want || derived != want {
					t.Fatalf("%s: class list %v, parent's page %v, record %v, obligations %v; want %v", step, class, cf.Mine != nil, read, derived, want)
				}
			}
			expect("before signing", false)
			last = f.submit(t, parent, true)
			expect("signed", true)
			first := last
			switch renewal {
			case signing.EachYear:
				f.clock = time.Date(2027, 9, 10, 9, 0, 0, 0, time.UTC)
				expect("next academic year", false)
			case signing.EachKeyStage:
				// Years 1 and 12 are of different key stages whatever the child's is.
				next := 12
				if f.pupil.YearGroup != nil && *f.pupil.YearGroup >= 10 {
					next = 1
				}
				if _, err := f.db.Pool.Exec(ctx, `UPDATE people SET year_group = $1 WHERE id = $2`, next, f.pupil.ID); err != nil {
					t.Fatal(err)
				}
				expect("next key stage", false)
			default:
				f.clock = time.Date(2027, 9, 10, 9, 0, 0, 0, time.UTC)
				expect("next academic year", true)
			}
			// Signing again counts (a new record, superseding the first);
			// the first no longer does.
			last = f.submit(t, parent, true)
			expect("signed again", true)
			old, err := f.store.RecordByReference(ctx, f.school, first.Reference)
			if err != nil || !old.Superseded || old.Counts {
				t.Fatalf("the first record after signing again: %v %+v", err, old)
			}
			// A withdrawal is a record too: it still counts (as a no).
			if _, err := f.store.Change(ctx, f.school, form.ID, f.pupil.ID, parent.ID, f.items[0].ID, false, office, "", ""); err != nil {
				t.Fatal(err)
			}
			if st := f.state(t); !st.Returned || st.Items[f.items[0].ID] != consent.Refused {
				t.Fatalf("after withdrawing: %+v", st)
			}
		})
	}
}
