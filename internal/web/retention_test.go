package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"signoff/internal/demo"
	"signoff/internal/retention"
)

// TestRetentionPageAndLegalHold: the office sees every kind's period with
// its default and source, a bad period is shown next to its field and
// nothing is saved, a good one is saved and audited; the preview names a
// leaver's records; a legal hold placed from the person's page keeps
// them out of the preview, and lifting it brings them back.
func TestRetentionPageAndLegalHold(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	office := a.signedIn(demo.AdminEmail)
	page := office.get("/admin/retention")
	if page.status != 200 {
		t.Fatalf("retention page: %d", page.status)
	}
	for _, r := range retention.Rules {
		if !strings.Contains(page.body, `name="`+string(r.Kind)+`"`) {
			t.Errorf("no field for %s", r.Kind)
		}
	}
	if !strings.Contains(page.body, "termination of employment + 6 years") || !strings.Contains(page.body, "What the next run will remove") {
		t.Fatal("the page lacks the toolkit source or the preview")
	}
	form := url.Values{}
	for _, r := range retention.Rules {
		form.Set(string(r.Kind), "72")
	}
	form.Set("outbox", "twelve")
	bad := office.post("/admin/retention", form)
	if bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.body, `href="#outbox"`) || !strings.Contains(bad.body, `value="twelve"`) {
		t.Fatalf("bad period: %d", bad.status)
	}
	if n := a.id(`SELECT count(*) FROM retention_periods`); n != 0 {
		t.Fatal("a refused schedule was saved")
	}
	form.Set("outbox", "24")
	if res := office.post("/admin/retention", form); res.status != http.StatusSeeOther || res.location != "/admin/retention?done=saved" {
		t.Fatalf("save: %d %s", res.status, res.location)
	}
	if n := a.id(`SELECT count(*) FROM audit_log WHERE action = 'retention.period_changed'`); n != 2 {
		t.Fatalf("audited changes: %d", n)
	}

	// A member of staff with a signature left seven years ago.
	leaver := a.id(`SELECT s.person_id FROM signatures s JOIN people p ON p.id = s.person_id WHERE p.kind = 'staff' ORDER BY 1 LIMIT 1`)
	ref := ""
	_ = a.db.Pool.QueryRow(ctx, `SELECT reference FROM signatures WHERE person_id = $1 LIMIT 1`, leaver).Scan(&ref)
	if _, err := a.db.Pool.Exec(ctx, `UPDATE people SET left_at = now() - interval '7 years' WHERE id = $1`, leaver); err != nil {
		t.Fatal(err)
	}
	if p := office.get("/admin/retention"); !strings.Contains(p.body, ref) {
		t.Fatal("the preview does not name the leaver's signature")
	}
	if p := office.get("/admin/retention?at-day=31&at-month=2&at-year=2030"); p.status != http.StatusOK || !strings.Contains(p.body, "Enter a real date") {
		t.Fatalf("a bad preview date: %d", p.status)
	}

	person := "/admin/staff/" + itoa(leaver)
	if p := office.get(person); !strings.Contains(p.body, "/admin/people/"+itoa(leaver)+"/hold") {
		t.Fatal("the staff page offers no legal hold")
	}
	holdPath := "/admin/people/" + itoa(leaver) + "/hold"
	if res := office.post(holdPath, url.Values{"reason": {"  "}}); res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `href="#reason"`) {
		t.Fatalf("a hold without a reason: %d", res.status)
	}
	if res := office.post(holdPath, url.Values{"reason": {"Claim 2026/77"}}); res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, person) {
		t.Fatalf("place a hold: %d %s", res.status, res.location)
	}
	if p := office.get(person); !strings.Contains(p.body, "Claim 2026/77") || !strings.Contains(p.body, "Lift the legal hold") {
		t.Fatal("the staff page does not show the hold")
	}
	if p := office.get("/admin/retention"); strings.Contains(p.body, ref) || !strings.Contains(p.body, "Claim 2026/77") {
		t.Fatal("a held person's records are in the preview, or the hold is not listed")
	}
	if res := office.post(holdPath+"/lift", url.Values{}); res.status != http.StatusSeeOther {
		t.Fatalf("lift: %d", res.status)
	}
	if res := office.post(holdPath+"/lift", url.Values{}); res.status != http.StatusConflict {
		t.Fatalf("lift twice: %d", res.status)
	}
	// Run now: the leaver's records are erased and the report is shown.
	if res := office.post("/admin/retention/run", url.Values{}); res.status != http.StatusSeeOther {
		t.Fatalf("run: %d", res.status)
	}
	var typed string
	_ = a.db.Pool.QueryRow(ctx, `SELECT typed_name FROM signatures WHERE reference = $1`, ref).Scan(&typed)
	if typed != "(erased)" {
		t.Fatalf("after the run the signature's typed name is %q", typed)
	}
	if p := office.get("/admin/retention?done=run"); !strings.Contains(p.body, "Staff signatures of policies") || strings.Contains(p.body, "No run has erased") {
		t.Fatal("the report of the run is not shown")
	}
	if p := office.get(person); !strings.Contains(p.body, "were erased on") {
		t.Fatal("the person's page does not say they were anonymised")
	}
	// The erased record's copy still verifies by reference.
	if res := a.client().get("/verify/" + ref); res.status != 200 || strings.Contains(res.body, "Not verified") {
		t.Fatalf("the erased record no longer verifies: %d", res.status)
	}
}
