package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/audit"
	"signoff/internal/auth"
	"signoff/internal/demo"
	"signoff/internal/mail"
	"signoff/internal/mail/mailtest"
	"signoff/internal/web"
)

// TestSignInLinkByRealEmail asks for a sign-in link, sends it through a
// real SMTP server, reads the email there, and follows the link: once.
func TestSignInLinkByRealEmail(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	smtp := mailtest.Start(t)
	sender := mail.NewSender(a.db, smtp.Config(), slog.Default())

	anon := a.client()
	known := anon.post("/sign-in/link", url.Values{"email": {demo.StaffEmail}})
	unknown := a.client().post("/sign-in/link", url.Values{"email": {"nobody@hollybrook.example.sch.uk"}})
	// Post/redirect/get, to the same page whoever the address belongs to.
	if known.status != http.StatusSeeOther || unknown.status != http.StatusSeeOther || known.location != unknown.location {
		t.Fatalf("link requests: %d %s, %d %s", known.status, known.location, unknown.status, unknown.location)
	}
	if sent := anon.get(known.location); sent.status != 200 || !strings.Contains(sent.body, "Check your email") || strings.Contains(known.location, "@") {
		t.Fatalf("after asking for a link: %d %s", sent.status, known.location)
	}
	// An administrator is not sent a link: they sign in with a password.
	_ = a.client().post("/sign-in/link", url.Values{"email": {demo.AdminEmail}})

	runMail(t, a.db, sender)
	msgs := smtp.WaitMessages(t, 1, 10*time.Second)
	var queued int
	_ = a.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'mail_send'`).Scan(&queued)
	if len(msgs) != 1 || queued != 1 || !strings.Contains(strings.Join(msgs[0].To, ","), demo.StaffEmail) {
		t.Fatalf("%d send jobs, messages: %+v (want exactly one: to the member of staff)", queued, msgs)
	}
	m := regexp.MustCompile(`http://signoff\.test/sign-in/link/[A-Za-z0-9_-]+`).FindString(msgs[0].Text)
	if m == "" {
		t.Fatalf("no link in the email: %+v", msgs[0])
	}
	path := strings.TrimPrefix(m, "http://signoff.test")

	c := a.client()
	// Opening the link (as a mail scanner would) does not use it.
	for range 2 {
		if page := c.get(path); page.status != 200 || !strings.Contains(page.body, "Sign in as Daniel Okafor") {
			t.Fatalf("link page: %d", page.status)
		}
	}
	res := c.post(path, nil)
	if res.status != http.StatusSeeOther || res.location != "/" {
		t.Fatalf("using the link: %d %s", res.status, res.location)
	}
	if home := c.get("/"); home.status != 200 || !strings.Contains(home.body, "Hello, Daniel") {
		t.Fatalf("signed in by link: %d", home.status)
	}
	// Used once: a second use fails, and says what to do.
	again := a.client().post(path, nil)
	if again.status != http.StatusUnauthorized || !strings.Contains(again.body, "Ask for a new one") {
		t.Fatalf("second use: %d", again.status)
	}
	var method string
	_ = a.db.Pool.QueryRow(context.Background(), `SELECT detail->>'method' FROM audit_log WHERE action = 'account.signed_in' ORDER BY id DESC LIMIT 1`).Scan(&method)
	if method != "sign-in link to their address" {
		t.Fatalf("audit records sign-in method %q", method)
	}
}

type pgxTx = pgx.Tx

func TestSignInLinkExpires(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	var token string
	err := auth.NewStore(a.db).RequestSignInLink(context.Background(), demo.StaffEmail, "198.51.100.1",
		func(_ context.Context, _ pgxTx, _ auth.Account, tok string) error { token = tok; return nil })
	if err != nil || token == "" {
		t.Fatalf("request: %v", err)
	}
	now := time.Now().UTC().Add(auth.SignInLinkLifetime + time.Minute)
	a.db.Now = func() time.Time { return now }
	if res := a.client().post("/sign-in/link/"+token, nil); res.status != http.StatusUnauthorized ||
		!strings.Contains(res.body, "This link does not work") || !strings.Contains(res.body, `href="/sign-in#link"`) {
		t.Fatalf("expired link: %d\n%s", res.status, res.body)
	}
}

