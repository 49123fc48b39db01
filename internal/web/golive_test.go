package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"signoff/internal/audit"
	"signoff/internal/database/dbtest"
	"signoff/internal/onboarding"
	"signoff/internal/web"
)

// newEmptyApp is a running Signoff over a fresh database with no school.
func newEmptyApp(t *testing.T) *app {
	t.Helper()
	db := dbtest.New(t)
	srv := web.New(db, web.Config{SessionKeys: testKeys, BaseURL: "http://signoff.test"})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &app{t: t, db: db, srv: srv, ts: ts}
}

func firstRunForm(code string) url.Values {
	return url.Values{"code": {code}, "name": {"St Mary's C of E Primary School"}, "admin_name": {"Sam Patel"},
		"admin_email": {"office@stmarys.example.sch.uk"}, "new_password": {"correct horse battery"}, "confirm_password": {"correct horse battery"}}
}

func TestFirstRunSetUpNeedsTheCode(t *testing.T) {
	t.Parallel()
	a := newEmptyApp(t)
	ctx := context.Background()
	anon := a.client()
	// With no school, / and the sign-in page lead to the set-up page.
	if res := anon.get("/"); res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/sign-in") {
		t.Fatalf("/ with no school: %d %s", res.status, res.location)
	}
	if res := anon.get("/sign-in"); res.status != http.StatusSeeOther || res.location != "/set-up-school" {
		t.Fatalf("/sign-in with no school: %d %s", res.status, res.location)
	}
	page := anon.get("/set-up-school")
	if page.status != 200 || !strings.Contains(page.body, "Set up your school") || !strings.Contains(page.body, `name="code"`) {
		t.Fatalf("set-up page: %d\n%s", page.status, page.body)
	}

	// No code has been made yet (serve makes one): nothing opens it.
	if res := anon.post("/set-up-school", firstRunForm("AAAA-BBBB-CCCC-DDDD")); res.status != http.StatusNotFound && res.status != http.StatusSeeOther {
		t.Fatalf("set-up with no code issued: %d", res.status)
	}
	store := onboarding.NewStore(a.db)
	code, err := store.NewSetupCode(ctx)
	if err != nil || len(code) != 19 {
		t.Fatalf("set-up code %q: %v", code, err)
	}
	var stored int
	_ = a.db.Pool.QueryRow(ctx, `SELECT count(*) FROM setup_codes WHERE code_hash <> convert_to($1, 'UTF8')`, code).Scan(&stored)
	if stored != 1 {
		t.Fatal("the set-up code is not stored (as a hash)")
	}

	// A wrong code, and bad fields: told which, nothing made.
	bad := firstRunForm("AAAA-BBBB-CCCC-DDDD")
	wrong := anon.post("/set-up-school", bad)
	if wrong.status != http.StatusUnprocessableEntity || !strings.Contains(wrong.body, "The set-up code is not right") || !strings.Contains(wrong.body, `href="#code"`) {
		t.Fatalf("wrong code: %d\n%s", wrong.status, wrong.body)
	}
	bad = firstRunForm(code)
	bad.Set("admin_email", "not-an-address")
	bad.Set("confirm_password", "something else")
	bad.Set("name", "")
	res := anon.post("/set-up-school", bad)
	for _, want := range []string{`href="#name"`, `href="#admin_email"`, `href="#confirm_password"`, `value="Sam Patel"`} {
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, want) {
			t.Fatalf("bad fields: %d, lacks %s\n%s", res.status, want, res.body)
		}
	}
	if n := a.id(`SELECT count(*) FROM schools`); n != 0 {
		t.Fatalf("a refused set-up made %d schools", n)
	}

	// The right code (typed in lower case, without dashes) sets the school up and signs in.
	good := anon.post("/set-up-school", firstRunForm(strings.ToLower(strings.ReplaceAll(code, "-", ""))))
	if good.status != http.StatusSeeOther || good.location != "/admin/tracking" {
		t.Fatalf("set-up: %d %s\n%s", good.status, good.location, good.body)
	}
	dash := anon.get("/admin/tracking")
	if dash.status != 200 || !strings.Contains(dash.body, "St Mary&#39;s C of E Primary School") {
		t.Fatalf("dashboard after set-up: %d\n%s", dash.status, dash.body)
	}
	if slug := a.str(`SELECT slug FROM schools`); slug != "st-marys-c-of-e-primary-school" {
		t.Fatalf("slug %q", slug)
	}
	if roles := a.str(`SELECT roles::text FROM accounts WHERE email = 'office@stmarys.example.sch.uk'`); roles != "{admin,staff}" {
		t.Fatalf("administrator's roles %s", roles)
	}
	// The code is gone and the page with it.
	if n := a.id(`SELECT count(*) FROM setup_codes`); n != 0 {
		t.Fatal("the set-up code outlived the set-up")
	}
	other := a.client()
	if res := other.get("/set-up-school"); res.status != http.StatusSeeOther || res.location != "/sign-in" {
		t.Fatalf("set-up page after set-up: %d %s", res.status, res.location)
	}
	if res := other.post("/set-up-school", firstRunForm(code)); res.status != http.StatusSeeOther || res.location != "/sign-in" {
		t.Fatalf("second set-up: %d %s", res.status, res.location)
	}
	if c, _ := store.NewSetupCode(ctx); c != "" {
		t.Fatal("a set-up code was made although a school exists")
	}
	if n := a.id(`SELECT count(*) FROM schools`); n != 1 {
		t.Fatalf("%d schools", n)
	}
	// The new administrator signs in with the chosen password.
	if res := a.client().post("/sign-in", url.Values{"email": {"office@stmarys.example.sch.uk"}, "password": {"correct horse battery"}}); res.status != http.StatusSeeOther {
		t.Fatalf("sign-in with the chosen password: %d", res.status)
	}
}

