package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"signoff/internal/demo"
)

// The policy lifecycle's routes. Governors and heads are not columns of
// the matrix (its roles are anonymous, staff, admin, staff+admin and
// parent): TestGovernorAndHeadReachOnlyPolicyPages checks them.
func init() {
	for k, v := range map[string][]string{
		"GET /policies":                              ADMIN,
		"GET /policies/new":                          ADMIN,
		"POST /policies/new":                         ADMIN,
		"GET /policies/starter":                      ADMIN,
		"POST /policies/starter":                     ADMIN,
		"GET /policies/approval-settings":            ADMIN,
		"POST /policies/approval-settings":           ADMIN,
		"GET /policies/{policyID}":                   ADMIN,
		"GET /policies/{policyID}/compare":           ADMIN,
		"GET /policies/{policyID}/approval-pack.pdf": ADMIN,
		"GET /policies/{policyID}/revision":          ADMIN,
		"POST /policies/{policyID}/revision":         ADMIN,
		"POST /policies/{policyID}/submit":           ADMIN,
		"POST /policies/{policyID}/discard":          ADMIN,
		"POST /policies/{policyID}/decision":         ADMIN,
		"POST /policies/{policyID}/meeting":          ADMIN,
		"GET /policies/{policyID}/publish":           ADMIN,
		"POST /policies/{policyID}/publish":          ADMIN,
		"POST /policies/{policyID}/reviewed":         ADMIN,
		"GET /policies/{policyID}/settings":          ADMIN,
		"POST /policies/{policyID}/settings":         ADMIN,
		"GET /reviews":                               ADMIN,
		"POST /reviews/feed":                         ADMIN,
		"POST /reviews/feed/revoke":                  ADMIN,
		"GET /calendar/{token}.ics":                  ALL,
		// Retired addresses, redirected to their replacements.
		"GET /admin/policies":                 ADMIN,
		"GET /admin/policies/new":             ADMIN,
		"GET /admin/policies/{policyID}":      ADMIN,
		"GET /admin/policies/{policyID}/edit": ADMIN,
	} {
		expected[k] = v
	}
}

const (
	headEmail     = "hashcroft@hollybrook.example.sch.uk"
	governorEmail = "rstanton@hollybrook.example.sch.uk"
)

// makeHead gives the demo headteacher the head role.
func (a *app) makeHead() {
	a.t.Helper()
	if _, err := a.db.Pool.Exec(context.Background(), `UPDATE accounts SET roles = array_append(roles, 'head') WHERE email = $1`, headEmail); err != nil {
		a.t.Fatal(err)
	}
}

func TestGovernorAndHeadReachOnlyPolicyPages(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.makeHead()
	policy := itoa(a.id(`SELECT policy_id FROM forms WHERE title = $1`, aup))
	gov := a.signedIn(governorEmail)
	head := a.signedIn(headEmail)
	for _, path := range []string{"/policies", "/policies/" + policy, "/policies/" + policy + "/compare", "/reviews"} {
		for who, c := range map[string]*client{"governor": gov, "head": head} {
			if res := c.get(path); res.status != 200 {
				t.Errorf("%s opening %s: %d", who, path, res.status)
			}
		}
	}
	if res := head.get("/policies/" + policy + "/revision"); res.status != 200 {
		t.Errorf("head opening the revision editor: %d", res.status)
	}
	// Governors approve; they do not write revisions, run the office's
	// pages or see parents' consent details.
	for _, path := range []string{"/policies/" + policy + "/revision", "/policies/" + policy + "/settings", "/policies/starter",
		"/admin", "/admin/policies", "/admin/pupils", "/admin/forms/" + itoa(a.formID(aup))} {
		if res := gov.get(path); res.status != http.StatusForbidden {
			t.Errorf("governor opening %s: %d, want 403", path, res.status)
		}
	}
	if res := head.get("/admin/pupils"); res.status != http.StatusForbidden {
		t.Errorf("head opening pupils: %d", res.status)
	}
	// Another school's policy is not found.
	other := a.otherSchoolAdmin()
	if res := other.get("/policies/" + policy); res.status != http.StatusNotFound {
		t.Errorf("another school's admin: %d", res.status)
	}
}

