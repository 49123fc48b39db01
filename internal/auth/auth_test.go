package auth_test

import (
	"context"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/auth"
	"signoff/internal/database"
	"signoff/internal/database/dbtest"
	"signoff/internal/people"
	"signoff/internal/schools"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

const (
	staffEmail = "dokafor@school.example"
	adminEmail = "office@school.example"
	password   = "correct horse battery"
	ip         = "192.0.2.10"
	browser    = "Mozilla/5.0 (test)"
)

var office = audit.Actor{Name: "office", IP: ip}

// fixture is one school with a teacher (staff, password set), an
// administrator with a password, and a clock the test moves.
type fixture struct {
	t      *testing.T
	db     *database.DB
	st     *auth.Store
	now    time.Time
	school int64
	staff  auth.Account // the teacher's account
	admin  auth.Account
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, db: dbtest.New(t), now: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	f.db.Now = func() time.Time { return f.now }
	f.st = auth.NewStore(f.db)
	ctx := context.Background()
	f.tx(func(tx pgx.Tx) error {
		sc := schools.School{Slug: "hollybrook", Name: "Hollybrook Primary School"}
		if err := schools.CreateTx(ctx, tx, &sc); err != nil {
			return err
		}
		f.school = sc.ID
		teacher := people.Person{SchoolID: sc.ID, Kind: people.Staff, GivenName: "Daniel", FamilyName: "Okafor", Email: staffEmail, StaffRole: people.Teacher}
		if err := people.CreateTx(ctx, tx, &teacher); err != nil {
			return err
		}
		f.staff = auth.Account{SchoolID: sc.ID, PersonID: teacher.ID, Email: staffEmail, DisplayName: "Daniel Okafor", Roles: []auth.Role{auth.Staff}}
		if err := auth.CreateAccountTx(ctx, tx, &f.staff, password); err != nil {
			return err
		}
		f.admin = auth.Account{SchoolID: sc.ID, Email: adminEmail, DisplayName: "Karen Holloway", Roles: []auth.Role{auth.Admin, auth.Staff}}
		return auth.CreateAccountTx(ctx, tx, &f.admin, password)
	})
	return f
}

func (f *fixture) tx(fn func(tx pgx.Tx) error) {
	f.t.Helper()
	if err := f.db.InTx(context.Background(), fn); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) count(q string, args ...any) int {
	f.t.Helper()
	return dbtest.Scalar[int](f.t, f.db, q, args...)
}

func (f *fixture) exec(q string, args ...any) {
	f.t.Helper()
	dbtest.Exec(f.t, f.db, q, args...)
}

func (f *fixture) signIn(email, pw string) (auth.Account, string) {
	f.t.Helper()
	a, token, err := f.st.SignIn(context.Background(), email, pw, ip, browser)
	if err != nil {
		f.t.Fatalf("sign in %s: %v", email, err)
	}
	return a, token
}

func (f *fixture) live(token string) bool {
	f.t.Helper()
	_, err := f.st.SessionAccount(context.Background(), token)
	if err != nil && apperr.CodeOf(err) != apperr.Unauthenticated {
		f.t.Fatalf("session: %v", err)
	}
	return err == nil
}

// capture is a Deliver that keeps the tokens it is given.
type capture struct{ tokens []string }

func (c *capture) deliver(_ context.Context, _ pgx.Tx, _ auth.Account, token string) error {
	c.tokens = append(c.tokens, token)
	return nil
}

func TestHashPassword(t *testing.T) {
	t.Parallel()
	a, err := auth.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := auth.HashPassword(password)
	if !strings.HasPrefix(a, "$argon2id$v=19$m=19456,t=2,p=1$") || a == b || strings.Contains(a, password) {
		t.Fatalf("hashes %q and %q: want argon2id, salted, without the password", a, b)
	}
}

func TestAccountValidateAndCreate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	a := auth.Account{Email: "  Someone@School.Example ", DisplayName: " Someone ", Roles: []auth.Role{auth.Staff}}
	if err := a.Validate(); err != nil || a.Email != "someone@school.example" || a.DisplayName != "Someone" {
		t.Fatalf("tidy: %v %+v", err, a)
	}
	bad := auth.Account{Email: "not-an-address", DisplayName: strings.Repeat("n", 201)}
	if err := bad.Validate(); apperr.CodeOf(err) != apperr.Invalid || apperr.FieldNames(err) != "email,display_name,roles" {
		t.Fatalf("invalid account: %v (%s)", err, apperr.FieldNames(err))
	}
	create := func(a auth.Account, pw string) error {
		return f.db.InTx(ctx, func(tx pgx.Tx) error { return auth.CreateAccountTx(ctx, tx, &a, pw) })
	}
	if err := create(auth.Account{SchoolID: f.school, Email: "new@school.example", DisplayName: "New", Roles: []auth.Role{auth.Staff}}, "short"); apperr.FieldNames(err) != "password" {
		t.Fatalf("short password: %v", err)
	}
	if err := create(auth.Account{SchoolID: f.school, Email: strings.ToUpper(staffEmail), DisplayName: "Twin", Roles: []auth.Role{auth.Staff}}, ""); apperr.FieldNames(err) != "email" {
		t.Fatalf("same address twice: %v", err)
	}
	if err := create(auth.Account{SchoolID: f.school, PersonID: 999999, Email: "ghost@school.example", DisplayName: "Ghost", Roles: []auth.Role{auth.Staff}}, ""); err == nil {
		t.Fatal("an account was linked to a person who does not exist")
	}
	if n := f.count(`SELECT count(*) FROM accounts`); n != 2 {
		t.Fatalf("accounts: %d, want the fixture's 2 (nothing half-saved)", n)
	}
	// The teacher's account carries their staff record and role.
	got, err := f.st.Get(ctx, f.school, f.staff.ID)
	if err != nil || got.PersonID == 0 || got.StaffRole != "teacher" || !got.Has(auth.Staff) || got.Has(auth.Admin) {
		t.Fatalf("get: %v %+v", err, got)
	}
	if _, err := f.st.Get(ctx, f.school+1, f.staff.ID); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("another school's account: %v", err)
	}
}

