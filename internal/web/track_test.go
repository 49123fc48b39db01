package web_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"html"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"signoff/internal/demo"
	"signoff/internal/mail"
	"signoff/internal/mail/mailtest"
	"signoff/internal/tracking"
)

// TestFromPublishToEveryoneSigned: the office uses only the dashboard and
// reminders; every reminder arrives through real SMTP with its link; each
// person follows it and signs; the dashboard ends at 100%.
func TestFromPublishToEveryoneSigned(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	smtp := mailtest.Start(t)
	sender := mail.NewSender(a.db, smtp.Config(), slog.Default())
	office := a.signedIn(demo.AdminEmail)
	form := a.formID(aup)
	base := "/admin/tracking/forms/" + itoa(form)

	dash := office.get("/admin/tracking")
	if dash.status != 200 || !strings.Contains(dash.body, aup) || !strings.Contains(dash.body, `href="`+base+`"`) {
		t.Fatalf("dashboard: %d\n%s", dash.status, dash.body)
	}
	var outstanding int
	if err := a.db.Pool.QueryRow(ctx, `SELECT count(*) FROM people p JOIN forms f ON f.id = $1 WHERE p.kind = 'staff' AND p.left_at IS NULL
		AND p.staff_role = ANY (f.audience_staff_roles)
		AND NOT EXISTS (SELECT 1 FROM signatures s WHERE s.form_id = $1 AND s.person_id = p.id)`, form).Scan(&outstanding); err != nil {
		t.Fatal(err)
	}
	page := office.get(base)
	if page.status != 200 || !strings.Contains(page.body, fmt.Sprintf("Email a reminder to everyone still to sign (%d)", outstanding)) {
		t.Fatalf("form dashboard: %d, want %d outstanding\n%s", page.status, outstanding, page.body)
	}
	for _, want := range []string{"Signatures since publication", "By role", "The figures as a table", "Teacher",
		`href="/policies/` + itoa(a.id(`SELECT policy_id FROM forms WHERE id = $1`, form)) + `">The policy</a>`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("form dashboard lacks %q", want)
		}
	}

	// Post/redirect/get: the page it lands on says what was sent; a
	// reload of it sends nothing.
	res := office.post(base+"/reminders", url.Values{"who": {"all"}})
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, base+"?") {
		t.Fatalf("remind all: %d %s", res.status, res.location)
	}
	landed := office.get(res.location)
	if landed.status != 200 || !strings.Contains(landed.body, fmt.Sprintf("%d reminders emailed, subject “Please sign: %s”", outstanding, aup)) {
		t.Fatalf("after reminding all:\n%s", landed.body)
	}
	// Pressed twice: nothing more is queued.
	again := office.post(base+"/reminders", url.Values{"who": {"all"}})
	if again.status != http.StatusSeeOther {
		t.Fatalf("remind twice: %d", again.status)
	}
	if page := office.get(again.location); !strings.Contains(page.body, "No reminders sent") || !strings.Contains(page.body, "reminded today already") {
		t.Fatalf("remind twice:\n%s", page.body)
	}
	runMail(t, a.db, sender)
	msgs := smtp.WaitMessages(t, outstanding, 30*time.Second)
	if len(msgs) != outstanding {
		t.Fatalf("%d messages arrived, want %d", len(msgs), outstanding)
	}
	var reminders int
	_ = a.db.Pool.QueryRow(ctx, `SELECT count(*) FROM reminders WHERE form_id = $1`, form).Scan(&reminders)
	if reminders != outstanding {
		t.Fatalf("%d reminders recorded, want %d", reminders, outstanding)
	}
	if list := office.get(base); strings.Contains(list.body, ">None</td>") {
		t.Fatal("the outstanding list does not show the reminder just sent")
	}
	linkRE := regexp.MustCompile(`http://signoff\.test(/forms/\d+)`)
	seen := map[string]bool{}
	for _, m := range msgs {
		to := strings.Join(m.To, ",")
		if seen[to] {
			t.Fatalf("%s got two reminders", to)
		}
		seen[to] = true
		link := linkRE.FindStringSubmatch(m.Text)
		if link == nil || link[1] != "/forms/"+itoa(form) || !strings.Contains(m.Subject, aup) {
			t.Fatalf("reminder to %s: %q\n%s", to, m.Subject, m.Text)
		}
		// The person follows the link (signing in first) and signs.
		anon := a.client().get(link[1])
		if anon.status != http.StatusSeeOther || !strings.HasPrefix(anon.location, "/sign-in") {
			t.Fatalf("link without a session: %d %s", anon.status, anon.location)
		}
		c := a.signedIn(m.To[0])
		if p := c.get(link[1]); p.status != 200 {
			t.Fatalf("%s opening the link: %d", to, p.status)
		}
		var name string
		_ = a.db.Pool.QueryRow(ctx, `SELECT given_name || ' ' || family_name FROM people WHERE email = $1 AND kind = 'staff'`, m.To[0]).Scan(&name)
		r := c.post(link[1], url.Values{"version_id": {itoa(a.versionID(form))}, "agree": {"yes"}, "typed_name": {name}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("%s signing: %d\n%s", to, r.status, r.body)
		}
	}
	done := office.get(base)
	if !strings.Contains(done.body, "Everyone has signed") && !strings.Contains(done.body, "0 people match") {
		t.Fatalf("after everyone signed, the list is not empty:\n%s", done.body)
	}
	if !strings.Contains(done.body, `<span class="app-figure__number">100%</span>`) {
		t.Fatal("the dashboard does not show 100%")
	}
	if d := office.get("/admin/tracking"); !strings.Contains(d.body, "All signed") {
		t.Fatal("the school dashboard does not say the form is all signed")
	}
}

