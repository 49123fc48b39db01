package onboarding_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/auth"
	"signoff/internal/database"
	"signoff/internal/database/dbtest"
	"signoff/internal/onboarding"
	"signoff/internal/people"
	"signoff/internal/schools"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

const (
	ip      = "192.0.2.20"
	browser = "Mozilla/5.0 (test)"
	pw      = "three random words"
)

var actor = audit.System("test")

type fixture struct {
	t   *testing.T
	db  *database.DB
	st  *onboarding.Store
	now time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, db: dbtest.New(t), now: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	f.db.Now = func() time.Time { return f.now }
	f.st = onboarding.NewStore(f.db)
	return f
}

func (f *fixture) count(q string, args ...any) int {
	f.t.Helper()
	return dbtest.Scalar[int](f.t, f.db, q, args...)
}

func (f *fixture) school(name, admin string) onboarding.Created {
	f.t.Helper()
	c, err := f.st.CreateSchool(context.Background(), onboarding.NewSchool{Name: name, AdminEmail: admin}, actor, nil)
	if err != nil {
		f.t.Fatalf("create %s: %v", name, err)
	}
	return c
}

func TestValidateNewSchool(t *testing.T) {
	t.Parallel()
	n := onboarding.NewSchool{Name: " Hollybrook Primary ", AdminEmail: " Karen.Holloway@Hollybrook.Example "}
	if err := n.Validate(); err != nil || n.AdminName != "Karen Holloway" || n.AdminEmail != "karen.holloway@hollybrook.example" || n.Name != "Hollybrook Primary" {
		t.Fatalf("tidy: %v %+v", err, n)
	}
	for _, c := range []struct {
		n      onboarding.NewSchool
		fields string
	}{
		{onboarding.NewSchool{}, "name,admin_name,admin_email"},
		{onboarding.NewSchool{Name: "A\nB", Slug: "Bad Slug", AdminEmail: "not an address"}, "name,slug,admin_email"},
		{onboarding.NewSchool{Name: "Oak", AdminName: strings.Repeat("n", 201), AdminEmail: "a@b.example"}, "admin_name"},
		{onboarding.NewSchool{Name: "Oak", AdminEmail: "a@b.example", AdminPassword: "short", ConfirmPassword: "short"}, "new_password"},
		{onboarding.NewSchool{Name: "Oak", AdminEmail: "a@b.example", AdminPassword: pw, ConfirmPassword: pw + "!"}, "confirm_password"},
	} {
		if err := c.n.Validate(); apperr.FieldNames(err) != c.fields {
			t.Errorf("%+v: %q, want %q", c.n, apperr.FieldNames(err), c.fields)
		}
	}
}

func TestFirstRunSetUp(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	if need, err := f.st.NeedsSetup(ctx); err != nil || !need {
		t.Fatalf("needs set-up: %v %v", need, err)
	}
	old, err := f.st.NewSetupCode(ctx)
	if err != nil || len(old) != 19 {
		t.Fatalf("code %q: %v", old, err)
	}
	// A new code (the server restarted) replaces the old one.
	code, err := f.st.NewSetupCode(ctx)
	if err != nil || code == old {
		t.Fatalf("second code %q: %v", code, err)
	}
	n := onboarding.NewSchool{Name: "Hollybrook Primary School", AdminName: "Karen Holloway", AdminEmail: "office@hollybrook.example",
		AdminPassword: pw, ConfirmPassword: pw}
	if _, _, err := f.st.SetUpFirstSchool(ctx, old, n, ip, browser); apperr.FieldNames(err) != "code" {
		t.Fatalf("replaced code: %v", err)
	}
	noPassword := n
	noPassword.AdminPassword, noPassword.ConfirmPassword = "", ""
	if _, _, err := f.st.SetUpFirstSchool(ctx, code, noPassword, ip, browser); apperr.FieldNames(err) != "new_password" {
		t.Fatalf("no password: %v", err)
	}
	if n := f.count(`SELECT count(*) FROM schools`); n != 0 {
		t.Fatalf("schools after refusals: %d", n)
	}
	// Typed as a person might copy it: lower case, spaces, O for 0.
	typed := strings.NewReplacer("-", " ", "0", "o").Replace(strings.ToLower(code))
	created, session, err := f.st.SetUpFirstSchool(ctx, typed, n, ip, browser)
	if err != nil {
		t.Fatal(err)
	}
	if created.School.Slug != "hollybrook-primary-school" || !created.Account.Has(auth.Admin) || !created.Account.Has(auth.Staff) || created.SetUpToken != "" {
		t.Fatalf("created: %+v", created)
	}
	a, err := auth.NewStore(f.db).SessionAccount(ctx, session)
	if err != nil || a.ID != created.Account.ID || a.PersonID == 0 {
		t.Fatalf("signed in: %v %+v", err, a)
	}
	if _, _, err := auth.NewStore(f.db).SignIn(ctx, "office@hollybrook.example", pw, ip, browser); err != nil {
		t.Fatalf("password sign-in: %v", err)
	}
	// The code is gone with the first school, and no new one is made.
	if _, _, err := f.st.SetUpFirstSchool(ctx, code, n, ip, browser); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("again: %v", err)
	}
	if again, err := f.st.NewSetupCode(ctx); err != nil || again != "" || f.count(`SELECT count(*) FROM setup_codes`) != 0 {
		t.Fatalf("code after set-up: %q %v", again, err)
	}
	if need, _ := f.st.NeedsSetup(ctx); need {
		t.Fatal("still needs set-up")
	}
}