func TestPasswordSignIn(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	a, token := f.signIn("  DOkafor@School.Example ", password)
	if a.ID != f.staff.ID || a.StaffRole != "teacher" || len(token) < 40 {
		t.Fatalf("signed in as %+v with token %q", a, token)
	}
	// The database holds the token's SHA-256, never the token.
	sum := sha256.Sum256([]byte(token))
	if n := f.count(`SELECT count(*) FROM sessions WHERE token_hash = $1 AND account_id = $2 AND ip = $3 AND user_agent = $4
		AND expires_at = $5`, sum[:], a.ID, ip, browser, f.now.Add(12*time.Hour)); n != 1 {
		t.Fatalf("session rows: %d", n)
	}
	if n := f.count(`SELECT count(*) FROM sessions s WHERE position($1 in s::text) > 0`, token); n != 0 {
		t.Fatal("the session's token is stored")
	}
	if n := f.count(`SELECT count(*) FROM audit_log WHERE action = 'account.signed_in' AND actor_id = $1 AND detail->>'method' = 'password'`, a.ID); n != 1 {
		t.Fatalf("sign-in audit entries: %d", n)
	}
	got, err := f.st.SessionAccount(ctx, token)
	if err != nil || got.ID != a.ID || got.Session.IdentifiedBy != "Signed in with their password ("+staffEmail+")" {
		t.Fatalf("session account: %v %+v", err, got)
	}

	// A wrong password and an unknown address get the same answer.
	_, _, wrong := f.st.SignIn(ctx, staffEmail, "wrong password!", ip, browser)
	_, _, unknown := f.st.SignIn(ctx, "nobody@school.example", password, ip, browser)
	for _, err := range []error{wrong, unknown} {
		if apperr.CodeOf(err) != apperr.Unauthenticated || apperr.FieldNames(err) != "email" || apperr.FieldsOf(err)[0].Message != "The email address or password is not right" {
			t.Fatalf("failed sign-in: %v", err)
		}
	}
	if _, _, err := f.st.SignIn(ctx, " ", "", ip, browser); apperr.CodeOf(err) != apperr.Invalid || apperr.FieldNames(err) != "email,password" {
		t.Fatalf("empty form: %v", err)
	}
	// An account with no password, or a disabled one, cannot sign in with one.
	f.exec(`UPDATE accounts SET password_hash = NULL WHERE id = $1`, f.admin.ID)
	if _, _, err := f.st.SignIn(ctx, adminEmail, password, ip, browser); apperr.CodeOf(err) != apperr.Unauthenticated {
		t.Fatalf("no password: %v", err)
	}
	f.exec(`UPDATE accounts SET disabled_at = $2 WHERE id = $1`, f.staff.ID, f.now)
	if _, _, err := f.st.SignIn(ctx, staffEmail, password, ip, browser); apperr.CodeOf(err) != apperr.Unauthenticated {
		t.Fatalf("disabled: %v", err)
	}
	if f.live(token) {
		t.Fatal("a disabled account's session still works")
	}
}

