package sso_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"os"
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
	"signoff/internal/sso"
	"signoff/internal/sso/oidctest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	oidctest.StopShared()
	dbtest.Shutdown()
	os.Exit(code)
}

const baseURL = "http://127.0.0.1:9" // the callback is never fetched: the tests take the code from the redirect

type env struct {
	t        *testing.T
	db       *database.DB
	p        *oidctest.Provider
	store    *sso.Store
	accounts *auth.Store
	client   oidctest.Client
	school   int64
	other    int64
	clock    time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	// One provider for the package (Hydra takes a moment to start); each
	// test has its own database and its own client at the provider.
	e := &env{t: t, db: dbtest.New(t), p: oidctest.Shared(t), clock: time.Now().UTC()}
	e.db.Now = func() time.Time { return e.clock }
	e.accounts = auth.NewStore(e.db)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	st, err := sso.NewStore(e.db, e.accounts, key, baseURL)
	if err != nil {
		t.Fatal(err)
	}
	st.MicrosoftAuthority = e.p.Authority
	st.HTTPClient = &http.Client{Timeout: time.Minute} // a busy test machine is slower than a provider
	e.accounts.RequireSSO = st.RequiredMessage
	e.store = st
	e.client = e.p.NewClient(t, st.RedirectURL())
	ctx := context.Background()
	err = e.db.InTx(ctx, func(tx pgx.Tx) error {
		a := &schools.School{Slug: "oakfield", Name: "Oakfield Academy"}
		b := &schools.School{Slug: "elmwood", Name: "Elmwood School"}
		if err := schools.CreateTx(ctx, tx, a); err != nil {
			return err
		}
		if err := schools.CreateTx(ctx, tx, b); err != nil {
			return err
		}
		e.school, e.other = a.ID, b.ID
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e.connect(sso.Connection{Provider: sso.Microsoft, TenantID: e.p.TenantID, EmailDomains: []string{"oakfield.example"}})
	return e
}

// connect saves c for the school with the test client.
func (e *env) connect(c sso.Connection) {
	e.t.Helper()
	c.SchoolID, c.ClientID, c.ClientSecret = e.school, e.client.ID, e.client.Secret
	if err := e.store.Save(context.Background(), c, audit.Actor{Name: "test"}); err != nil {
		e.t.Fatal(err)
	}
}

// member adds a member of staff with an account (and password) to school.
func (e *env) member(school int64, email string, role people.StaffRole, roles ...auth.Role) auth.Account {
	e.t.Helper()
	ctx := context.Background()
	var a auth.Account
	err := e.db.InTx(ctx, func(tx pgx.Tx) error {
		var personID int64
		if err := tx.QueryRow(ctx, `INSERT INTO people (school_id, kind, given_name, family_name, email, staff_role)
			VALUES ($1, 'staff', 'Jo', 'Smith', $2, $3) RETURNING id`, school, email, string(role)).Scan(&personID); err != nil {
			return err
		}
		if len(roles) == 0 {
			roles = []auth.Role{auth.Staff}
		}
		a = auth.Account{SchoolID: school, PersonID: personID, Email: email, DisplayName: "Jo Smith", Roles: roles}
		return auth.CreateAccountTx(ctx, tx, &a, "a good long password")
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// user adds an account at the provider from the school's tenant.
func (e *env) user(sub, email string) oidctest.User {
	u := oidctest.User{Subject: sub, Email: email, Password: "provider-pass", Name: "Jo Smith",
		Claims: map[string]any{"tid": e.p.TenantID}}
	e.p.AddUser(u)
	return u
}

// signIn runs a whole sign-in: Begin, the provider's login form, Finish.
func (e *env) signIn(email string) (sso.Result, error) {
	e.t.Helper()
	ret := e.authorize(email)
	return e.store.Finish(context.Background(), ret)
}

func (e *env) authorize(email string) sso.Return {
	e.t.Helper()
	authURL, state, err := e.store.Begin(context.Background(), e.school, "/", "127.0.0.1")
	if err != nil {
		e.t.Fatal(err)
	}
	for _, want := range []string{"code_challenge_method=S256", "code_challenge=", "nonce=", "state="} {
		if !strings.Contains(authURL, want) {
			e.t.Fatalf("authorization URL %s has no %s", authURL, want)
		}
	}
	back := e.p.Authorize(e.t, authURL, email, "provider-pass")
	if back.Query().Get("error") != "" {
		e.t.Fatalf("provider error: %s", back)
	}
	return sso.Return{State: back.Query().Get("state"), BrowserState: state, Code: back.Query().Get("code"), IP: "127.0.0.1", UserAgent: "test"}
}

func wantRefused(t *testing.T, err error, words string) {
	t.Helper()
	if apperr.CodeOf(err) != apperr.Unauthenticated || !strings.Contains(apperr.MessageOf(err), words) {
		t.Fatalf("want a refusal saying %q, got %v", words, err)
	}
}

func TestSignInMatchesByEmailThenSubject(t *testing.T) {
	e := newEnv(t)
	a := e.member(e.school, "j.smith@oakfield.example", people.Teacher)
	e.user("sub-jsmith", "j.smith@oakfield.example")
	res, err := e.signIn("j.smith@oakfield.example")
	if err != nil {
		t.Fatal(err)
	}
	if res.Account.ID != a.ID || res.Token == "" {
		t.Fatalf("signed in %+v, want account %d", res.Account, a.ID)
	}
	got, err := e.accounts.SessionAccount(context.Background(), res.Token)
	if err != nil {
		t.Fatal(err)
	}
	want := "Microsoft 365 account j.smith@oakfield.example, tenant " + e.p.TenantID
	if got.ID != a.ID || got.Session.IdentifiedBy != want || got.Session.SSOSchoolID != e.school {
		t.Fatalf("session %+v, want identified by %q", got.Session, want)
	}

	// Renamed at the provider (the school renamed the address, and
	// Signoff still holds the old one): the subject still matches.
	e.p.AddUser(oidctest.User{Subject: "sub-jsmith", Email: "jo.smith@oakfield.example", Password: "provider-pass",
		Claims: map[string]any{"tid": e.p.TenantID}})
	res, err = e.signIn("jo.smith@oakfield.example")
	if err != nil {
		t.Fatal(err)
	}
	if res.Account.ID != a.ID || !strings.Contains(res.Identity.Description(), "jo.smith@oakfield.example") {
		t.Fatalf("renamed address signed in %+v (%s), want account %d", res.Account, res.Identity.Description(), a.ID)
	}
	// When the school changes the address in Signoff too (a re-import),
	// the remembered subject is forgotten and the new address matches.
	if _, err := e.db.Pool.Exec(context.Background(), `UPDATE accounts SET email = 'jo.smith@oakfield.example' WHERE id = $1`, a.ID); err != nil {
		t.Fatal(err)
	}
	var links int
	_ = e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM sso_identities WHERE account_id = $1`, a.ID).Scan(&links)
	if links != 0 {
		t.Fatalf("%d identities kept after the address changed", links)
	}
	if res, err = e.signIn("jo.smith@oakfield.example"); err != nil || res.Account.ID != a.ID {
		t.Fatalf("after the address changed: %+v, %v", res.Account, err)
	}
	// Nobody was created.
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM accounts`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("accounts: %d, %v", n, err)
	}
}

func TestRefusals(t *testing.T) {
	e := newEnv(t)
	e.member(e.school, "j.smith@oakfield.example", people.Teacher)
	e.member(e.other, "k.jones@oakfield.example", people.Teacher)

	t.Run("unknown address", func(t *testing.T) {
		e.user("sub-nobody", "nobody@oakfield.example")
		_, err := e.signIn("nobody@oakfield.example")
		wantRefused(t, err, "There is no Signoff account for nobody@oakfield.example at Oakfield Academy")
	})
	t.Run("member of another school", func(t *testing.T) {
		e.user("sub-kjones", "k.jones@oakfield.example")
		_, err := e.signIn("k.jones@oakfield.example")
		wantRefused(t, err, "is a member of another school")
	})
	t.Run("address outside the school's domains", func(t *testing.T) {
		e.user("sub-gmail", "j.smith@gmail.example")
		_, err := e.signIn("j.smith@gmail.example")
		wantRefused(t, err, "is not an address of Oakfield Academy")
	})
	t.Run("another tenant", func(t *testing.T) {
		e.p.AddUser(oidctest.User{Subject: "sub-other-tenant", Email: "j.smith@oakfield.example", Password: "provider-pass",
			Claims: map[string]any{"tid": "00000000-0000-0000-0000-000000000000"}})
		_, err := e.signIn("j.smith@oakfield.example")
		wantRefused(t, err, "not from your school's Microsoft 365")
	})
	t.Run("replayed state", func(t *testing.T) {
		e.user("sub-jsmith", "j.smith@oakfield.example")
		ret := e.authorize("j.smith@oakfield.example")
		if _, err := e.store.Finish(context.Background(), ret); err != nil {
			t.Fatal(err)
		}
		_, err := e.store.Finish(context.Background(), ret)
		wantRefused(t, err, "already been used")
	})
	t.Run("state from another browser", func(t *testing.T) {
		ret := e.authorize("j.smith@oakfield.example")
		ret.BrowserState = "someone-else's"
		_, err := e.store.Finish(context.Background(), ret)
		wantRefused(t, err, "started in another browser")
	})
	t.Run("code not ours", func(t *testing.T) {
		ret := e.authorize("j.smith@oakfield.example")
		ret.Code += "x"
		_, err := e.store.Finish(context.Background(), ret)
		wantRefused(t, err, "refused the sign-in")
	})
	t.Run("provider error", func(t *testing.T) {
		ret := e.authorize("j.smith@oakfield.example")
		ret.Code, ret.Error = "", "access_denied"
		_, err := e.store.Finish(context.Background(), ret)
		wantRefused(t, err, "did not sign you in (access_denied)")
	})
	t.Run("an address already linked to another subject", func(t *testing.T) {
		e.user("sub-impostor", "j.smith@oakfield.example") // the address now at a different provider account
		_, err := e.signIn("j.smith@oakfield.example")
		wantRefused(t, err, "Another Microsoft account was used")
	})
}

// The ID token checks, with tokens Hydra issued to the test as a client
// of its own.
func TestIDTokenChecks(t *testing.T) {
	e := newEnv(t)
	e.user("sub-jsmith", "j.smith@oakfield.example")
	conn, _, err := e.store.Get(context.Background(), e.school)
	if err != nil {
		t.Fatal(err)
	}
	const cb = "http://127.0.0.1:9/cb"
	ours := e.p.NewClient(t, cb)
	other := e.p.NewClient(t, cb)
	conn.ClientID = ours.ID

	good := e.p.IDToken(t, ours, cb, "nonce-one-1234", "j.smith@oakfield.example", "provider-pass")
	id, err := e.store.VerifyIDToken(context.Background(), conn, good, "nonce-one-1234")
	if err != nil || id.Subject != "sub-jsmith" || id.Email != "j.smith@oakfield.example" || id.TenantID != e.p.TenantID {
		t.Fatalf("good token: %+v, %v", id, err)
	}
	t.Run("wrong nonce", func(t *testing.T) {
		_, err := e.store.VerifyIDToken(context.Background(), conn, good, "nonce-two-1234")
		wantRefused(t, err, "does not belong to this sign-in")
	})
	t.Run("wrong audience", func(t *testing.T) {
		theirs := e.p.IDToken(t, other, cb, "nonce-one-1234", "j.smith@oakfield.example", "provider-pass")
		_, err := e.store.VerifyIDToken(context.Background(), conn, theirs, "nonce-one-1234")
		wantRefused(t, err, "meant for another application")
	})
	t.Run("expired", func(t *testing.T) {
		e.clock = e.clock.Add(2 * time.Hour) // Hydra's ID tokens last an hour
		defer func() { e.clock = e.clock.Add(-2 * time.Hour) }()
		_, err := e.store.VerifyIDToken(context.Background(), conn, good, "nonce-one-1234")
		wantRefused(t, err, "had expired")
	})
	t.Run("tampered signature", func(t *testing.T) {
		parts := strings.Split(good, ".")
		sig := []byte(parts[2])
		sig[5] ^= 1
		_, err := e.store.VerifyIDToken(context.Background(), conn, parts[0]+"."+parts[1]+"."+string(sig), "nonce-one-1234")
		wantRefused(t, err, "could not be checked")
	})
	t.Run("another issuer", func(t *testing.T) {
		g := conn
		g.Provider, g.IssuerURL, g.TenantID = sso.Generic, e.p.Authority+"/"+"11111111-2222-3333-4444-555555555555/v2.0", ""
		_, err := e.store.VerifyIDToken(context.Background(), g, good, "nonce-one-1234")
		if err == nil {
			t.Fatal("a token checked against another issuer passed")
		}
	})
}

func TestRequiredSSO(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	teacher := e.member(e.school, "j.smith@oakfield.example", people.Teacher)
	e.member(e.school, "gov@oakfield.example", people.Governor, auth.Governor)
	e.member(e.school, "office@oakfield.example", people.Support, auth.Staff, auth.Admin)
	e.connect(sso.Connection{Provider: sso.Microsoft, TenantID: e.p.TenantID, EmailDomains: []string{"oakfield.example"},
		RequiredRoles: []people.StaffRole{people.Teacher, people.Support}})

	_, _, err := e.accounts.SignIn(ctx, "j.smith@oakfield.example", "a good long password", "127.0.0.1", "test")
	wantRefused(t, err, "Your school signs you in with your Microsoft 365 account: use “Sign in with Microsoft”")
	// A wrong password says nothing about single sign-on.
	_, _, err = e.accounts.SignIn(ctx, "j.smith@oakfield.example", "not the password", "127.0.0.1", "test")
	wantRefused(t, err, "The email address or password is not right")
	// The governor's role is not required: their password works.
	if _, _, err := e.accounts.SignIn(ctx, "gov@oakfield.example", "a good long password", "127.0.0.1", "test"); err != nil {
		t.Fatalf("governor: %v", err)
	}
	// Administrators keep their password, whatever their staff role.
	if _, _, err := e.accounts.SignIn(ctx, "office@oakfield.example", "a good long password", "127.0.0.1", "test"); err != nil {
		t.Fatalf("administrator: %v", err)
	}
	// No emailed link for the teacher.
	sent := 0
	if err := e.accounts.RequestSignInLink(ctx, teacher.Email, "127.0.0.1", func(context.Context, pgx.Tx, auth.Account, string) error {
		sent++
		return nil
	}); err != nil || sent != 0 {
		t.Fatalf("link for a required-SSO teacher: sent %d, %v", sent, err)
	}
	// ... and single sign-on works for them.
	e.user("sub-jsmith", "j.smith@oakfield.example")
	if _, err := e.signIn("j.smith@oakfield.example"); err != nil {
		t.Fatal(err)
	}
}

func TestConnectionSettings(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// The secret is sealed: not stored as typed.
	var sealed []byte
	if err := e.db.Pool.QueryRow(ctx, `SELECT client_secret FROM sso_connections WHERE school_id = $1`, e.school).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if len(sealed) == 0 || strings.Contains(string(sealed), e.client.Secret) {
		t.Fatalf("the client secret is stored in the clear")
	}
	// Saving without a secret keeps it: sign-in still works.
	c, ok, err := e.store.Get(ctx, e.school)
	if err != nil || !ok || !c.HasSecret || c.ClientSecret != "" {
		t.Fatalf("read back: %+v %v %v", c, ok, err)
	}
	c.ClientSecret = ""
	c.EmailDomains = []string{"oakfield.example", "staff.oakfield.example"}
	if err := e.store.Save(ctx, c, audit.Actor{Name: "test"}); err != nil {
		t.Fatal(err)
	}
	e.member(e.school, "j.smith@oakfield.example", people.Teacher)
	e.user("sub-jsmith", "j.smith@oakfield.example")
	if _, err := e.signIn("j.smith@oakfield.example"); err != nil {
		t.Fatal(err)
	}
	// Bad input is refused field by field, nothing saved.
	bad := sso.Connection{SchoolID: e.other, Provider: sso.Microsoft, TenantID: "contoso", ClientID: "", EmailDomains: sso.ParseDomains("not a domain!")}
	err = e.store.Save(ctx, bad, audit.Actor{Name: "test"})
	fields := map[string]bool{}
	for _, f := range apperr.FieldsOf(err) {
		fields[f.Field] = true
	}
	for _, f := range []string{"tenant_id", "client_id", "client_secret", "email_domains"} {
		if !fields[f] {
			t.Errorf("no error for %s: %v", f, err)
		}
	}
	if _, ok, _ := e.store.Get(ctx, e.other); ok {
		t.Fatal("a bad connection was saved")
	}
	// Test the connection: discovery and keys from the real provider.
	steps, err := e.store.Test(ctx, e.school)
	if err != nil || len(steps) != 3 {
		t.Fatalf("test: %+v %v", steps, err)
	}
	for _, s := range steps {
		if !s.OK {
			t.Errorf("step %s failed: %s", s.Label, s.Detail)
		}
	}
	if !strings.Contains(steps[0].Detail, e.p.Issuer) {
		t.Errorf("discovery step does not name the issuer: %s", steps[0].Detail)
	}
	// A provider that is not there fails the test, with the reason.
	g := sso.Connection{SchoolID: e.other, Provider: sso.Generic, IssuerURL: "http://127.0.0.1:9/nothing", ClientID: "x", ClientSecret: "y", EmailDomains: []string{"elmwood.example"}}
	if err := e.store.Save(ctx, g, audit.Actor{Name: "test"}); err != nil {
		t.Fatal(err)
	}
	steps, err = e.store.Test(ctx, e.other)
	if err != nil || len(steps) != 1 || steps[0].OK {
		t.Fatalf("test of a missing provider: %+v %v", steps, err)
	}
	// A secret sealed under another key cannot be read, and says so.
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	st2, _ := sso.NewStore(e.db, e.accounts, key, baseURL)
	st2.MicrosoftAuthority = e.p.Authority
	_, _, err = st2.Begin(ctx, e.school, "/", "127.0.0.1")
	if apperr.CodeOf(err) != apperr.Unavailable || !strings.Contains(apperr.MessageOf(err), "SIGNOFF_SECRET_KEY") {
		t.Fatalf("another key: %v", err)
	}
}
