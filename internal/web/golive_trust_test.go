package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"signoff/internal/audit"
	"signoff/internal/onboarding"
	"signoff/internal/schools"
)

var setUpPathRE = regexp.MustCompile(`http://signoff\.test(/set-up/[A-Za-z0-9_-]{43})`)

// lastMailTo returns the newest outbox message to address.
func (a *app) lastMailTo(address string) (subject, text string) {
	a.t.Helper()
	if err := a.db.Pool.QueryRow(context.Background(), `SELECT subject, body_text FROM outbox WHERE to_address = $1 ORDER BY id DESC LIMIT 1`, address).
		Scan(&subject, &text); err != nil {
		a.t.Fatalf("no email to %s: %v", address, err)
	}
	return subject, text
}

// setUpWith uses a set-up link and returns the signed-in client.
func (a *app) setUpWith(path, password string) *client {
	a.t.Helper()
	c := a.client()
	if res := c.post(path, url.Values{"new_password": {password}, "confirm_password": {password}}); res.status != http.StatusSeeOther {
		a.t.Fatalf("set-up link %s: %d\n%s", path, res.status, res.body)
	}
	return c
}

// TestTrustOfTwoSchoolsInTheWeb: a trust administrator adds a second
// school (whose administrator is emailed a set-up link), and grants and
// removes trust administrators; another trust's administrator reaches none of it.
func TestTrustOfTwoSchoolsInTheWeb(t *testing.T) {
	t.Parallel()
	a := newEmptyApp(t)
	ctx := context.Background()
	st := onboarding.NewStore(a.db)
	trust := schools.Trust{Name: "Oakfield Learning Trust"}
	if err := schools.NewStore(a.db).CreateTrust(ctx, &trust, audit.System("test")); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateSchool(ctx, onboarding.NewSchool{Name: "Oakfield Primary", TrustSlug: trust.Slug, AdminEmail: "office@oakfield-primary.example.sch.uk"}, audit.System("test"), nil); err != nil {
		t.Fatal(err)
	}
	g, err := st.GrantTrustAdmin(ctx, trust.ID, 0, "it@oakfield.example.org", "Alex Morgan", audit.System("test"), nil)
	if err != nil || !g.Created || g.SetUpToken == "" {
		t.Fatalf("grant: %+v %v", g, err)
	}
	ta := a.setUpWith("/set-up/"+g.SetUpToken, "trust admin password")
	if res := ta.get("/"); res.status != http.StatusSeeOther || res.location != "/trust" {
		t.Fatalf("a trust administrator's home: %d %s", res.status, res.location)
	}
	// A trust administrator changes their own password like anyone else.
	if res := ta.get("/account"); res.status != 200 || !strings.Contains(res.body, "Trust administrator") {
		t.Fatalf("a trust administrator's account page: %d", res.status)
	}
	if res := ta.post("/account/password", url.Values{"current_password": {"trust admin password"}, "new_password": {"a newer trust password"},
		"confirm_password": {"a newer trust password"}}); res.status != http.StatusSeeOther {
		t.Fatalf("a trust administrator changing their password: %d\n%s", res.status, res.body)
	}
	list := ta.get("/trust/schools")
	if list.status != 200 || !strings.Contains(list.body, "Oakfield Primary") || !strings.Contains(list.body, "office@oakfield-primary.example.sch.uk") ||
		!strings.Contains(list.body, "of 5 set-up steps done") {
		t.Fatalf("trust schools: %d\n%s", list.status, list.body)
	}

	// Add a second school: refused with bad fields, then made.
	bad := ta.post("/trust/schools", url.Values{"name": {""}, "admin_email": {"nope"}})
	if bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.body, `href="#name"`) || !strings.Contains(bad.body, `href="#admin_email"`) {
		t.Fatalf("bad new school: %d\n%s", bad.status, bad.body)
	}
	res := ta.post("/trust/schools", url.Values{"name": {"Oakfield Secondary"}, "admin_name": {"Ravi Shah"}, "admin_email": {"rshah@oakfield-sec.example.sch.uk"}})
	if res.status != http.StatusSeeOther || res.location != "/trust/schools?added=oakfield-secondary" {
		t.Fatalf("new school: %d %s\n%s", res.status, res.location, res.body)
	}
	if list := ta.get(res.location); !strings.Contains(list.body, "Oakfield Secondary") || !strings.Contains(list.body, "School added") {
		t.Fatalf("the new school is not listed:\n%s", list.body)
	}
	if cmp := ta.get("/trust"); !strings.Contains(cmp.body, "Oakfield Primary") || !strings.Contains(cmp.body, "Oakfield Secondary") {
		t.Fatalf("schools compared lacks a school:\n%s", cmp.body)
	}
	subject, text := a.lastMailTo("rshah@oakfield-sec.example.sch.uk")
	m := setUpPathRE.FindStringSubmatch(text)
	if m == nil || !strings.Contains(subject, "Set up") || !strings.Contains(text, "first administrator of Oakfield Secondary") {
		t.Fatalf("set-up email: %q\n%s", subject, text)
	}
	ravi := a.setUpWith(m[1], "oakfield secondary office")
	if dash := ravi.get("/admin/tracking"); dash.status != 200 || !strings.Contains(dash.body, "Oakfield Secondary") || !strings.Contains(dash.body, "Set up your school") {
		t.Fatalf("the new school's administrator: %d\n%s", dash.status, dash.body)
	}

	// Grant: an account of one of the trust's schools (told to sign in),
	// and a new address (sent a set-up link).
	if res := ta.post("/trust/admins", url.Values{"email": {"RShah@oakfield-sec.example.sch.uk"}}); res.status != http.StatusSeeOther {
		t.Fatalf("grant to a school administrator: %d\n%s", res.status, res.body)
	}
	if subject, text := a.lastMailTo("rshah@oakfield-sec.example.sch.uk"); !strings.Contains(subject, "trust administrator of Oakfield Learning Trust") || setUpPathRE.MatchString(text) {
		t.Fatalf("notice to an existing account: %q\n%s", subject, text)
	}
	if res := ta.post("/trust/admins", url.Values{"email": {"finance@oakfield.example.org"}, "name": {"Pat Finance"}}); res.status != http.StatusSeeOther {
		t.Fatalf("grant to a new address: %d", res.status)
	}
	if _, text := a.lastMailTo("finance@oakfield.example.org"); !setUpPathRE.MatchString(text) {
		t.Fatalf("no set-up link for a new trust administrator:\n%s", text)
	}
	if res := ta.post("/trust/admins", url.Values{"email": {"finance@oakfield.example.org"}}); res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "already") {
		t.Fatalf("granting twice: %d", res.status)
	}
	admins := ta.get("/trust/admins")
	for _, want := range []string{"Alex Morgan", "Ravi Shah", "Pat Finance", "has not set a password yet"} {
		if !strings.Contains(admins.body, want) {
			t.Fatalf("trust administrators lack %q:\n%s", want, admins.body)
		}
	}
	if dash := ravi.get("/trust/schools"); dash.status != 200 {
		t.Fatalf("Ravi, now a trust administrator too: %d", dash.status)
	}

	// Another trust's administrator sees and changes nothing of this one.
	other := schools.Trust{Name: "Riverside Trust"}
	if err := schools.NewStore(a.db).CreateTrust(ctx, &other, audit.System("test")); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateSchool(ctx, onboarding.NewSchool{Name: "Riverside Infants", TrustID: other.ID, AdminEmail: "office@riverside.example.sch.uk"}, audit.System("test"), nil); err != nil {
		t.Fatal(err)
	}
	og, err := st.GrantTrustAdmin(ctx, other.ID, 0, "it@riverside.example.org", "", audit.System("test"), nil)
	if err != nil {
		t.Fatal(err)
	}
	outsider := a.setUpWith("/set-up/"+og.SetUpToken, "riverside trust admin")
	if res := outsider.get("/trust/schools"); strings.Contains(res.body, "Oakfield") || !strings.Contains(res.body, "Riverside Infants") {
		t.Fatalf("another trust's schools page:\n%s", res.body)
	}
	raviID := a.id(`SELECT id FROM accounts WHERE email = 'rshah@oakfield-sec.example.sch.uk'`)
	if res := outsider.post("/trust/admins/"+itoa(raviID)+"/remove", nil); res.status != http.StatusNotFound {
		t.Fatalf("another trust's administrator removing ours: %d", res.status)
	}
	if res := outsider.post("/trust/admins", url.Values{"email": {"rshah@oakfield-sec.example.sch.uk"}}); res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "outside the trust") {
		t.Fatalf("another trust granting our school's administrator: %d", res.status)
	}
	// Remove: someone else, yes; yourself, no.
	if res := ta.post("/trust/admins/"+itoa(raviID)+"/remove", nil); res.status != http.StatusSeeOther {
		t.Fatalf("remove: %d", res.status)
	}
	if res := ravi.get("/trust/schools"); res.status != http.StatusSeeOther && res.status != http.StatusForbidden {
		t.Fatalf("a removed trust administrator's session: %d", res.status)
	}
	if roles := a.str(`SELECT roles::text FROM accounts WHERE id = $1`, raviID); roles != "{admin,staff}" {
		t.Fatalf("Ravi's roles after removal: %s", roles)
	}
	if res := ta.post("/trust/admins/"+itoa(a.id(`SELECT id FROM accounts WHERE email = 'it@oakfield.example.org'`))+"/remove", nil); res.status != http.StatusConflict {
		t.Fatalf("removing yourself: %d", res.status)
	}
}
