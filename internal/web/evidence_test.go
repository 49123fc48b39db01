package web_test

import (
	"archive/zip"
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"signoff/internal/pdf/pdftest"
	"signoff/internal/signkey"
	"signoff/internal/tsa/tsatest"
)

// tamper runs sql as the database's superuser with every trigger off, as
// an attacker holding it could.
func (a *app) tamper(sql string, args ...any) {
	a.t.Helper()
	ctx := context.Background()
	tx, err := a.owner.Pool.Begin(ctx)
	if err != nil {
		a.t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
		a.t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, sql, args...); err != nil {
		a.t.Fatalf("tamper: %v", err)
	}
	if err := tx.Commit(ctx); err != nil {
		a.t.Fatal(err)
	}
}

// TestVerifyFindsARecordChangedAfterIssue: a copy downloaded before its
// record was edited in place (signer, typed name, date, IP) no longer
// verifies, by upload or by link, and the page says the record was changed.
func TestVerifyFindsARecordChangedAfterIssue(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	office := a.signedIn("kholloway@hollybrook.example.sch.uk")
	form := a.formID(aup)
	res := office.get("/admin/tracking/forms/" + itoa(form) + "/copies.zip")
	zr, err := zip.NewReader(strings.NewReader(res.body), int64(len(res.body)))
	if res.status != 200 || err != nil || len(zr.File) < 4 {
		t.Fatalf("zip: %d %v", res.status, err)
	}
	refRE := regexp.MustCompile(`SG-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}`)
	anon := a.client()
	edits := []string{
		`UPDATE signatures SET person_id = (SELECT id FROM people WHERE kind = 'staff' AND id <> signatures.person_id LIMIT 1) WHERE reference = $1`,
		`UPDATE signatures SET typed_name = 'Somebody Else' WHERE reference = $1`,
		`UPDATE signatures SET signed_at = signed_at - interval '45 days' WHERE reference = $1`,
		`UPDATE signatures SET ip = '198.51.100.66' WHERE reference = $1`,
	}
	for i, edit := range edits {
		rc, _ := zr.File[i].Open()
		copyPDF, _ := io.ReadAll(rc)
		rc.Close()
		ref := refRE.FindString(zr.File[i].Name)
		if r := upload(t, anon, copyPDF); !strings.Contains(r.body, "This signed copy is genuine") {
			t.Fatalf("before the change, copy %s: %d\n%s", ref, r.status, r.body)
		}
		a.tamper(edit, ref)
		r := upload(t, anon, copyPDF)
		if !strings.Contains(r.body, "This copy does not match the record") || strings.Contains(r.body, "govuk-panel--confirmation") {
			t.Fatalf("edit %d (%s): the copy still verifies:\n%s", i, edit, r.body)
		}
		byLink := anon.get("/verify/" + ref)
		if !strings.Contains(byLink.body, "The record does not match its seal") || strings.Contains(byLink.body, "Somebody Else") {
			t.Fatalf("edit %d by link:\n%s", i, byLink.body)
		}
	}
	// No fresh copy is issued from a changed record: the ZIP says so instead.
	res = office.get("/admin/tracking/forms/" + itoa(form) + "/copies.zip")
	zr2, err := zip.NewReader(strings.NewReader(res.body), int64(len(res.body)))
	if res.status != 200 || err != nil {
		t.Fatalf("second zip: %d %v", res.status, err)
	}
	notIssued := 0
	for _, f := range zr2.File {
		if strings.HasSuffix(f.Name, "-NOT-ISSUED.txt") {
			notIssued++
		}
	}
	if notIssued != len(edits) || len(zr2.File) != len(zr.File) {
		t.Fatalf("second zip: %d of %d not issued, want %d", notIssued, len(zr2.File), len(edits))
	}
}

