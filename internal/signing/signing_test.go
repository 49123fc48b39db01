package signing_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/database"
	"signoff/internal/database/dbtest"
	"signoff/internal/limits"
	"signoff/internal/people"
	"signoff/internal/policies"
	"signoff/internal/schools"
	"signoff/internal/schooltime"
	"signoff/internal/signing"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

type fixture struct {
	db       *database.DB
	clock    time.Time
	school   schools.School
	teacher  people.Person
	governor people.Person
	policy   policies.Policy
	version  policies.Version
	form     signing.Form
	pol      *policies.Store
	sign     *signing.Store
}

var admin = audit.Actor{Name: "test admin", IP: "127.0.0.1"}

// newFixture makes a school with a teacher and a governor, and publishes
// a policy to teachers only, renewed each year.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: dbtest.New(t), clock: time.Date(2026, 10, 5, 9, 0, 0, 0, time.UTC)}
	f.db.Now = func() time.Time { return f.clock }
	f.pol = policies.NewStore(f.db)
	f.sign = signing.NewStore(f.db)
	f.school = schools.School{Slug: "test-school", Name: "Test School"}
	f.teacher = people.Person{Kind: people.Staff, GivenName: "Zoë", FamilyName: "O'Brien", Email: "zobrien@example.org", StaffRole: people.Teacher}
	f.governor = people.Person{Kind: people.Staff, GivenName: "Gary", FamilyName: "Gov", Email: "gary@example.org", StaffRole: people.Governor}
	err := f.db.InTx(ctx, func(tx pgx.Tx) error {
		if err := schools.CreateTx(ctx, tx, &f.school); err != nil {
			return err
		}
		for _, p := range []*people.Person{&f.teacher, &f.governor} {
			p.SchoolID = f.school.ID
			if err := people.CreateTx(ctx, tx, p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f.policy, f.version, err = f.pol.CreateDraft(ctx, f.school.ID, admin, policies.DraftInput{
		Title: "IT acceptable use policy", ReviewCycleYears: 1, Body: "# Rules\n\n- Lock your screen.\n"})
	if err != nil {
		t.Fatal(err)
	}
	f.form, err = f.sign.Publish(ctx, f.school.ID, f.version.ID, admin, signing.FormInput{
		Statement: "I have read it and will comply.", AudienceRoles: []people.StaffRole{people.Teacher}, Renewal: signing.EachYear}, "http://signoff.test")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// approve records the board's approval of a revision, which the
// publishing rule asks for.
func (f *fixture) approve(t *testing.T, v policies.Version) {
	t.Helper()
	day := policies.Today(f.clock)
	if _, err := f.pol.RecordMeeting(context.Background(), f.school.ID, v.ID, admin, policies.MeetingInput{Date: &day, Body: "Full Governing Body"}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) input(p people.Person, versionID int64) signing.SignInput {
	return signing.SignInput{SchoolID: f.school.ID, FormID: f.form.ID, PersonID: p.ID, VersionID: versionID,
		Agreed: true, TypedName: p.FullName(), Actor: audit.Actor{Name: p.FullName(), IP: "203.0.113.7"}, UserAgent: "test-agent"}
}

func (f *fixture) owes(t *testing.T, p people.Person) []signing.Owed {
	t.Helper()
	owed, err := f.sign.ToSign(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return owed
}

// current checks the teacher's signature that counts now: CurrentSignature
// gives want (0: none), and so does the obligations table the dashboards
// read, both being signoff_staff_current in this academic year.
func (f *fixture) current(t *testing.T, step string, want int64) {
	t.Helper()
	ctx := context.Background()
	sig, ok, err := f.sign.CurrentSignature(ctx, f.teacher, f.form.ID)
	if err != nil {
		t.Fatal(err)
	}
	var table int64
	if err := f.db.Pool.QueryRow(ctx, `SELECT coalesce(max(signature_id) FILTER (WHERE signoff_counts(signature_id, sig_year, $3)), 0)
		FROM obligations WHERE form_id = $1 AND person_id = $2`, f.form.ID, f.teacher.ID, schooltime.AcademicYear(f.clock)).Scan(&table); err != nil {
		t.Fatal(err)
	}
	if ok != (want != 0) || sig.ID != want || table != want {
		t.Fatalf("%s: CurrentSignature %d (%v), obligations %d, want %d", step, sig.ID, ok, table, want)
	}
}

func TestSignRecordsVersionHashAndIsHarmlessTwice(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if n := len(f.owes(t, f.teacher)); n != 1 {
		t.Fatalf("teacher owes %d forms before signing, want 1", n)
	}
	sig, created, err := f.sign.Sign(ctx, f.input(f.teacher, f.version.ID))
	if err != nil || !created {
		t.Fatalf("sign: created=%v err=%v", created, err)
	}
	if sig.VersionSHA256 != policies.Hash(f.version.Body) || sig.VersionSHA256 != f.version.SHA256 {
		t.Errorf("signature hash %s, want the version's %s", sig.VersionSHA256, f.version.SHA256)
	}
	if !sig.SignedAt.Equal(f.clock) || sig.IP != "203.0.113.7" || sig.UserAgent != "test-agent" || sig.AcademicYear != 2026 {
		t.Errorf("signature fields: %+v", sig)
	}
	if n := len(f.owes(t, f.teacher)); n != 0 {
		t.Fatalf("teacher still owes %d forms after signing", n)
	}
	// Submitting again returns the same signature and records nothing new.
	f.clock = f.clock.Add(time.Hour)
	again, created, err := f.sign.Sign(ctx, f.input(f.teacher, f.version.ID))
	if err != nil || created {
		t.Fatalf("second sign: created=%v err=%v", created, err)
	}
	if again.Reference != sig.Reference {
		t.Errorf("second sign returned %s, want the existing %s", again.Reference, sig.Reference)
	}
	var count int
	if err := f.db.Pool.QueryRow(ctx, `SELECT count(*) FROM signatures`).Scan(&count); err != nil {
		t.Fatal(err)
	}
	if count != 1 {
		t.Fatalf("%d signatures stored, want 1", count)
	}
	got, err := f.sign.ByReference(ctx, f.school.ID, sig.Reference)
	if err != nil || got.ID != sig.ID {
		t.Fatalf("by reference: %v %+v", err, got)
	}
}

// TestSignClipsLongEvidenceByCharacters: a browser's description, or how
// the signer was identified, longer than its limit is cut at the limit's
// character, never inside one, and the signature is stored.
func TestSignClipsLongEvidenceByCharacters(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in := f.input(f.teacher, f.version.ID)
	in.UserAgent = strings.Repeat("€", limits.UserAgent+20) // three bytes each
	in.IdentifiedBy = strings.Repeat("é", limits.IdentifiedBy+1)
	sig, created, err := f.sign.Sign(ctx, in)
	if err != nil || !created {
		t.Fatalf("sign: created=%v err=%v", created, err)
	}
	var ua, identified string
	if err := f.db.Pool.QueryRow(ctx, `SELECT user_agent, identified_by FROM signatures WHERE id = $1`, sig.ID).Scan(&ua, &identified); err != nil {
		t.Fatal(err)
	}
	if ua != strings.Repeat("€", limits.UserAgent) || sig.UserAgent != ua || identified != strings.Repeat("é", limits.IdentifiedBy) {
		t.Errorf("stored %d and %d characters, want %d and %d", utf8.RuneCountInString(ua), utf8.RuneCountInString(identified), limits.UserAgent, limits.IdentifiedBy)
	}
}

func TestSignRefusedOutsideTheAudience(t *testing.T) {
	f := newFixture(t)
	if n := len(f.owes(t, f.governor)); n != 0 {
		t.Fatalf("governor owes %d forms addressed to teachers", n)
	}
	_, _, err := f.sign.Sign(context.Background(), f.input(f.governor, f.version.ID))
	if apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("governor signing a teachers' form: %v, want forbidden", err)
	}
}

func TestSignRefusedForALeaver(t *testing.T) {
	f := newFixture(t)
	if _, err := f.db.Pool.Exec(context.Background(), `UPDATE people SET left_at = now() WHERE id = $1`, f.teacher.ID); err != nil {
		t.Fatal(err)
	}
	_, _, err := f.sign.Sign(context.Background(), f.input(f.teacher, f.version.ID))
	if apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("leaver signing: %v, want forbidden", err)
	}
}

func TestSupersededVersionAndMinorRevisions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// Version 2 (major) is published while the teacher reads version 1.
	v2, err := f.pol.CreateRevision(ctx, f.school.ID, f.policy.ID, admin, "# Rules\n\n- Lock your screen.\n- Report phishing.\n", true)
	if err != nil {
		t.Fatal(err)
	}
	f.approve(t, v2)
	if _, err := f.sign.Publish(ctx, f.school.ID, v2.ID, admin, signing.FormInput{Statement: f.form.Statement,
		AudienceRoles: f.form.AudienceRoles, Renewal: f.form.Renewal}, "http://signoff.test"); err != nil {
		t.Fatal(err)
	}
	_, _, err = f.sign.Sign(ctx, f.input(f.teacher, f.version.ID))
	if apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("signing a superseded version: %v, want conflict", err)
	}
	f.current(t, "after a major v2", 0)
	owed := f.owes(t, f.teacher)
	if len(owed) != 1 || owed[0].VersionID != v2.ID || owed[0].VersionNumber != 2 {
		t.Fatalf("owed after v2: %+v", owed)
	}
	signed2, _, err := f.sign.Sign(ctx, f.input(f.teacher, v2.ID))
	if err != nil {
		t.Fatal(err)
	}
	f.current(t, "signed v2", signed2.ID)
	// A minor version 3 does not ask again: the v2 signature still counts.
	v3, err := f.pol.CreateRevision(ctx, f.school.ID, f.policy.ID, admin, "# Rules\n\n- Lock your screen.\n- Report phishing emails.\n", false)
	if err != nil {
		t.Fatal(err)
	}
	f.approve(t, v3)
	if _, err := f.sign.Publish(ctx, f.school.ID, v3.ID, admin, signing.FormInput{Statement: f.form.Statement,
		AudienceRoles: f.form.AudienceRoles, Renewal: f.form.Renewal}, "http://signoff.test"); err != nil {
		t.Fatal(err)
	}
	if n := len(f.owes(t, f.teacher)); n != 0 {
		t.Fatalf("teacher owes %d after a minor revision, want 0", n)
	}
	f.current(t, "after a minor v3", signed2.ID)
	// A major version 4 does.
	v4, err := f.pol.CreateRevision(ctx, f.school.ID, f.policy.ID, admin, "# Rules\n\nAll new.\n", true)
	if err != nil {
		t.Fatal(err)
	}
	f.approve(t, v4)
	if _, err := f.sign.Publish(ctx, f.school.ID, v4.ID, admin, signing.FormInput{Statement: f.form.Statement,
		AudienceRoles: f.form.AudienceRoles, Renewal: f.form.Renewal}, "http://signoff.test"); err != nil {
		t.Fatal(err)
	}
	owed = f.owes(t, f.teacher)
	if len(owed) != 1 || owed[0].Why != "new_version" {
		t.Fatalf("owed after a major v4: %+v", owed)
	}
	f.current(t, "after a major v4", 0)
}

func TestYearlyFormIsOwedAgainInSeptember(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	first, _, err := f.sign.Sign(ctx, f.input(f.teacher, f.version.ID))
	if err != nil {
		t.Fatal(err)
	}
	f.clock = time.Date(2027, 8, 31, 22, 0, 0, 0, time.UTC) // 31 August 23:00 in London: still 2026/27
	if n := len(f.owes(t, f.teacher)); n != 0 {
		t.Fatalf("owed on 31 August: %d", n)
	}
	f.current(t, "31 August", first.ID)
	f.clock = time.Date(2027, 8, 31, 23, 30, 0, 0, time.UTC) // 1 September 00:30 in London
	owed := f.owes(t, f.teacher)
	if len(owed) != 1 || owed[0].Why != "new_year" {
		t.Fatalf("owed on 1 September: %+v", owed)
	}
	f.current(t, "1 September", 0)
	sig, created, err := f.sign.Sign(ctx, f.input(f.teacher, f.version.ID))
	if err != nil || !created || sig.AcademicYear != 2027 {
		t.Fatalf("signing in the new year: %v created=%v year=%d", err, created, sig.AcademicYear)
	}
	f.current(t, "signed in the new year", sig.ID)
}

func TestSignValidationSavesNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	cases := []struct {
		name  string
		edit  func(*signing.SignInput)
		field string
	}{
		{"not ticked", func(in *signing.SignInput) { in.Agreed = false }, "agree"},
		{"no name", func(in *signing.SignInput) { in.TypedName = "   " }, "typed_name"},
		{"not their name", func(in *signing.SignInput) { in.TypedName = "asdf" }, "typed_name"},
	}
	for _, c := range cases {
		in := f.input(f.teacher, f.version.ID)
		c.edit(&in)
		_, _, err := f.sign.Sign(ctx, in)
		if apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("%s: %v, want invalid", c.name, err)
			continue
		}
		fields := apperr.FieldsOf(err)
		if len(fields) == 0 || fields[0].Field != c.field {
			t.Errorf("%s: fields %+v, want %s", c.name, fields, c.field)
		}
	}
	// Accents, case and punctuation do not matter.
	in := f.input(f.teacher, f.version.ID)
	in.TypedName = "zoe obrien"
	if _, _, err := f.sign.Sign(ctx, in); err != nil {
		t.Fatalf("name without accents: %v", err)
	}
	var count int
	if err := f.db.Pool.QueryRow(ctx, `SELECT count(*) FROM signatures`).Scan(&count); err != nil || count != 1 {
		t.Fatalf("signatures stored: %d (%v), want only the valid one", count, err)
	}
}