func TestRequireSSORefusesARightPasswordOnly(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.st.RequireSSO = func(context.Context, auth.Account) (string, error) { return "Sign in with Microsoft 365", nil }
	if _, _, err := f.st.SignIn(ctx, staffEmail, "wrong password!", ip, browser); apperr.MessageOf(err) != "The email address or password is not right" {
		t.Fatalf("wrong password: %v", err)
	}
	if _, _, err := f.st.SignIn(ctx, staffEmail, password, ip, browser); apperr.CodeOf(err) != apperr.Unauthenticated || apperr.MessageOf(err) != "Sign in with Microsoft 365" {
		t.Fatalf("right password: %v", err)
	}
	var c capture
	if err := f.st.RequestSignInLink(ctx, staffEmail, ip, c.deliver); err != nil || len(c.tokens) != 0 {
		t.Fatalf("link for a school that requires single sign-on: %v, %d sent", err, len(c.tokens))
	}
	if n := f.count(`SELECT count(*) FROM sessions`); n != 0 {
		t.Fatalf("sessions: %d", n)
	}
}

func TestSignInLockout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	for i := range auth.LimitSignInByAddress.Max {
		if _, _, err := f.st.SignIn(ctx, staffEmail, "wrong password!", ip, browser); apperr.CodeOf(err) != apperr.Unauthenticated {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	// Locked: even the right password waits, from another IP address too.
	if _, _, err := f.st.SignIn(ctx, staffEmail, password, "198.51.100.1", browser); apperr.CodeOf(err) != apperr.TooMany {
		t.Fatalf("after %d failures: %v", auth.LimitSignInByAddress.Max, err)
	}
	// Another address from the same IP is not locked by these.
	f.signIn(adminEmail, password)
	f.now = f.now.Add(auth.LimitSignInByAddress.Window)
	f.signIn(staffEmail, password)

	// A right password takes back the attempt counted for it: one failure
	// short of the limit, the right password works again and again.
	for range auth.LimitSignInByAddress.Max - 1 {
		_, _, _ = f.st.SignIn(ctx, adminEmail, "wrong password!", ip, browser)
	}
	for range 3 {
		f.signIn(adminEmail, password)
	}
	if _, _, err := f.st.SignIn(ctx, adminEmail, "wrong password!", ip, browser); apperr.CodeOf(err) != apperr.Unauthenticated {
		t.Fatalf("the last failure before the limit: %v", err)
	}
	if _, _, err := f.st.SignIn(ctx, adminEmail, password, ip, browser); apperr.CodeOf(err) != apperr.TooMany {
		t.Fatalf("at the limit: %v", err)
	}
}

func TestSessionTimeouts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.st.SessionAccount(ctx, ""); apperr.CodeOf(err) != apperr.Unauthenticated {
		t.Fatalf("no token: %v", err)
	}
	if f.live("made-up-token") {
		t.Fatal("a made-up token opened a session")
	}
	// Idle: unused for longer than the idle time-out, it ends.
	_, idle := f.signIn(staffEmail, password)
	f.now = f.now.Add(f.st.IdleTimeout - time.Second)
	if !f.live(idle) {
		t.Fatal("ended before the idle time-out")
	}
	f.now = f.now.Add(f.st.IdleTimeout + time.Second)
	if f.live(idle) {
		t.Fatal("idle session still works")
	}
	// Used, it stays alive, but never past the absolute time-out.
	start := f.now
	_, used := f.signIn(staffEmail, password)
	for f.now.Sub(start) < f.st.AbsoluteTimeout-time.Hour {
		f.now = f.now.Add(time.Hour + 30*time.Minute)
		if f.now.Sub(start) < f.st.AbsoluteTimeout && !f.live(used) {
			t.Fatalf("used session ended after %s", f.now.Sub(start))
		}
	}
	f.now = start.Add(f.st.AbsoluteTimeout)
	if f.live(used) {
		t.Fatal("session outlived the absolute time-out")
	}
	// Signing out ends it on the server, audited; twice is harmless.
	_, out := f.signIn(staffEmail, password)
	if err := f.st.SignOut(ctx, out, ip); err != nil {
		t.Fatal(err)
	}
	if err := f.st.SignOut(ctx, out, ip); err != nil {
		t.Fatal(err)
	}
	if f.live(out) || f.count(`SELECT count(*) FROM audit_log WHERE action = 'account.signed_out'`) != 1 {
		t.Fatal("sign-out did not end the session once")
	}
}

