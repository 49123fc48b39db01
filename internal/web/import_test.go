package web_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"signoff/internal/demo"
)

func (c *client) upload(path string, files map[string]string) response {
	c.a.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for name, content := range files {
		part, _ := w.CreateFormFile("files", name)
		_, _ = part.Write([]byte(content))
	}
	_ = w.Close()
	req, _ := http.NewRequest("POST", c.a.ts.URL+path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

func TestImportThroughTheOffice(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	office := a.signedIn(demo.AdminEmail)

	// A broken file: shown row by row, and nothing can be applied.
	broken := "\ufeffStaff Code,Forename,Surname,Work Email,Role\r\nNW01,New,Person,,Teacher\r\nNW02,Other,Person,other@hollybrook.example.sch.uk,Wizard\r\n"
	res := office.upload("/admin/import", map[string]string{"new-staff.csv": broken})
	if res.status != http.StatusSeeOther {
		t.Fatalf("upload: %d\n%s", res.status, res.body)
	}
	preview := office.get(res.location)
	if !strings.Contains(preview.body, "new-staff.csv, line 2:") || !strings.Contains(preview.body, "new-staff.csv, line 3:") ||
		strings.Contains(preview.body, "Import these changes") {
		t.Fatalf("broken preview:\n%s", preview.body)
	}
	if apply := office.post(res.location+"/apply", nil); apply.status != http.StatusUnprocessableEntity {
		t.Fatalf("applying a broken file: %d", apply.status)
	}

	// A good file with an unrecognised column: map it, preview, apply once.
	var staff bytes.Buffer
	rows, err := a.db.Pool.Query(context.Background(), `SELECT mis_id, given_name, family_name, email, CASE staff_role WHEN 'teaching_assistant' THEN 'Teaching Assistant'
		WHEN 'support' THEN 'Support Staff' ELSE initcap(staff_role) END FROM people WHERE kind = 'staff' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	staff.WriteString("Staff Code,Forename,Surname,Work Email,Role,Desk\n")
	for rows.Next() {
		var code, given, family, email, role string
		_ = rows.Scan(&code, &given, &family, &email, &role)
		staff.WriteString(strings.Join([]string{code, csvQuote(given), csvQuote(family), email, role, "D1"}, ",") + "\n")
	}
	rows.Close()
	staff.WriteString("NW03,Nadia,Newcomer,nnewcomer@hollybrook.example.sch.uk,Teacher,D2\n")
	res = office.upload("/admin/import", map[string]string{"staff.csv": staff.String()})
	preview = office.get(res.location)
	if !strings.Contains(preview.body, "Headings we don") || !strings.Contains(preview.body, "“Desk”") {
		t.Fatalf("unknown heading not offered for mapping:\n%s", preview.body)
	}
	name := regexp.MustCompile(`name="(map-0-[^"]+)"`).FindStringSubmatch(preview.body)
	if mapped := office.post(res.location+"/mapping", map[string][]string{name[1]: {"ignore"}}); mapped.status != http.StatusSeeOther {
		t.Fatalf("mapping: %d", mapped.status)
	}
	preview = office.get(res.location)
	if !strings.Contains(preview.body, "new 1, changed 0, unchanged 40, leavers 0") || !strings.Contains(preview.body, "Import these changes") {
		t.Fatalf("preview after mapping:\n%s", preview.body)
	}
	if apply := office.post(res.location+"/apply", nil); apply.status != http.StatusSeeOther {
		t.Fatalf("apply: %d\n%s", apply.status, apply.body)
	}
	if again := office.post(res.location+"/apply", nil); again.status != http.StatusConflict {
		t.Fatalf("second apply of the same upload: %d", again.status)
	}
	var n int
	_ = a.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM people WHERE email = 'nnewcomer@hollybrook.example.sch.uk'`).Scan(&n)
	if n != 1 {
		t.Fatalf("the new member of staff was imported %d times", n)
	}
	// The newcomer is asked to sign what teachers sign.
	list := office.get("/admin/staff?q=Newcomer")
	if !strings.Contains(list.body, "Newcomer, Nadia") {
		t.Fatal("the newcomer is not in the staff list")
	}
}

func csvQuote(s string) string {
	if strings.ContainsAny(s, ",\"") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

// A file from another school: the preview names the people it would add
// and mark as leaving, warns, and applying needs the confirmation box.
func TestImportOfAWrongFileNeedsConfirmation(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	office := a.signedIn(demo.AdminEmail)
	data, err := os.ReadFile("testdata/other-school-staff.csv")
	if err != nil {
		t.Fatal(err)
	}
	res := office.upload("/admin/import", map[string]string{"other-school-staff.csv": string(data)})
	if res.status != http.StatusSeeOther {
		t.Fatalf("upload: %d", res.status)
	}
	preview := office.get(res.location)
	for _, want := range []string{"Who changes: other-school-staff.csv", "New: 3", "Callum Brennan", "Leaving (marked as left, not deleted): 40",
		"as leavers: more than a fifth", `id="confirm"`} {
		if !strings.Contains(preview.body, want) {
			t.Fatalf("the preview lacks %q:\n%s", want, preview.body)
		}
	}
	// A list longer than 25 starts closed; a short one open.
	if !strings.Contains(preview.body, `<details class="govuk-details app-import-people" id="people-0-new" open>`) ||
		!strings.Contains(preview.body, `<details class="govuk-details app-import-people" id="people-0-leaving">`) {
		t.Error("the lists' open state is wrong")
	}
	unconfirmed := office.post(res.location+"/apply", nil)
	if unconfirmed.status != http.StatusUnprocessableEntity || !strings.Contains(unconfirmed.body, `href="#confirm"`) || !strings.Contains(unconfirmed.body, `id="confirm-error"`) {
		t.Fatalf("apply without confirmation: %d\n%s", unconfirmed.status, unconfirmed.body)
	}
	if n := a.id(`SELECT count(*) FROM people WHERE kind = 'staff' AND left_at IS NOT NULL`); n != 0 {
		t.Fatalf("an unconfirmed import marked %d leavers", n)
	}
	if ok := office.post(res.location+"/apply", url.Values{"confirm": {"yes"}}); ok.status != http.StatusSeeOther {
		t.Fatalf("confirmed apply: %d", ok.status)
	}
	if n := a.id(`SELECT count(*) FROM people WHERE kind = 'staff' AND left_at IS NOT NULL`); n != 40 {
		t.Fatalf("%d leavers after the confirmed import", n)
	}
}
