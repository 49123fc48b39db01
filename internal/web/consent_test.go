package web_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"signoff/internal/audit"
	"signoff/internal/consent"
	"signoff/internal/demo"
)

// TestParentCompletesBothChildrenAndWithdraws is the parents' journey
// without JavaScript: a parent of two children completes both children's
// photo consent, withdraws one use, and the class list changes at once.
func TestParentCompletesBothChildrenAndWithdraws(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	_, parentID, _ := a.demoParent()
	photo := a.id(`SELECT id FROM forms WHERE title = 'Photo consent'`)
	p := a.parent(parentID)
	home := p.get("/family")
	if home.status != 200 || strings.Count(home.body, "To complete") < 4 {
		t.Fatalf("family home should list two forms to complete for each of two children: %d\n%s", home.status, home.body)
	}
	kids := regexp.MustCompile(`/family/children/(\d+)/forms/`+itoa(photo)).FindAllStringSubmatch(home.body, -1)
	seen := map[string]bool{}
	var children []string
	for _, k := range kids {
		if !seen[k[1]] {
			seen[k[1]] = true
			children = append(children, k[1])
		}
	}
	if len(children) != 2 {
		t.Fatalf("children with the photo form: %v", children)
	}
	items := regexp.MustCompile(`name="(item-\d+)" type="radio" value="yes"`)
	acks := regexp.MustCompile(`name="(item-\d+)" type="checkbox"`)
	var refs []string
	for _, child := range children {
		path := "/family/children/" + child + "/forms/" + itoa(photo)
		form := p.get(path)
		if form.status != 200 || !strings.Contains(form.body, "Photos on the school website") {
			t.Fatalf("form page: %d", form.status)
		}
		// Without answers: every question is named in the error summary, nothing saved.
		bad := p.post(path, url.Values{"typed_name": {""}})
		if bad.status != http.StatusUnprocessableEntity || strings.Count(bad.body, `<a href="#item-`) < 6 {
			t.Fatalf("empty submission: %d\n%s", bad.status, bad.body)
		}
		vals := url.Values{"typed_name": {"Samira Walsh"}}
		for _, m := range items.FindAllStringSubmatch(form.body, -1) {
			vals.Set(m[1], "yes")
		}
		for _, m := range acks.FindAllStringSubmatch(form.body, -1) {
			vals.Set(m[1], "yes")
		}
		res := p.post(path, vals)
		if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/family/records/SG-") {
			t.Fatalf("submit: %d %s\n%s", res.status, res.location, res.body)
		}
		page := p.get(res.location)
		if page.status != 200 || !strings.Contains(page.body, "govuk-panel--confirmation") {
			t.Fatalf("confirmation: %d", page.status)
		}
		refs = append(refs, strings.TrimSuffix(strings.TrimPrefix(res.location, "/family/records/"), "?done=1"))
	}
	// The copy, parsed back, names the child and the answers.
	pdf := p.get("/family/records/" + refs[0] + "/copy.pdf")
	if pdf.status != 200 {
		t.Fatalf("copy: %d", pdf.status)
	}
	text := pdfText(t, pdf.body)
	for _, want := range []string{"Photo consent", "Photos on the school website", refs[0]} {
		if !strings.Contains(text, want) {
			t.Errorf("copy lacks %q", want)
		}
	}
	// The copy verifies: by its reference, and uploaded as it was downloaded.
	if res := a.client().get("/verify/" + refs[0]); res.status != 200 || strings.Contains(res.body, "Not verified") {
		t.Fatalf("verify by reference: %d\n%s", res.status, res.body)
	}
	if res := upload(t, a.client(), []byte(pdf.body)); res.status != 200 || strings.Contains(res.body, "Not verified") {
		t.Fatalf("verify the downloaded copy: %d\n%s", res.status, res.body)
	}
	tampered := []byte(pdf.body)
	tampered[len(tampered)/2] ^= 0x20 // one changed byte inside the document
	if res := upload(t, a.client(), tampered); !strings.Contains(res.body, "Not verified") {
		t.Fatalf("a tampered copy verified: %d", res.status)
	}
	var receipts int
	_ = a.db.Pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE kind = 'consent_receipt'`).Scan(&receipts)
	if receipts != 2 {
		t.Fatalf("receipts queued: %d, want 2", receipts)
	}
	var attached int
	_ = a.db.Pool.QueryRow(ctx, `SELECT count(*) FROM outbox_attachments x JOIN outbox o ON o.id = x.outbox_id
		WHERE o.kind = 'consent_receipt' AND x.content_type = 'application/pdf' AND substring(x.data from 1 for 5) = '%PDF-'`).Scan(&attached)
	if attached != 2 {
		t.Fatalf("receipts with the signed copy attached: %d, want 2", attached)
	}
	// One builder of a parent's copy: the receipt attaches the very copy
	// the parent downloads (issued once and kept), certificate wording
	// and all.
	var receiptCopy []byte
	if err := a.db.Pool.QueryRow(ctx, `SELECT x.data FROM outbox_attachments x JOIN outbox o ON o.id = x.outbox_id
		WHERE o.kind = 'consent_receipt' AND o.dedupe_key = $1`, "receipt:"+refs[0]).Scan(&receiptCopy); err != nil {
		t.Fatalf("receipt of %s: %v", refs[0], err)
	}
	if string(receiptCopy) != pdf.body {
		t.Fatalf("the receipt's copy differs from the download:\n%s\n---\n%s", pdfText(t, string(receiptCopy)), text)
	}
	if !strings.Contains(text, "Opened their family link") {
		t.Fatalf("the copy does not say how the parent was identified:\n%s", text)
	}

	// The teacher's class list shows the first child may appear on the website...
	first := children[0]
	var class, family string
	_ = a.db.Pool.QueryRow(ctx, `SELECT reg_class, family_name FROM people WHERE id = $1`, first).Scan(&class, &family)
	teacher := a.signedIn(demo.StaffEmail)
	listPath := "/classes/photos?" + url.Values{"class": {class}, "form": {itoa(photo)}}.Encode()
	row := func() string {
		list := teacher.get(listPath)
		if list.status != 200 {
			t.Fatalf("class list: %d", list.status)
		}
		re := regexp.MustCompile(`(?s)<tr[^>]*>\s*<th scope="row"[^>]*>\s*` + regexp.QuoteMeta(family) + `,.*?</tr>`)
		return re.FindString(list.body)
	}
	before := row()
	if before == "" || strings.Contains(before, "Do not photograph") || strings.Count(before, "app-consent-cell--yes") != 5 {
		t.Fatalf("class list row before withdrawal:\n%s", before)
	}
	// ...then the parent withdraws the website, with one tap and a confirmation.
	formPath := "/family/children/" + first + "/forms/" + itoa(photo)
	formPage := p.get(formPath)
	change := regexp.MustCompile(`href="(`+regexp.QuoteMeta(formPath)+`/change\?item=\d+&amp;to=no)"`).FindAllStringSubmatch(formPage.body, -1)
	if len(change) < 2 {
		t.Fatalf("no withdraw links:\n%s", formPage.body)
	}
	confirmPath := strings.ReplaceAll(change[1][1], "&amp;", "&")
	confirm := p.get(confirmPath)
	if confirm.status != 200 || !strings.Contains(confirm.body, "Withdraw consent?") {
		t.Fatalf("confirm page: %d", confirm.status)
	}
	u, _ := url.Parse(confirmPath)
	done := p.post(formPath+"/change", url.Values{"item": {u.Query().Get("item")}, "value": {"no"}})
	if done.status != http.StatusSeeOther {
		t.Fatalf("withdraw: %d", done.status)
	}
	after := row()
	if strings.Count(after, "app-consent-cell--yes") != 4 || strings.Count(after, "app-consent-cell--no") != 1 {
		t.Fatalf("class list row after withdrawal:\n%s", after)
	}

	// Another family's child and record are never reachable.
	other := a.id(`SELECT min(pupil_id) FROM guardianships WHERE pupil_id NOT IN (SELECT pupil_id FROM guardianships WHERE parent_id = $1)`, parentID)
	for _, path := range []string{"/family/children/" + itoa(other) + "/forms/" + itoa(photo), "/family/children/" + itoa(other)} {
		if res := p.get(path); res.status != http.StatusNotFound {
			t.Errorf("another family's %s: %d", path, res.status)
		}
	}
	if res := p.post("/family/children/"+itoa(other)+"/forms/"+itoa(photo), url.Values{"typed_name": {"x"}}); res.status != http.StatusNotFound {
		t.Errorf("posting for another family's child: %d", res.status)
	}
	var otherRef string
	_ = a.db.Pool.QueryRow(ctx, `SELECT reference FROM signatures WHERE pupil_id = $1 LIMIT 1`, other).Scan(&otherRef)
	if otherRef != "" {
		if res := p.get("/family/records/" + otherRef); res.status != http.StatusNotFound {
			t.Errorf("another family's record: %d", res.status)
		}
	}
}

// uploadField posts one file as a multipart form.
func (c *client) uploadField(path, field, name string, data []byte) response {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	part, _ := w.CreateFormFile(field, name)
	_, _ = part.Write(data)
	_ = w.Close()
	req, _ := http.NewRequest("POST", c.a.ts.URL+path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

func TestClassModeAndPaperForms(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	agreement := a.id(`SELECT id FROM forms WHERE title = 'Home-school agreement'`)
	teacher := a.signedIn(demo.StaffEmail)
	class := "H3"
	list := teacher.get("/class-mode?" + url.Values{"class": {class}, "form": {itoa(agreement)}}.Encode())
	links := regexp.MustCompile(`href="(/class-mode/\d+/pupils/(\d+)\?class=H3)"`).FindAllStringSubmatch(list.body, -1)
	if list.status != 200 || len(links) == 0 {
		t.Fatalf("class mode list: %d\n%s", list.status, list.body)
	}
	childPath := strings.ReplaceAll(links[0][1], "&amp;", "&")
	page := teacher.get(childPath)
	if page.status != 200 || !strings.Contains(page.body, "be kind and helpful") {
		t.Fatalf("child's page: %d", page.status)
	}
	if bad := teacher.post(childPath, url.Values{}); bad.status != http.StatusUnprocessableEntity {
		t.Fatalf("child signing without ticking: %d", bad.status)
	}
	res := teacher.post(childPath, url.Values{"agree": {"yes"}, "typed_name": {"Ivy"}})
	if res.status != http.StatusSeeOther || !strings.Contains(res.location, "done=") {
		t.Fatalf("child signs: %d %s", res.status, res.location)
	}
	var method, witness string
	_ = a.db.Pool.QueryRow(ctx, `SELECT s.method, w.email FROM signatures s JOIN people w ON w.id = s.witness_id
		WHERE s.form_id = $1 AND s.pupil_id = $2 AND s.part = 'child'`, agreement, links[0][2]).Scan(&method, &witness)
	if method != "class" || witness != demo.StaffEmail {
		t.Fatalf("child's record: method %q witness %q", method, witness)
	}
	if again := teacher.get("/class-mode?" + url.Values{"class": {class}, "form": {itoa(agreement)}}.Encode()); !strings.Contains(again.body, "✓ done") {
		t.Fatal("the class mode list does not show the child as done")
	}

	// A governor never sees class lists or consent details.
	var gov string
	_ = a.db.Pool.QueryRow(ctx, `SELECT email FROM people WHERE staff_role = 'governor' LIMIT 1`).Scan(&gov)
	g := a.signedIn(gov)
	for _, path := range []string{"/classes/photos", "/check?q=a", "/class-mode"} {
		if res := g.get(path); res.status != http.StatusForbidden {
			t.Errorf("governor opening %s: %d", path, res.status)
		}
	}

	// The office records a paper form with its scan.
	photo := a.id(`SELECT id FROM forms WHERE title = 'Photo consent'`)
	pupil := a.id(`SELECT min(g.pupil_id) FROM guardianships g WHERE g.parental_responsibility
		AND NOT EXISTS (SELECT 1 FROM signatures s WHERE s.pupil_id = g.pupil_id AND s.form_id = $1)`, photo)
	parent := a.id(`SELECT min(parent_id) FROM guardianships WHERE pupil_id = $1 AND parental_responsibility`, pupil)
	office := a.signedIn(demo.AdminEmail)
	step := office.get("/admin/consents/" + itoa(photo) + "/paper?pupil=" + itoa(pupil))
	if step.status != 200 || !strings.Contains(step.body, "Scan of the form") {
		t.Fatalf("paper form page: %d", step.status)
	}
	upload := func(scan []byte, name string, date ...string) response {
		if date == nil {
			date = []string{"3", "10", "2026"}
		}
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		_ = w.WriteField("pupil", itoa(pupil))
		_ = w.WriteField("parent", itoa(parent))
		for _, m := range regexp.MustCompile(`name="(item-\d+)" type="radio" value="yes"`).FindAllStringSubmatch(step.body, -1) {
			_ = w.WriteField(m[1], "no")
		}
		for _, m := range regexp.MustCompile(`name="(item-\d+)" type="checkbox"`).FindAllStringSubmatch(step.body, -1) {
			_ = w.WriteField(m[1], "yes")
		}
		_ = w.WriteField("typed_name", "J Parent")
		_ = w.WriteField("paper_date-day", date[0])
		_ = w.WriteField("paper_date-month", date[1])
		_ = w.WriteField("paper_date-year", date[2])
		part, _ := w.CreateFormFile("scan", name)
		_, _ = part.Write(scan)
		_ = w.Close()
		req, _ := http.NewRequest("POST", a.ts.URL+"/admin/consents/"+itoa(photo)+"/paper", &body)
		req.Header.Set("Content-Type", w.FormDataContentType())
		return office.do(req)
	}
	if bad := upload([]byte("not an image"), "form.txt"); bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.body, "must be a PDF, JPEG or PNG") {
		t.Fatalf("bad scan: %d", bad.status)
	}
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 64)...)
	for _, c := range []struct {
		date []string
		want string
	}{
		{[]string{"31", "2", "2026"}, "The date on the paper form must be a real date"},
		{[]string{"3", "Oct", "2026"}, "The date on the paper form must include a day, month and year, as numbers"},
		{[]string{"", "", ""}, "Enter the date written on the paper form"},
		{[]string{"3", "10", "2099"}, "The date on the paper form must be today or in the past"},
	} {
		if bad := upload(png, "form.png", c.date...); bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.body, c.want) {
			t.Errorf("paper date %v: %d, want %q", c.date, bad.status, c.want)
		}
	}
	if ok := upload(png, "form.png"); ok.status != http.StatusSeeOther {
		t.Fatalf("paper form: %d\n%s", ok.status, ok.body)
	}
	var ref string
	_ = a.db.Pool.QueryRow(ctx, `SELECT reference FROM signatures WHERE pupil_id = $1 AND form_id = $2 AND method = 'paper'`, pupil, photo).Scan(&ref)
	scan := office.get("/admin/records/" + ref + "/scan")
	if scan.status != 200 || scan.header.Get("Content-Type") != "image/png" || !bytes.Equal([]byte(scan.body), png) {
		t.Fatalf("scan download: %d %s", scan.status, scan.header.Get("Content-Type"))
	}
	// The certificates say how each was given: in class, witnessed by
	// the teacher; on paper, recorded by the office, with the form's date.
	var childRef, teacherName, officeName string
	_ = a.db.Pool.QueryRow(ctx, `SELECT s.reference, w.given_name || ' ' || w.family_name FROM signatures s JOIN people w ON w.id = s.witness_id
		WHERE s.form_id = $1 AND s.pupil_id = $2 AND s.part = 'child'`, agreement, links[0][2]).Scan(&childRef, &teacherName)
	_ = a.db.Pool.QueryRow(ctx, `SELECT display_name FROM accounts WHERE email = $1`, demo.AdminEmail).Scan(&officeName)
	if childRef == "" || teacherName == "" || officeName == "" {
		t.Fatalf("child's record %q, witness %q, office %q", childRef, teacherName, officeName)
	}
	for ref, wants := range map[string][]string{
		childRef: {"Witnessed in person by a member of staff", "In class, witnessed by " + teacherName},
		ref:      {"Signed by hand on paper", "On a paper form, recorded by " + officeName, "(form dated 3 October 2026)"},
	} {
		cp := office.get("/signatures/" + ref + "/copy.pdf")
		text := strings.Join(strings.Fields(pdfText(t, cp.body)), " ")
		for _, want := range wants {
			if cp.status != 200 || !strings.Contains(text, want) {
				t.Fatalf("copy of %s: %d, lacks %q:\n%s", ref, cp.status, want, text)
			}
		}
	}
}

func TestDashboardAndRemindersForParentsForms(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	photo := a.id(`SELECT id FROM forms WHERE title = 'Photo consent'`)
	office := a.signedIn(demo.AdminEmail)
	dash := office.get("/admin/tracking")
	if dash.status != 200 || !strings.Contains(dash.body, "Photo consent") || !strings.Contains(dash.body, "Home-school agreement") {
		t.Fatalf("dashboard lacks the parents' forms: %d", dash.status)
	}
	var children, returned int
	_ = a.db.Pool.QueryRow(ctx, `SELECT count(*) FROM people WHERE kind = 'pupil' AND left_at IS NULL`).Scan(&children)
	_ = a.db.Pool.QueryRow(ctx, `SELECT count(DISTINCT pupil_id) FROM signatures WHERE form_id = $1`, photo).Scan(&returned)
	// Two parents of one child answer differently.
	school := a.id(`SELECT school_id FROM forms WHERE id = $1`, photo)
	_, items, err := consent.NewStore(a.db).Form(ctx, school, photo)
	if err != nil {
		t.Fatal(err)
	}
	var pupil, mum, dad int64
	if err := a.db.Pool.QueryRow(ctx, `SELECT g.pupil_id, min(g.parent_id), max(g.parent_id) FROM guardianships g WHERE g.parental_responsibility
		GROUP BY g.pupil_id HAVING count(*) > 1 ORDER BY g.pupil_id LIMIT 1`).Scan(&pupil, &mum, &dad); err != nil {
		t.Fatal(err)
	}
	for parent, yes := range map[int64]bool{mum: true, dad: false} {
		in := consent.Submission{SchoolID: school, FormID: photo, PupilID: pupil, ParentID: parent, Answers: map[int64]bool{},
			Acks: map[int64]bool{}, TypedName: "A Parent", Actor: audit.System("test")}
		for _, it := range items {
			in.Answers[it.ID], in.Acks[it.ID] = yes, true
		}
		if _, err := consent.NewStore(a.db).Submit(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	_ = a.db.Pool.QueryRow(ctx, `SELECT count(DISTINCT pupil_id) FROM signatures WHERE form_id = $1`, photo).Scan(&returned)
	form := office.get("/admin/tracking/forms/" + itoa(photo))
	if form.status != 200 || !strings.Contains(form.body, itoa(int64(children-returned))) {
		t.Fatalf("form dashboard: %d (want %d outstanding)", form.status, children-returned)
	}
	// Two pages for one form: the dashboard has its figures and chase
	// lists, the set-up page what it asks and of whom; each links to the
	// other, and only the dashboard counts.
	for _, want := range []string{`href="/admin/consents/` + itoa(photo) + `"`, "Parents disagree (", `href="/admin/pupils/` + itoa(pupil) + `"`,
		"Print letters for families without email"} {
		if !strings.Contains(form.body, want) {
			t.Errorf("the form's dashboard lacks %q", want)
		}
	}
	setUp := office.get("/admin/consents/" + itoa(photo))
	for _, want := range []string{"Photos on the school website", "Anyone can see the website.", `href="/admin/tracking/forms/` + itoa(photo) + `"`,
		"Record a paper form", "Close this form", ">Class "} {
		if setUp.status != 200 || !strings.Contains(setUp.body, want) {
			t.Errorf("the form's set-up page: %d, lacks %q", setUp.status, want)
		}
	}
	list := office.get("/admin/consents")
	if !strings.Contains(list.body, `href="/admin/tracking/forms/`+itoa(photo)+`"`) {
		t.Error("the list of parents' forms does not link to their figures")
	}
	for name, page := range map[string]response{"set-up page": setUp, "list of parents' forms": list} {
		if strings.Contains(page.body, "app-figure") || strings.Contains(page.body, "disagree") {
			t.Errorf("the %s shows figures", name)
		}
	}
	// One row per child and parent, with the child's name and class; every
	// tick box its own id.
	for _, want := range []string{"<h2 class=\"govuk-heading-m\">By class</h2>", `<label class="govuk-label" for="group">Class</label>`, ">Child</th>", "All classes"} {
		if !strings.Contains(form.body, want) {
			t.Errorf("the parents' form page lacks %q", want)
		}
	}
	// Addresses may wrap after "@" and dots, not mid-word.
	if !regexp.MustCompile(`<span class="app-email">[a-z0-9]+\.<wbr>[a-z0-9]+@<wbr>example\.<wbr>(net|org)</span>`).MatchString(form.body) {
		t.Error("email addresses do not wrap at @ and dots")
	}
	if strings.Contains(form.body, ">By role<") {
		t.Error("a parents' form groups by role")
	}
	ids := regexp.MustCompile(`id="(p-[0-9-]+)"`).FindAllStringSubmatch(form.body, -1)
	seen := map[string]bool{}
	for _, m := range ids {
		if seen[m[1]] {
			t.Errorf("id %s twice", m[1])
		}
		seen[m[1]] = true
	}
	var child, class string
	_ = a.db.Pool.QueryRow(ctx, `SELECT given_name || ' ' || family_name, reg_class FROM people WHERE kind = 'pupil' AND left_at IS NULL
		AND id NOT IN (SELECT pupil_id FROM signatures WHERE form_id = $1 AND pupil_id IS NOT NULL) ORDER BY id LIMIT 1`, photo).Scan(&child, &class)
	byClass := office.get("/admin/tracking/forms/" + itoa(photo) + "?group=" + url.QueryEscape(class) + "&q=&sort=name")
	if len(ids) == 0 || !strings.Contains(byClass.body, child) || !strings.Contains(byClass.body, `<option value="`+class+`" selected>`) {
		t.Errorf("the class filter: %d ids, %q in %q", len(ids), child, class)
	}
	res := office.post("/admin/tracking/forms/"+itoa(photo)+"/reminders", url.Values{"who": {"all"}})
	if res.status != http.StatusSeeOther || !strings.Contains(office.get(res.location).body, "subject “Please complete: Photo consent”") {
		t.Fatalf("remind: %d", res.status)
	}
	var queued int
	var body string
	_ = a.db.Pool.QueryRow(ctx, `SELECT count(*), min(body_text) FROM outbox WHERE kind = 'reminder' AND subject = 'Please complete: Photo consent'`).Scan(&queued, &body)
	if queued == 0 || !strings.Contains(body, "/family/lost") {
		t.Fatalf("parents' reminders: %d queued\n%s", queued, body)
	}
	again := office.post("/admin/tracking/forms/"+itoa(photo)+"/reminders", url.Values{"who": {"all"}})
	_ = again
	var after int
	_ = a.db.Pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE kind = 'reminder'`).Scan(&after)
	if after != queued {
		t.Fatalf("pressing the button twice sent again: %d then %d", queued, after)
	}
}

