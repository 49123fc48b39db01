package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"signoff/internal/audit"
	"signoff/internal/auth"
	"signoff/internal/database"
	"signoff/internal/database/dbtest"
	"signoff/internal/demo"
	"signoff/internal/jobs"
	"signoff/internal/mail"
	"signoff/internal/pdf/pdftest"
	"signoff/internal/signkey"
	"signoff/internal/web"
)

// app is a running Signoff over a fresh database holding the demo school.
type app struct {
	t  *testing.T
	db *database.DB
	// owner is the same database as its superuser: for tampering as an
	// attacker holding the database's own superuser would.
	owner *database.DB
	srv   *web.Server
	ts    *httptest.Server
}

var (
	signingKeyOnce sync.Once
	signingKey     *signkey.Key
)

// testSigningKey is one installation key for the package's tests (RSA
// generation is slow enough to do once).
func testSigningKey(t *testing.T) *signkey.Key {
	signingKeyOnce.Do(func() {
		k, err := signkey.Generate("Signoff test installation", time.Now())
		if err != nil {
			t.Fatalf("signing key: %v", err)
		}
		signingKey = k
	})
	return signingKey
}

var testKeys = [][]byte{[]byte("0123456789abcdef0123456789abcdef"), []byte("abcdef0123456789abcdef0123456789")}

func newApp(t *testing.T) *app {
	t.Helper()
	return newAppSigning(t, &signkey.PDFSigner{Key: testSigningKey(t)})
}

// newAppSigning is newApp with signed copies signed by signer.
func newAppSigning(t *testing.T, signer *signkey.PDFSigner) *app {
	t.Helper()
	db, owner := dbtest.NewWithOwner(t)
	if _, err := demo.Load(context.Background(), db); err != nil {
		t.Fatalf("demo: %v", err)
	}
	srv := web.New(db, web.Config{SessionKeys: testKeys, BaseURL: "http://signoff.test", PDFSigner: signer})
	learnRoutes(srv)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &app{t: t, db: db, owner: owner, srv: srv, ts: ts}
}

// runMail works the send jobs with sender on River, as a server does,
// until the test ends.
func runMail(t *testing.T, db *database.DB, sender *mail.Sender) {
	t.Helper()
	reg := jobs.NewRegistry()
	jobs.Add(reg, &mail.SendWorker{Sender: sender})
	worker, err := jobs.New(db, reg, jobs.Options{PollInterval: 50 * time.Millisecond, MailWorkers: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := worker.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = worker.Stop(ctx)
	})
}

// client is one browser: a cookie jar that does not follow redirects.
type client struct {
	a    *app
	http *http.Client
}

