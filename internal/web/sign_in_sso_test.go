package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"signoff/internal/database/dbtest"
	"signoff/internal/demo"
	"signoff/internal/sso/oidctest"
	"signoff/internal/web"
)

// ssoApp is the demo school served at a real local address (the redirect
// URI registered at the provider), with a real OpenID provider (Hydra).
type ssoApp struct {
	*app
	p      *oidctest.Provider
	client oidctest.Client
}

func newSSOApp(t *testing.T) *ssoApp {
	t.Helper()
	db := dbtest.New(t)
	if _, err := demo.Load(context.Background(), db); err != nil {
		t.Fatalf("demo: %v", err)
	}
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	srv := web.New(db, web.Config{SessionKeys: testKeys, BaseURL: base})
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	p := oidctest.Shared(t)
	srv.SSO().MicrosoftAuthority = p.Authority
	srv.SSO().HTTPClient = &http.Client{Timeout: time.Minute} // a busy test machine is slower than a provider
	return &ssoApp{app: &app{t: t, db: db, srv: srv, ts: ts}, p: p, client: p.NewClient(t, base+"/sign-in/sso/callback")}
}

// connect saves the school's Microsoft connection through the settings
// page, as the office would.
func (a *ssoApp) connect(requiredRoles ...string) {
	a.t.Helper()
	office := a.signedIn(demo.AdminEmail)
	form := url.Values{"provider": {"microsoft"}, "tenant_id": {strings.ToUpper(a.p.TenantID)}, "client_id": {a.client.ID},
		"client_secret": {a.client.Secret}, "email_domains": {"@hollybrook.example.sch.uk"}, "required_roles": requiredRoles}
	res := office.post("/admin/sso", form)
	if res.status != http.StatusSeeOther || !strings.Contains(res.location, "saved=1") {
		a.t.Fatalf("save single sign-on: %d %s\n%s", res.status, res.location, res.body)
	}
}

// user is a member of the school's tenant at the provider.
func (a *ssoApp) user(sub, email string) {
	a.p.AddUser(oidctest.User{Subject: sub, Email: email, Password: "provider-pass", Name: "Daniel Okafor",
		Claims: map[string]any{"tid": a.p.TenantID}})
}

func TestSSOSettingsPage(t *testing.T) {
	a := newSSOApp(t)
	office := a.signedIn(demo.AdminEmail)

	// Before: the page says what to register.
	res := office.get("/admin/sso")
	for _, want := range []string{a.ts.URL + "/sign-in/sso/callback", "openid email profile", "Directory (tenant) ID", "Client secret"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("settings page lacks %q", want)
		}
	}
	if strings.Contains(res.body, "Test the connection") {
		t.Error("a test button before anything is connected")
	}
	// Bad input: messages next to the fields, nothing saved.
	res = office.post("/admin/sso", url.Values{"provider": {"microsoft"}, "tenant_id": {"contoso"}, "client_id": {""}, "email_domains": {"not a domain"}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "govuk-error-summary") ||
		!strings.Contains(res.body, "Enter the Directory (tenant) ID") || !strings.Contains(res.body, "Enter the client secret") {
		t.Fatalf("bad input: %d\n%s", res.status, res.body)
	}
	if res := office.post("/admin/sso", url.Values{"client_id": {"x"}}); res.status != http.StatusUnprocessableEntity ||
		!strings.Contains(res.body, `id="provider-error"`) || !strings.Contains(res.body, "Choose Microsoft, Google or another OpenID provider") {
		t.Fatalf("no provider chosen: %d\n%s", res.status, res.body)
	}
	if n := a.id(`SELECT count(*) FROM sso_connections`); n != 0 {
		t.Fatalf("%d connections saved from bad input", n)
	}

	a.connect("teacher")
	res = office.get("/admin/sso")
	if !strings.Contains(res.body, "Single sign-on saved") && !strings.Contains(res.body, "Test the connection") {
		t.Fatalf("after saving:\n%s", res.body)
	}
	if strings.Contains(res.body, a.client.Secret) {
		t.Fatal("the settings page shows the client secret")
	}
	if !strings.Contains(res.body, "A secret is stored") || !strings.Contains(res.body, a.p.TenantID) {
		t.Fatal("the page does not say a secret is stored, or lost the tenant")
	}
	// Test the connection: discovery and keys, from the real provider.
	res = office.get("/admin/sso/test")
	if res.status != http.StatusOK || strings.Count(res.body, ">Passed<") != 3 || strings.Contains(res.body, ">Failed<") {
		t.Fatalf("connection test: %d\n%s", res.status, res.body)
	}
	if !strings.Contains(res.body, a.p.Issuer) {
		t.Fatal("the test result does not name the issuer")
	}
	// The sign-in page now offers the button.
	if body := a.client_().get("/sign-in").body; !strings.Contains(body, "Sign in with Microsoft") || !strings.Contains(body, "/sign-in/sso?school="+demo.SchoolSlug) {
		t.Fatalf("sign-in page:\n%s", body)
	}
	// Staff and parents cannot reach the settings.
	if st := a.signedIn("rstanton@hollybrook.example.sch.uk").get("/admin/sso").status; st != http.StatusForbidden {
		t.Fatalf("staff got %d", st)
	}
	// Removing it takes the button away.
	if res := office.post("/admin/sso/remove", url.Values{}); res.status != http.StatusSeeOther {
		t.Fatalf("remove: %d", res.status)
	}
	if body := a.client_().get("/sign-in").body; strings.Contains(body, "Sign in with Microsoft") {
		t.Fatal("the button is still there after removing single sign-on")
	}
}