func TestSignInLinks(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	var c capture
	if err := f.st.RequestSignInLink(ctx, "nonsense", ip, c.deliver); apperr.FieldNames(err) != "link_email" {
		t.Fatalf("bad address: %v", err)
	}
	// No link for an unknown address or an administrator, and the same answer.
	for _, email := range []string{"nobody@school.example", adminEmail} {
		if err := f.st.RequestSignInLink(ctx, email, ip, c.deliver); err != nil || len(c.tokens) != 0 {
			t.Fatalf("%s: %v, %d sent", email, err, len(c.tokens))
		}
	}
	if err := f.st.RequestSignInLink(ctx, " DOKAFOR@school.example", ip, c.deliver); err != nil || len(c.tokens) != 1 {
		t.Fatalf("teacher: %v, %d sent", err, len(c.tokens))
	}
	token := c.tokens[0]
	if n := f.count(`SELECT count(*) FROM access_links WHERE token_hash = $1 AND purpose = 'sign_in' AND expires_at = $2`,
		func() []byte { s := sha256.Sum256([]byte(token)); return s[:] }(), f.now.Add(auth.SignInLinkLifetime)); n != 1 {
		t.Fatalf("stored links: %d", n)
	}
	// Peeking (a mail scanner opening the link) does not use it.
	for range 2 {
		if a, err := f.st.PeekSignInLink(ctx, token); err != nil || a.ID != f.staff.ID {
			t.Fatalf("peek: %v %+v", err, a)
		}
	}
	a, session, err := f.st.UseSignInLink(ctx, token, ip, browser)
	if err != nil || a.ID != f.staff.ID || !f.live(session) {
		t.Fatalf("use: %v %+v", err, a)
	}
	if got, _ := f.st.SessionAccount(ctx, session); !strings.Contains(got.Session.IdentifiedBy, "single-use link") {
		t.Fatalf("identified by %q", got.Session.IdentifiedBy)
	}
	// Single use.
	if _, _, err := f.st.UseSignInLink(ctx, token, ip, browser); apperr.CodeOf(err) != apperr.Unauthenticated {
		t.Fatalf("used twice: %v", err)
	}
	if _, err := f.st.PeekSignInLink(ctx, token); apperr.CodeOf(err) != apperr.Unauthenticated {
		t.Fatalf("peek at a used link: %v", err)
	}
	// It expires.
	if err := f.st.RequestSignInLink(ctx, staffEmail, ip, c.deliver); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(auth.SignInLinkLifetime)
	if _, _, err := f.st.UseSignInLink(ctx, c.tokens[1], ip, browser); apperr.CodeOf(err) != apperr.Unauthenticated {
		t.Fatalf("expired link: %v", err)
	}
	// A family link's token is not a sign-in link.
	if _, _, err := f.st.UseSignInLink(ctx, "ABCD-EFGH-JKMN-PQRS", ip, browser); apperr.CodeOf(err) != apperr.Unauthenticated {
		t.Fatalf("made-up link: %v", err)
	}
	// A failed delivery leaves no link behind (one transaction).
	f.now = f.now.Add(time.Hour)
	before := f.count(`SELECT count(*) FROM access_links`)
	failing := func(context.Context, pgx.Tx, auth.Account, string) error {
		return apperr.New(apperr.Unavailable, "no mail")
	}
	if err := f.st.RequestSignInLink(ctx, staffEmail, ip, failing); apperr.CodeOf(err) != apperr.Unavailable || f.count(`SELECT count(*) FROM access_links`) != before {
		t.Fatalf("failed delivery: %v", err)
	}
}

func TestSignInLinkRateLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.now = f.now.Truncate(time.Hour)
	var c capture
	for i := range auth.LimitLinkByAddress.Max {
		if err := f.st.RequestSignInLink(ctx, staffEmail, ip, c.deliver); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	if err := f.st.RequestSignInLink(ctx, staffEmail, "198.51.100.7", c.deliver); apperr.CodeOf(err) != apperr.TooMany {
		t.Fatalf("request %d: %v", auth.LimitLinkByAddress.Max+1, err)
	}
	if len(c.tokens) != auth.LimitLinkByAddress.Max {
		t.Fatalf("%d links sent", len(c.tokens))
	}
	f.now = f.now.Add(auth.LimitLinkByAddress.Window)
	if err := f.st.RequestSignInLink(ctx, staffEmail, ip, c.deliver); err != nil {
		t.Fatalf("next window: %v", err)
	}
}

func TestSetUpLinks(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	var newcomer auth.Account
	var first, second string
	f.tx(func(tx pgx.Tx) error {
		newcomer = auth.Account{SchoolID: f.school, Email: "new@school.example", DisplayName: "New Starter", Roles: []auth.Role{auth.Staff}}
		if err := auth.CreateAccountTx(ctx, tx, &newcomer, ""); err != nil {
			return err
		}
		var err error
		first, err = auth.IssueSetUpLinkTx(ctx, tx, f.now, f.school, newcomer.ID, office)
		return err
	})
	f.tx(func(tx pgx.Tx) error {
		var err error
		second, err = auth.IssueSetUpLinkTx(ctx, tx, f.now, f.school, newcomer.ID, office)
		return err
	})
	// A new link replaces the earlier one.
	if _, err := f.st.PeekSetUpLink(ctx, first); apperr.CodeOf(err) != apperr.Unauthenticated {
		t.Fatalf("replaced link: %v", err)
	}
	if a, err := f.st.PeekSetUpLink(ctx, second); err != nil || a.ID != newcomer.ID {
		t.Fatalf("peek: %v", err)
	}
	for _, c := range []struct{ pw, confirm, field string }{
		{"short", "short", "new_password"},
		{"new@school.example", "new@school.example", "new_password"},
		{strings.Repeat("p", 201), strings.Repeat("p", 201), "new_password"},
		{"a long enough one", "another long one", "confirm_password"},
	} {
		if _, _, err := f.st.UseSetUpLink(ctx, second, c.pw, c.confirm, ip, browser); apperr.CodeOf(err) != apperr.Invalid || apperr.FieldNames(err) != c.field {
			t.Fatalf("password %q: %v", c.pw, err)
		}
	}
	if ok, _ := f.st.HasPassword(ctx, newcomer.ID); ok {
		t.Fatal("a refused password was saved")
	}
	a, session, err := f.st.UseSetUpLink(ctx, second, "three random words", "three random words", ip, browser)
	if err != nil || a.ID != newcomer.ID || !f.live(session) {
		t.Fatalf("use: %v", err)
	}
	if ok, _ := f.st.HasPassword(ctx, newcomer.ID); !ok {
		t.Fatal("no password after set-up")
	}
	f.signIn("new@school.example", "three random words")
	if _, _, err := f.st.UseSetUpLink(ctx, second, "another password", "another password", ip, browser); apperr.CodeOf(err) != apperr.Unauthenticated {
		t.Fatalf("used twice: %v", err)
	}
	// A set-up link lasts a week.
	var third string
	f.tx(func(tx pgx.Tx) error {
		var err error
		third, err = auth.IssueSetUpLinkTx(ctx, tx, f.now, f.school, newcomer.ID, office)
		return err
	})
	f.now = f.now.Add(auth.SetUpLinkLifetime - time.Minute)
	if _, err := f.st.PeekSetUpLink(ctx, third); err != nil {
		t.Fatalf("within the week: %v", err)
	}
	f.now = f.now.Add(time.Minute)
	if _, _, err := f.st.UseSetUpLink(ctx, third, "four random words", "four random words", ip, browser); apperr.CodeOf(err) != apperr.Unauthenticated {
		t.Fatalf("after a week: %v", err)
	}
}

