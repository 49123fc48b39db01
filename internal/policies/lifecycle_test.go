package policies_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/database"
	"signoff/internal/database/dbtest"
	"signoff/internal/demo"
	"signoff/internal/people"
	"signoff/internal/policies"
	"signoff/internal/signing"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

type fixture struct {
	t        *testing.T
	db       *database.DB
	pol      *policies.Store
	sign     *signing.Store
	school   int64
	policyID int64
	form     signing.Form
	clock    time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	t.Parallel()
	db := dbtest.New(t)
	f := &fixture{t: t, db: db, clock: time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)}
	db.Now = func() time.Time { return f.clock }
	res, err := demo.Load(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	f.school = res.School.ID
	f.pol, f.sign = policies.NewStore(db), signing.NewStore(db)
	f.policyID = f.id(`SELECT id FROM policies WHERE title = 'IT acceptable use policy (staff)'`)
	form, ok, err := f.sign.PolicyForm(context.Background(), f.school, f.policyID)
	if err != nil || !ok {
		t.Fatalf("form: %v %v", ok, err)
	}
	f.form = form
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

func (f *fixture) account(email string) (int64, audit.Actor) {
	id := f.id(`SELECT id FROM accounts WHERE email = $1`, email)
	return id, audit.Actor{AccountID: id, Name: email}
}

func (f *fixture) publish(versionID int64) {
	f.t.Helper()
	_, admin := f.account(demo.AdminEmail)
	if _, err := f.sign.Publish(context.Background(), f.school, versionID, admin, signing.FormInput{Statement: f.form.Statement,
		AudienceRoles: f.form.AudienceRoles, Renewal: f.form.Renewal}, "http://signoff.test"); err != nil {
		f.t.Fatal(err)
	}
}

// emails counts the outbox's messages of a kind.
func (f *fixture) emails(kind string) int64 {
	f.t.Helper()
	return f.id(`SELECT count(*) FROM outbox WHERE school_id = $1 AND kind = $2`, f.school, kind)
}

func (f *fixture) owes(email string) bool {
	f.t.Helper()
	ctx := context.Background()
	p, err := people.NewStore(f.db).Get(ctx, f.school, f.id(`SELECT id FROM people WHERE email = $1`, email))
	if err != nil {
		f.t.Fatal(err)
	}
	all, err := f.sign.ToSign(ctx, p)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, o := range all {
		if o.Form.ID == f.form.ID {
			return true
		}
	}
	return false
}

// A revision goes from draft to published through the governors'
// approval, its changes marked; staff sign again for the major change
// only; the author cannot approve their own revision.
func TestRevisionThroughGovernorApproval(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	current, _, err := f.pol.Current(ctx, f.school, f.policyID)
	if err != nil {
		t.Fatal(err)
	}
	// A teacher who signed version 1 owes nothing now.
	signer := ""
	_ = f.db.Pool.QueryRow(ctx, `SELECT p.email FROM signatures s JOIN people p ON p.id = s.person_id
		WHERE s.form_id = $1 AND p.staff_role = 'teacher' ORDER BY p.id LIMIT 1`, f.form.ID).Scan(&signer)
	if signer == "" || f.owes(signer) {
		t.Fatalf("no teacher who signed version 1 (%q)", signer)
	}

	// The chair of governors writes the revision (a governor may also be
	// an author): they must not be among its approvers.
	authorID, author := f.account("rstanton@hollybrook.example.sch.uk")
	body := strings.Replace(current.Body, "Lock your screen", "Always lock your screen", 1) + "\n## New section\n\nReport lost devices the same day.\n"
	v2, err := f.pol.SaveRevision(ctx, f.school, f.policyID, author, policies.RevisionInput{Body: body, Major: true, ChangeNote: "Lost devices."})
	if err != nil {
		t.Fatal(err)
	}
	if v2.Number != 2 || v2.Status != policies.Draft || !v2.Major {
		t.Fatalf("revision: %+v", v2)
	}
	cmp := policies.CompareDocuments(current.Body, v2.Body)
	if cmp.Changes != 2 || cmp.Added == 0 || !slices.Contains(cmp.ChangedSections(), "New section") {
		t.Fatalf("marked changes: %+v", cmp)
	}
	// Still a draft: the author can edit it.
	if _, err := f.pol.SaveRevision(ctx, f.school, f.policyID, author, policies.RevisionInput{Body: body + "\nThank you.\n", Major: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.pol.Submit(ctx, f.school, v2.ID, author, nil, "http://signoff.test/policies/1"); err != nil {
		t.Fatal(err)
	}
	approvers, err := f.pol.Approvers(ctx, f.school, v2.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(approvers) != 5 { // six governors less the author
		t.Fatalf("approvers: %d %+v", len(approvers), approvers)
	}
	for _, a := range approvers {
		if a.AccountID == authorID {
			t.Fatal("the author is an approver of their own revision")
		}
	}
	var mails int
	_ = f.db.Pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE kind = 'policy_approval' AND subject LIKE 'For approval:%'`).Scan(&mails)
	if mails != 5 {
		t.Fatalf("approval emails: %d, want 5", mails)
	}
	// Once submitted it cannot be edited.
	if _, err := f.pol.SaveRevision(ctx, f.school, f.policyID, author, policies.RevisionInput{Body: "x", Major: true}); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("editing a submitted revision: %v", err)
	}
	// The author cannot approve it.
	if _, err := f.pol.Decide(ctx, f.school, v2.ID, authorID, author, policies.DecisionInput{Approve: true}, ""); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("the author approving: %v, want forbidden", err)
	}
	// Nor can someone who is not an approver.
	adminID, admin := f.account(demo.AdminEmail)
	if _, err := f.pol.Decide(ctx, f.school, v2.ID, adminID, admin, policies.DecisionInput{Approve: true}, ""); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("a non-approver approving: %v, want forbidden", err)
	}
	// A rejection needs a comment, and returns the revision to draft.
	gov := func(i int) (int64, audit.Actor) {
		return approvers[i].AccountID, audit.Actor{AccountID: approvers[i].AccountID, Name: approvers[i].Name}
	}
	id0, a0 := gov(0)
	if _, err := f.pol.Decide(ctx, f.school, v2.ID, id0, a0, policies.DecisionInput{Reject: true}, ""); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("rejecting without a comment: %v", err)
	}
	got, err := f.pol.Decide(ctx, f.school, v2.ID, id0, a0, policies.DecisionInput{Reject: true, Comment: "Say who to report to."}, "")
	if err != nil || got.Status != policies.Draft {
		t.Fatalf("reject: %+v %v", got, err)
	}
	decisions, _ := f.pol.Decisions(ctx, f.school, v2.ID)
	if len(decisions) != 1 || decisions[0].Comment != "Say who to report to." {
		t.Fatalf("decisions: %+v", decisions)
	}
	// Revised and sent again: a majority of the five approves it.
	if _, err := f.pol.SaveRevision(ctx, f.school, f.policyID, author, policies.RevisionInput{Body: body + "\nReport it to the office.\n", Major: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.pol.Submit(ctx, f.school, v2.ID, author, nil, ""); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		id, a := gov(i)
		got, err = f.pol.Decide(ctx, f.school, v2.ID, id, a, policies.DecisionInput{Approve: true}, "")
		if err != nil {
			t.Fatal(err)
		}
		if want := i == 2; (got.Status == policies.Approved) != want {
			t.Fatalf("after %d approvals of 5: %s", i+1, got.Status)
		}
	}
	if _, err := f.pol.Decide(ctx, f.school, v2.ID, approvers[3].AccountID, audit.Actor{AccountID: approvers[3].AccountID, Name: "x"}, policies.DecisionInput{Approve: true}, ""); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("deciding on an approved version: %v", err)
	}

	// Published: it supersedes version 1, staff are asked to sign again
	// and emailed once each.
	f.clock = f.clock.Add(time.Hour)
	if err := policies.CheckPublishable(got); err != nil {
		t.Fatal(err)
	}
	f.publish(v2.ID)
	var audience int64
	_ = f.db.Pool.QueryRow(ctx, `SELECT count(*) FROM people WHERE kind = 'staff' AND left_at IS NULL AND email IS NOT NULL AND staff_role = ANY ($1)`,
		f.form.AudienceRoles).Scan(&audience)
	if n := f.emails("policy_published"); n == 0 || n != audience {
		t.Fatalf("emails on publishing %d, audience %d", n, audience)
	}
	if again, _ := f.sign.NotifyPublished(ctx, f.school, v2.ID, "http://signoff.test"); again != 0 {
		t.Fatalf("a second notice sent %d emails", again)
	}
	if !f.owes(signer) {
		t.Fatal("a major revision did not ask the teacher to sign again")
	}
	var v1Sigs int
	_ = f.db.Pool.QueryRow(ctx, `SELECT count(*) FROM signatures WHERE version_id = $1`, current.ID).Scan(&v1Sigs)
	if v1Sigs == 0 {
		t.Fatal("signatures of version 1 are gone")
	}
	p, _ := f.pol.Get(ctx, f.school, f.policyID)
	if p.NextReviewOn == nil || !p.NextReviewOn.Equal(time.Date(2027, 11, 2, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("next review after approval: %v", p.NextReviewOn)
	}
	reviews, _ := f.pol.Reviews(ctx, f.school, f.policyID)
	if len(reviews) != 1 || reviews[0].Outcome != "new_version" || reviews[0].VersionNumber != 2 {
		t.Fatalf("reviews: %+v", reviews)
	}

	// The teacher signs version 2; a minor version 3, approved by the
	// board at a meeting, does not ask again.
	personID := f.id(`SELECT id FROM people WHERE email = $1`, signer)
	if _, _, err := f.sign.Sign(ctx, signing.SignInput{SchoolID: f.school, FormID: f.form.ID, PersonID: personID, VersionID: v2.ID, Agreed: true,
		TypedName: f.name(personID), Actor: audit.Actor{Name: signer}}); err != nil {
		t.Fatal(err)
	}
	_, head := f.account("hashcroft@hollybrook.example.sch.uk")
	v3, err := f.pol.SaveRevision(ctx, f.school, f.policyID, head, policies.RevisionInput{Body: body + "\nReport it to the school office.\n", Major: false})
	if err != nil {
		t.Fatal(err)
	}
	if err := policies.CheckPublishable(v3); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("publishing an unapproved revision: %v", err)
	}
	meeting := time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC)
	v3, err = f.pol.RecordMeeting(ctx, f.school, v3.ID, admin, policies.MeetingInput{Date: &meeting, Body: "Full Governing Body", Meeting: "Autumn term meeting", MinuteRef: "7.2"})
	if err != nil || v3.Status != policies.Approved {
		t.Fatalf("meeting: %+v %v", v3, err)
	}
	f.publish(v3.ID)
	if f.owes(signer) {
		t.Fatal("a minor revision asked the teacher to sign again")
	}
	c, _, _ := f.pol.Current(ctx, f.school, f.policyID)
	if c.Number != 3 || c.MinuteRef != "7.2" || c.ApprovedByBody != "Full Governing Body" || !c.ApprovedOn.Equal(meeting) {
		t.Fatalf("current after the meeting: %+v", c)
	}
	p, _ = f.pol.Get(ctx, f.school, f.policyID)
	if !p.NextReviewOn.Equal(time.Date(2027, 10, 20, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("next review from the meeting's date: %v", p.NextReviewOn)
	}
}

func (f *fixture) name(personID int64) string {
	var n string
	_ = f.db.Pool.QueryRow(context.Background(), `SELECT given_name || ' ' || family_name FROM people WHERE id = $1`, personID).Scan(&n)
	return n
}

func TestNoChangeReviewMovesTheDateOn(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, admin := f.account(demo.AdminEmail)
	d := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	if _, err := f.pol.RecordNoChangeReview(ctx, f.school, f.policyID, admin, policies.ReviewInput{}); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("empty review: %v", err)
	}
	next, err := f.pol.RecordNoChangeReview(ctx, f.school, f.policyID, admin, policies.ReviewInput{
		MeetingInput: policies.MeetingInput{Date: &d, Body: "Full Governing Body", MinuteRef: "12"}, Note: "Still right."})
	if err != nil {
		t.Fatal(err)
	}
	if !next.Equal(time.Date(2027, 10, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("next: %v", next)
	}
	reviews, _ := f.pol.Reviews(ctx, f.school, f.policyID)
	if len(reviews) != 1 || reviews[0].Outcome != "no_changes" || reviews[0].RecordedBy == "" || reviews[0].MinuteRef != "12" {
		t.Fatalf("reviews: %+v", reviews)
	}
	var versions int
	_ = f.db.Pool.QueryRow(ctx, `SELECT count(*) FROM policy_versions WHERE policy_id = $1`, f.policyID).Scan(&versions)
	if versions != 1 {
		t.Fatalf("a no-change review made a version: %d", versions)
	}
}

func TestApprovalRules(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		rule                policies.Rule
		approvals, approver int
		met                 bool
	}{
		{policies.Rule{Kind: "majority"}, 3, 5, true},
		{policies.Rule{Kind: "majority"}, 2, 4, false},
		{policies.Rule{Kind: "count", Count: 2}, 2, 6, true},
		{policies.Rule{Kind: "count", Count: 2}, 1, 6, false},
		{policies.Rule{Kind: "count", Count: 4}, 2, 2, true}, // fewer approvers than the count: all of them
		{policies.Rule{Kind: "majority"}, 0, 0, false},
	} {
		if got := c.rule.Met(c.approvals, c.approver); got != c.met {
			t.Errorf("%+v %d of %d: %v", c.rule, c.approvals, c.approver, got)
		}
	}
}

func TestCompareMarksWords(t *testing.T) {
	t.Parallel()
	c := policies.Compare("Staff must lock the screen.\nNo USB sticks.", "Staff must always lock the screen.\nNo USB sticks & no <b>.")
	var ins, same []string
	for _, ch := range c.Changes {
		switch ch.Op {
		case policies.Inserted:
			ins = append(ins, ch.Text)
		case policies.Same:
			same = append(same, ch.Text)
		}
	}
	if !slices.Contains(ins, "always ") || !strings.Contains(strings.Join(ins, "|"), "& no <b>") || !strings.HasPrefix(same[0], "Staff must ") {
		t.Errorf("comparison: %+v", c.Changes)
	}
	if c.Added != 3 || c.Removed != 0 {
		t.Errorf("counts: +%d -%d", c.Added, c.Removed)
	}
	if d := policies.Compare("one two three", "one three"); d.Removed != 1 || d.Changes[1].Op != policies.Deleted || d.Changes[1].Text != "two " {
		t.Errorf("deletion: %+v", d)
	}
	if policies.Compare("same", "same").Changed() {
		t.Error("no change reported as a change")
	}
}

func TestStarterSet(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, admin := f.account(demo.AdminEmail)
	n, err := f.pol.AdoptStarters(ctx, f.school, admin, []string{"safeguarding", "it-acceptable-use", "pay"})
	if err != nil || n != 2 { // the demo has the IT acceptable use policy already
		t.Fatalf("adopt: %d %v", n, err)
	}
	var statutory bool
	var level string
	var cycle int
	_ = f.db.Pool.QueryRow(ctx, `SELECT statutory, approval_level, review_cycle_years FROM policies WHERE title = 'Teachers'' pay policy'`).Scan(&statutory, &level, &cycle)
	if !statutory || level != "committee" || cycle != 1 {
		t.Fatalf("pay policy: %v %s %d", statutory, level, cycle)
	}
}

// The publishing rule lives in the domain: PublishVersionTx refuses a
// revision that is not approved, inside the transaction that would
// publish it and email its audience, so nothing is published, superseded
// or sent; once approved, publishing and the emails commit together.
func TestPublishingRefusesAnUnapprovedRevision(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	current, _, err := f.pol.Current(ctx, f.school, f.policyID)
	if err != nil {
		t.Fatal(err)
	}
	_, head := f.account("hashcroft@hollybrook.example.sch.uk")
	_, admin := f.account(demo.AdminEmail)
	v2, err := f.pol.SaveRevision(ctx, f.school, f.policyID, head, policies.RevisionInput{Body: current.Body + "\nReport lost devices.\n", Major: true})
	if err != nil {
		t.Fatal(err)
	}
	in := signing.FormInput{Statement: f.form.Statement, AudienceRoles: f.form.AudienceRoles, Renewal: f.form.Renewal}
	refused := func(when string) {
		t.Helper()
		if _, err := f.sign.Publish(ctx, f.school, v2.ID, admin, in, "http://signoff.test"); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("publishing a revision %s: %v, want conflict", when, err)
		}
		err := f.db.InTx(ctx, func(tx pgx.Tx) error {
			_, err := policies.PublishVersionTx(ctx, tx, f.clock, f.school, v2.ID, admin)
			return err
		})
		if apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("PublishVersionTx on a revision %s: %v, want conflict", when, err)
		}
		if c, _, _ := f.pol.Current(ctx, f.school, f.policyID); c.ID != current.ID {
			t.Fatalf("a refused publish of a revision %s replaced version %d", when, current.Number)
		}
		if n := f.emails("policy_published"); n != 0 {
			t.Fatalf("a refused publish of a revision %s queued %d emails", when, n)
		}
		if n := f.id(`SELECT count(*) FROM audit_log WHERE school_id = $1 AND action = 'policy.published' AND subject = 'policy ' || $2::bigint AND detail->>'version' = '2'`, f.school, f.policyID); n != 0 {
			t.Fatalf("a refused publish of a revision %s was audited as published", when)
		}
	}
	refused("still a draft")
	if _, err := f.pol.Submit(ctx, f.school, v2.ID, head, nil, ""); err != nil {
		t.Fatal(err)
	}
	refused("awaiting approval")

	day := policies.Today(f.clock)
	if _, err := f.pol.RecordMeeting(ctx, f.school, v2.ID, admin, policies.MeetingInput{Date: &day, Body: "Full Governing Body"}); err != nil {
		t.Fatal(err)
	}
	f.publish(v2.ID)
	if c, _, _ := f.pol.Current(ctx, f.school, f.policyID); c.ID != v2.ID {
		t.Fatalf("the approved revision is not current: version %d", c.Number)
	}
	if n := f.emails("policy_published"); n == 0 {
		t.Fatal("publishing the approved revision emailed nobody")
	}
	if _, err := f.sign.Publish(ctx, f.school, v2.ID, admin, in, "http://signoff.test"); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("publishing a version twice: %v", err)
	}

	// A first version may be published as a draft: the school adopting a
	// policy its governors approved before; nobody is emailed for it.
	p, v1, err := f.pol.CreateDraft(ctx, f.school, admin, policies.DraftInput{Title: "Lettings policy", ReviewCycleYears: 2, Body: "# Lettings\n\nText.\n"})
	if err != nil {
		t.Fatal(err)
	}
	before := f.emails("policy_published")
	if _, err := f.sign.Publish(ctx, f.school, v1.ID, admin, in, "http://signoff.test"); err != nil {
		t.Fatalf("adopting a first version: %v", err)
	}
	if c, ok, _ := f.pol.Current(ctx, f.school, p.ID); !ok || c.ID != v1.ID {
		t.Fatal("the first version is not published")
	}
	if f.emails("policy_published") != before {
		t.Fatal("a first version was announced by email")
	}
}

// A policy's page is assembled by the domain for its viewer: who may
// decide, who may be named, and the history newest first.
func TestPageForEachViewer(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	current, _, err := f.pol.Current(ctx, f.school, f.policyID)
	if err != nil {
		t.Fatal(err)
	}
	headID, head := f.account("hashcroft@hollybrook.example.sch.uk")
	f.clock = f.clock.Add(time.Hour)
	v2, err := f.pol.SaveRevision(ctx, f.school, f.policyID, head, policies.RevisionInput{Body: current.Body + "\nMore.\n", Major: true})
	if err != nil {
		t.Fatal(err)
	}
	draft, err := f.pol.Page(ctx, f.school, f.policyID, headID)
	if err != nil {
		t.Fatal(err)
	}
	if draft.Open == nil || draft.Open.ID != v2.ID || draft.Current == nil || draft.Current.ID != current.ID || draft.Status != policies.InRevision || !draft.WroteIt {
		t.Fatalf("draft page: open %v current %v status %s wrote %v", draft.Open, draft.Current, draft.Status, draft.WroteIt)
	}
	for _, p := range draft.Nameable {
		if slices.Contains(p.Roles, "governor") || p.AccountID == headID {
			t.Fatalf("%s is offered to be named, but is asked already or wrote it", p.Name)
		}
	}
	if len(draft.History) < 2 || draft.History[0].Version == nil || draft.History[0].Version.ID != v2.ID || draft.History[0].ComparedTo != current.Number {
		t.Fatalf("history: %+v", draft.History)
	}
	if _, err := f.pol.Submit(ctx, f.school, v2.ID, head, nil, ""); err != nil {
		t.Fatal(err)
	}
	govID := f.id(`SELECT account_id FROM policy_approvers WHERE version_id = $1 ORDER BY account_id LIMIT 1`, v2.ID)
	asGov, err := f.pol.Page(ctx, f.school, f.policyID, govID)
	if err != nil {
		t.Fatal(err)
	}
	if !asGov.CanDecide || asGov.WroteIt || len(asGov.Approvers) == 0 || asGov.Nameable != nil {
		t.Fatalf("an approver's page: decide %v wrote %v approvers %d nameable %d", asGov.CanDecide, asGov.WroteIt, len(asGov.Approvers), len(asGov.Nameable))
	}
	if asHead, _ := f.pol.Page(ctx, f.school, f.policyID, headID); asHead.CanDecide {
		t.Fatal("the author may decide on their own revision")
	}
}