func (a *ssoApp) client_() *client { return a.app.client() }

// TestSSOStaffSignsInAndSigns: a teacher signs in through the provider,
// signs the AUP, and the signed copy's certificate says how they were
// identified; the callback cannot be replayed; their password is refused
// once the school requires single sign-on for teachers; signing out
// offers the provider's sign-out.
func TestSSOStaffSignsInAndSigns(t *testing.T) {
	a := newSSOApp(t)
	a.connect("teacher")
	a.user("sub-dokafor", demo.StaffEmail)
	b := oidctest.Browser()
	res, body, callback := a.p.SignIn(t, b, a.ts.URL+"/sign-in/sso?school="+demo.SchoolSlug, demo.StaffEmail, "provider-pass")
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/" || !strings.Contains(body, aup) {
		t.Fatalf("signed in at %s (%d):\n%s", res.Request.URL, res.StatusCode, body)
	}
	if callback == "" {
		t.Fatal("the provider never sent the browser to the callback")
	}

	// The same callback again (a replayed code and state) is refused:
	// without the state cookie (it was removed) as from another browser,
	// and with it (a copied cookie) as used already.
	replay := func(withCookie bool) (int, string) {
		t.Helper()
		c := oidctest.Browser()
		cb, _ := url.Parse(callback)
		if withCookie {
			c.Jar.SetCookies(cb, []*http.Cookie{{Name: "signoff_sso", Value: cb.Query().Get("state"), Path: "/sign-in/sso"}})
		}
		r, err := c.Get(callback)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	if st, b := replay(false); st != http.StatusUnauthorized || !strings.Contains(b, "started in another browser") {
		t.Fatalf("replayed callback without the cookie: %d\n%s", st, b)
	}
	if st, b := replay(true); st != http.StatusUnauthorized || !strings.Contains(b, "already been used") {
		t.Fatalf("replayed callback with the cookie: %d\n%s", st, b)
	}

	// Sign the AUP; the certificate page names the Microsoft account.
	formID := a.formID(aup)
	res, err := b.PostForm(a.ts.URL+"/forms/"+itoa(formID), url.Values{"version_id": {itoa(a.versionID(formID))}, "agree": {"yes"}, "typed_name": {"Daniel Okafor"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if !strings.HasPrefix(res.Request.URL.Path, "/signatures/SG-") {
		t.Fatalf("signing ended at %s (%d)", res.Request.URL, res.StatusCode)
	}
	res, err = b.Get(a.ts.URL + res.Request.URL.Path + "/copy.pdf")
	if err != nil {
		t.Fatal(err)
	}
	pdf, _ := io.ReadAll(res.Body)
	res.Body.Close()
	text := strings.Join(strings.Fields(pdfText(t, string(pdf))), " ")
	if want := "Microsoft 365 account " + demo.StaffEmail + ", tenant " + a.p.TenantID; !strings.Contains(text, want) {
		t.Fatalf("the certificate does not say %q:\n%s", want, text)
	}

	// Passwords are refused for teachers now, with how to sign in...
	pw := a.client_().post("/sign-in", url.Values{"email": {demo.StaffEmail}, "password": {demo.Password}})
	if pw.status != http.StatusUnauthorized || !strings.Contains(pw.body, "Your school signs you in with your Microsoft 365 account") {
		t.Fatalf("password of a teacher: %d\n%s", pw.status, pw.body)
	}
	// ... while the office keeps its password.
	a.signedIn(demo.AdminEmail)

	// Signing out ends the session and offers the provider's sign-out.
	res, err = b.PostForm(a.ts.URL+"/sign-out", url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.Request.URL.Path != "/sign-in" || !strings.Contains(string(out), "You have signed out of Signoff") ||
		!strings.Contains(string(out), "Sign out of Microsoft too") || !strings.Contains(string(out), `href="`+a.p.Issuer+"/oauth2/sessions/logout") {
		t.Fatalf("after signing out (%s):\n%s", res.Request.URL, out)
	}
	if res, _ := b.Get(a.ts.URL + "/"); res.Request.URL.Path != "/sign-in" {
		t.Fatalf("still signed in after signing out: %s", res.Request.URL)
	}
}

func TestSSORefusesUnknownAddress(t *testing.T) {
	a := newSSOApp(t)
	a.connect()
	a.user("sub-stranger", "stranger@hollybrook.example.sch.uk")
	res, body, _ := a.p.SignIn(t, oidctest.Browser(), a.ts.URL+"/sign-in/sso?school="+demo.SchoolSlug, "stranger@hollybrook.example.sch.uk", "provider-pass")
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "There is no Signoff account for stranger@hollybrook.example.sch.uk") ||
		!strings.Contains(body, "You have not been signed in") {
		t.Fatalf("unknown address: %d\n%s", res.StatusCode, body)
	}
	if n := a.id(`SELECT count(*) FROM accounts WHERE email = 'stranger@hollybrook.example.sch.uk'`); n != 0 {
		t.Fatal("signing in created an account")
	}
	// An unknown school's sign-in is "not found", not a 500.
	if st := a.client_().get("/sign-in/sso?school=nowhere").status; st != http.StatusNotFound {
		t.Fatalf("unknown school: %d", st)
	}
	// A callback with no attempt behind it is refused.
	if st := a.client_().get("/sign-in/sso/callback?state=made-up&code=x").status; st != http.StatusUnauthorized {
		t.Fatalf("made-up callback: %d", st)
	}
}

// TestBrowserStaffSignsInWithMicrosoft: in chromium, a teacher presses
// "Sign in with Microsoft", answers the provider's login form, and lands
// on their documents.
func TestBrowserStaffSignsInWithMicrosoft(t *testing.T) {
	a := newSSOApp(t)
	a.connect("teacher")
	a.user("sub-dokafor", demo.StaffEmail)
	b := newBrowser(t, a.ts.URL, phoneWidth, phoneHeight)
	if st := b.open("/sign-in"); st != 200 {
		b.fatal("/sign-in answered %d", st)
	}
	b.fitsWidth("sign-in page with single sign-on", phoneWidth)
	if st := b.navigate("press Sign in with Microsoft", chromedp.Click(`//main//a[normalize-space()="Sign in with Microsoft"]`)); st != 200 {
		b.fatal("the provider's login page answered %d", st)
	}
	if loc := run(b, "location", chromedp.Location()); !strings.HasPrefix(loc, a.p.LoginURL+"/login") {
		b.fatal("not at the provider's login form: %s", loc)
	}
	b.do("type the provider's email and password",
		chromedp.SendKeys(chromedp.ID("username"), demo.StaffEmail),
		chromedp.SendKeys(chromedp.ID("passwd"), "provider-pass"))
	if st := b.navigate("sign in at the provider", chromedp.Click(chromedp.ID("submit"))); st != 200 {
		b.fatal("coming back from the provider showed a %d page", st)
	}
	if p := b.path(); p != "/" {
		b.fatal("signed in at %s, want /", p)
	}
	if main := b.text("main"); !strings.Contains(main, aup) {
		b.fatal("the home page does not list %q", aup)
	}
}

// TestSSOSettingsForTheTrust: a trust administrator manages the single
// sign-on of each school of the trust; a school's administrator reaches
// only their own school's, and another school's id is "not found".
func TestSSOSettingsForTheTrust(t *testing.T) {
	a := newSSOApp(t)
	school := a.id(`SELECT id FROM schools WHERE slug = $1`, demo.SchoolSlug)
	other, outside := a.oakfield(school)
	ceo := a.signedIn("ceo@oakfield.example.org")
	page := ceo.get("/admin/sso?school=" + itoa(school))
	if page.status != http.StatusOK || !strings.Contains(page.body, "Hollybrook Primary School") || !strings.Contains(page.body, "Ashgrove Academy") {
		t.Fatalf("trust admin, a school of the trust: %d\n%s", page.status, page.body)
	}
	res := ceo.post("/admin/sso", url.Values{"school": {itoa(school)}, "provider": {"google"}, "google_domain": {"hollybrook.example.sch.uk"},
		"client_id": {"google-client"}, "client_secret": {"google-secret"}, "email_domains": {"hollybrook.example.sch.uk"}})
	if res.status != http.StatusSeeOther || res.location != "/admin/sso?school="+itoa(school)+"&saved=1" {
		t.Fatalf("trust admin saving a school's: %d %s\n%s", res.status, res.location, res.body)
	}
	if p := a.id(`SELECT count(*) FROM sso_connections WHERE school_id = $1 AND provider = 'google' AND google_domain = 'hollybrook.example.sch.uk'`, school); p != 1 {
		t.Fatal("the trust admin's settings were not saved for the school")
	}
	if st := ceo.get("/admin/sso?school=" + itoa(outside)).status; st != http.StatusNotFound {
		t.Fatalf("trust admin, a school outside the trust: %d", st)
	}
	office := a.signedIn(demo.AdminEmail)
	if st := office.get("/admin/sso?school=" + itoa(other)).status; st != http.StatusNotFound {
		t.Fatalf("a school's admin opening another school's settings: %d", st)
	}
	if st := office.post("/admin/sso/remove", url.Values{"school": {itoa(other)}}).status; st != http.StatusNotFound {
		t.Fatalf("a school's admin removing another school's: %d", st)
	}
	// The sign-in page now has Google's button for Hollybrook.
	if body := a.client_().get("/sign-in?school=" + demo.SchoolSlug).body; !strings.Contains(body, "Sign in with Google") {
		t.Fatal("no Google button on the school's sign-in page")
	}
}

// TestBrowserSSOSettingsOnAPhone: the settings page, with its long
// redirect URI and a connection test's results, reads on a 360px phone.
func TestBrowserSSOSettingsOnAPhone(t *testing.T) {
	a := newSSOApp(t)
	a.connect("teacher")
	b := newBrowser(t, a.ts.URL, phoneWidth, phoneHeight)
	b.open("/sign-in")
	b.do("type the office's email and password",
		chromedp.SendKeys(chromedp.ID("email"), demo.AdminEmail),
		chromedp.SendKeys(chromedp.ID("password"), demo.Password))
	if st := b.navigate("sign in", chromedp.Click(`//main//form//button[normalize-space()="Sign in"]`)); st != 200 {
		b.fatal("signing in showed a %d page", st)
	}
	if st := b.open("/admin/sso"); st != 200 {
		b.fatal("/admin/sso answered %d", st)
	}
	b.fitsWidth("single sign-on settings", phoneWidth)
	if st := b.navigate("test the connection", chromedp.Click(`//main//form//button[normalize-space()="Test the connection"]`)); st != 200 {
		b.fatal("the connection test answered %d", st)
	}
	if h := b.text("#test-result"); h != "Connection test" {
		b.fatal("no test results: %q", h)
	}
	b.fitsWidth("single sign-on connection test", phoneWidth)
}
