package web_test

import (
	"context"
	"flag"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"signoff/internal/demo"
)

// shots, when set (go test ./internal/web -run Browser -args -shots DIR),
// is a folder the browser tests save full-page screenshots to, for a person
// to look at.
var shots = flag.String("shots", "", "save browser screenshots to this folder")

// screenshot saves the page as name.png in the -shots folder, if one was given.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	if *shots == "" {
		return
	}
	png := run(b, "screenshot", chromedp.FullScreenshot(90))
	if err := os.WriteFile(filepath.Join(*shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// signIn signs the browser in with a password.
func (b *browser) signIn(email, password string) {
	b.t.Helper()
	if st := b.open("/sign-in"); st != 200 {
		b.fatal("sign-in page: %d", st)
	}
	b.do("type the email and password",
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), password))
	if st := b.navigate("press Sign in", chromedp.Click(`//main//form//button[normalize-space()="Sign in"]`)); st != 200 {
		b.fatal("signing in showed a %d page", st)
	}
}

// TestBrowserGovernorReadsTheChanges: a governor on a phone opens a
// revision sent for approval: the page starts with what changed and a link
// to the decision; only the changed sections are shown, rendered, with
// links from change to change; nothing scrolls sideways.
func TestBrowserGovernorReadsTheChanges(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.makeHead()
	ctx := context.Background()
	policyID := a.id(`SELECT policy_id FROM forms WHERE title = $1`, aup)
	path := "/policies/" + itoa(policyID)
	var body string
	_ = a.db.Pool.QueryRow(ctx, `SELECT body_md FROM policy_versions WHERE policy_id = $1 AND status = 'published'`, policyID).Scan(&body)
	// Two changes far apart: one word early on, a new section at the end.
	lines := strings.Split(body, "\n")
	changed := false
	for i, l := range lines {
		if !changed && strings.HasPrefix(l, "- ") && len(l) > 20 {
			lines[i] = l + " This now applies at home too."
			changed = true
		}
	}
	if !changed {
		t.Fatalf("no list item to change in:\n%s", body)
	}
	newBody := strings.Join(lines, "\n") + "\n## Lost devices\n\n| Device | Tell |\n| --- | --- |\n| Laptop | it-support-and-helpdesk@hollybrook.example.sch.uk |\n"
	head := a.signedIn(headEmail)
	if res := head.post(path+"/revision", url.Values{"action": {"save"}, "body": {newBody}, "kind": {"major"}}); res.status != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", res.status, res.body)
	}
	vid := versionIDRE.FindStringSubmatch(head.get(path).body)
	if res := head.post(path+"/submit", url.Values{"version_id": {vid[1]}}); res.status != http.StatusSeeOther {
		t.Fatalf("submit: %d", res.status)
	}

	b := newBrowser(t, a.ts.URL, phoneWidth, phoneHeight)
	b.signIn(governorEmail, "hollybrook-demo")
	if st := b.open(path); st != 200 {
		b.fatal("policy page: %d", st)
	}
	b.fitsWidth("the policy page with a revision", phoneWidth)
	b.screenshot("governor-revision-phone")
	top := b.text(".app-jump")
	if !strings.Contains(top, "2 changes: in ") || !strings.Contains(top, "Lost devices") || !strings.Contains(top, "Give your decision") {
		b.fatal("the top of the page says %q", top)
	}
	// The decision is one link away from the top.
	b.do("follow Give your decision", chromedp.Click(`//main//a[normalize-space()="Give your decision"]`))
	if p := b.path(); !strings.HasSuffix(p, "#decide") {
		b.fatal("at %s, want #decide", p)
	}
	// From the first change to the next.
	b.do("follow Next change", chromedp.Click(`#change-1 a`))
	if p := b.path(); !strings.HasSuffix(p, "#change-2") {
		b.fatal("at %s, want #change-2", p)
	}
	// The table is rendered, not shown as Markdown.
	if cell := b.text(".app-diff-table td"); !strings.Contains(cell, "Laptop") || strings.Contains(b.text(".app-diff-doc"), "| ---") {
		b.fatal("table cell %q", cell)
	}
	// The whole document is a link away, and still fits the phone.
	if st := b.navigate("show the whole document", chromedp.Click(`//main//a[normalize-space()="Show the whole document"]`)); st != 200 {
		b.fatal("whole document: %d", st)
	}
	if n := run(b, "blocks shown", chromedp.Evaluate[int](`document.querySelectorAll(".app-diff-doc p, .app-diff-doc li").length`)); n < 10 {
		b.fatal("the whole document shows %d blocks", n)
	}
	b.fitsWidth("the whole document", phoneWidth)
}