// TestSignedCopiesArePAdES: every kind of signed copy (a staff member's,
// a parent's record, the receipt emailed to the parent, the copies in the
// ZIP) is digitally signed with the installation's key and time-stamped
// by a real RFC 3161 authority; poppler's pdfsig shows each valid; each
// verifies by upload and `signoff verify` would say the same (CheckPDF).
func TestSignedCopiesArePAdES(t *testing.T) {
	t.Parallel()
	authority := tsatest.Start(t)
	a := newAppSigning(t, &signkey.PDFSigner{Key: testSigningKey(t), TSAURL: authority.URL})
	ctx := context.Background()
	anon := a.client()
	check := func(what string, data []byte) {
		t.Helper()
		c := signkey.CheckPDF(data)
		if !c.Valid || !c.TimeStamped || signkey.Fingerprint(c.Certificate) != testSigningKey(t).Fingerprint() {
			t.Fatalf("%s: %+v", what, c)
		}
		out := pdftest.Sig(t, data)
		for _, want := range []string{"Signature is Valid", "Signer Certificate Common Name: Signoff test installation", "Total document signed"} {
			if !strings.Contains(out, want) {
				t.Fatalf("%s: pdfsig lacks %q:\n%s", what, want, out)
			}
		}
		if r := upload(t, anon, data); !strings.Contains(r.body, "This signed copy is genuine") || !strings.Contains(r.body, "vouched for by Signoff test TSA") {
			t.Fatalf("%s: upload:\n%s", what, r.body)
		}
	}
	refRE := regexp.MustCompile(`SG-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}`)
	form := a.formID(aup)
	office := a.signedIn("kholloway@hollybrook.example.sch.uk")
	res := office.get("/admin/tracking/forms/" + itoa(form) + "/copies.zip")
	zr, err := zip.NewReader(strings.NewReader(res.body), int64(len(res.body)))
	if err != nil || len(zr.File) == 0 {
		t.Fatalf("zip: %v", err)
	}
	rc, _ := zr.File[0].Open()
	inZip, _ := io.ReadAll(rc)
	rc.Close()
	check("a copy in the ZIP", inZip)
	// A member of staff's own copy of their signature.
	var staffEmail, ref string
	if err := a.db.Pool.QueryRow(ctx, `SELECT a.email, s.reference FROM signatures s JOIN people pe ON pe.id = s.person_id JOIN accounts a ON a.id = pe.account_id
		WHERE s.form_id = $1 AND a.password_hash IS NOT NULL ORDER BY s.id LIMIT 1`, form).Scan(&staffEmail, &ref); err != nil {
		t.Fatal(err)
	}
	own := a.signedIn(staffEmail).get("/signatures/" + ref + "/copy.pdf")
	if own.status != 200 {
		t.Fatalf("own copy: %d", own.status)
	}
	check("a member of staff's copy", []byte(own.body))
	// A parent completes a form: their copy, and the receipt emailed with it.
	_, parentID, _ := a.demoParent()
	photo := a.id(`SELECT id FROM forms WHERE title = 'Photo consent'`)
	p := a.parent(parentID)
	home := p.get("/family")
	kid := regexp.MustCompile(`/family/children/(\d+)/forms/` + itoa(photo)).FindStringSubmatch(home.body)
	if kid == nil {
		t.Fatalf("no photo form for the parent:\n%s", home.body)
	}
	path := "/family/children/" + kid[1] + "/forms/" + itoa(photo)
	page := p.get(path)
	vals := url.Values{"typed_name": {"Samira Walsh"}}
	for _, m := range regexp.MustCompile(`name="(item-\d+)" type="radio" value="yes"`).FindAllStringSubmatch(page.body, -1) {
		vals.Set(m[1], "yes")
	}
	for _, m := range regexp.MustCompile(`name="(item-\d+)" type="checkbox"`).FindAllStringSubmatch(page.body, -1) {
		vals.Set(m[1], "yes")
	}
	sub := p.post(path, vals)
	if sub.status != http.StatusSeeOther || !strings.HasPrefix(sub.location, "/family/records/SG-") {
		t.Fatalf("submit: %d %s", sub.status, sub.location)
	}
	recRef := refRE.FindString(sub.location)
	copyRes := p.get("/family/records/" + recRef + "/copy.pdf")
	if copyRes.status != 200 {
		t.Fatalf("parent's copy: %d", copyRes.status)
	}
	check("a parent's copy", []byte(copyRes.body))
	var receipt []byte
	if err := a.db.Pool.QueryRow(ctx, `SELECT x.data FROM outbox_attachments x JOIN outbox o ON o.id = x.outbox_id
		WHERE o.kind = 'consent_receipt' ORDER BY o.id DESC LIMIT 1`).Scan(&receipt); err != nil {
		t.Fatalf("receipt: %v", err)
	}
	check("the receipt's copy", receipt)
	if authority.Requests.Load() < 2 {
		t.Fatalf("the authority was asked %d times", authority.Requests.Load())
	}
}

// TestAnchorsPage: the office anchors the log on demand (post, redirect,
// get), sees it listed with its time stamp, sets where anchors are emailed
// (a bad address is refused next to the field, nothing saved), and the
// governors' compliance report prints the newest anchor.
func TestAnchorsPage(t *testing.T) {
	t.Parallel()
	authority := tsatest.Start(t)
	a := newAppSigning(t, &signkey.PDFSigner{Key: testSigningKey(t), TSAURL: authority.URL})
	office := a.signedIn("kholloway@hollybrook.example.sch.uk")
	page := office.get("/admin/audit/anchors")
	if page.status != 200 || !strings.Contains(page.body, "None yet.") || !strings.Contains(page.body, testSigningKey(t).Fingerprint()) {
		t.Fatalf("anchors page: %d\n%s", page.status, page.body)
	}
	res := office.post("/admin/audit/anchors", url.Values{})
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/admin/audit/anchors?anchored=") {
		t.Fatalf("anchor now: %d %s", res.status, res.location)
	}
	page = office.get(res.location)
	if !strings.Contains(page.body, "The audit log was anchored") || !strings.Contains(page.body, "Time-stamped ") || !strings.Contains(page.body, "on demand") {
		t.Fatalf("after anchoring:\n%s", page.body)
	}
	bad := office.post("/admin/audit/anchors/email", url.Values{"anchor_email": {"not an address"}})
	if bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.body, `href="#anchor_email"`) || !strings.Contains(bad.body, "govuk-error-message") {
		t.Fatalf("bad address: %d\n%s", bad.status, bad.body)
	}
	var stored string
	_ = a.db.Pool.QueryRow(context.Background(), `SELECT anchor_email FROM schools`).Scan(&stored)
	if stored != "" {
		t.Fatalf("a bad address was saved: %q", stored)
	}
	good := office.post("/admin/audit/anchors/email", url.Values{"anchor_email": {"rstanton@hollybrook.example.sch.uk"}})
	if good.status != http.StatusSeeOther || !strings.Contains(office.get(good.location).body, "Anchors will be emailed to rstanton@hollybrook.example.sch.uk") {
		t.Fatalf("good address: %d %s", good.status, good.location)
	}
	report := office.get("/admin/tracking/report.pdf")
	txt := pdfText(t, report.body)
	if report.status != 200 || !strings.Contains(txt, "Anchor of the audit log") || !strings.Contains(txt, "Time-stamped") {
		t.Fatalf("report: %d\n%s", report.status, txt)
	}
	if audit := office.get("/admin/audit"); !strings.Contains(audit.body, `href="/admin/audit/anchors"`) {
		t.Fatal("the audit log does not link to its anchors")
	}
}
