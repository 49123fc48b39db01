package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"signoff/internal/consent"
	"signoff/internal/demo"
	"signoff/internal/people"
)

// twoParents returns a pupil with two parents who both hold parental
// responsibility, and the two parents.
func (a *app) twoParents() (pupil, first, second int64) {
	a.t.Helper()
	err := a.db.Pool.QueryRow(context.Background(), `SELECT g.pupil_id, min(g.parent_id), max(g.parent_id)
		FROM guardianships g JOIN people p ON p.id = g.parent_id AND p.left_at IS NULL
		JOIN people c ON c.id = g.pupil_id AND c.left_at IS NULL
		WHERE g.parental_responsibility AND NOT EXISTS (SELECT 1 FROM signatures s WHERE s.pupil_id = g.pupil_id)
		GROUP BY g.pupil_id HAVING count(*) = 2 ORDER BY g.pupil_id LIMIT 1`).Scan(&pupil, &first, &second)
	if err != nil {
		a.t.Fatalf("a pupil with two parents: %v", err)
	}
	return pupil, first, second
}

// getAs is a GET with the browser's user agent set.
func (c *client) getAs(path, userAgent string) response {
	req, _ := http.NewRequest("GET", c.a.ts.URL+path, nil)
	req.Header.Set("User-Agent", userAgent)
	return c.do(req)
}

// postAs is a form POST with the browser's user agent set.
func (c *client) postAs(path, userAgent string, form url.Values) response {
	req, _ := http.NewRequest("POST", c.a.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", userAgent)
	return c.do(req)
}

// completeForm answers every question of a parents' form yes and returns
// the record's reference.
func (a *app) completeForm(c *client, pupil, form int64, typedName, userAgent string) string {
	a.t.Helper()
	path := "/family/children/" + itoa(pupil) + "/forms/" + itoa(form)
	page := c.getAs(path, userAgent)
	if page.status != 200 {
		a.t.Fatalf("form page %s: %d\n%s", path, page.status, page.body)
	}
	radio := regexp.MustCompile(`name="(item-\d+)" type="radio" value="yes"`)
	if !radio.MatchString(page.body) {
		// Another parent has answered: the form comes with the errors of an empty submission.
		page = c.postAs(path, userAgent, url.Values{})
	}
	vals := url.Values{"typed_name": {typedName}}
	for _, m := range radio.FindAllStringSubmatch(page.body, -1) {
		vals.Set(m[1], "yes")
	}
	for _, m := range regexp.MustCompile(`name="(item-\d+)" type="checkbox"`).FindAllStringSubmatch(page.body, -1) {
		vals.Set(m[1], "yes")
	}
	res := c.postAs(path, userAgent, vals)
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/family/records/SG-") {
		a.t.Fatalf("submit %s: %d %s\n%s", path, res.status, res.location, res.body)
	}
	ref, _, _ := strings.Cut(strings.TrimPrefix(res.location, "/family/records/"), "?")
	return ref
}

func (a *app) fullName(id int64) string {
	a.t.Helper()
	var name string
	if err := a.db.Pool.QueryRow(context.Background(), `SELECT given_name || ' ' || family_name FROM people WHERE id = $1`, id).Scan(&name); err != nil {
		a.t.Fatal(err)
	}
	return name
}

// TestCoParentDoesNotSeeTheOtherParentsDevice: the record one parent
// made for their shared child, downloaded by the other parent, leaves out
// the first parent's IP address and browser; the parent who made it and
// the office see them; the record keeps them; both copies verify.
func TestCoParentDoesNotSeeTheOtherParentsDevice(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	pupil, first, second := a.twoParents()
	photo := a.formID("Photo consent")
	const ua = "FirstParentPhone/7.3 (Test; Handset)"
	one := a.parent(first)
	ref := a.completeForm(one, pupil, photo, a.fullName(first), ua)
	var storedIP, storedUA string
	if err := a.db.Pool.QueryRow(ctx, `SELECT ip, user_agent FROM signatures WHERE reference = $1`, ref).Scan(&storedIP, &storedUA); err != nil {
		t.Fatal(err)
	}
	if storedUA != ua || storedIP == "" {
		t.Fatalf("the record keeps ip %q and user agent %q", storedIP, storedUA)
	}

	copyPath := "/family/records/" + ref + "/copy.pdf"
	own := one.get(copyPath)
	if own.status != 200 {
		t.Fatalf("own copy: %d", own.status)
	}
	if text := pdfText(t, own.body); !strings.Contains(text, "FirstParentPhone/7.3") || !strings.Contains(text, storedIP) {
		t.Fatalf("the parent's own copy should show their IP and browser:\n%s", text)
	}

	other := a.parent(second)
	theirs := other.get(copyPath)
	if theirs.status != 200 {
		t.Fatalf("co-parent's copy: %d", theirs.status)
	}
	text := pdfText(t, theirs.body)
	if strings.Contains(text, "FirstParentPhone") || strings.Contains(text, storedIP) {
		t.Fatalf("the co-parent's copy shows the other parent's IP or browser:\n%s", text)
	}
	if !strings.Contains(text, "shown only to the signer and the school office") {
		t.Fatalf("the co-parent's copy does not say the device is withheld:\n%s", text)
	}
	// The co-parent's copy is a copy Signoff issued: it verifies as uploaded.
	if res := upload(t, a.client(), []byte(theirs.body)); res.status != 200 || strings.Contains(res.body, "Not verified") {
		t.Fatalf("the co-parent's copy does not verify: %d\n%s", res.status, res.body)
	}
	// The record page shown to the co-parent names no IP either.
	if page := other.get("/family/records/" + ref); page.status != 200 || strings.Contains(page.body, storedIP) || strings.Contains(page.body, "FirstParentPhone") {
		t.Fatalf("record page for the co-parent: %d", page.status)
	}

	office := a.signedIn(demo.AdminEmail)
	full := office.get("/signatures/" + ref + "/copy.pdf")
	if full.status != 200 {
		t.Fatalf("office copy: %d", full.status)
	}
	if text := pdfText(t, full.body); !strings.Contains(text, "FirstParentPhone/7.3") {
		t.Fatalf("the office's copy should show the IP and browser:\n%s", text)
	}
}