func TestSetPasswordEndsOtherSessions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	a, here := f.signIn(staffEmail, password)
	_, elsewhere := f.signIn(staffEmail, password)
	if err := f.st.SetPassword(ctx, a, here, "not it at all", "brand new password", "brand new password", ip); apperr.FieldNames(err) != "current_password" {
		t.Fatalf("wrong current password: %v", err)
	}
	if err := f.st.SetPassword(ctx, a, here, password, "brand new password", "brand new password", ip); err != nil {
		t.Fatal(err)
	}
	if !f.live(here) || f.live(elsewhere) {
		t.Fatalf("after a change: this session %v, the other %v", f.live(here), f.live(elsewhere))
	}
	if _, _, err := f.st.SignIn(ctx, staffEmail, password, ip, browser); apperr.CodeOf(err) != apperr.Unauthenticated {
		t.Fatalf("old password: %v", err)
	}
	f.signIn(staffEmail, "brand new password")
}

func TestSetRoles(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	roles := func(id int64) string {
		a, err := f.st.Get(ctx, f.school, id)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range a.Roles {
			out = append(out, string(r))
		}
		return strings.Join(out, ",")
	}
	if err := f.st.SetRoles(ctx, f.school, f.staff.ID, []auth.Role{auth.Parent}, office); apperr.FieldNames(err) != "roles" {
		t.Fatalf("a role that is not assignable: %v", err)
	}
	if err := f.st.SetRoles(ctx, f.school, f.admin.ID, nil, office); apperr.FieldNames(err) != "roles" || roles(f.admin.ID) != "admin,staff" {
		t.Fatalf("the only administrator: %v, roles %s", err, roles(f.admin.ID))
	}
	if err := f.st.SetRoles(ctx, f.school, f.staff.ID, []auth.Role{auth.Head, auth.Admin}, office); err != nil || roles(f.staff.ID) != "staff,head,admin" {
		t.Fatalf("make head and admin: %v, roles %s", err, roles(f.staff.ID))
	}
	// Now there are two administrators, one may stop being one.
	if err := f.st.SetRoles(ctx, f.school, f.admin.ID, nil, office); err != nil || roles(f.admin.ID) != "staff" {
		t.Fatalf("second administrator: %v, roles %s", err, roles(f.admin.ID))
	}
	var noPassword auth.Account
	f.tx(func(tx pgx.Tx) error {
		noPassword = auth.Account{SchoolID: f.school, Email: "nopw@school.example", DisplayName: "No Password", Roles: []auth.Role{auth.Staff}}
		return auth.CreateAccountTx(ctx, tx, &noPassword, "")
	})
	if err := f.st.SetRoles(ctx, f.school, noPassword.ID, []auth.Role{auth.Admin}, office); apperr.FieldNames(err) != "roles" || roles(noPassword.ID) != "staff" {
		t.Fatalf("administrator without a password: %v", err)
	}
	if err := f.st.SetRoles(ctx, f.school+1, f.staff.ID, nil, office); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("another school: %v", err)
	}
	// Saving the same roles records nothing; each change is one entry.
	if err := f.st.SetRoles(ctx, f.school, f.staff.ID, []auth.Role{auth.Admin, auth.Head}, office); err != nil {
		t.Fatal(err)
	}
	if n := f.count(`SELECT count(*) FROM audit_log WHERE action = 'account.roles_changed'`); n != 2 {
		t.Fatalf("role changes audited: %d, want 2", n)
	}
}

// family adds a parent (with email) of a current pupil and returns the parent's id.
func (f *fixture) family(email string) int64 {
	f.t.Helper()
	ctx := context.Background()
	var parent int64
	f.tx(func(tx pgx.Tx) error {
		y := people.YearGroup(3)
		child := people.Person{SchoolID: f.school, Kind: people.Pupil, GivenName: "Ada", FamilyName: "Walsh", YearGroup: &y}
		if err := people.CreateTx(ctx, tx, &child); err != nil {
			return err
		}
		p := people.Person{SchoolID: f.school, Kind: people.Parent, GivenName: "Samira", FamilyName: "Walsh", Email: email}
		if err := people.CreateTx(ctx, tx, &p); err != nil {
			return err
		}
		parent = p.ID
		_, err := tx.Exec(ctx, `INSERT INTO guardianships (school_id, parent_id, pupil_id, relationship, parental_responsibility) VALUES ($1, $2, $3, 'Mother', true)`,
			f.school, p.ID, child.ID)
		return err
	})
	return parent
}

