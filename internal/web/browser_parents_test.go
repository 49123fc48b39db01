package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"signoff/internal/audit"
	"signoff/internal/auth"
)

// TestBrowserParentInArabicOnA360pxPhone: the demo parent reads every one
// of their pages in Arabic on a 360-pixel phone: home, the home-school
// agreement (bulleted lists), the photo consent, the page confirming a
// withdrawal and the record after sending. None scrolls sideways, each has
// the choice of language, and dates and classes are in Arabic.
func TestBrowserParentInArabicOnA360pxPhone(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	school, parentID, _ := a.demoParent()
	child := a.id(`SELECT pupil_id FROM guardianships WHERE parent_id = $1 ORDER BY pupil_id LIMIT 1`, parentID)
	photo := a.formID("Photo consent")
	hsa := a.formID("Home-school agreement")
	item := a.id(`SELECT id FROM form_items WHERE form_id = $1 AND kind = 'consent' ORDER BY position LIMIT 1`, photo)
	link, err := auth.NewStore(a.db).IssueFamilyLink(ctx, school, parentID, audit.System("test"), nil)
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, a.ts.URL, phoneWidth, phoneHeight)
	if st := b.open("/f/" + link.Token); st != 200 {
		b.fatal("family link: %d", st)
	}
	pages := []struct{ name, path string }{
		{"home", "/family?lang=ar"},
		{"home-school agreement", "/family/children/" + itoa(child) + "/forms/" + itoa(hsa)},
		{"photo consent", "/family/children/" + itoa(child) + "/forms/" + itoa(photo)},
		{"withdraw a consent", "/family/children/" + itoa(child) + "/forms/" + itoa(photo) + "/change?item=" + itoa(item) + "&to=no"},
	}
	for _, p := range pages {
		if st := b.open(p.path); st != 200 {
			b.fatal("%s: %d", p.name, st)
		}
		if dir := run(b, "dir", chromedp.Evaluate[string](`document.documentElement.dir`)); dir != "rtl" {
			b.fatal("%s: dir %q", p.name, dir)
		}
		if n := run(b, "languages", chromedp.Evaluate[int](`document.querySelectorAll("nav.app-languages a[hreflang]").length`)); n != 2 {
			b.t.Errorf("%s: %d other languages offered, want 2", p.name, n)
		}
		b.fitsWidth(p.name+" in Arabic", phoneWidth)
		b.screenshot("parent-ar-" + strings.ReplaceAll(p.name, " ", "-"))
	}
	// The home page names the class in Arabic.
	b.open("/family")
	if main := b.text("main"); !strings.Contains(main, "الصف") {
		b.t.Errorf("the class is not in Arabic:\n%s", main)
	}
	// Send the photo consent (every question yes), then read the record.
	b.open(pages[2].path)
	run(b, "answer yes to all", chromedp.Evaluate[bool](`document.querySelectorAll('input[type=radio][value=yes]').forEach(r => r.checked = true);
		document.querySelectorAll("input[type=checkbox]").forEach(c => c.checked = true); true`))
	b.do("type the name", chromedp.SendKeys(chromedp.ID("typed_name"), "Parent Name"))
	if st := b.navigate("send", chromedp.Submit(chromedp.ID("typed_name"))); st != 200 {
		b.fatal("send: %d", st)
	}
	if p := b.path(); !strings.HasPrefix(p, "/family/records/") {
		b.fatal("after sending at %s", p)
	}
	b.fitsWidth("the record in Arabic", phoneWidth)
	if n := run(b, "languages", chromedp.Evaluate[int](`document.querySelectorAll("nav.app-languages a[hreflang]").length`)); n != 2 {
		b.t.Errorf("the record page offers %d other languages", n)
	}
	main := b.text("main")
	for _, month := range []string{"يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"} {
		if strings.Contains(main, month) {
			return
		}
	}
	b.t.Errorf("the record's date is not in Arabic:\n%s", main)
}
