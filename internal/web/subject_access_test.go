package web_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"signoff/internal/demo"
)

// unzip reads every file of a ZIP; PDFs are read back as text.
func unzip(t *testing.T, body string) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader([]byte(body)), int64(len(body)))
	if err != nil {
		t.Fatalf("not a ZIP: %v", err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if strings.HasSuffix(f.Name, ".pdf") {
			out[f.Name] = pdfText(t, string(b))
		} else {
			out[f.Name] = string(b)
		}
	}
	return out
}

func everything(files map[string]string) string {
	var b strings.Builder
	for _, v := range files {
		b.WriteString(v)
		b.WriteByte('\n')
	}
	return b.String()
}

// TestSubjectAccessHoldsEverythingAboutAPersonAndNothingElse: two
// parents of one child each answer a form from their own browser; the
// office's ZIP for the first parent holds their record (with its copy,
// IP address and browser), their email and their sign-in, and nothing of
// the second parent; the parent's own download from the family pages is
// the same; the child's ZIP holds both records without either parent's
// device; a member of staff's holds their signature and sign-ins; every
// download is audited.
func TestSubjectAccessHoldsEverythingAboutAPersonAndNothingElse(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	pupil, first, second := a.twoParents()
	photo := a.formID("Photo consent")
	const uaOne, uaTwo = "ParentOneBrowser/1.1", "ParentTwoBrowser/2.2"
	one, two := a.parent(first), a.parent(second)
	refOne := a.completeForm(one, pupil, photo, a.fullName(first), uaOne)
	refTwo := a.completeForm(two, pupil, photo, a.fullName(second), uaTwo)
	var emailOne, emailTwo, mobileTwo string
	_ = a.db.Pool.QueryRow(ctx, `SELECT coalesce(email, '') FROM people WHERE id = $1`, first).Scan(&emailOne)
	_ = a.db.Pool.QueryRow(ctx, `SELECT coalesce(email, ''), coalesce(mobile, '') FROM people WHERE id = $1`, second).Scan(&emailTwo, &mobileTwo)
	if emailOne == "" || emailTwo == "" {
		t.Fatal("the demo parents have no email addresses to look for")
	}

	office := a.signedIn(demo.AdminEmail)
	res := office.get("/admin/people/" + itoa(first) + "/subject-access.zip")
	if res.status != 200 || res.header.Get("Content-Type") != "application/zip" || !strings.Contains(res.header.Get("Content-Disposition"), "subject-access-") {
		t.Fatalf("office ZIP: %d %s %s", res.status, res.header.Get("Content-Type"), res.header.Get("Content-Disposition"))
	}
	files := unzip(t, res.body)
	for _, name := range []string{"summary.html", "data.json", "person.csv", "records.csv", "sign-ins.csv", "emails.csv", "activity.csv", "links.csv",
		"copies/" + refOne + ".pdf"} {
		if _, ok := files[name]; !ok {
			t.Errorf("the ZIP has no %s (it has %d files)", name, len(files))
		}
	}
	all := everything(files)
	for _, want := range []string{a.fullName(first), emailOne, refOne, uaOne, "Photos on the school website", "Receipt: Photo consent", "family link"} {
		if !strings.Contains(all, want) {
			t.Errorf("the first parent's ZIP lacks %q", want)
		}
	}
	for _, not := range []string{a.fullName(second), emailTwo, refTwo, uaTwo} {
		if strings.Contains(all, not) {
			t.Errorf("the first parent's ZIP holds the other parent's %q", not)
		}
	}
	if mobileTwo != "" && strings.Contains(all, mobileTwo) {
		t.Error("the first parent's ZIP holds the other parent's mobile")
	}
	var data struct {
		Person  struct{ Email string }
		Records []struct {
			Reference string
			UserAgent string `json:"user_agent"`
			Answers   map[string]string
		}
		Emails []struct{ To string }
	}
	if err := json.Unmarshal([]byte(files["data.json"]), &data); err != nil {
		t.Fatalf("data.json: %v", err)
	}
	if data.Person.Email != emailOne || len(data.Records) != 1 || data.Records[0].Reference != refOne || data.Records[0].UserAgent != uaOne ||
		data.Records[0].Answers["Photos on the school website"] != "yes" || len(data.Emails) == 0 {
		t.Fatalf("data.json: %+v", data)
	}
	if !strings.Contains(files["records.csv"], refOne) || !strings.Contains(files["summary.html"], "<h1>What Hollybrook Primary School holds about") {
		t.Fatal("the CSV or the summary lacks the record")
	}

	// The parent's own download from the family pages.
	home := one.get("/family")
	if !strings.Contains(home.body, `href="/family/records.zip"`) {
		t.Fatal("the family page does not offer the parent's records")
	}
	own := one.get("/family/records.zip")
	if own.status != 200 {
		t.Fatalf("family ZIP: %d", own.status)
	}
	mine := everything(unzip(t, own.body))
	if !strings.Contains(mine, refOne) || !strings.Contains(mine, uaOne) || strings.Contains(mine, refTwo) || strings.Contains(mine, uaTwo) {
		t.Fatal("the parent's own ZIP should hold their record and not the other parent's")
	}

	// The child's: both records, neither parent's device.
	child := unzip(t, office.get("/admin/people/"+itoa(pupil)+"/subject-access.zip").body)
	kid := everything(child)
	for _, want := range []string{refOne, refTwo, "copies/" + refTwo} {
		if !strings.Contains(kid, want) && child["copies/"+refTwo+".pdf"] == "" {
			t.Errorf("the child's ZIP lacks %q", want)
		}
	}
	if strings.Contains(kid, uaOne) || strings.Contains(kid, uaTwo) || strings.Contains(kid, emailTwo) {
		t.Error("the child's ZIP shows a parent's browser or email")
	}

	// A member of staff: their signature and how they signed in.
	staff := a.signedIn(demo.StaffEmail)
	form := a.formID(aup)
	signed := staff.post("/forms/"+itoa(form), url.Values{"version_id": {itoa(a.versionID(form))}, "agree": {"yes"}, "typed_name": {"Daniel Okafor"}})
	ref := refRE.FindStringSubmatch(signed.location)[1]
	staffID := a.id(`SELECT id FROM people WHERE email = $1`, demo.StaffEmail)
	page := office.get("/admin/staff/" + itoa(staffID))
	if !strings.Contains(page.body, "/admin/people/"+itoa(staffID)+"/subject-access.zip") {
		t.Fatal("the staff page does not offer the subject access download")
	}
	sf := unzip(t, office.get("/admin/people/"+itoa(staffID)+"/subject-access.zip").body)
	if !strings.Contains(sf["records.csv"], ref) || !strings.Contains(sf["sign-ins.csv"], "account.signed_in") || sf["copies/"+ref+".pdf"] == "" {
		t.Fatalf("the staff ZIP lacks the signature or the sign-in:\n%s\n%s", sf["records.csv"], sf["sign-ins.csv"])
	}
	if strings.Contains(everything(sf), emailOne) {
		t.Fatal("the staff ZIP holds a parent's email")
	}

	var audited int
	_ = a.db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action IN ('subject_access.exported', 'subject_access.downloaded')`).Scan(&audited)
	if audited != 4 {
		t.Fatalf("subject access downloads audited: %d, want 4", audited)
	}
	// Another school's office reaches nobody here.
	if res := a.otherSchoolAdmin().get("/admin/people/" + itoa(first) + "/subject-access.zip"); res.status != http.StatusNotFound {
		t.Fatalf("another school's office: %d", res.status)
	}
}