// TestRemindTickedAndChaseList reminds only those ticked and prints the list.
func TestRemindTickedAndChaseList(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	office := a.signedIn(demo.AdminEmail)
	form := a.formID(aup)
	base := "/admin/tracking/forms/" + itoa(form)
	daniel := a.id(`SELECT id FROM people WHERE email = $1`, demo.StaffEmail)
	res := office.post(base+"/reminders", url.Values{"who": {"ticked"}, "person": {itoa(daniel)}})
	if res.status != http.StatusSeeOther || !strings.Contains(office.get(res.location).body, "1 reminder emailed") {
		t.Fatalf("remind ticked: %d", res.status)
	}
	var n int
	_ = a.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM outbox WHERE kind = 'reminder'`).Scan(&n)
	if n != 1 {
		t.Fatalf("%d reminders in the outbox, want 1", n)
	}
	if res := office.post(base+"/reminders", url.Values{"who": {"ticked"}}); res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "govuk-error-summary") {
		t.Fatalf("nobody ticked: %d", res.status)
	}
	chase := office.get(base + "/chase")
	if chase.status != 200 || !strings.Contains(chase.body, "Daniel Okafor") || !strings.Contains(chase.body, "Still to sign") {
		t.Fatalf("chase list: %d", chase.status)
	}
	// Filters, sorting and paging.
	teachers := office.get(base + "?group=teacher&sort=name&dir=desc")
	if teachers.status != 200 || strings.Contains(teachers.body, ">Teaching assistant</td>") || !strings.Contains(teachers.body, `aria-sort="descending"`) {
		t.Fatalf("filter by role: %d", teachers.status)
	}
	search := office.get(base + "?q=okafor")
	if !strings.Contains(search.body, "1 person matches") {
		t.Fatalf("search: %s", search.body)
	}
	if p := office.get(base + "?page=99"); p.status != 200 {
		t.Fatalf("page past the end: %d", p.status)
	}
	// Another school's admin sees none of it.
	other := a.otherSchoolAdmin()
	for _, path := range []string{base, base + "/chase", base + "/export", base + "/copies.zip"} {
		if r := other.get(path); r.status != http.StatusNotFound {
			t.Errorf("another school's admin opening %s: %d", path, r.status)
		}
	}
	if r := other.post(base+"/reminders", url.Values{"who": {"all"}}); r.status != http.StatusNotFound {
		t.Errorf("another school's admin reminding: %d", r.status)
	}
}

// TestOutstandingListSortsAndCounts: the still-to-sign tab counts the
// audience not yet signed and sorts by name either way, announcing it.
func TestOutstandingListSortsAndCounts(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	office := a.signedIn(demo.AdminEmail)
	form := a.formID(aup)
	var audience, signed int
	_ = a.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM people WHERE kind = 'staff' AND staff_role <> 'visitor'`).Scan(&audience)
	_ = a.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM signatures WHERE form_id = $1`, form).Scan(&signed)
	page := office.get("/admin/tracking/forms/" + itoa(form))
	if !strings.Contains(page.body, "Still to sign ("+itoa(int64(audience-signed))+")") {
		t.Fatalf("outstanding count: want %d of %d\n%s", audience-signed, audience, page.body)
	}
	names := func(body string) []string {
		re := regexp.MustCompile(`href="/admin/staff/\d+">([^<]+)</a>`)
		var out []string
		for _, m := range re.FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	asc := names(page.body)
	desc := names(office.get("/admin/tracking/forms/" + itoa(form) + "?sort=name&dir=desc").body)
	if len(asc) < 2 || len(asc) != len(desc) || asc[0] != desc[len(desc)-1] || asc[0] == desc[0] {
		t.Fatalf("sorting by name: asc %v desc %v", asc, desc)
	}
	if !strings.Contains(page.body, `aria-sort="ascending"`) {
		t.Fatal("the sorted column is not announced with aria-sort")
	}
	// The first generation's addresses, bookmarked or in old emails,
	// lead here, the form and the query kept.
	for from, to := range map[string]string{
		"/admin":                     "/admin/tracking",
		"/admin/forms/" + itoa(form): "/admin/tracking/forms/" + itoa(form),
		"/admin/forms/" + itoa(form) + "?show=signed": "/admin/tracking/forms/" + itoa(form) + "?show=signed",
		"/admin/forms/x": "/admin/tracking",
	} {
		if res := office.get(from); res.status != http.StatusMovedPermanently || res.location != to {
			t.Errorf("%s: %d %q, want 301 to %s", from, res.status, res.location, to)
		}
	}
	// A closed form has no figures: its address leads to its policy's
	// page rather than to "page not found".
	policy := a.id(`SELECT policy_id FROM forms WHERE id = $1`, form)
	if _, err := a.db.Pool.Exec(context.Background(), `UPDATE forms SET closed_at = now() WHERE id = $1`, form); err != nil {
		t.Fatal(err)
	}
	if res := office.get("/admin/tracking/forms/" + itoa(form)); res.status != http.StatusSeeOther || res.location != "/policies/"+itoa(policy) {
		t.Errorf("a closed form's figures: %d %q, want 303 to its policy", res.status, res.location)
	}
}

// TestExportsOpenInASpreadsheet reads the CSV and XLSX back.
func TestExportsOpenInASpreadsheet(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	office := a.signedIn(demo.AdminEmail)
	form := a.formID(aup)
	// A name a spreadsheet would run as a formula.
	if _, err := a.db.Pool.Exec(ctx, `UPDATE people SET given_name = '=HYPERLINK("http://x")' WHERE email = $1`, demo.StaffEmail); err != nil {
		t.Fatal(err)
	}
	var signed int
	_ = a.db.Pool.QueryRow(ctx, `SELECT count(*) FROM signatures WHERE form_id = $1`, form).Scan(&signed)
	csvRes := office.get("/admin/tracking/forms/" + itoa(form) + "/export?list=outstanding&format=csv")
	if csvRes.status != 200 || !strings.HasPrefix(csvRes.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", csvRes.status, csvRes.header.Get("Content-Type"))
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(csvRes.body, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatalf("csv does not parse: %v", err)
	}
	if recs[0][0] != "Form" || len(recs) < 2 {
		t.Fatalf("csv: %v", recs[:1])
	}
	found := false
	for _, r := range recs[1:] {
		if r[2] == "Okafor" {
			found = true
			if r[3] != `'=HYPERLINK("http://x")` {
				t.Errorf("formula not defused: %q", r[3])
			}
		}
	}
	if !found {
		t.Fatal("csv lacks Daniel")
	}
	x := office.get("/admin/tracking/forms/" + itoa(form) + "/export?list=signed&format=xlsx")
	if x.status != 200 {
		t.Fatalf("xlsx: %d", x.status)
	}
	f, err := excelize.OpenReader(strings.NewReader(x.body))
	if err != nil {
		t.Fatalf("xlsx does not open: %v", err)
	}
	rows, err := f.GetRows("Signed")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != signed+1 || rows[0][7] != "Signed at (UK time)" || !regexp.MustCompile(`^SG-`).MatchString(rows[1][8]) {
		t.Fatalf("xlsx rows: %d (want %d) %v", len(rows), signed+1, rows[:min(2, len(rows))])
	}
	school := office.get("/admin/tracking/export?list=outstanding&format=xlsx")
	if _, err := excelize.OpenReader(strings.NewReader(school.body)); school.status != 200 || err != nil {
		t.Fatalf("school xlsx: %d %v", school.status, err)
	}
	report := office.get("/admin/tracking/report.pdf")
	if report.status != 200 || !strings.Contains(pdfText(t, report.body), "Compliance report") {
		t.Fatalf("report: %d", report.status)
	}
	txt := strings.Join(strings.Fields(pdfText(t, report.body)), " ")
	if !strings.Contains(txt, aup) || !strings.Contains(txt, "Policies due for review") {
		t.Fatalf("report text:\n%s", txt)
	}
	// The staff's forms and the parents' apart, each with its own figures.
	staffAt, parentsAt := strings.Index(txt, "Staff policies and agreements"), strings.Index(txt, "Parents' forms")
	if staffAt < 0 || parentsAt < staffAt || !strings.Contains(txt, "signatures asked for have been given") ||
		!strings.Contains(txt, "children's forms asked for have been given") || strings.Index(txt, "Photo consent") < parentsAt ||
		strings.Index(txt, aup) > parentsAt {
		t.Fatalf("the report does not keep staff and parents apart:\n%s", txt)
	}
}