// TestBrowserImportPreviewOnAPhone: the office checks a wrong file on a
// phone: the people are listed, the warning shown, nothing scrolls sideways.
func TestBrowserImportPreviewOnAPhone(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	data, err := os.ReadFile("testdata/other-school-staff.csv")
	if err != nil {
		t.Fatal(err)
	}
	res := a.signedIn(demo.AdminEmail).upload("/admin/import", map[string]string{"other-school-staff.csv": string(data)})
	b := newBrowser(t, a.ts.URL, phoneWidth, phoneHeight)
	b.signIn(demo.AdminEmail, demo.Password)
	if st := b.open(res.location); st != 200 {
		b.fatal("preview: %d", st)
	}
	b.fitsWidth("the import preview", phoneWidth)
	if w := b.text(".govuk-warning-text"); !strings.Contains(w, "more than a fifth") {
		b.fatal("warning %q", w)
	}
	// The long list of leavers opens without JavaScript's help (a details element).
	b.do("open the leavers", chromedp.Click(`#people-0-leaving summary`))
	if n := run(b, "leavers shown", chromedp.Evaluate[int](`[...document.querySelectorAll("#people-0-leaving li")].filter(li => li.offsetParent !== null).length`)); n != 40 {
		b.fatal("%d leavers visible", n)
	}
	b.fitsWidth("the import preview with the leavers open", phoneWidth)
	b.screenshot("import-preview-phone")
}

// TestBrowserOfficeOnAPhone: the office's dashboard, a parents' form's
// list and the More page on a 360-pixel phone: the grouped menu, staff
// and parents' figures apart, tables that fit, the favicon and the footer's
// link to check a signed copy.
func TestBrowserOfficeOnAPhone(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	b := newBrowser(t, a.ts.URL, phoneWidth, phoneHeight)
	b.signIn(demo.AdminEmail, demo.Password)
	if st := b.open("/admin/tracking"); st != 200 {
		b.fatal("dashboard: %d", st)
	}
	menu := run(b, "menu", chromedp.Evaluate[[]string](`[...document.querySelectorAll('nav[aria-label="Menu"] a')].map(a => a.innerText.trim())`))
	if strings.Join(menu, "|") != "Dashboard|Policies|Parents' forms|People|More" {
		b.fatal("menu %q", menu)
	}
	headings := b.text("main")
	for _, want := range []string{"Staff policies and agreements", "Parents' forms", "of signatures", "of children's forms returned"} {
		if !strings.Contains(headings, want) {
			b.t.Errorf("the dashboard lacks %q", want)
		}
	}
	b.fitsWidth("the dashboard", phoneWidth)
	b.screenshot("office-dashboard-phone")
	if n := run(b, "favicon and footer", chromedp.Evaluate[int](`document.querySelectorAll('link[rel="icon"], footer a[href="/verify"]').length`)); n != 2 {
		b.t.Errorf("favicon and footer link: %d of 2", n)
	}
	if st := b.open("/admin/tracking/forms/" + itoa(a.formID("Photo consent"))); st != 200 {
		b.fatal("photo consent: %d", st)
	}
	b.fitsWidth("a parents' form's list", phoneWidth)
	b.screenshot("office-parents-form-phone")
	if st := b.navigate("open More", chromedp.Click(`//nav[@aria-label="Menu"]//a[normalize-space()="More"]`)); st != 200 {
		b.fatal("More: %d", st)
	}
	for _, want := range []string{"Import from your MIS", "Outbox", "Audit log", "Settings", "Your account"} {
		if !strings.Contains(b.text("main"), want) {
			b.t.Errorf("More lacks %q", want)
		}
	}
	b.fitsWidth("More", phoneWidth)
}