func TestSetUpCodeLockOut(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	code, err := f.st.NewSetupCode(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := onboarding.NewSchool{Name: "Oak School", AdminEmail: "office@oak.example", AdminPassword: pw, ConfirmPassword: pw}
	for i := range onboarding.LimitSetupByIP.Max {
		if _, _, err := f.st.SetUpFirstSchool(ctx, "AAAA-BBBB-CCCC-DDDD", n, ip, browser); apperr.FieldNames(err) != "code" {
			t.Fatalf("wrong code %d: %v", i+1, err)
		}
	}
	if _, _, err := f.st.SetUpFirstSchool(ctx, code, n, ip, browser); apperr.CodeOf(err) != apperr.TooMany {
		t.Fatalf("the right code after %d wrong ones: %v", onboarding.LimitSetupByIP.Max, err)
	}
	// Refusals for a missing field are not wrong codes.
	for range onboarding.LimitSetupByIP.Max + 1 {
		if _, _, err := f.st.SetUpFirstSchool(ctx, code, onboarding.NewSchool{}, "198.51.100.9", browser); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("empty form: %v", err)
		}
	}
	if _, _, err := f.st.SetUpFirstSchool(ctx, code, n, "198.51.100.9", browser); err != nil {
		t.Fatalf("from another address: %v", err)
	}
}

func TestCreateSchool(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	var delivered []string
	deliver := func(_ context.Context, _ pgx.Tx, sc schools.School, a auth.Account, token string) error {
		delivered = append(delivered, sc.Slug+" "+a.Email+" "+token)
		return nil
	}
	c, err := f.st.CreateSchool(ctx, onboarding.NewSchool{Name: "Oak Primary", AdminEmail: "office@oak.example"}, actor, deliver)
	if err != nil {
		t.Fatal(err)
	}
	if c.School.Slug != "oak-primary" || c.SetUpToken == "" || len(delivered) != 1 || !strings.HasSuffix(delivered[0], c.SetUpToken) {
		t.Fatalf("created %+v, delivered %v", c, delivered)
	}
	// The administrator is a member of staff too, named from the address.
	p, err := people.NewStore(f.db).Get(ctx, c.School.ID, c.Account.PersonID)
	if err != nil || p.GivenName != "Office" || p.FamilyName != "Office" || p.JobTitle != "School administrator" || p.Kind != people.Staff {
		t.Fatalf("administrator's staff record: %v %+v", err, p)
	}
	if a, err := auth.NewStore(f.db).PeekSetUpLink(ctx, c.SetUpToken); err != nil || a.ID != c.Account.ID {
		t.Fatalf("set-up link: %v", err)
	}
	if n := f.count(`SELECT count(*) FROM audit_log WHERE school_id = $1 AND action = 'school.created' AND detail->>'administrator' = 'office@oak.example'`, c.School.ID); n != 1 {
		t.Fatalf("audit entries: %d", n)
	}
	// The same name again gets the next free short name.
	if c2, err := f.st.CreateSchool(ctx, onboarding.NewSchool{Name: "Oak Primary", AdminName: "Ann Lee Smith", AdminEmail: "ann@oak2.example"}, actor, nil); err != nil || c2.School.Slug != "oak-primary-2" {
		t.Fatalf("second Oak: %v %+v", err, c2.School)
	} else if p, _ := people.NewStore(f.db).Get(ctx, c2.School.ID, c2.Account.PersonID); p.GivenName != "Ann Lee" || p.FamilyName != "Smith" {
		t.Fatalf("split name: %+v", p)
	}
	before := f.count(`SELECT count(*) FROM schools`)
	for _, c := range []struct {
		n     onboarding.NewSchool
		field string
	}{
		{onboarding.NewSchool{Name: "Ash", AdminEmail: "OFFICE@oak.example"}, "admin_email"},
		{onboarding.NewSchool{Name: "Ash", AdminEmail: "new@ash.example", TrustSlug: "no-such-trust"}, "trust"},
		{onboarding.NewSchool{Name: "Ash", Slug: "oak-primary", AdminEmail: "new@ash.example"}, "slug"},
	} {
		if _, err := f.st.CreateSchool(ctx, c.n, actor, nil); apperr.FieldNames(err) != c.field {
			t.Errorf("%+v: %v", c.n, err)
		}
	}
	// A delivery that fails leaves nothing behind.
	failing := func(context.Context, pgx.Tx, schools.School, auth.Account, string) error {
		return errors.New("outbox full")
	}
	if _, err := f.st.CreateSchool(ctx, onboarding.NewSchool{Name: "Birch", AdminEmail: "office@birch.example"}, actor, failing); err == nil {
		t.Fatal("a failed delivery was ignored")
	}
	if n := f.count(`SELECT count(*) FROM schools`); n != before {
		t.Fatalf("schools: %d, want %d", n, before)
	}
	if n := f.count(`SELECT count(*) FROM accounts WHERE email = 'office@birch.example'`); n != 0 {
		t.Fatal("half a school was saved")
	}
}