// TestZipVerifyAndTamper: the ZIP of signed copies holds one PDF per
// signature, each verifies by upload and by link; a changed byte does not.
func TestZipVerifyAndTamper(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	office := a.signedIn(demo.AdminEmail)
	form := a.formID(aup)
	var signed int
	_ = a.db.Pool.QueryRow(ctx, `SELECT count(*) FROM signatures WHERE form_id = $1`, form).Scan(&signed)
	res := office.get("/admin/tracking/forms/" + itoa(form) + "/copies.zip")
	if res.status != 200 || res.header.Get("Content-Type") != "application/zip" {
		t.Fatalf("zip: %d", res.status)
	}
	zr, err := zip.NewReader(strings.NewReader(res.body), int64(len(res.body)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != signed {
		t.Fatalf("zip has %d files, want %d", len(zr.File), signed)
	}
	rc, _ := zr.File[0].Open()
	copyPDF, _ := io.ReadAll(rc)
	rc.Close()
	text := pdfText(t, string(copyPDF))
	for _, want := range []string{"CERTIFICATE OF SIGNATURE", "How they were identified", "IP address", "Check this copy", "http://signoff.test/verify/SG-"} {
		if !strings.Contains(text, want) {
			t.Errorf("signed copy lacks %q", want)
		}
	}
	ref := regexp.MustCompile(`SG-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}`).FindString(zr.File[0].Name)

	anon := a.client()
	byLink := anon.get("/verify/" + ref)
	if byLink.status != 200 || !strings.Contains(byLink.body, "This signature is on record") {
		t.Fatalf("verify by link: %d\n%s", byLink.status, byLink.body)
	}
	if strings.Contains(byLink.body, "Browser") || strings.Contains(byLink.body, "IP address") {
		t.Fatal("the public page shows more than the copy's face")
	}
	typed := anon.get("/verify?ref=" + url.QueryEscape(strings.ToLower(strings.ReplaceAll(ref, "-", " "))))
	if typed.status != 200 || !strings.Contains(typed.body, ref) {
		t.Fatalf("verify typed: %d", typed.status)
	}
	if unknown := anon.get("/verify/SG-0000-0000-0000"); unknown.status != 404 || !strings.Contains(unknown.body, "There is no signature with this reference") {
		t.Fatalf("unknown reference: %d", unknown.status)
	}
	good := upload(t, anon, copyPDF)
	if good.status != 200 || !strings.Contains(good.body, "This signed copy is genuine") ||
		!strings.Contains(good.body, "Valid, made by Signoff test installation with this installation&#39;s certificate") {
		t.Fatalf("upload genuine: %d\n%s", good.status, good.body)
	}
	// One changed byte in the metadata (still a valid PDF to a reader):
	// the copy's digital signature no longer matches it.
	tampered := bytes.Replace(copyPDF, []byte("/Creator"), []byte("/Creatos"), 1)
	bad := upload(t, anon, tampered)
	if bad.status != 200 || !strings.Contains(bad.body, "This file&#39;s digital signature is broken") || strings.Contains(bad.body, "govuk-panel--confirmation") {
		t.Fatalf("upload tampered: %d\n%s", bad.status, bad.body)
	}
	// The verification link inside changed to another reference.
	if r := upload(t, anon, bytes.ReplaceAll(copyPDF, []byte(ref), []byte("SG-0000-0000-0000"))); strings.Contains(r.body, "This signed copy is genuine") {
		t.Fatal("a copy with an unknown reference verified")
	}
	if r := upload(t, anon, []byte("not a pdf")); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("not a pdf: %d", r.status)
	}
}

func upload(t *testing.T, c *client, data []byte) response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "signed.pdf")
	_, _ = fw.Write(data)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", c.a.ts.URL+"/verify", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res := c.do(req)
	// A checked file's result is shown by the page the upload redirects to.
	if res.status == http.StatusSeeOther && res.location == "/verify/result" {
		return c.get(res.location)
	}
	return res
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestTrustView: a trust admin sees every school of the trust; a school
// admin cannot.
func TestTrustView(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	school := a.id(`SELECT id FROM schools`)
	a.oakfield(school)
	ceo := a.signedIn("ceo@oakfield.example.org")
	page := ceo.get("/trust")
	if page.status != 200 || !strings.Contains(page.body, "Oakfield Learning Trust") || !strings.Contains(page.body, "Hollybrook Primary School") ||
		!strings.Contains(page.body, "Ashgrove Academy") || strings.Contains(page.body, "Not In The Trust") || !strings.Contains(page.body, aup) {
		t.Fatalf("trust view: %d\n%s", page.status, page.body)
	}
	// Each school's staff and parents apart: Hollybrook has both, Ashgrove
	// nothing open yet.
	text := html.UnescapeString(page.body) // components.Table writes a heading's ' as &#39;
	for _, want := range []string{"Staff policies signed", "Parents' forms returned", "No form open"} {
		if !strings.Contains(text, want) {
			t.Errorf("the trust view lacks %q", want)
		}
	}
	if n := strings.Count(page.body, "still to do</span>"); n != 2 {
		t.Errorf("the trust view shows %d headlines with figures, want 2 (Hollybrook's staff and parents)", n)
	}
	// No cache: a member of staff who still owes a policy leaving shows at
	// once, one fewer still to do.
	stillToDo := regexp.MustCompile(`(\d+) still to do</span>`)
	before := stillToDo.FindAllStringSubmatch(page.body, -1)
	if _, err := a.db.Pool.Exec(ctx, `UPDATE people SET left_at = now() WHERE id = (SELECT o.person_id FROM obligations o
		JOIN people p ON p.id = o.person_id WHERE o.school_id = $1 AND o.pupil_id = 0 AND o.signature_id IS NULL
		GROUP BY o.person_id HAVING count(*) = 1 LIMIT 1)`, school); err != nil {
		t.Fatal(err)
	}
	after := stillToDo.FindAllStringSubmatch(ceo.get("/trust").body, -1)
	if len(before) != 2 || len(after) != 2 || after[0][1] != strconv.Itoa(mustAtoi(t, before[0][1])-1) || after[1][1] != before[1][1] {
		t.Fatalf("still to do before a leaver %v, after %v: want the staff figure one lower at once", before, after)
	}
	if r := a.signedIn(demo.AdminEmail).get("/trust"); r.status != http.StatusForbidden {
		t.Fatalf("a school admin opening the trust view: %d", r.status)
	}
	if r := ceo.get("/admin/tracking"); r.status != http.StatusForbidden {
		t.Fatalf("a trust admin opening a school's dashboard: %d", r.status)
	}
}