var versionIDRE = regexp.MustCompile(`name="version_id" value="(\d+)"`)

// The whole revision through HTTP: the head drafts it (with a preview and
// an import), the changes are marked for the governors, one asks for
// changes, the head revises and resubmits, governors approve it, the
// office publishes it, and staff are asked to sign again and emailed.
func TestRevisionDraftToPublishedThroughHTTP(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.makeHead()
	ctx := context.Background()
	policyID := a.id(`SELECT policy_id FROM forms WHERE title = $1`, aup)
	path := "/policies/" + itoa(policyID)
	office := a.signedIn(demo.AdminEmail)
	// Two approvals are enough at this school.
	if res := office.post("/policies/approval-settings", url.Values{"rule": {"count"}, "count": {"2"}, "window": {"30"}}); res.status != http.StatusSeeOther {
		t.Fatalf("approval settings: %d\n%s", res.status, res.body)
	}
	head := a.signedIn(headEmail)
	editor := head.get(path + "/revision")
	if editor.status != 200 || !strings.Contains(editor.body, "Revise the policy: version 2") {
		t.Fatalf("editor: %d", editor.status)
	}
	var body string
	_ = a.db.Pool.QueryRow(ctx, `SELECT body_md FROM policy_versions WHERE policy_id = $1 AND status = 'published'`, policyID).Scan(&body)
	newBody := body + "\n## Lost devices\n\nTell the office **the same day**.\n"
	// Preview re-renders the page, saving nothing.
	prev := head.post(path+"/revision", url.Values{"action": {"preview"}, "body": {newBody}, "kind": {"major"}})
	if prev.status != 200 || !strings.Contains(prev.body, "<strong>the same day</strong>") || !strings.Contains(prev.body, `<ins class="app-ins">`) {
		t.Fatalf("preview: %d\n%s", prev.status, prev.body)
	}
	if n := a.id(`SELECT count(*) FROM policy_versions WHERE policy_id = $1`, policyID); n != 1 {
		t.Fatalf("preview saved a version: %d", n)
	}
	// An empty text is refused with the error next to the field.
	if bad := head.post(path+"/revision", url.Values{"action": {"save"}, "body": {" "}, "kind": {"major"}}); bad.status != 422 || !strings.Contains(bad.body, `href="#body"`) {
		t.Fatalf("empty revision: %d", bad.status)
	}
	if res := head.post(path+"/revision", url.Values{"action": {"save"}, "body": {newBody}, "kind": {"major"}, "change_note": {"Lost devices section."}}); res.status != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", res.status, res.body)
	}
	page := head.get(path)
	vid := versionIDRE.FindStringSubmatch(page.body)
	if vid == nil || !strings.Contains(page.body, "Send for approval") {
		t.Fatalf("no submit form:\n%s", page.body)
	}
	if res := head.post(path+"/submit", url.Values{"version_id": {vid[1]}}); res.status != http.StatusSeeOther {
		t.Fatalf("submit: %d\n%s", res.status, res.body)
	}
	if n := a.id(`SELECT count(*) FROM outbox WHERE kind = 'policy_approval' AND to_address = $1`, governorEmail); n != 1 {
		t.Fatalf("the governor was emailed %d times", n)
	}
	// The governor sees the changes marked, and asks for a change.
	gov := a.signedIn(governorEmail)
	gp := gov.get(path)
	for _, want := range []string{`<ins class="app-ins"><span class="govuk-visually-hidden">inserted: </span>`, "Lost devices", "Do you approve version 2?", "Lost devices section.",
		// Rendered, with a summary and links to each change and to the decision.
		"1 change: in Lost devices", `<h4 class="app-diff-h app-diff-h4 app-diff--added">`, `href="#change-1"`, `id="change-1"`, `href="#decide"`, `id="decide"`,
		`href="/policies/` + itoa(policyID) + `?whole=1#changes"`, `href="/policies/` + itoa(policyID) + `/approval-pack.pdf"`} {
		if !strings.Contains(gp.body, want) {
			t.Fatalf("the governor's page lacks %q\n%s", want, gp.body)
		}
	}
	// By default only the changed section: the unchanged text is left out,
	// and "show the whole document" shows it.
	if strings.Contains(gp.body, "app-diff-h2") && !strings.Contains(gp.body, "not changed, not shown") {
		t.Error("unchanged text is not left out")
	}
	whole := gov.get(path + "?whole=1")
	if !strings.Contains(whole.body, "Show only the changed sections") || len(whole.body) <= len(gp.body) {
		t.Errorf("the whole document is not shown: %d <= %d", len(whole.body), len(gp.body))
	}
	// The approval pack, for governors who read on paper.
	pack := gov.get(path + "/approval-pack.pdf")
	if pack.status != 200 || pack.header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("approval pack: %d %s", pack.status, pack.header.Get("Content-Type"))
	}
	packText := pdfText(t, pack.body)
	for _, want := range []string{"Governors' approval pack", "1 change: in Lost devices", "NEW:", "Tell the office the same day", "Minute reference", "Lost devices section."} {
		if !strings.Contains(packText, want) {
			t.Errorf("the approval pack lacks %q:\n%s", want, packText)
		}
	}
	noComment := gov.post(path+"/decision", url.Values{"version_id": {vid[1]}, "decision": {"reject"}})
	if noComment.status != 422 || !strings.Contains(noComment.body, `href="#comment"`) {
		t.Fatalf("reject without comment: %d", noComment.status)
	}
	if res := gov.post(path+"/decision", url.Values{"version_id": {vid[1]}, "decision": {"reject"}, "comment": {"Say who to tell out of hours."}}); res.status != http.StatusSeeOther {
		t.Fatalf("reject: %d\n%s", res.status, res.body)
	}
	back := head.get(path)
	if !strings.Contains(back.body, "Say who to tell out of hours.") || !strings.Contains(back.body, "Changes asked for") {
		t.Fatal("the rejection's comment is not shown to the author")
	}
	if res := head.post(path+"/revision", url.Values{"action": {"save"}, "body": {newBody + "\nOut of hours, email the head.\n"}, "kind": {"major"}}); res.status != http.StatusSeeOther {
		t.Fatalf("revise: %d", res.status)
	}
	if res := head.post(path+"/submit", url.Values{"version_id": {vid[1]}}); res.status != http.StatusSeeOther {
		t.Fatalf("resubmit: %d", res.status)
	}
	// The author cannot decide (the head is not an approver here), the
	// office cannot publish before approval.
	if res := office.post(path+"/publish", url.Values{"version_id": {vid[1]}, "settings": {"keep"}}); res.status != http.StatusConflict {
		t.Fatalf("publishing before approval: %d", res.status)
	}
	var govs []string
	rows, _ := a.db.Pool.Query(ctx, `SELECT email FROM accounts WHERE 'governor' = ANY (roles) ORDER BY email LIMIT 2`)
	for rows.Next() {
		var e string
		_ = rows.Scan(&e)
		govs = append(govs, e)
	}
	rows.Close()
	for _, e := range govs {
		if res := a.signedIn(e).post(path+"/decision", url.Values{"version_id": {vid[1]}, "decision": {"approve"}}); res.status != http.StatusSeeOther {
			t.Fatalf("approve as %s: %d\n%s", e, res.status, res.body)
		}
	}
	approved := office.get(path)
	if !strings.Contains(approved.body, "Publish version 2") || !strings.Contains(approved.body, "Approved by Approvers online (2 of 6)") {
		t.Fatalf("approved page:\n%s", approved.body)
	}
	// A teacher who signed version 1.
	var signer string
	_ = a.db.Pool.QueryRow(ctx, `SELECT p.email FROM signatures s JOIN people p ON p.id = s.person_id JOIN forms f ON f.id = s.form_id
		WHERE f.title = $1 AND p.staff_role = 'teacher' AND p.email <> $2 ORDER BY p.id LIMIT 1`, aup, headEmail).Scan(&signer)
	formLink := `href="/forms/` + itoa(a.formID(aup)) + `"`
	if home := a.signedIn(signer).get("/"); strings.Contains(home.body, formLink) {
		t.Fatal("the teacher owes the AUP before version 2")
	}
	if res := office.post(path+"/publish", url.Values{"version_id": {vid[1]}, "settings": {"keep"}}); res.status != http.StatusSeeOther {
		t.Fatalf("publish: %d\n%s", res.status, res.body)
	}
	if home := a.signedIn(signer).get("/"); !strings.Contains(home.body, formLink) {
		t.Fatal("the teacher is not asked to sign version 2")
	}
	if n := a.id(`SELECT count(*) FROM outbox WHERE kind = 'policy_published' AND to_address = $1 AND subject LIKE 'New version to read and sign%'`, signer); n != 1 {
		t.Fatalf("the teacher got %d emails about version 2", n)
	}
	if n := a.id(`SELECT count(*) FROM policy_versions WHERE policy_id = $1 AND status = 'superseded'`, policyID); n != 1 {
		t.Fatalf("superseded: %d", n)
	}
	// History and comparison between versions.
	hist := gov.get(path)
	if !strings.Contains(hist.body, "Version 2 published") || !strings.Contains(hist.body, "Changes from version 1") {
		t.Fatal("the history lacks version 2")
	}
	if cmp := gov.get(path + "/compare?from=1&to=2"); cmp.status != 200 || !strings.Contains(cmp.body, "Out of hours, email the head.") {
		t.Fatalf("compare: %d", cmp.status)
	}
	// The library shows the approval and the next review.
	lib := gov.get("/policies")
	if !strings.Contains(lib.body, "Approved by Approvers online (2 of 6)") || !strings.Contains(lib.body, "Up to date") {
		t.Fatalf("library:\n%s", lib.body)
	}
}