func TestSignInIsRateLimited(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	var last response
	for range auth.LimitSignInByAddress.Max + 1 {
		last = a.client().post("/sign-in", url.Values{"email": {demo.StaffEmail}, "password": {"wrong-password"}})
	}
	if last.status != http.StatusTooManyRequests || !strings.Contains(last.body, "Too many attempts") {
		t.Fatalf("after too many failures: %d", last.status)
	}
	// Even the right password waits now.
	right := a.client().post("/sign-in", url.Values{"email": {demo.StaffEmail}, "password": {demo.Password}})
	if right.status != http.StatusTooManyRequests {
		t.Fatalf("right password during the limit: %d", right.status)
	}
	// Another address is not affected.
	if other := a.client().post("/sign-in", url.Values{"email": {demo.AdminEmail}, "password": {demo.Password}}); other.status != http.StatusSeeOther {
		t.Fatalf("another address: %d", other.status)
	}
}

func TestFamilyLinkOpensOnlyThatFamily(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	school, parentID, _ := a.demoParent()
	store := auth.NewStore(a.db)
	link, err := store.IssueFamilyLink(ctx, school, parentID, audit.System("test"), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := a.client()
	// Reusable: the link works more than once.
	for range 2 {
		if res := c.get("/f/" + link.Token); res.status != http.StatusSeeOther || res.location != "/family" {
			t.Fatalf("family link: %d %s", res.status, res.location)
		}
	}
	home := c.get("/family")
	var children []int64
	rows, _ := a.db.Pool.Query(ctx, `SELECT pupil_id FROM guardianships WHERE parent_id = $1`, parentID)
	for rows.Next() {
		var id int64
		_ = rows.Scan(&id)
		children = append(children, id)
	}
	rows.Close()
	if len(children) < 2 {
		t.Fatalf("the demo parent has %d children, want 2", len(children))
	}
	for _, id := range children {
		if !strings.Contains(home.body, `href="/family/children/`+itoa(id)+`/forms/`) {
			t.Errorf("family page lacks child %d", id)
		}
		if res := c.get("/family/children/" + itoa(id)); res.status != 200 || !strings.Contains(res.body, `href="/family/children/`+itoa(id)+`/forms/`) ||
			!strings.Contains(res.body, "You are their") {
			t.Errorf("own child %d: %d, or the page lacks the child's forms or the parent's relationship", id, res.status)
		}
	}
	// Another family's child, by changing the id in the address: not found.
	other := a.id(`SELECT min(id) FROM people WHERE kind = 'pupil' AND id NOT IN (SELECT pupil_id FROM guardianships WHERE parent_id = $1)`, parentID)
	if res := c.get("/family/children/" + itoa(other)); res.status != http.StatusNotFound {
		t.Fatalf("another family's child: %d, want 404", res.status)
	}
	// The parent reaches no staff or office page.
	for _, path := range []string{"/admin/tracking", "/admin/pupils/" + itoa(other), "/forms/1", "/account"} {
		if res := c.get(path); res.status != http.StatusForbidden {
			t.Errorf("parent opening %s: %d, want 403", path, res.status)
		}
	}
	// The code typed from a letter works too, in any case and without dashes.
	typed := strings.ToLower(strings.ReplaceAll(link.Token, "-", " "))
	if res := a.client().post("/family/code", url.Values{"code": {typed}}); res.status != http.StatusSeeOther || res.location != "/family" {
		t.Fatalf("typed code: %d %s", res.status, res.location)
	}
	if res := a.client().post("/family/code", url.Values{"code": {"AAAA-BBBB-CCCC-DDDD"}}); res.status != http.StatusUnauthorized ||
		!strings.Contains(res.body, "That code does not work") {
		t.Fatalf("wrong code: %d", res.status)
	}

	// The office replaces the link: the old one stops working at once, and
	// the session opened with it ends.
	office := a.signedIn(demo.AdminEmail)
	page := "/admin/parents/" + itoa(parentID)
	res := office.post(page+"/family-link/print", nil)
	if res.status != http.StatusSeeOther || res.location != page+"?done=printed" {
		t.Fatalf("print a new link: %d %s", res.status, res.location)
	}
	// The page it redirects to shows the new link, and shows it again on
	// a reload; another browser of the office is not shown it.
	if other := a.signedIn(demo.AdminEmail).get(res.location); strings.Contains(other.body, "/f/") || !strings.Contains(other.body, "no longer shown") {
		t.Fatalf("another browser was shown the new link: %d", other.status)
	}
	if res = office.get(res.location); res.status != 200 || !strings.Contains(res.body, "/f/") {
		t.Fatalf("the new link after the redirect: %d", res.status)
	}
	if again := office.get(page + "?done=printed"); !strings.Contains(again.body, "/f/") {
		t.Fatal("a reload no longer shows the new link")
	}
	if res := a.client().get("/f/" + link.Token); res.status != http.StatusUnauthorized {
		t.Fatalf("the replaced link still works: %d", res.status)
	}
	newToken := regexp.MustCompile(`/f/([0-9A-Z-]{19})`).FindStringSubmatch(res.body)[1]
	fresh := a.client()
	if res := fresh.get("/f/" + newToken); res.status != http.StatusSeeOther {
		t.Fatalf("the new link: %d", res.status)
	}
	if res := office.post("/admin/parents/"+itoa(parentID)+"/family-link/revoke", nil); res.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", res.status)
	}
	if res := fresh.get("/family"); res.status != http.StatusSeeOther {
		t.Fatalf("a revoked parent's session still works: %d", res.status)
	}
	if res := a.client().get("/f/" + newToken); res.status != http.StatusUnauthorized {
		t.Fatalf("a revoked link still works: %d", res.status)
	}
}