func (a *app) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{a: a, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// signedIn returns a client signed in as email with the demo password.
func (a *app) signedIn(email string) *client {
	a.t.Helper()
	c := a.client()
	res := c.post("/sign-in", url.Values{"email": {email}, "password": {demo.Password}})
	if res.status != http.StatusSeeOther {
		a.t.Fatalf("sign in as %s: status %d\n%s", email, res.status, res.body)
	}
	return c
}

// parent returns a client signed in through a new family link of parent id.
func (a *app) parent(id int64) *client {
	a.t.Helper()
	school := a.id(`SELECT school_id FROM people WHERE id = $1`, id)
	link, err := auth.NewStore(a.db).IssueFamilyLink(context.Background(), school, id, audit.System("test"), nil)
	if err != nil {
		a.t.Fatal(err)
	}
	c := a.client()
	if res := c.get("/f/" + link.Token); res.status != http.StatusSeeOther || res.location != "/family" {
		a.t.Fatalf("family link: %d %s\n%s", res.status, res.location, res.body)
	}
	return c
}

type response struct {
	status   int
	location string
	header   http.Header
	body     string
}

func (c *client) do(req *http.Request) response {
	c.a.t.Helper()
	var sent []byte
	if req.Method == http.MethodPost && req.GetBody != nil {
		if b, err := req.GetBody(); err == nil {
			sent, _ = io.ReadAll(io.LimitReader(b, 1<<20))
		}
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.a.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	keepPage(req.Method, req.URL.RequestURI(), res.StatusCode, res.Header, body)
	checkTableLabels(c.a.t, req.URL.RequestURI(), res.Header, body)
	if req.Method == http.MethodPost {
		watchPost(req.URL.RequestURI(), sent, res.StatusCode)
	}
	return response{status: res.StatusCode, location: res.Header.Get("Location"), header: res.Header, body: string(body)}
}

func (c *client) get(path string) response {
	req, _ := http.NewRequest("GET", c.a.ts.URL+path, nil)
	return c.do(req)
}

func (c *client) post(path string, form url.Values) response {
	req, _ := http.NewRequest("POST", c.a.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// id runs a query returning one number.
func (a *app) id(query string, args ...any) int64 {
	a.t.Helper()
	var id int64
	if err := a.db.Pool.QueryRow(context.Background(), query, args...).Scan(&id); err != nil {
		a.t.Fatalf("%s: %v", query, err)
	}
	return id
}

// demoParent is the demo school and its parent of two children (see
// demo.Parent), with the parent's name.
func (a *app) demoParent() (school, parentID int64, name string) {
	a.t.Helper()
	school = a.id(`SELECT id FROM schools`)
	parentID, name, err := demo.Parent(context.Background(), a.db, school)
	if err != nil {
		a.t.Fatal(err)
	}
	return school, parentID, name
}

func (a *app) formID(title string) int64 {
	return a.id(`SELECT id FROM forms WHERE title = $1`, title)
}

func (a *app) versionID(formID int64) int64 {
	return a.id(`SELECT version_id FROM form_current WHERE form_id = $1`, formID)
}

const aup = "IT acceptable use policy (staff)"

var refRE = regexp.MustCompile(`/signatures/(SG-[0-9A-Z-]+)`)

func TestStaffSignsAndTheOfficeSeesIt(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	staff := a.signedIn(demo.StaffEmail)
	form := a.formID(aup)
	formPath := "/forms/" + itoa(form)

	home := staff.get("/")
	if home.status != 200 || !strings.Contains(home.body, aup) || !strings.Contains(home.body, `href="`+formPath+`"`) {
		t.Fatalf("home does not list the AUP to sign: %d\n%s", home.status, home.body)
	}
	page := staff.get(formPath)
	if page.status != 200 || !strings.Contains(page.body, "Lock your screen") && !strings.Contains(page.body, "<h2>") {
		t.Fatalf("sign page: %d", page.status)
	}

	// Bad input: the page comes back with the errors and what was typed.
	bad := staff.post(formPath, url.Values{"version_id": {itoa(a.versionID(form))}, "typed_name": {"Dan"}})
	if bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.body, "govuk-error-summary") ||
		!strings.Contains(bad.body, `href="#agree"`) || !strings.Contains(bad.body, `value="Dan"`) {
		t.Fatalf("bad sign: %d\n%s", bad.status, bad.body)
	}
	var n int
	_ = a.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM signatures s JOIN people p ON p.id = s.person_id WHERE p.email = $1`, demo.StaffEmail).Scan(&n)
	if n != 0 {
		t.Fatalf("a refused submission stored %d signatures", n)
	}

	good := staff.post(formPath, url.Values{"version_id": {itoa(a.versionID(form))}, "agree": {"yes"}, "typed_name": {"Daniel Okafor"}})
	if good.status != http.StatusSeeOther || !refRE.MatchString(good.location) {
		t.Fatalf("sign: %d %q\n%s", good.status, good.location, good.body)
	}
	ref := refRE.FindStringSubmatch(good.location)[1]
	receipt := staff.get(good.location)
	if receipt.status != 200 || !strings.Contains(receipt.body, "govuk-panel--confirmation") || !strings.Contains(receipt.body, ref) {
		t.Fatalf("receipt: %d\n%s", receipt.status, receipt.body)
	}

	// Submitting again is harmless and shows the same signature.
	again := staff.post(formPath, url.Values{"version_id": {itoa(a.versionID(form))}, "agree": {"yes"}, "typed_name": {"Daniel Okafor"}})
	if again.status != http.StatusSeeOther || !strings.Contains(again.location, ref) {
		t.Fatalf("second submit: %d %q", again.status, again.location)
	}
	if p := staff.get(formPath); !strings.Contains(p.body, "You have signed this") {
		t.Fatal("the sign page does not say it is signed")
	}
	if home := staff.get("/"); strings.Contains(home.body, `href="`+formPath+`"`) {
		t.Fatal("the AUP is still listed to sign after signing")
	}

	// The signed copy, parsed back.
	pdf := staff.get("/signatures/" + ref + "/copy.pdf")
	if pdf.status != 200 || pdf.header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("pdf: %d %s", pdf.status, pdf.header.Get("Content-Type"))
	}
	text := pdfText(t, pdf.body)
	var sha string
	_ = a.db.Pool.QueryRow(context.Background(), `SELECT version_sha256 FROM signatures WHERE reference = $1`, ref).Scan(&sha)
	for _, want := range []string{"Daniel Okafor", aup, sha, ref, "Hollybrook Primary School"} {
		if !strings.Contains(text, want) {
			t.Errorf("signed copy lacks %q", want)
		}
	}

	// The office sees it: signed list has Daniel, outstanding does not.
	office := a.signedIn(demo.AdminEmail)
	signed := office.get("/admin/tracking/forms/" + itoa(form) + "?show=signed")
	if signed.status != 200 || !strings.Contains(signed.body, "Okafor, Daniel") {
		t.Fatalf("office signed list: %d lacks Daniel", signed.status)
	}
	outstanding := office.get("/admin/tracking/forms/" + itoa(form))
	if strings.Contains(outstanding.body, "Okafor, Daniel") {
		t.Fatal("office outstanding list still has Daniel")
	}
	person := office.get("/admin/staff/" + itoa(a.id(`SELECT id FROM people WHERE email = $1`, demo.StaffEmail)))
	if !strings.Contains(person.body, ref) {
		t.Fatal("the person page does not list the signature")
	}
	if pdf := office.get("/signatures/" + ref + "/copy.pdf"); pdf.status != 200 {
		t.Fatalf("admin download of the signed copy: %d", pdf.status)
	}
}

func TestOwnership(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	// A signature of another member of staff (one who signs in with a
	// password), made by the demo.
	var ref string
	var owner string
	if err := a.db.Pool.QueryRow(context.Background(), `SELECT s.reference, p.email FROM signatures s JOIN people p ON p.id = s.person_id
		JOIN accounts ac ON ac.id = p.account_id AND ac.password_hash IS NOT NULL
		WHERE p.kind = 'staff' AND p.email <> $1 ORDER BY s.id LIMIT 1`, demo.StaffEmail).Scan(&ref, &owner); err != nil {
		t.Fatal(err)
	}
	staff := a.signedIn(demo.StaffEmail)
	for _, path := range []string{"/signatures/" + ref, "/signatures/" + ref + "/copy.pdf"} {
		if res := staff.get(path); res.status != http.StatusNotFound {
			t.Errorf("staff opening another's %s: %d, want 404", path, res.status)
		}
	}
	if res := a.signedIn(owner).get("/signatures/" + ref); res.status != 200 {
		t.Errorf("the signer opening their own signature: %d", res.status)
	}
	// A governor is not asked to sign the confidentiality agreement: its page is not there for them.
	gov := a.id(`SELECT id FROM people WHERE staff_role = 'governor' LIMIT 1`)
	var govEmail string
	_ = a.db.Pool.QueryRow(context.Background(), `SELECT email FROM people WHERE id = $1`, gov).Scan(&govEmail)
	conf := a.formID("Data confidentiality agreement")
	g := a.signedIn(govEmail)
	if res := g.get("/forms/" + itoa(conf)); res.status != http.StatusNotFound {
		t.Errorf("governor opening a form not addressed to them: %d", res.status)
	}
	if res := g.post("/forms/"+itoa(conf), url.Values{"version_id": {itoa(a.versionID(conf))}, "agree": {"yes"}, "typed_name": {"x"}}); res.status != http.StatusNotFound {
		t.Errorf("governor signing a form not addressed to them: %d", res.status)
	}
	// An admin of another school sees none of this school.
	other := a.otherSchoolAdmin()
	for _, path := range []string{"/admin/tracking/forms/" + itoa(conf), "/signatures/" + ref, "/admin/staff/" + itoa(gov), "/policies/" + itoa(a.id(`SELECT policy_id FROM forms WHERE id = $1`, conf))} {
		if res := other.get(path); res.status != http.StatusNotFound {
			t.Errorf("another school's admin opening %s: %d, want 404", path, res.status)
		}
	}
	if res := other.get("/admin/tracking"); res.status != 200 || strings.Contains(res.body, aup) {
		t.Errorf("another school's admin sees this school's forms")
	}
}

// account adds an account at school with only these roles and the demo
// password (an office that is not staff, a trust administrator alone).
func (a *app) account(school int64, email, name string, roles ...string) {
	a.t.Helper()
	if _, err := a.db.Pool.Exec(context.Background(), `INSERT INTO accounts (school_id, email, display_name, password_hash, roles)
		SELECT $1, $2, $3, password_hash, $4::text[] FROM accounts WHERE email = $5`, school, email, name, roles, demo.AdminEmail); err != nil {
		a.t.Fatal(err)
	}
}

// inTrust makes a trust and puts school in it.
func (a *app) inTrust(school int64, name, slug string) int64 {
	a.t.Helper()
	trust := a.id(`INSERT INTO trusts (name, slug) VALUES ($1, $2) RETURNING id`, name, slug)
	a.id(`UPDATE schools SET trust_id = $1 WHERE id = $2 RETURNING id`, trust, school)
	return trust
}

// oakfield puts school in the Oakfield Learning Trust with a second
// school, Ashgrove Academy, whose account ceo@oakfield.example.org is the
// trust's administrator; a third school is outside the trust.
func (a *app) oakfield(school int64) (other, outside int64) {
	a.t.Helper()
	trust := a.inTrust(school, "Oakfield Learning Trust", "oakfield")
	other = a.id(`INSERT INTO schools (slug, name, trust_id) VALUES ('ashgrove', 'Ashgrove Academy', $1) RETURNING id`, trust)
	outside = a.id(`INSERT INTO schools (slug, name) VALUES ('elsewhere', 'Not In The Trust') RETURNING id`)
	a.account(other, "ceo@oakfield.example.org", "Trust CEO", "trust_admin")
	return other, outside
}

// otherSchoolAdmin creates a second school with an admin and signs in.
func (a *app) otherSchoolAdmin() *client {
	a.t.Helper()
	school := a.id(`INSERT INTO schools (slug, name) VALUES ('other', 'Other School') RETURNING id`)
	a.account(school, "office@other.example", "Other Office", "admin")
	return a.signedIn("office@other.example")
}

func TestSignOutEndsTheSessionOnTheServer(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signedIn(demo.StaffEmail)
	u, _ := url.Parse(a.ts.URL)
	stolen := c.http.Jar.Cookies(u)
	if len(stolen) == 0 {
		t.Fatal("no session cookie")
	}
	for _, ck := range stolen {
		if ck.Name == "signoff_session" {
			// The jar does not show flags; check them on a fresh sign-in below.
			break
		}
	}
	if res := c.post("/sign-out", nil); res.status != http.StatusSeeOther {
		t.Fatalf("sign out: %d", res.status)
	}
	thief := a.client()
	thief.http.Jar.SetCookies(u, stolen)
	if res := thief.get("/"); res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/sign-in") {
		t.Fatalf("a copied cookie still works after sign-out: %d %s", res.status, res.location)
	}
	// Cookie flags.
	res := a.client().post("/sign-in", url.Values{"email": {demo.StaffEmail}, "password": {demo.Password}})
	set := res.header.Get("Set-Cookie")
	if !strings.Contains(set, "HttpOnly") || !strings.Contains(set, "SameSite=Lax") {
		t.Fatalf("session cookie flags: %s", set)
	}
}

func TestSignInFailuresLookTheSame(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	wrong := a.client().post("/sign-in", url.Values{"email": {demo.StaffEmail}, "password": {"not-the-password"}})
	unknown := a.client().post("/sign-in", url.Values{"email": {"nobody@example.org"}, "password": {"not-the-password"}})
	if wrong.status != unknown.status || wrong.status != http.StatusUnauthorized {
		t.Fatalf("statuses differ or are not 401: %d %d", wrong.status, unknown.status)
	}
	msg := "The email address or password is not right"
	if !strings.Contains(wrong.body, msg) || !strings.Contains(unknown.body, msg) {
		t.Fatal("the failure message differs")
	}
	empty := a.client().post("/sign-in", url.Values{})
	if empty.status != http.StatusUnprocessableEntity || !strings.Contains(empty.body, "Enter your email address") {
		t.Fatalf("empty sign-in: %d", empty.status)
	}
	// next is followed only within the site.
	res := a.client().post("/sign-in", url.Values{"email": {demo.StaffEmail}, "password": {demo.Password}, "next": {"//evil.example/"}})
	if res.location != "/" {
		t.Fatalf("open redirect: %q", res.location)
	}
}

func TestCrossSitePostsAreRefused(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signedIn(demo.StaffEmail)
	form := a.formID(aup)
	req, _ := http.NewRequest("POST", a.ts.URL+"/forms/"+itoa(form), strings.NewReader("agree=yes&typed_name=Daniel+Okafor&version_id="+itoa(a.versionID(form))))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if res := c.do(req); res.status != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d, want 403", res.status)
	}
}

func TestHealthAndHeaders(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.client()
	if res := c.get("/healthz"); res.status != 200 {
		t.Fatalf("healthz %d", res.status)
	}
	res := c.get("/readyz")
	if res.status != 200 || !strings.Contains(res.body, "ready") {
		t.Fatalf("readyz %d", res.status)
	}
	page := c.get("/sign-in")
	csp := page.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("CSP: %q", csp)
	}
	if page.header.Get("X-Content-Type-Options") != "nosniff" || page.header.Get("Referrer-Policy") == "" {
		t.Fatal("security headers missing")
	}
	if !strings.Contains(page.body, "Hollybrook Primary School") || !strings.Contains(page.body, `<html lang="en-GB"`) {
		t.Fatal("sign-in page lacks the school's name or language")
	}
	theme := c.get("/theme/00594f.css")
	if theme.status != 200 || !strings.Contains(theme.body, "--school-colour:#00594f") || !strings.Contains(theme.body, "--school-colour-text:#ffffff") {
		t.Fatalf("theme: %d %s", theme.status, theme.body)
	}
	if light := c.get("/theme/ffdd00.css"); !strings.Contains(light.body, "--school-colour-text:#000000") {
		t.Fatalf("a light colour should get dark text: %s", light.body)
	}
	if bad := c.get("/theme/zzz.css"); bad.status != 404 {
		t.Fatalf("bad theme colour: %d", bad.status)
	}
}

func TestAdminCreatesAndPublishesAPolicy(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	office := a.signedIn(demo.AdminEmail)
	// The first generation's address of the form redirects to the new page.
	if res := office.get("/admin/policies/new"); res.status != http.StatusMovedPermanently || res.location != "/policies/new" {
		t.Fatalf("old create address: %d %s", res.status, res.location)
	}
	// Nothing half-saved on a bad form.
	bad := office.post("/policies/new", url.Values{"title": {""}, "review_cycle_years": {"1"}, "body": {""}})
	if bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.body, `href="#title"`) || !strings.Contains(bad.body, `href="#body"`) {
		t.Fatalf("bad policy: %d", bad.status)
	}
	body := "# Mobile phones\n\nKeep your phone **out of sight** in class.\n\n<script>alert(1)</script>\n"
	res := office.post("/policies/new", url.Values{"title": {"Mobile phone policy"}, "review_cycle_years": {"2"}, "body": {body}})
	if res.status != http.StatusSeeOther || !strings.HasSuffix(res.location, "?done=saved") {
		t.Fatalf("create: %d %s\n%s", res.status, res.location, res.body)
	}
	policyPath := strings.TrimSuffix(res.location, "?done=saved")
	page := office.get(res.location)
	if !strings.Contains(page.body, "Draft saved") || !strings.Contains(page.body, "<strong>out of sight</strong>") || strings.Contains(page.body, "<script>alert") {
		t.Fatalf("draft not rendered safely on the policy's page:\n%s", page.body)
	}
	if !strings.Contains(page.body, `href="`+policyPath+`/publish"`) || !strings.Contains(page.body, `href="`+policyPath+`/revision"`) {
		t.Fatal("the first draft is not edited and published from the policy's page")
	}
	// Old addresses of the policy redirect to its page and its editor.
	id := strings.TrimPrefix(policyPath, "/policies/")
	for old, want := range map[string]string{"/admin/policies": "/policies", "/admin/policies/" + id: policyPath,
		"/admin/policies/" + id + "?saved=1": policyPath + "?saved=1", "/admin/policies/" + id + "/edit": policyPath + "/revision"} {
		if res := office.get(old); res.status != http.StatusMovedPermanently || res.location != want {
			t.Errorf("GET %s: %d %s, want 301 to %s", old, res.status, res.location, want)
		}
	}
	// The one editor edits version 1 while it is a draft.
	editor := office.get(policyPath + "/revision")
	if editor.status != 200 || !strings.Contains(editor.body, "Edit the draft of version 1") || !strings.Contains(editor.body, "out of sight") {
		t.Fatalf("editor of the first draft: %d", editor.status)
	}
	publish := office.get(policyPath + "/publish")
	versionID := regexp.MustCompile(`name="version_id" value="(\d+)"`).FindStringSubmatch(publish.body)
	if publish.status != 200 || versionID == nil {
		t.Fatalf("no publish form: %d", publish.status)
	}
	// No audience chosen: refused, nothing published.
	refused := office.post(policyPath+"/publish", url.Values{"version_id": {versionID[1]}, "statement": {"I will comply."}, "renewal": {"each_version"},
		"due-day": {"31"}, "due-month": {"2"}, "due-year": {"2099"}})
	if refused.status != http.StatusUnprocessableEntity || !strings.Contains(refused.body, `href="#audience"`) || !strings.Contains(refused.body, `href="#due"`) {
		t.Fatalf("publish without audience: %d", refused.status)
	}
	if n := a.id(`SELECT count(*) FROM policy_versions v JOIN policies p ON p.id = v.policy_id WHERE p.title = 'Mobile phone policy' AND v.status = 'published'`); n != 0 {
		t.Fatal("a refused publish published the draft")
	}
	ok := office.post(policyPath+"/publish", url.Values{"version_id": {versionID[1]}, "statement": {"I will keep my phone away."},
		"renewal": {"each_version"}, "audience": {"teacher", "teaching_assistant"}})
	if ok.status != http.StatusSeeOther || ok.location != policyPath+"?done=published" {
		t.Fatalf("publish: %d %s\n%s", ok.status, ok.location, ok.body)
	}
	if after := office.get(ok.location); !strings.Contains(after.body, "See who has signed") || !strings.Contains(after.body, "Teacher and teaching assistant") {
		t.Fatal("the policy's page does not say who signs it")
	}
	// A teacher now has it to sign; a governor does not.
	if home := a.signedIn(demo.StaffEmail).get("/"); !strings.Contains(home.body, "Mobile phone policy") {
		t.Fatal("the teacher is not asked to sign the new policy")
	}
	var govEmail string
	_ = a.db.Pool.QueryRow(context.Background(), `SELECT email FROM people WHERE staff_role = 'governor' LIMIT 1`).Scan(&govEmail)
	if home := a.signedIn(govEmail).get("/"); strings.Contains(home.body, "Mobile phone policy") {
		t.Fatal("a governor is asked to sign a policy for teachers")
	}
	// The published text can no longer be edited: the editor starts version 2.
	if res := office.get(policyPath + "/revision"); res.status != 200 || !strings.Contains(res.body, "Revise the policy: version 2") {
		t.Fatalf("editing a published policy: %d", res.status)
	}
}

// pdfText extracts a PDF's text with pdftotext, laid out.
func pdfText(t *testing.T, pdf string) string {
	t.Helper()
	return pdftest.Run(t, "pdftotext", "-layout", pdftest.File(t, []byte(pdf)), "-")
}

func itoa[T int | int64](n T) string { return strconv.FormatInt(int64(n), 10) }

func TestAdoptStarterPolicies(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	office := a.signedIn(demo.AdminEmail)
	page := office.get("/policies/starter")
	if page.status != 200 || !strings.Contains(page.body, `value="safeguarding"`) {
		t.Fatalf("starter page: %d", page.status)
	}
	res := office.post("/policies/starter", url.Values{"starter": {"safeguarding", "pay"}})
	if res.status != http.StatusSeeOther || res.location != "/policies?adopted=2" {
		t.Fatalf("adopt: %d %s\n%s", res.status, res.location, res.body)
	}
	lib := office.get(res.location)
	if !strings.Contains(lib.body, "2 policies added to the library") {
		t.Fatal("the library does not say what was adopted")
	}
}