func TestInvitations(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	c := f.school("Oak Primary", "office@oak.example")
	ids := map[string]int64{}
	if err := f.db.InTx(ctx, func(tx pgx.Tx) error {
		for _, s := range []struct {
			key   string
			role  people.StaffRole
			email string
		}{
			{"teacher", people.Teacher, "t@oak.example"}, {"ta", people.TeachingAssistant, "ta@oak.example"},
			{"noemail", people.Teacher, ""}, {"leaver", people.Support, "gone@oak.example"}, {"closed", people.Support, "closed@oak.example"},
		} {
			p := people.Person{SchoolID: c.School.ID, Kind: people.Staff, StaffRole: s.role, GivenName: s.key, FamilyName: "Staff", Email: s.email}
			if err := people.CreateTx(ctx, tx, &p); err != nil {
				return err
			}
			ids[s.key] = p.ID
			if s.email == "" {
				continue
			}
			a := auth.Account{SchoolID: c.School.ID, PersonID: p.ID, Email: s.email, DisplayName: s.key, Roles: []auth.Role{auth.Staff}}
			if err := auth.CreateAccountTx(ctx, tx, &a, ""); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE people SET left_at = $2 WHERE id = $1`, ids["leaver"], f.now); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE accounts SET disabled_at = $1 WHERE email = 'closed@oak.example'`, f.now)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	emails := func(list []onboarding.Invitee) string {
		var out []string
		for _, i := range list {
			out = append(out, i.Email)
		}
		return strings.Join(out, ",")
	}
	// Not the administrator (a password), nor leavers, closed accounts or staff without an address.
	if list, err := f.st.Invitees(ctx, c.School.ID, onboarding.WhoNeverInvited); err != nil || emails(list) != "ta@oak.example,t@oak.example" {
		t.Fatalf("never invited: %v %s", err, emails(list))
	}
	if list, err := f.st.Invitees(ctx, c.School.ID, onboarding.Who(people.TeachingAssistant)); err != nil || emails(list) != "ta@oak.example" {
		t.Fatalf("teaching assistants: %v %s", err, emails(list))
	}
	if _, err := f.st.Invitees(ctx, c.School.ID, "governors and friends"); apperr.FieldNames(err) != "who" {
		t.Fatalf("bad choice: %v", err)
	}
	tokens := map[string]string{}
	deliver := func(_ context.Context, _ pgx.Tx, i onboarding.Invitee, token string) (bool, error) {
		tokens[i.Email] = token
		return i.Email != "ta@oak.example", nil // the TA's message could not be queued
	}
	if n, err := f.st.Invite(ctx, c.School.ID, onboarding.WhoNeverInvited, actor, deliver); err != nil || n != 1 {
		t.Fatalf("invite: %d %v", n, err)
	}
	// Only the queued one counts as invited; the other is still never invited.
	if list, _ := f.st.Invitees(ctx, c.School.ID, onboarding.WhoNeverInvited); emails(list) != "ta@oak.example" {
		t.Fatalf("never invited after: %s", emails(list))
	}
	access, err := f.st.StaffAccess(ctx, c.School.ID)
	if err != nil || access[ids["teacher"]].InvitedAt == nil || access[ids["ta"]].InvitedAt != nil || access[ids["noemail"]].HasAccount {
		t.Fatalf("access: %v %+v", err, access)
	}
	// The invitation's link signs in once, for a week.
	as := auth.NewStore(f.db)
	f.now = f.now.Add(auth.InvitationLifetime - time.Hour)
	if a, _, err := as.UseSignInLink(ctx, tokens["t@oak.example"], ip, browser); err != nil || a.PersonID != ids["teacher"] {
		t.Fatalf("invitation link: %v", err)
	}
	if n := f.count(`SELECT count(*) FROM audit_log WHERE action = 'staff.invited' AND detail->>'count' = '1'`); n != 1 {
		t.Fatalf("invitation audit entries: %d", n)
	}
	// Inviting all sends again to everyone who may be invited.
	tokens = map[string]string{}
	always := func(_ context.Context, _ pgx.Tx, i onboarding.Invitee, token string) (bool, error) {
		tokens[i.Email] = token
		return true, nil
	}
	if n, err := f.st.Invite(ctx, c.School.ID, onboarding.WhoAll, actor, always); err != nil || n != 2 || len(tokens) != 2 {
		t.Fatalf("invite all: %d %v", n, err)
	}
}

func TestTrustAdministrators(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	st := schools.NewStore(f.db)
	tr := schools.Trust{Name: "Oak Learning Trust"}
	if err := st.CreateTrust(ctx, &tr, actor); err != nil {
		t.Fatal(err)
	}
	empty := schools.Trust{Name: "Empty Trust"}
	if err := st.CreateTrust(ctx, &empty, actor); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.GrantTrustAdmin(ctx, empty.ID, 0, "ceo@empty.example", "", actor, nil); apperr.FieldNames(err) != "email" {
		t.Fatalf("trust without a school: %v", err)
	}
	ash, err := f.st.CreateSchool(ctx, onboarding.NewSchool{Name: "Ash", TrustSlug: tr.Slug, AdminEmail: "office@ash.example",
		AdminPassword: pw, ConfirmPassword: pw}, actor, nil)
	if err != nil || ash.School.TrustID != tr.ID {
		t.Fatalf("school in the trust: %v %+v", err, ash.School)
	}
	outside := f.school("Elm", "office@elm.example")
	var told []string
	deliver := func(_ context.Context, _ pgx.Tx, trust string, a auth.Account, token string) error {
		told = append(told, trust+" "+a.Email+" "+token)
		return nil
	}
	// A new address: a new account with only the role, and a set-up link.
	ceo, err := f.st.GrantTrustAdmin(ctx, tr.ID, 0, " CEO@Oak-Trust.Example ", "", actor, deliver)
	if err != nil || !ceo.Created || ceo.SetUpToken == "" || ceo.Account.SchoolID != ash.School.ID || len(ceo.Account.Roles) != 1 ||
		!ceo.Account.Has(auth.TrustAdmin) || ceo.Account.DisplayName != "Ceo" || len(told) != 1 {
		t.Fatalf("new trust administrator: %v %+v %v", err, ceo, told)
	}
	// An administrator of a school of the trust with a password: the role, no link.
	office, err := f.st.GrantTrustAdmin(ctx, tr.ID, 0, "office@ash.example", "", actor, deliver)
	if err != nil || office.Created || office.SetUpToken != "" || !office.Account.Has(auth.Admin) || !office.Account.Has(auth.TrustAdmin) {
		t.Fatalf("school administrator: %v %+v", err, office)
	}
	for email, why := range map[string]string{
		"office@elm.example": "an account outside the trust", "ceo@oak-trust.example": "already one", "not an address": "a bad address",
	} {
		if _, err := f.st.GrantTrustAdmin(ctx, tr.ID, 0, email, "", actor, nil); apperr.FieldNames(err) != "email" {
			t.Errorf("%s: %v", why, err)
		}
	}
	if _, err := f.st.GrantTrustAdmin(ctx, tr.ID+100, 0, "x@y.example", "", actor, nil); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("unknown trust: %v", err)
	}
	list, err := f.st.TrustAdmins(ctx, tr.ID)
	if err != nil || len(list) != 2 || list[0].Email != "ceo@oak-trust.example" || list[0].HasPassword || !list[1].HasPassword || list[1].School != "Ash" {
		t.Fatalf("trust admins: %v %+v", err, list)
	}
	// Removing: the school administrator keeps their account; the CEO's,
	// left with no role, closes; the last one stays.
	_, session, err := auth.NewStore(f.db).SignIn(ctx, "office@ash.example", pw, ip, browser)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.RemoveTrustAdmin(ctx, tr.ID, office.Account.ID, actor); err != nil {
		t.Fatal(err)
	}
	if _, err := auth.NewStore(f.db).SessionAccount(ctx, session); apperr.CodeOf(err) != apperr.Unauthenticated {
		t.Fatalf("session after losing the role: %v", err)
	}
	if a, err := auth.NewStore(f.db).Get(ctx, ash.School.ID, office.Account.ID); err != nil || a.Has(auth.TrustAdmin) || !a.Has(auth.Admin) {
		t.Fatalf("school administrator after: %v %+v", err, a)
	}
	if err := f.st.RemoveTrustAdmin(ctx, tr.ID, ceo.Account.ID, actor); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("the last trust administrator: %v", err)
	}
	if _, err := f.st.GrantTrustAdmin(ctx, tr.ID, 0, "office@ash.example", "", actor, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.st.RemoveTrustAdmin(ctx, tr.ID, ceo.Account.ID, actor); err != nil {
		t.Fatal(err)
	}
	if n := f.count(`SELECT count(*) FROM accounts WHERE id = $1 AND disabled_at IS NOT NULL AND roles = '{}'`, ceo.Account.ID); n != 1 {
		t.Fatal("an account left with no role is not closed")
	}
	if _, err := f.st.GrantTrustAdmin(ctx, tr.ID, 0, "ceo@oak-trust.example", "", actor, nil); apperr.FieldNames(err) != "email" {
		t.Fatalf("a closed account: %v", err)
	}
	if err := f.st.RemoveTrustAdmin(ctx, tr.ID, outside.Account.ID, actor); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("an account outside the trust: %v", err)
	}
}