func TestFirstRunCodeIsRateLimited(t *testing.T) {
	t.Parallel()
	a := newEmptyApp(t)
	code, err := onboarding.NewStore(a.db).NewSetupCode(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := a.client()
	for i := range onboarding.LimitSetupByIP.Max {
		if res := c.post("/set-up-school", firstRunForm("WRNG-WRNG-WRNG-WRNG")); res.status != http.StatusUnprocessableEntity {
			t.Fatalf("wrong code %d: %d", i, res.status)
		}
	}
	// Now even the right code waits.
	if res := c.post("/set-up-school", firstRunForm(code)); res.status != http.StatusTooManyRequests {
		t.Fatalf("after %d wrong codes: %d", onboarding.LimitSetupByIP.Max, res.status)
	}
	if n := a.id(`SELECT count(*) FROM schools`); n != 0 {
		t.Fatal("a rate-limited set-up made a school")
	}
}

func TestSetUpLinkChoosesAPasswordOnce(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c, err := onboarding.NewStore(a.db).CreateSchool(context.Background(), onboarding.NewSchool{Name: "Oak Lane Primary",
		AdminEmail: "jo.bloggs@oaklane.example.sch.uk"}, audit.System("test"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.School.Slug != "oak-lane-primary" || c.Account.DisplayName != "Jo Bloggs" || c.SetUpToken == "" {
		t.Fatalf("created %+v", c)
	}
	path := "/set-up/" + c.SetUpToken
	b := a.client()
	for range 2 { // opening it (a mail scanner) does not use it
		if page := b.get(path); page.status != 200 || !strings.Contains(page.body, "Set your password") || !strings.Contains(page.body, "Oak Lane Primary") {
			t.Fatalf("set-up link page: %d\n%s", page.status, page.body)
		}
	}
	short := b.post(path, url.Values{"new_password": {"short"}, "confirm_password": {"short"}})
	if short.status != http.StatusUnprocessableEntity || !strings.Contains(short.body, "at least 10 characters") {
		t.Fatalf("short password: %d", short.status)
	}
	mismatch := b.post(path, url.Values{"new_password": {"a long enough one"}, "confirm_password": {"another long one"}})
	if mismatch.status != http.StatusUnprocessableEntity || !strings.Contains(mismatch.body, "not the same") {
		t.Fatalf("mismatch: %d", mismatch.status)
	}
	if a.id(`SELECT count(*) FROM accounts WHERE id = $1 AND password_hash IS NOT NULL`, c.Account.ID) != 0 {
		t.Fatal("a refused password was saved")
	}
	ok := b.post(path, url.Values{"new_password": {"a long enough one"}, "confirm_password": {"a long enough one"}})
	if ok.status != http.StatusSeeOther || ok.location != "/" {
		t.Fatalf("set password: %d %s", ok.status, ok.location)
	}
	if home := b.get("/"); home.status != 200 || !strings.Contains(home.body, "Oak Lane Primary") {
		t.Fatalf("signed in after set-up: %d", home.status)
	}
	if again := a.client().post(path, url.Values{"new_password": {"a long enough one"}, "confirm_password": {"a long enough one"}}); again.status != http.StatusUnauthorized ||
		!strings.Contains(again.body, "This link does not work") || !strings.Contains(again.body, `href="/sign-in"`) {
		t.Fatalf("second use of the set-up link: %d\n%s", again.status, again.body)
	}
	if res := a.client().post("/sign-in", url.Values{"email": {"jo.bloggs@oaklane.example.sch.uk"}, "password": {"a long enough one"}}); res.status != http.StatusSeeOther {
		t.Fatalf("sign-in with the chosen password: %d", res.status)
	}
}

// str runs a query returning one text.
func (a *app) str(query string, args ...any) string {
	a.t.Helper()
	var s string
	if err := a.db.Pool.QueryRow(context.Background(), query, args...).Scan(&s); err != nil {
		a.t.Fatalf("%s: %v", query, err)
	}
	return s
}