// TestScheduledReminders: rounds 7 and 14 days after publication, once
// each, however many servers run the job; a clock moved on by the test.
func TestScheduledReminders(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	office := a.signedIn(demo.AdminEmail)
	res := office.post("/admin/tracking/schedule", url.Values{"enabled": {"yes"}, "days_after": {"14, 7"}, "then_weekly": {"yes"}, "weeks_max": {"2"}})
	if res.status != http.StatusSeeOther || !strings.Contains(office.get(res.location).body, "Automatic reminders saved: 7, 14 days after publication") {
		t.Fatalf("save schedule: %d %s", res.status, res.location)
	}
	if bad := office.post("/admin/tracking/schedule", url.Values{"enabled": {"yes"}, "days_after": {"soon"}, "weeks_max": {"2"}}); bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.body, `href="#days_after"`) {
		t.Fatalf("bad schedule: %d", bad.status)
	}
	form := a.formID(aup)
	var published time.Time
	_ = a.db.Pool.QueryRow(ctx, `SELECT published_at FROM form_current WHERE form_id = $1`, form).Scan(&published)
	st := tracking.NewStore(a.db)
	sch := &tracking.Scheduler{Store: st, BaseURL: "http://signoff.test"}
	run := func(at time.Time) int {
		a.db.Now = func() time.Time { return at }
		defer func() { a.db.Now = func() time.Time { return time.Now().UTC() } }()
		total := 0
		done := make(chan int, 3)
		for range 3 { // three servers at once
			go func() {
				_, q, err := sch.RunOnce(ctx)
				if err != nil {
					t.Error(err)
				}
				done <- q
			}()
		}
		for range 3 {
			total += <-done
		}
		return total
	}
	day := func(d int) time.Time { return published.Add(time.Duration(d)*24*time.Hour + time.Hour) }
	if n := run(day(3)); n != 0 {
		t.Fatalf("day 3: %d queued, want 0", n)
	}
	first := run(day(7))
	if first == 0 {
		t.Fatal("day 7: nothing queued")
	}
	if n := run(day(7)); n != 0 {
		t.Fatalf("day 7 again: %d queued, want 0", n)
	}
	if n := run(day(14)); n != first {
		t.Fatalf("day 14: %d queued, want %d", n, first)
	}
	if n := run(day(21)); n != first {
		t.Fatalf("day 21 (weekly): %d queued, want %d", n, first)
	}
	var rounds int
	_ = a.db.Pool.QueryRow(ctx, `SELECT count(*) FROM reminder_rounds WHERE form_id = $1`, form).Scan(&rounds)
	if rounds != 3 {
		t.Fatalf("%d rounds recorded, want 3", rounds)
	}
}