func TestFamilyLinks(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	parent := f.family("samira@home.example")
	f.exec(`UPDATE schools SET family_link_days = 30 WHERE id = $1`, f.school)
	link, err := f.st.IssueFamilyLink(ctx, f.school, parent, office, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(link.Token) != 19 || link.Token != auth.NormaliseFamilyToken(link.Token) || !link.ExpiresAt.Equal(f.now.AddDate(0, 0, 30)) {
		t.Fatalf("link: %+v", link)
	}
	// The parent's account was made for them.
	pa, ok, err := f.st.ForPerson(ctx, f.school, parent)
	if err != nil || !ok || !pa.Has(auth.Parent) || pa.ParentID != parent || pa.Email != "samira@home.example" {
		t.Fatalf("parent account: %v %v %+v", ok, err, pa)
	}
	// Typed from paper: any case, spaces for dashes, O for 0, I or L for 1.
	typed := strings.ToLower(strings.ReplaceAll(link.Token, "-", " "))
	typed = strings.NewReplacer("0", "o", "1", "l").Replace(typed)
	var sessions []string
	for _, tok := range []string{link.Token, typed} {
		a, s, err := f.st.UseFamilyLink(ctx, tok, ip, browser)
		if err != nil || a.ID != pa.ID {
			t.Fatalf("use %q: %v", tok, err)
		}
		sessions = append(sessions, s)
	}
	if cur, ok, err := f.st.CurrentFamilyLink(ctx, f.school, parent); err != nil || !ok || cur.LastUsed == nil || !cur.ExpiresAt.Equal(link.ExpiresAt) {
		t.Fatalf("current link: %v %v %+v", ok, err, cur)
	}
	// A new link replaces the old one and ends its sessions.
	next, err := f.st.IssueFamilyLink(ctx, f.school, parent, office, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.st.UseFamilyLink(ctx, link.Token, ip, browser); apperr.CodeOf(err) != apperr.Unauthenticated {
		t.Fatalf("replaced link: %v", err)
	}
	for _, s := range sessions {
		if f.live(s) {
			t.Fatal("a session of the replaced link still works")
		}
	}
	// Asking for one by email adds a link and keeps the one on the letter.
	var c capture
	if err := f.st.RequestFamilyLink(ctx, "SAMIRA@home.example ", ip, c.deliver); err != nil || len(c.tokens) != 1 {
		t.Fatalf("request: %v, %d sent", err, len(c.tokens))
	}
	for _, tok := range []string{next.Token, c.tokens[0]} {
		if _, _, err := f.st.UseFamilyLink(ctx, tok, ip, browser); err != nil {
			t.Fatalf("after a request, %s: %v", tok, err)
		}
	}
	if err := f.st.RequestFamilyLink(ctx, "stranger@home.example", ip, c.deliver); err != nil || len(c.tokens) != 1 {
		t.Fatalf("unknown address: %v, %d sent", err, len(c.tokens))
	}
	// Revoked: no link works and no session opened with one survives.
	_, s, _ := f.st.UseFamilyLink(ctx, next.Token, ip, browser)
	if err := f.st.RevokeFamilyLinks(ctx, f.school, parent, office); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{next.Token, c.tokens[0]} {
		if _, _, err := f.st.UseFamilyLink(ctx, tok, ip, browser); apperr.CodeOf(err) != apperr.Unauthenticated {
			t.Fatalf("revoked link: %v", err)
		}
	}
	if f.live(s) {
		t.Fatal("a revoked link's session still works")
	}
	if _, ok, _ := f.st.CurrentFamilyLink(ctx, f.school, parent); ok {
		t.Fatal("a revoked link is current")
	}
	// A family link expires after the school's period.
	last, err := f.st.IssueFamilyLink(ctx, f.school, parent, office, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.now = f.now.AddDate(0, 0, 30)
	if _, _, err := f.st.UseFamilyLink(ctx, last.Token, ip, browser); apperr.CodeOf(err) != apperr.Unauthenticated {
		t.Fatalf("expired family link: %v", err)
	}
	if _, err := f.st.IssueFamilyLink(ctx, f.school, f.staff.PersonID, office, nil); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("family link for a member of staff: %v", err)
	}
}

func TestFamilyLinkJoinsAStaffAccount(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	// The teacher is also a parent at the school, under the same address.
	parent := f.family(staffEmail)
	link, err := f.st.IssueFamilyLink(ctx, f.school, parent, office, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, familySession, err := f.st.UseFamilyLink(ctx, link.Token, ip, browser)
	if err != nil || a.ID != f.staff.ID || !a.Has(auth.Parent) || !a.Has(auth.Staff) || a.ParentID != parent {
		t.Fatalf("joined account: %v %+v", err, a)
	}
	_, passwordSession := f.signIn(staffEmail, password)
	// Revoking the family links keeps the sessions opened another way.
	if err := f.st.RevokeFamilyLinks(ctx, f.school, parent, office); err != nil {
		t.Fatal(err)
	}
	if f.live(familySession) || !f.live(passwordSession) {
		t.Fatalf("after revoking: family session %v, password session %v", f.live(familySession), f.live(passwordSession))
	}
}

func TestNormaliseFamilyToken(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"abcd efgh jkmn pqrs": "ABCD-EFGH-JKMN-PQRS",
		"ABCDEFGHJKMNPQRS":    "ABCD-EFGH-JKMN-PQRS",
		"o0o0-i1l1-AAAA-BBBB": "0000-1111-AAAA-BBBB",
		"too-short":           "T00SH0RT",
	} {
		if got := auth.NormaliseFamilyToken(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

func TestCleanUp(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	_, keep := f.signIn(staffEmail, password)
	_, stale := f.signIn(adminEmail, password)
	var c capture
	if err := f.st.RequestSignInLink(ctx, staffEmail, ip, c.deliver); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.st.UseSignInLink(ctx, c.tokens[0], ip, browser); err != nil {
		t.Fatal(err)
	}
	if err := f.st.RequestSignInLink(ctx, staffEmail, ip, c.deliver); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Hour)
	if !f.live(keep) {
		t.Fatal("lost the kept session")
	}
	f.now = f.now.Add(f.st.IdleTimeout - 30*time.Minute)
	var got auth.Cleaned
	f.tx(func(tx pgx.Tx) error {
		var err error
		got, err = f.st.CleanUp(ctx, tx, f.now)
		return err
	})
	// The admin's session went idle; both sign-in links are used or expired.
	if got.Sessions < 1 || got.Links != 2 || !f.live(keep) || f.live(stale) {
		t.Fatalf("cleaned %+v; kept session live %v", got, f.live(keep))
	}
	if n := f.count(`SELECT count(*) FROM access_links`); n != 0 {
		t.Fatalf("links left: %d", n)
	}
}

func TestSessionReadsTheSchoolAsItIsNow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	_, token := f.signIn(staffEmail, password)
	a, sc, err := f.st.Session(ctx, token)
	if err != nil || a.ID != f.staff.ID || sc.ID != f.school || sc.Name != "Hollybrook Primary School" || sc.HasLogo() {
		t.Fatalf("session: %v %+v %+v", err, a, sc)
	}
	// A settings change shows on the very next request.
	sc.Name, sc.Colour = "Hollybrook Academy", "#00703c"
	if err := schools.NewStore(f.db).Update(ctx, sc, office); err != nil {
		t.Fatal(err)
	}
	if _, now, err := f.st.Session(ctx, token); err != nil || now.Name != "Hollybrook Academy" || now.Colour != "#00703c" {
		t.Fatalf("after the change: %v %+v", err, now)
	}
	// Most requests only read: the session's last use is written at most
	// once a minute, and the idle time-out counts from that.
	sum := sha256.Sum256([]byte(token))
	signedIn := f.now
	lastSeen := func() time.Time {
		return dbtest.Scalar[time.Time](t, f.db, `SELECT last_seen_at FROM sessions WHERE token_hash = $1`, sum[:])
	}
	f.now = signedIn.Add(50 * time.Second)
	if !f.live(token) || !lastSeen().Equal(signedIn) {
		t.Fatalf("written within the minute: %s", lastSeen())
	}
	f.now = signedIn.Add(61 * time.Second)
	if !f.live(token) || !lastSeen().Equal(f.now) {
		t.Fatalf("not written after a minute: %s, want %s", lastSeen(), f.now)
	}
	marked := f.now
	f.now = marked.Add(f.st.IdleTimeout - time.Second)
	if !f.live(token) {
		t.Fatal("ended before the idle time-out from its last mark")
	}
	f.now = f.now.Add(f.st.IdleTimeout + time.Second)
	if _, _, err := f.st.Session(ctx, token); apperr.CodeOf(err) != apperr.Unauthenticated {
		t.Fatalf("idle session: %v", err)
	}
}