func TestQuickCheckAndLetters(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	photo := a.id(`SELECT id FROM forms WHERE title = 'Photo consent'`)
	teacher := a.signedIn(demo.StaffEmail)

	// A child whose parent said no to every use: the quick check says so.
	var family, given string
	if err := a.db.Pool.QueryRow(ctx, `SELECT c.family_name, c.given_name FROM signatures s JOIN people c ON c.id = s.pupil_id
		WHERE s.form_id = $1 AND NOT EXISTS (SELECT 1 FROM jsonb_each(s.answers) x WHERE x.value = 'true'::jsonb AND x.key IN
			(SELECT id::text FROM form_items WHERE form_id = $1 AND kind = 'consent'))
		LIMIT 1`, photo).Scan(&family, &given); err != nil {
		t.Fatalf("no child refused everything in the demo: %v", err)
	}
	check := teacher.get("/check?" + url.Values{"q": {given + " " + family}}.Encode())
	if check.status != 200 || !strings.Contains(check.body, "Do not photograph") || !strings.Contains(check.body, "Photos on the school website: no") {
		t.Fatalf("quick check for %s %s: %d\n%s", given, family, check.status, check.body)
	}

	// Letters go to the families still to answer who have no email address.
	var parentID int64
	var parentName string
	if err := a.db.Pool.QueryRow(ctx, `SELECT p.id, p.family_name FROM guardianships g JOIN people p ON p.id = g.parent_id
		WHERE g.parental_responsibility AND NOT EXISTS (SELECT 1 FROM signatures s WHERE s.form_id = $1 AND s.pupil_id = g.pupil_id)
		ORDER BY p.id LIMIT 1`, photo).Scan(&parentID, &parentName); err != nil {
		t.Fatal(err)
	}
	if _, err := a.db.Pool.Exec(ctx, `UPDATE people SET email = NULL WHERE id = $1`, parentID); err != nil {
		t.Fatal(err)
	}
	office := a.signedIn(demo.AdminEmail)
	// Only for a class whose families all have email: nothing to print,
	// and the form's dashboard, where the button is, says so.
	if res := office.post("/admin/consents/"+itoa(photo)+"/letters?class=nobody", nil); res.status != http.StatusSeeOther ||
		res.location != "/admin/tracking/forms/"+itoa(photo)+"?letters=none" || !strings.Contains(office.get(res.location).body, "No letters to print") {
		t.Errorf("no letters to print: %d %s", res.status, res.location)
	}
	res := office.post("/admin/consents/"+itoa(photo)+"/letters", nil)
	if res.status != http.StatusSeeOther || !regexp.MustCompile(`^/admin/consents/[0-9]+/letters/[0-9]+\.pdf$`).MatchString(res.location) {
		t.Fatalf("letters: %d %s", res.status, res.location)
	}
	batch := res.location
	// The printed batch is a GET address, for the account that printed it.
	a.account(a.id(`SELECT id FROM schools`), "office-two@hollybrook.example.sch.uk", "Office Two", "admin")
	if res := a.signedIn("office-two@hollybrook.example.sch.uk").get(batch); res.status != http.StatusNotFound {
		t.Fatalf("another office account fetched the letters: %d", res.status)
	}
	res = office.get(batch)
	if res.status != 200 || res.header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("letters: %d %s", res.status, res.header.Get("Content-Type"))
	}
	if text := pdfText(t, res.body); !strings.Contains(text, parentName) || !strings.Contains(text, "/family/code") {
		t.Fatalf("the letters do not address %s", parentName)
	}

	// Closing the form takes it off the parents' pages; its answers stay.
	var before int
	_ = a.db.Pool.QueryRow(ctx, `SELECT count(*) FROM signatures WHERE form_id = $1`, photo).Scan(&before)
	if res := office.post("/admin/consents/"+itoa(photo)+"/close", nil); res.status != http.StatusSeeOther {
		t.Fatalf("close: %d", res.status)
	}
	if list := office.get("/admin/consents?closed=1"); strings.Contains(list.body, `href="/admin/consents/`+itoa(photo)+`"`) {
		t.Fatal("a closed form is still listed as open")
	}
	_, parentID2, _ := a.demoParent()
	if home := a.parent(parentID2).get("/family"); strings.Contains(home.body, "Photo consent") {
		t.Fatal("parents still see a closed form")
	}
	var after int
	_ = a.db.Pool.QueryRow(ctx, `SELECT count(*) FROM signatures WHERE form_id = $1`, photo).Scan(&after)
	if after != before {
		t.Fatalf("closing changed the records: %d then %d", before, after)
	}
}