func TestFamilyLinkRequestAndExpiry(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	_, parentID, _ := a.demoParent()
	var email string
	_ = a.db.Pool.QueryRow(ctx, `SELECT email FROM people WHERE id = $1`, parentID).Scan(&email)
	known := a.client().post("/family/lost", url.Values{"email": {email}})
	unknown := a.client().post("/family/lost", url.Values{"email": {"stranger@example.net"}})
	if known.status != http.StatusSeeOther || unknown.status != http.StatusSeeOther || known.location != unknown.location {
		t.Fatalf("requests: %d %d", known.status, unknown.status)
	}
	if sent := a.client().get(known.location); !strings.Contains(sent.body, "we have sent a new link") {
		t.Fatalf("after asking for a new link:\n%s", sent.body)
	}
	var queued int
	_ = a.db.Pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE kind = 'family_link' AND to_address = $1`, email).Scan(&queued)
	if queued != 1 {
		t.Fatalf("family link emails queued for the parent: %d", queued)
	}
	var body string
	_ = a.db.Pool.QueryRow(ctx, `SELECT body_text FROM outbox WHERE kind = 'family_link'`).Scan(&body)
	token := regexp.MustCompile(`/f/([0-9A-Z-]{19})`).FindStringSubmatch(body)
	if token == nil {
		t.Fatalf("no link in the email: %s", body)
	}
	// The school's period (90 days by default) ends the link.
	later := time.Now().UTC().AddDate(0, 0, 91)
	a.db.Now = func() time.Time { return later }
	if res := a.client().get("/f/" + token[1]); res.status != http.StatusUnauthorized {
		t.Fatalf("expired family link: %d", res.status)
	}
}

func TestOfficeSetsRoles(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	office := a.signedIn(demo.AdminEmail)
	daniel := a.id(`SELECT id FROM people WHERE email = $1`, demo.StaffEmail)
	// Daniel has a password in the demo, so he can be made an administrator.
	res := office.post("/admin/staff/"+itoa(daniel)+"/roles", url.Values{"roles": {"admin", "head"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("roles: %d\n%s", res.status, res.body)
	}
	if page := a.signedIn(demo.StaffEmail).get("/admin/tracking"); page.status != 200 {
		t.Fatalf("new admin opening the dashboard: %d", page.status)
	}
	// Someone without a password cannot be.
	if _, err := a.db.Pool.Exec(context.Background(), `UPDATE accounts SET password_hash = NULL WHERE email = 'zhartley@hollybrook.example.sch.uk'`); err != nil {
		t.Fatal(err)
	}
	zoe := a.id(`SELECT id FROM people WHERE email = 'zhartley@hollybrook.example.sch.uk'`)
	if res := office.post("/admin/staff/"+itoa(zoe)+"/roles", url.Values{"roles": {"admin"}}); res.status != http.StatusUnprocessableEntity ||
		!strings.Contains(res.body, "must sign in with a password") {
		t.Fatalf("admin without a password: %d", res.status)
	}
	// The audit log shows the change, and the office can filter it.
	audit := office.get("/admin/audit?action=account.roles_changed")
	if audit.status != 200 || !strings.Contains(audit.body, `data-label="What">account.roles_changed`) || strings.Contains(audit.body, `data-label="What">signature.created`) {
		t.Fatalf("audit page filter: %d", audit.status)
	}
}

func TestAccountPassword(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signedIn(demo.StaffEmail)
	bad := c.post("/account/password", url.Values{"current_password": {"nope"}, "new_password": {"short"}, "confirm_password": {"x"}})
	if bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.body, `href="#current_password"`) || !strings.Contains(bad.body, `href="#new_password"`) {
		t.Fatalf("bad password change: %d", bad.status)
	}
	ok := c.post("/account/password", url.Values{"current_password": {demo.Password}, "new_password": {"correct horse battery"}, "confirm_password": {"correct horse battery"}})
	if ok.status != http.StatusSeeOther {
		t.Fatalf("password change: %d\n%s", ok.status, ok.body)
	}
	if res := a.client().post("/sign-in", url.Values{"email": {demo.StaffEmail}, "password": {"correct horse battery"}}); res.status != http.StatusSeeOther {
		t.Fatalf("sign in with the new password: %d", res.status)
	}
}

func TestOutboxShowsWaitingMail(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	_ = a.client().post("/sign-in/link", url.Values{"email": {demo.StaffEmail}})
	office := a.signedIn(demo.AdminEmail)
	list := office.get("/admin/outbox")
	if list.status != 200 || !strings.Contains(list.body, "Your sign-in link for Hollybrook Primary School") || !strings.Contains(list.body, "No mail server is set up") {
		t.Fatalf("outbox: %d\n%s", list.status, list.body)
	}
	id := regexp.MustCompile(`href="/admin/outbox/(\d+)"`).FindStringSubmatch(list.body)
	msg := office.get("/admin/outbox/" + id[1])
	if msg.status != 200 || !strings.Contains(msg.body, "/sign-in/link/") {
		t.Fatalf("message: %d", msg.status)
	}
	// Another school's admin cannot read it.
	if res := a.otherSchoolAdmin().get("/admin/outbox/" + id[1]); res.status != http.StatusNotFound {
		t.Fatalf("another school's admin reading the message: %d", res.status)
	}
}

// TestOutboxRetry: on a site with SMTP, a failed message shows why and a
// button to try again, which queues its send job once.
func TestOutboxRetry(t *testing.T) {
	t.Parallel()
	base := newApp(t)
	srv := web.New(base.db, web.Config{SessionKeys: testKeys, BaseURL: "http://signoff.test", MailEnabled: true})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	a := &app{t: t, db: base.db, srv: srv, ts: ts}
	ctx := context.Background()
	var school int64
	_ = a.db.Pool.QueryRow(ctx, `SELECT id FROM schools WHERE slug = $1`, demo.SchoolSlug).Scan(&school)
	id := a.id(`INSERT INTO outbox (school_id, to_address, subject, body_text, created_at, next_attempt_at, attempts, last_error, failed_at)
		VALUES ($1, 'x@example.org', 'Bounced', 'Body', now(), now(), 8, '550 mailbox unavailable', now()) RETURNING id`, school)
	office := a.signedIn(demo.AdminEmail)
	page := office.get("/admin/outbox/" + itoa(id))
	if page.status != 200 || !strings.Contains(page.body, "Failed: 550 mailbox unavailable") || !strings.Contains(page.body, `action="/admin/outbox/`+itoa(id)+`/retry"`) {
		t.Fatalf("failed message page: %d\n%s", page.status, page.body)
	}
	res := office.post("/admin/outbox/"+itoa(id)+"/retry", nil)
	if res.status != http.StatusSeeOther || res.location != "/admin/outbox/"+itoa(id)+"?done=retry" {
		t.Fatalf("retry: %d %s", res.status, res.location)
	}
	if page := office.get(res.location); !strings.Contains(page.body, "will be sent again") || strings.Contains(page.body, "Try sending again") {
		t.Fatalf("after retry: %s", page.body)
	}
	if again := office.post("/admin/outbox/"+itoa(id)+"/retry", nil); again.status != http.StatusConflict {
		t.Fatalf("retrying a waiting message: %d, want 409", again.status)
	}
	if n := a.id(`SELECT count(*) FROM river_job WHERE kind = 'mail_send' AND args @> jsonb_build_object('outbox_id', $1::bigint)`, id); n != 1 {
		t.Fatalf("%d send jobs for the message, want 1", n)
	}
	if res := a.otherSchoolAdmin().post("/admin/outbox/"+itoa(id)+"/retry", nil); res.status != http.StatusNotFound {
		t.Fatalf("another school's admin: %d, want 404", res.status)
	}
}

func TestSchoolSettings(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	office := a.signedIn(demo.AdminEmail)
	bad := office.post("/admin/school", url.Values{"name": {""}, "colour": {"green"}, "family_link_days": {"1000"}})
	if bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.body, `href="#name"`) ||
		!strings.Contains(bad.body, `href="#colour"`) || !strings.Contains(bad.body, `href="#family_link_days"`) {
		t.Fatalf("bad settings: %d", bad.status)
	}
	ok := office.post("/admin/school", url.Values{"name": {"Hollybrook Primary School"}, "colour": {"7A1F5C"}, "family_link_days": {"30"}})
	if ok.status != http.StatusSeeOther {
		t.Fatalf("settings: %d\n%s", ok.status, ok.body)
	}
	if page := office.get("/"); !strings.Contains(page.body, "/theme/7a1f5c.css") {
		t.Fatal("the new colour is not used")
	}
	ctx := context.Background()
	school, parentID, _ := a.demoParent()
	link, err := auth.NewStore(a.db).IssueFamilyLink(ctx, school, parentID, audit.System("test"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if days := link.ExpiresAt.Sub(link.CreatedAt).Hours() / 24; days != 30 {
		t.Fatalf("a new family link lasts %.0f days, want 30", days)
	}
}

func TestParentPagesInTheParentsLanguage(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.client()
	ar := c.get("/family/code?lang=ar")
	if ar.status != 200 || !strings.Contains(ar.body, `lang="ar"`) || !strings.Contains(ar.body, `dir="rtl"`) || !strings.Contains(ar.body, "اكتب الرمز") {
		t.Fatalf("Arabic code page: %d", ar.status)
	}
	// The choice is remembered for the next page.
	if lost := c.get("/family/lost"); !strings.Contains(lost.body, `dir="rtl"`) {
		t.Fatal("the language choice was not remembered")
	}
	pl := a.client().post("/family/code?lang=pl", url.Values{"code": {"short"}})
	if pl.status != http.StatusUnprocessableEntity || !strings.Contains(pl.body, "Wpisz 16 liter") || !strings.Contains(pl.body, "Wystąpił problem") {
		t.Fatalf("Polish error: %d\n%s", pl.status, pl.body)
	}
}

func TestPupilListPages(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	office := a.signedIn(demo.AdminEmail)
	rows := regexp.MustCompile(`href="/admin/pupils/\d+"`)
	first := office.get("/admin/pupils")
	if n := len(rows.FindAllString(first.body, -1)); n != 100 || !strings.Contains(first.body, "140 pupils") || !strings.Contains(first.body, `href="/admin/pupils?page=2"`) {
		t.Fatalf("first page: %d rows", n)
	}
	second := office.get("/admin/pupils?page=2")
	if n := len(rows.FindAllString(second.body, -1)); n != 40 || strings.Contains(second.body, "page=3") || !strings.Contains(second.body, "Previous page") {
		t.Fatalf("second page: %d rows", n)
	}
	if class := office.get("/admin/pupils?class=H3"); len(rows.FindAllString(class.body, -1)) != 20 || strings.Contains(class.body, "Next page") {
		t.Fatal("one class is not one page")
	}
}