func TestSignaturesAreImmutableInTheDatabase(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sig, _, err := f.sign.Sign(ctx, f.input(f.teacher, f.version.ID))
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`UPDATE signatures SET typed_name = 'Someone Else' WHERE id = $1`,
		`DELETE FROM signatures WHERE id = $1`,
		`UPDATE audit_log SET actor = 'nobody' WHERE id > $1 - $1`,
		`DELETE FROM audit_log WHERE id > $1 - $1`,
	} {
		if _, err := f.db.Pool.Exec(ctx, stmt, sig.ID); err == nil {
			t.Errorf("%s: succeeded, want refused", stmt)
		}
	}
	for _, stmt := range []string{`TRUNCATE signatures CASCADE`, `TRUNCATE audit_log CASCADE`} {
		if _, err := f.db.Pool.Exec(ctx, stmt); err == nil {
			t.Errorf("%s: succeeded, want refused", stmt)
		}
	}
	// A published version's text cannot change either.
	if _, err := f.db.Pool.Exec(ctx, `UPDATE policy_versions SET body_md = 'changed' WHERE id = $1`, f.version.ID); err == nil {
		t.Error("changing a published version's text succeeded")
	}
	got, err := f.sign.ByReference(ctx, f.school.ID, sig.Reference)
	if err != nil || got.TypedName != sig.TypedName {
		t.Fatalf("signature after attempts: %v %+v", err, got)
	}
}