func TestChecklist(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	c := f.school("Oak Primary", "office@oak.example")
	list, err := f.st.Checklist(ctx, c.School.ID)
	if err != nil || list.Done() || list.DoneCount() != 0 || len(list.Steps) != 5 {
		t.Fatalf("new school: %v %+v", err, list)
	}
	if h := list.Steps[0].Hint; !strings.Contains(h, "the DfE URN, the reply-to address for emails, the privacy notice's address") || !strings.Contains(h, "logo") {
		t.Fatalf("details hint: %q", h)
	}
	sc := c.School
	sc.URN, sc.ReplyTo, sc.PrivacyNoticeURL = "123456", "office@oak.example", "https://oak.example/privacy"
	if err := schools.NewStore(f.db).Update(ctx, sc, actor); err != nil {
		t.Fatal(err)
	}
	if err := f.db.InTx(ctx, func(tx pgx.Tx) error {
		p := people.Person{SchoolID: sc.ID, Kind: people.Staff, StaffRole: people.Teacher, GivenName: "T", FamilyName: "Teacher", Email: "t@oak.example"}
		if err := people.CreateTx(ctx, tx, &p); err != nil {
			return err
		}
		a := auth.Account{SchoolID: sc.ID, PersonID: p.ID, Email: p.Email, DisplayName: "T Teacher", Roles: []auth.Role{auth.Staff}}
		return auth.CreateAccountTx(ctx, tx, &a, "")
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.Invite(ctx, sc.ID, onboarding.WhoAll, actor, func(context.Context, pgx.Tx, onboarding.Invitee, string) (bool, error) { return true, nil }); err != nil {
		t.Fatal(err)
	}
	list, err = f.st.Checklist(ctx, sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	done := map[string]bool{}
	for _, s := range list.Steps {
		done[s.Key] = s.Done
	}
	if !done["details"] || !done["import"] || !done["invite"] || done["policies"] || done["publish"] || list.DoneCount() != 3 {
		t.Fatalf("after details, staff and invitations: %+v", list.Steps)
	}
	if h := list.Steps[4].Hint; h != "1 invited; 2 of the staff have never signed in." {
		t.Fatalf("invite hint: %q", h)
	}
}