// A form that asks about the privacy notice links to the school's; a
// school with none cannot publish one.
func TestPrivacyNoticeIsLinkedAndRequired(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	_, parentID, _ := a.demoParent()
	child := a.id(`SELECT pupil_id FROM guardianships WHERE parent_id = $1 ORDER BY pupil_id LIMIT 1`, parentID)
	page := a.parent(parentID).get("/family/children/" + itoa(child) + "/forms/" + itoa(a.formID("Photo consent")))
	if page.status != 200 || strings.Count(page.body, `href="https://hollybrook.example.sch.uk/privacy-notice"`) != 2 {
		t.Fatalf("the photo consent page does not link the privacy notice twice (top, and at its tick): %d", page.status)
	}
	if _, err := a.db.Pool.Exec(ctx, `UPDATE schools SET privacy_notice_url = ''`); err != nil {
		t.Fatal(err)
	}
	office := a.signedIn(demo.AdminEmail)
	form := url.Values{"kind": {"consent"}, "title": {"Trip consent"}, "signer": {"one_parent"}, "renewal": {"until_withdrawn"},
		"item-label-1": {"My child may go on the trip"}, "item-label-2": {"I have read the school's Privacy Notice"}, "item-ack-2": {"yes"}}
	res := office.post("/admin/consents", form)
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "add its web address under Settings first") || !strings.Contains(res.body, `href="#items"`) {
		t.Fatalf("publishing without a privacy notice: %d\n%s", res.status, res.body)
	}
	if n := a.id(`SELECT count(*) FROM forms WHERE title = 'Trip consent'`); n != 0 {
		t.Fatal("the form was published")
	}
	// Without the tick it publishes.
	form.Del("item-label-2")
	form.Del("item-ack-2")
	if res := office.post("/admin/consents", form); res.status != http.StatusSeeOther {
		t.Fatalf("a form without the privacy tick: %d", res.status)
	}
}