func TestCalendarFeedIsPrivateAndRevocable(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	gov := a.signedIn(governorEmail)
	feedRE := regexp.MustCompile(`http://signoff\.test(/calendar/[A-Za-z0-9_-]+\.ics)`)
	made := func() []string {
		t.Helper()
		res := gov.post("/reviews/feed", nil)
		if res.status != http.StatusSeeOther || res.location != "/reviews?done=feed" {
			t.Fatalf("make a feed link: %d %s", res.status, res.location)
		}
		page := gov.get(res.location)
		m := feedRE.FindStringSubmatch(page.body)
		if page.status != 200 || m == nil {
			t.Fatalf("feed link: %d", page.status)
		}
		return m
	}
	m := made()
	// Only the browser that made it is shown the link.
	if other := a.signedIn(governorEmail).get("/reviews?done=feed"); feedRE.MatchString(other.body) {
		t.Fatal("another browser was shown the calendar link")
	}
	feed := a.client().get(m[1])
	if feed.status != 200 || !strings.HasPrefix(feed.header.Get("Content-Type"), "text/calendar") ||
		!strings.Contains(feed.body, "BEGIN:VEVENT\r\n") || !strings.Contains(feed.body, "DTSTART;VALUE=DATE:") {
		t.Fatalf("feed: %d %s\n%s", feed.status, feed.header.Get("Content-Type"), feed.body)
	}
	// A new link replaces the old; stopping it ends it.
	m2 := made()
	if a.client().get(m[1]).status != 404 || a.client().get(m2[1]).status != 200 {
		t.Fatal("the old link still works after a new one was made")
	}
	if res := gov.post("/reviews/feed/revoke", nil); res.status != http.StatusSeeOther || !strings.Contains(gov.get(res.location).body, "no longer works") {
		t.Fatalf("revoke: %d %s", res.status, res.location)
	}
	if a.client().get(m2[1]).status != 404 {
		t.Fatal("a revoked link still works")
	}
}