// TestWhoStillOwes: after one of two teachers signs, only the other owes
// the form (the office's figures and lists are tracking's, tested there
// and on the dashboard).
func TestWhoStillOwes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	other := people.Person{SchoolID: f.school.ID, Kind: people.Staff, GivenName: "Abe", FamilyName: "Adams", Email: "abe@example.org", StaffRole: people.Teacher}
	if err := f.db.InTx(ctx, func(tx pgx.Tx) error { return people.CreateTx(ctx, tx, &other) }); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.sign.Sign(ctx, f.input(f.teacher, f.version.ID)); err != nil {
		t.Fatal(err)
	}
	if owed, err := f.sign.ToSign(ctx, f.teacher); err != nil || len(owed) != 0 {
		t.Fatalf("the teacher who signed still owes: %v %+v", err, owed)
	}
	owed, err := f.sign.ToSign(ctx, other)
	if err != nil || len(owed) != 1 || owed[0].Form.ID != f.form.ID || owed[0].Why != "" {
		t.Fatalf("the teacher who has not signed: %v %+v", err, owed)
	}
	// The audit log holds a verified chain of what happened.
	broken, checked, err := audit.Verify(ctx, f.db)
	if err != nil || broken != nil || checked < 4 {
		t.Fatalf("audit verify: %v %+v checked %d", err, broken, checked)
	}
}
