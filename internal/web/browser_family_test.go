package web_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"signoff/internal/audit"
	"signoff/internal/auth"
	"signoff/internal/demo"
)

const familyPhoneWidth = 390

// browserChild is one of the demo parent's children, as the pages name them.
type browserChild struct {
	id      string
	display string // "Reuben Walsh", on the parent's pages
	listed  string // "Walsh, Reuben", on the class photo list
	class   string // "H1"
}

// TestBrowserFamilyWithoutJavaScript: the demo parent of two children, on
// a 390-pixel phone with JavaScript switched off, opens their family link,
// completes the photo consent for each child (radios and the tick by
// their labels, the name typed, Send), sees the confirmation, withdraws
// one use for the first child through "Withdraw consent" and its
// confirmation; no page scrolls sideways. Then the teacher, signed in in
// a browser context of their own, sees that use as "No" for that child on
// the class photo list.
func TestBrowserFamilyWithoutJavaScript(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	school, parentID, parentName := a.demoParent()
	photo := itoa(a.formID("Photo consent"))
	link, err := auth.NewStore(a.db).IssueFamilyLink(ctx, school, parentID, audit.System("test"), nil)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := a.db.Pool.Query(ctx, `SELECT p.id::text,
			coalesce(nullif(p.preferred_name, ''), p.given_name) || ' ' || p.family_name,
			p.family_name || ', ' || coalesce(nullif(p.preferred_name, ''), p.given_name), p.reg_class
		FROM guardianships g JOIN people p ON p.id = g.pupil_id
		WHERE g.parent_id = $1 ORDER BY p.id`, parentID)
	if err != nil {
		t.Fatal(err)
	}
	kids := map[string]browserChild{}
	for rows.Next() {
		var c browserChild
		if err := rows.Scan(&c.id, &c.display, &c.listed, &c.class); err != nil {
			t.Fatal(err)
		}
		kids[c.id] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(kids) != 2 {
		t.Fatalf("the demo parent should have two children: %v %v", kids, err)
	}

	b := newBrowser(t, a.ts.URL, familyPhoneWidth, phoneHeight)
	if _, err := chromedp.Call(b.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatalf("switch JavaScript off: %v", err)
	}

	// The family link signs the parent in and shows their children.
	if st := b.open("/f/" + link.Token); st != 200 {
		b.fatal("the family link answered %d", st)
	}
	if p := b.path(); p != "/family" {
		b.fatal("the family link went to %s, want /family", p)
	}
	b.fitsWidth("family home", familyPhoneWidth)
	type shown struct {
		Name string `json:"name"`
		Href string `json:"href"`
	}
	sections := run(b, "children on the family page", chromedp.Evaluate[[]shown](`Array.from(
		document.querySelectorAll("main section.app-child"), s => {
			const a = s.querySelector('a[href$="/forms/`+photo+`"]');
			return {name: s.querySelector("h2").innerText.trim(), href: a ? a.getAttribute("href") : ""};
		})`))
	if len(sections) != 2 {
		b.fatal("the family page shows %d children, want 2: %+v", len(sections), sections)
	}
	hrefRE := regexp.MustCompile(`^/family/children/(\d+)/forms/` + photo + `$`)
	var order []browserChild
	for _, s := range sections {
		m := hrefRE.FindStringSubmatch(s.Href)
		if m == nil {
			b.fatal("no photo consent link for %q: %q", s.Name, s.Href)
		}
		c, ok := kids[m[1]]
		if !ok || c.display != s.Name {
			b.fatal("the family page shows %q linking to child %s, which is not the parent's child (%v)", s.Name, m[1], kids)
		}
		order = append(order, c)
	}

	// Complete the photo consent for each child.
	type question struct {
		Yes   string `json:"yes"`   // the yes radio's id
		No    string `json:"no"`    // the no radio's id
		Ack   string `json:"ack"`   // the checkbox's id, for a tick
		Label string `json:"label"` // the question
	}
	var withdrawn string // the use withdrawn for the first child
	var sent int
	for i, c := range order {
		formPath := "/family/children/" + c.id + "/forms/" + photo
		if st := b.navigate("open the photo consent for "+c.display,
			chromedp.Click(chromedp.CSS(`main a[href="`+formPath+`"]`))); st != 200 {
			b.fatal("the form answered %d", st)
		}
		if p := b.path(); p != formPath {
			b.fatal("the link went to %s, want %s", p, formPath)
		}
		if h1 := b.text("h1"); h1 != "Photo consent" {
			b.fatal("form h1 %q", h1)
		}
		if caption := b.text(".govuk-caption-l"); !strings.Contains(caption, c.display) {
			b.fatal("the form does not say which child it is for: %q", caption)
		}
		// Without JavaScript the drawing box stays hidden: typing is the signature.
		if shownDraw := run(b, "drawing box", chromedp.Evaluate[bool](
			`Array.from(document.querySelectorAll(".app-draw"), d => !d.hidden && d.getClientRects().length > 0).some(Boolean)`)); shownDraw {
			b.fatal("the drawing box shows without JavaScript")
		}
		b.fitsWidth("photo consent form", familyPhoneWidth)

		if i == 0 {
			// Send with nothing: the page comes back with every question in the error summary.
			if st := b.navigate("press Send with nothing filled in",
				chromedp.Click(`//main//form//button[normalize-space()="Send"]`)); st != 422 {
				b.fatal("an empty form answered %d, want 422", st)
			}
			if n := run(b, "error links", chromedp.Evaluate[int](`document.querySelectorAll(".govuk-error-summary a").length`)); n < 6 {
				b.fatal("the error summary has %d links, want one per question and the name", n)
			}
			b.fitsWidth("photo consent form with errors", familyPhoneWidth)
		}

		qs := run(b, "questions", chromedp.Evaluate[[]question](`Array.from(
			document.querySelectorAll("main form .govuk-radios__input[value=yes], main form .govuk-checkboxes__input"), el => {
				const tick = el.type === "checkbox";
				const label = tick ? document.querySelector('label[for="' + el.id + '"]')
					: el.closest("fieldset").querySelector("legend");
				return {yes: tick ? "" : el.id, no: tick ? "" : el.id + "-no", ack: tick ? el.id : "", label: label.innerText.trim()};
			})`))
		if len(qs) < 6 {
			b.fatal("the form has %d questions, want 6: %+v", len(qs), qs)
		}
		var want []string // the radio or checkbox ids that must end up checked
		for n, q := range qs {
			id := q.Yes
			switch {
			case q.Ack != "":
				id = q.Ack
			case i == 1 && n == 0:
				id = q.No // the second child: one "no"
			}
			b.do("choose "+id+" for "+q.Label, chromedp.Click(chromedp.CSS(`label[for="`+id+`"]`)))
			want = append(want, id)
			if i == 0 && withdrawn == "" && q.Ack == "" && n > 0 {
				withdrawn = q.Label
			}
		}
		for _, id := range want {
			if !run(b, id+" checked", chromedp.JavascriptAttribute[bool](chromedp.ID(id), "checked")) {
				b.fatal("clicking the label of %s did not choose it", id)
			}
		}
		if v := run(b, "the name field", chromedp.Value(chromedp.ID("typed_name"))); v != "" {
			b.fatal("the name field already holds %q", v)
		}
		b.do("type the name", chromedp.SendKeys(chromedp.ID("typed_name"), parentName))
		if st := b.navigate("press Send", chromedp.Click(`//main//form//button[normalize-space()="Send"]`)); st != 200 {
			b.fatal("sending the form answered %d", st)
		}
		if p := b.path(); !regexp.MustCompile(`^/family/records/SG-[0-9A-Z-]+\?done=1$`).MatchString(p) {
			b.fatal("sending went to %s, want the record's confirmation", p)
		}
		if title := b.text(".govuk-panel--confirmation h1"); title != "Thank you" {
			b.fatal("confirmation panel %q", title)
		}
		if main := b.text("main"); !strings.Contains(main, c.display) {
			b.fatal("the confirmation does not name %s", c.display)
		}
		b.fitsWidth("confirmation", familyPhoneWidth)
		sent++

		// Back to the family page for the next child.
		if st := b.navigate("back to the family page", chromedp.Click(`//header//a[normalize-space()="Your children"]`)); st != 200 {
			b.fatal("the family page answered %d", st)
		}
	}
	if sent != 2 || withdrawn == "" {
		b.fatal("sent %d forms; use to withdraw %q", sent, withdrawn)
	}

	// Withdraw one use for the first child: one link, then a confirmation.
	first := order[0]
	formPath := "/family/children/" + first.id + "/forms/" + photo
	if st := b.open(formPath); st != 200 {
		b.fatal("the answered form answered %d", st)
	}
	b.fitsWidth("answered form", familyPhoneWidth)
	withdrawLink := `//main//a[starts-with(normalize-space(), "Withdraw consent") and contains(., ` + xpathString(withdrawn) + `)]`
	if st := b.navigate("follow Withdraw consent for "+withdrawn, chromedp.Click(withdrawLink)); st != 200 {
		b.fatal("the confirmation page answered %d", st)
	}
	if h1 := b.text("h1"); h1 != "Withdraw consent?" {
		b.fatal("confirmation h1 %q", h1)
	}
	if body := b.text("main"); !strings.Contains(body, withdrawn) || !strings.Contains(body, first.display) {
		b.fatal("the confirmation does not name the use and the child")
	}
	b.fitsWidth("withdraw confirmation", familyPhoneWidth)
	if st := b.navigate("confirm", chromedp.Click(`//main//form//button[normalize-space()="Yes, withdraw consent"]`)); st != 200 {
		b.fatal("withdrawing answered %d", st)
	}
	if p := b.path(); !strings.HasPrefix(p, formPath) {
		b.fatal("withdrawing went to %s, want back to %s", p, formPath)
	}
	answer := run(b, "the answer now", chromedp.Evaluate[string](`(() => {
		for (const row of document.querySelectorAll(".app-answers .govuk-summary-list__row")) {
			if (row.querySelector("dt").innerText.trim() === `+jsString(withdrawn)+`) {
				return row.querySelector(".govuk-summary-list__value").innerText.trim();
			}
		}
		return "";
	})()`))
	if !strings.Contains(answer, "No") {
		b.fatal("after withdrawing, %q shows %q, want No", withdrawn, answer)
	}
	b.fitsWidth("form after withdrawing", familyPhoneWidth)

	// The teacher, in a browser context of their own, sees the "no" on
	// the class photo list at once.
	tctx, tcancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(tcancel)
	teacher := &browser{t: t, ctx: tctx, base: a.ts.URL}
	teacher.do("open a tablet-sized window", chromedp.EmulateViewport(1024, 768))
	if st := teacher.open("/sign-in"); st != 200 {
		teacher.fatal("sign-in answered %d", st)
	}
	teacher.do("type the teacher's email and password",
		chromedp.SendKeys(chromedp.ID("email"), demo.StaffEmail),
		chromedp.SendKeys(chromedp.ID("password"), demo.Password))
	if st := teacher.navigate("sign in", chromedp.Click(`//main//form//button[normalize-space()="Sign in"]`)); st != 200 {
		teacher.fatal("signing in answered %d", st)
	}
	listPath := "/classes/photos?" + url.Values{"class": {first.class}, "form": {photo}}.Encode()
	if st := teacher.open(listPath); st != 200 {
		teacher.fatal("the class photo list answered %d", st)
	}
	type cell struct {
		Use   string `json:"use"`
		State string `json:"state"`
		Text  string `json:"text"`
	}
	cells := run(teacher, "the child's row", chromedp.Evaluate[[]cell](`(() => {
		const uses = Array.from(document.querySelectorAll(".app-consent-table thead th.app-consent-table__use"), th => th.innerText.trim());
		for (const row of document.querySelectorAll(".app-consent-table tbody tr")) {
			const name = row.querySelector("th").innerText.trim().split("\n")[0].trim();
			if (name !== `+jsString(first.listed)+`) continue;
			return Array.from(row.querySelectorAll("td"), (td, i) => ({
				use: uses[i] || "",
				state: (td.className.match(/app-consent-cell--(\w+)/) || ["", ""])[1],
				text: td.innerText.trim()}));
		}
		return [];
	})()`))
	if len(cells) < 5 {
		teacher.fatal("the class list for %s has no row for %q (%d cells)", first.class, first.listed, len(cells))
	}
	found := false
	for _, c := range cells {
		want, wantText := "yes", "Yes"
		if c.Use == withdrawn {
			want, wantText, found = "no", "No", true
		}
		if c.State != want || !strings.HasSuffix(c.Text, wantText) {
			teacher.t.Errorf("class list, %s, %q: %s %q, want %s", first.listed, c.Use, c.State, c.Text, wantText)
		}
	}
	if !found {
		teacher.fatal("the class list has no column for %q: %+v", withdrawn, cells)
	}
}

// xpathString quotes s for an XPath expression.
func xpathString(s string) string {
	if !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	if !strings.Contains(s, `'`) {
		return `'` + s + `'`
	}
	parts := strings.Split(s, `"`)
	return `concat("` + strings.Join(parts, `", '"', "`) + `")`
}

// jsString quotes s as a JavaScript string.
func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\u2028", `\u2028`, "\u2029", `\u2029`)
	return `"` + r.Replace(s) + `"`
}