// TestClassListsShowWhatTheRoleNeeds: a teacher's class list (page and
// CSV) names the children and what is allowed, never their parents or
// contact details; a pupil who leaves drops off the class list and the
// quick check at once, and their photo consent stops counting.
func TestClassListsShowWhatTheRoleNeeds(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	pupil, first, _ := a.twoParents()
	photo := a.formID("Photo consent")
	a.completeForm(a.parent(first), pupil, photo, a.fullName(first), "Test")
	var class, family, given string
	if err := a.db.Pool.QueryRow(ctx, `SELECT reg_class, family_name, given_name FROM people WHERE id = $1`, pupil).Scan(&class, &family, &given); err != nil {
		t.Fatal(err)
	}
	rows, err := a.db.Pool.Query(ctx, `SELECT coalesce(p.email, ''), coalesce(p.mobile, ''), p.given_name || ' ' || p.family_name
		FROM guardianships g JOIN people p ON p.id = g.parent_id JOIN people c ON c.id = g.pupil_id WHERE c.reg_class = $1`, class)
	if err != nil {
		t.Fatal(err)
	}
	var contacts []string
	for rows.Next() {
		var email, mobile, name string
		_ = rows.Scan(&email, &mobile, &name)
		for _, s := range []string{email, mobile} {
			if s != "" {
				contacts = append(contacts, s)
			}
		}
	}
	rows.Close()
	if len(contacts) == 0 {
		t.Fatal("the class's parents have no contact details to look for")
	}
	teacher := a.signedIn(demo.StaffEmail)
	q := url.Values{"class": {class}, "form": {itoa(photo)}}.Encode()
	list := teacher.get("/classes/photos?" + q)
	csv := teacher.get("/classes/photos.csv?" + q)
	if list.status != 200 || csv.status != 200 || !strings.Contains(list.body, family) || !strings.Contains(csv.body, family) {
		t.Fatalf("class list %d, csv %d, or the pupil is missing", list.status, csv.status)
	}
	for _, c := range contacts {
		if strings.Contains(list.body, c) || strings.Contains(csv.body, c) {
			t.Fatalf("a teacher's class list shows a parent's contact detail %q", c)
		}
	}
	check := teacher.get("/check?" + url.Values{"q": {family}}.Encode())
	if check.status != 200 || !strings.Contains(check.body, given) {
		t.Fatalf("quick check before leaving: %d", check.status)
	}
	for _, c := range contacts {
		if strings.Contains(check.body, c) {
			t.Fatalf("the quick check shows a parent's contact detail %q", c)
		}
	}

	// The pupil leaves.
	if _, err := a.db.Pool.Exec(ctx, `UPDATE people SET left_at = now() - interval '1 minute' WHERE id = $1`, pupil); err != nil {
		t.Fatal(err)
	}
	list = teacher.get("/classes/photos?" + q)
	csv = teacher.get("/classes/photos.csv?" + q)
	if strings.Contains(list.body, family+", "+given) || strings.Contains(csv.body, family+","+given) {
		t.Fatal("a leaver is still on the class list")
	}
	if check := teacher.get("/check?" + url.Values{"q": {family}}.Encode()); strings.Contains(check.body, given) {
		t.Fatal("the quick check still finds a leaver")
	}
	leaver, err := people.NewStore(a.db).Get(ctx, a.id(`SELECT school_id FROM people WHERE id = $1`, pupil), pupil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := consent.NewStore(a.db).ConsentsOf(ctx, leaver.SchoolID, []people.Person{leaver})
	if err != nil {
		t.Fatal(err)
	}
	// A leaver is owed no form and nothing they were given counts.
	for _, pc := range got[pupil] {
		if !pc.State.Left || !pc.State.NoPhotos(pc.Items) {
			t.Fatalf("a leaver's consent still counts: %+v", pc.State)
		}
	}
}
