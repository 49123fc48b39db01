package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"signoff/internal/database/dbtest"
	"signoff/internal/demo"
	"signoff/internal/web"
)

// serverAt starts another server over the app's database with the page
// cache of the given size (negative: off). The app's clients' cookies work
// there too (the session is in the database; a cookie jar ignores ports).
func (a *app) serverAt(cacheBytes int64) (*web.Server, string) {
	srv := web.New(a.db, web.Config{SessionKeys: testKeys, BaseURL: "http://signoff.test", PageCacheBytes: cacheBytes})
	ts := httptest.NewServer(srv.Handler())
	a.t.Cleanup(ts.Close)
	return srv, ts.URL
}

func (c *client) getAt(base, path string) response {
	req, _ := http.NewRequest("GET", base+path, nil)
	return c.do(req)
}

// hit fetches path until one fetch is served from the app's page cache
// (the tests' cluster is shared, so another test's commit can come
// between two fetches), and returns that response.
func hit(t *testing.T, a *app, c *client, path string) response {
	t.Helper()
	for range 200 {
		before := a.srv.PageCacheStats().Hits
		res := c.get(path)
		if a.srv.PageCacheStats().Hits > before {
			return res
		}
	}
	t.Fatalf("%s was never served from the page cache", path)
	return response{}
}

// TestPageCacheShowsEveryChangeAtOnce: after each kind of change that
// alters a figure (a signature, a reminder, a withdrawal, an import with a
// leaver and a new name, publishing), the very next look at every cached
// page is what a server without the cache renders, and it has changed.
func TestPageCacheShowsEveryChangeAtOnce(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	_, fresh := a.serverAt(-1)
	office := a.signedIn(demo.AdminEmail)
	aupID, photo := a.formID(aup), a.formID("Photo consent")
	aupPage, photoPage := "/admin/tracking/forms/"+itoa(aupID), "/admin/tracking/forms/"+itoa(photo)
	pages := []string{"/admin/tracking", aupPage, aupPage + "?sort=reminded&dir=desc", aupPage + "/export?format=csv", aupPage + "/export?format=xlsx&list=signed",
		photoPage, photoPage + "/export?format=csv", "/admin/tracking/export?format=csv"}
	last := map[string]string{}
	look := func(what string, mustChange ...string) {
		t.Helper()
		var changed []string
		for _, p := range pages {
			got := office.get(p)
			want := office.getAt(fresh, p)
			if got.status != 200 || got.body != want.body || got.header.Get("Content-Type") != want.header.Get("Content-Type") ||
				got.header.Get("Content-Disposition") != want.header.Get("Content-Disposition") {
				t.Errorf("%s: %s is not what a fresh render gives (%d, %d bytes; fresh %d, %d bytes)", what, p, got.status, len(got.body), want.status, len(want.body))
			}
			if again := hit(t, a, office, p); again.body != got.body || again.header.Get("Content-Disposition") != got.header.Get("Content-Disposition") ||
				again.header.Get("Cache-Control") != "private, no-store" && again.header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s: %s served from the cache differs from the page just built", what, p)
			}
			if last[p] != got.body {
				changed = append(changed, p)
			}
			last[p] = got.body
		}
		for _, p := range mustChange {
			if !slices.Contains(changed, p) {
				t.Errorf("%s: %s did not change", what, p)
			}
		}
	}
	look("at first")

	// A signature.
	staff := a.signedIn(demo.StaffEmail)
	if res := staff.post("/forms/"+itoa(aupID), url.Values{"version_id": {itoa(a.versionID(aupID))}, "agree": {"yes"}, "typed_name": {"Daniel Okafor"}}); res.status != http.StatusSeeOther {
		t.Fatalf("sign: %d", res.status)
	}
	look("after a signature", "/admin/tracking", aupPage, aupPage+"/export?format=csv", aupPage+"/export?format=xlsx&list=signed", "/admin/tracking/export?format=csv")

	// A reminder sent; the page it lands on has a notice and is not kept.
	res := office.post(aupPage+"/reminders", url.Values{"who": {"all"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("remind: %d", res.status)
	}
	look("after reminders", aupPage, aupPage+"?sort=reminded&dir=desc")
	before := a.srv.PageCacheStats()
	for range 3 {
		if landed := office.get(res.location); landed.status != 200 || !strings.Contains(landed.body, "reminders emailed") {
			t.Fatalf("the page after reminding: %d", landed.status)
		}
	}
	if after := a.srv.PageCacheStats(); after.Hits != before.Hits || after.Misses != before.Misses+3 {
		t.Errorf("a page with a notice was served from the cache: %+v, then %+v", before, after)
	}

	// A withdrawal: a parent who said yes to a use says no.
	rows, err := a.db.Pool.Query(ctx, `SELECT person_id, pupil_id FROM signatures s WHERE form_id = $1 AND pupil_id IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM signatures n WHERE n.supersedes_id = s.id) ORDER BY id LIMIT 20`, photo)
	if err != nil {
		t.Fatal(err)
	}
	type record struct{ parent, child int64 }
	var records []record
	for rows.Next() {
		var r record
		_ = rows.Scan(&r.parent, &r.child)
		records = append(records, r)
	}
	rows.Close()
	var p *client
	var formPath string
	var change []string
	for _, r := range records {
		p = a.parent(r.parent)
		formPath = "/family/children/" + itoa(r.child) + "/forms/" + itoa(photo)
		if change = regexp.MustCompile(regexp.QuoteMeta(formPath) + `/change\?item=(\d+)&amp;to=no`).FindStringSubmatch(p.get(formPath).body); change != nil {
			break
		}
	}
	if change == nil {
		t.Fatal("no use to withdraw")
	}
	if done := p.post(formPath+"/change", url.Values{"item": {change[1]}, "value": {"no"}}); done.status != http.StatusSeeOther {
		t.Fatalf("withdraw: %d", done.status)
	}
	look("after a withdrawal", photoPage)

	// An import: one member of staff still to sign has a new name, and
	// another has left.
	rows, err = a.db.Pool.Query(ctx, `SELECT mis_id, given_name, family_name, email, CASE staff_role WHEN 'teaching_assistant' THEN 'Teaching Assistant'
		WHEN 'support' THEN 'Support Staff' ELSE initcap(staff_role) END,
		staff_role = 'teacher' AND email <> $1 AND NOT EXISTS (SELECT 1 FROM signatures s WHERE s.person_id = people.id AND s.form_id = $2) FROM people
		WHERE kind = 'staff' AND mis_id <> '' ORDER BY id`, demo.AdminEmail, aupID)
	if err != nil {
		t.Fatal(err)
	}
	var file strings.Builder
	file.WriteString("Staff Code,Forename,Surname,Work Email,Role\n")
	renamed, left := false, false
	for rows.Next() {
		var code, given, family, email, role string
		var teacher bool
		_ = rows.Scan(&code, &given, &family, &email, &role, &teacher)
		switch {
		case teacher && !left && email != demo.StaffEmail:
			left = true
			continue
		case teacher && !renamed && email != demo.StaffEmail:
			renamed, family = true, "Renamedfamily"
		}
		file.WriteString(strings.Join([]string{code, csvQuote(given), csvQuote(family), email, role}, ",") + "\n")
	}
	rows.Close()
	up := office.upload("/admin/import", map[string]string{"staff.csv": file.String()})
	if up.status != http.StatusSeeOther {
		t.Fatalf("upload: %d", up.status)
	}
	if preview := office.get(up.location); !strings.Contains(preview.body, "changed 1") || !strings.Contains(preview.body, "leavers 1") {
		t.Fatalf("preview:\n%s", preview.body)
	}
	if apply := office.post(up.location+"/apply", url.Values{"confirm": {"yes"}}); apply.status != http.StatusSeeOther {
		t.Fatalf("apply: %d\n%s", apply.status, apply.body)
	}
	look("after an import", "/admin/tracking", aupPage, aupPage+"/export?format=csv")
	if !strings.Contains(last[aupPage+"/export?format=csv"], "Renamedfamily") {
		t.Error("the new name is not in the export")
	}

	// Publishing a parents' form.
	form := url.Values{"kind": {"consent"}, "title": {"Trip consent"}, "signer": {"one_parent"}, "renewal": {"until_withdrawn"},
		"item-label-1": {"My child may go on the trip"}}
	if res := office.post("/admin/consents", form); res.status != http.StatusSeeOther {
		t.Fatalf("publish: %d\n%s", res.status, res.body)
	}
	look("after publishing", "/admin/tracking", "/admin/tracking/export?format=csv")
	if !strings.Contains(last["/admin/tracking"], "Trip consent") {
		t.Error("the dashboard does not list the form just published")
	}
}

// TestPageCacheKeepsSessionsApart: two administrators of one school each
// get their own page (with their own name), never the other's, however
// often they look.
func TestPageCacheKeepsSessionsApart(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	school := a.id(`SELECT school_id FROM accounts WHERE email = $1`, demo.AdminEmail)
	a.account(school, "second.admin@hollybrook.example.sch.uk", "Second Administrator", "admin")
	first, second := a.signedIn(demo.AdminEmail), a.signedIn("second.admin@hollybrook.example.sch.uk")
	for range 3 {
		for _, c := range []struct {
			c          *client
			own, other string
		}{{first, "Karen Holloway", "Second Administrator"}, {second, "Second Administrator", "Karen Holloway"}} {
			page := hit(t, a, c.c, "/admin/tracking")
			if !strings.Contains(page.body, c.own) || strings.Contains(page.body, c.other) {
				t.Fatalf("%s was served a page that is not theirs", c.own)
			}
		}
	}
	// The same account signed in again is another session: its first look
	// is built for it, not served the first session's page.
	again := a.signedIn("second.admin@hollybrook.example.sch.uk")
	before := a.srv.PageCacheStats()
	again.get("/admin/tracking")
	if after := a.srv.PageCacheStats(); after.Hits != before.Hits || after.Misses != before.Misses+1 {
		t.Errorf("a new session's first look: %+v, then %+v", before, after)
	}
}

// TestPageCacheChecksAccessFirst: a page kept for the office is still
// refused to everyone else, and to the office itself once its role is
// taken away.
func TestPageCacheChecksAccessFirst(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	office := a.signedIn(demo.AdminEmail)
	page := "/admin/tracking/forms/" + itoa(a.formID(aup))
	for _, p := range []string{"/admin/tracking", page, page + "/export?format=csv", "/admin/tracking/export?format=csv"} {
		hit(t, a, office, p)
		if res := a.client().get(p); res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/sign-in") {
			t.Errorf("signed out, %s: %d %s", p, res.status, res.location)
		}
		if res := a.signedIn(demo.StaffEmail).get(p); res.status != http.StatusForbidden {
			t.Errorf("a member of staff, %s: %d", p, res.status)
		}
	}
	dbtest.Exec(t, a.db, `UPDATE accounts SET roles = array_remove(roles, 'admin') WHERE email = $1`, demo.AdminEmail)
	if res := office.get(page); res.status != http.StatusForbidden {
		t.Errorf("the office without its role: %d", res.status)
	}
}

// TestPageCacheFollowsTheSnapshot: PostgreSQL's snapshot changes with a
// commit by another connection, even one that changes nothing shown, and
// the page is then built again (with the same bytes).
func TestPageCacheFollowsTheSnapshot(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	snapshot := func() string { return dbtest.Scalar[string](t, a.db, `SELECT pg_current_snapshot()::text`) }
	s1 := snapshot()
	dbtest.Exec(t, a.db, `UPDATE schools SET name = name`)
	if s2 := snapshot(); s2 == s1 {
		t.Fatalf("the snapshot did not change with a commit: %s", s1)
	}
	// Within one REPEATABLE READ transaction every statement reads one snapshot.
	tx, err := a.db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var in1, in2 string
	_, _ = tx.Exec(ctx, `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY`)
	_ = tx.QueryRow(ctx, `SELECT pg_current_snapshot()::text`).Scan(&in1)
	dbtest.Exec(t, a.db, `UPDATE schools SET name = name`)
	_ = tx.QueryRow(ctx, `SELECT pg_current_snapshot()::text`).Scan(&in2)
	if in1 == "" || in1 != in2 {
		t.Fatalf("one transaction read two snapshots: %s, %s", in1, in2)
	}

	office := a.signedIn(demo.AdminEmail)
	kept := hit(t, a, office, "/admin/tracking")
	dbtest.Exec(t, a.db, `UPDATE schools SET name = name`)
	before := a.srv.PageCacheStats()
	again := office.get("/admin/tracking")
	if after := a.srv.PageCacheStats(); after.Misses != before.Misses+1 || after.Hits != before.Hits {
		t.Errorf("after a commit the page was served from the cache: %+v, then %+v", before, after)
	}
	if again.body != kept.body {
		t.Error("the page built again differs, with nothing shown changed")
	}
	// Pages that can never be served again are let go at the next
	// request for a cached page (whichever); other pages leave the cache
	// alone.
	if a.srv.PageCacheStats().Pages == 0 {
		t.Fatal("nothing kept")
	}
	dbtest.Exec(t, a.db, `UPDATE schools SET name = name`)
	office.get("/admin/staff")
	if st := a.srv.PageCacheStats(); st.Pages == 0 {
		t.Errorf("a page outside the cache let the kept pages go: %+v", st)
	}
	office.get("/admin/tracking/export?format=csv")
	if st := a.srv.PageCacheStats(); st.Pages != 1 || st.Misses != before.Misses+2 {
		t.Errorf("after a commit, pages from before it are still kept beside the one built: %+v", st)
	}
}

// TestPageCacheStaysWithinItsBound: many pages of one session through a
// small cache keep its bytes under the bound, the latest ones kept.
func TestPageCacheStaysWithinItsBound(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	office := a.signedIn(demo.AdminEmail)
	page := "/admin/tracking/forms/" + itoa(a.formID(aup))
	// A page is kept when it is at most a quarter of the bound: with the
	// bound at four of these pages and a margin, four or five fit.
	_, plain := a.serverAt(-1)
	one := int64(len(office.getAt(plain, page+"?q=0").body))
	bound := 4*one + 16<<10
	small, base := a.serverAt(bound)
	for i := range 40 {
		if res := office.getAt(base, page+"?q="+itoa(i)); res.status != 200 {
			t.Fatalf("%d", res.status)
		}
		if st := small.PageCacheStats(); st.Bytes > bound {
			t.Fatalf("after %d pages the cache holds %d bytes, over its bound of %d", i+1, st.Bytes, bound)
		}
	}
	st := small.PageCacheStats()
	if st.Pages == 0 || st.Pages >= 40 || st.Misses != 40 {
		t.Errorf("40 different pages of %d bytes through a cache of %d: %+v", one, bound, st)
	}
	if off, base := a.serverAt(-1); off.PageCacheStats() != (web.PageCacheStats{}) || office.getAt(base, page).status != 200 || off.PageCacheStats() != (web.PageCacheStats{}) {
		t.Error("a server with the cache off counted pages")
	}
}

// TestPageCacheOutlivesSessionMarks: the once-a-minute mark of a
// session's last use is a commit, but one the server knows changes no
// page: the pages kept before it are still served after it.
func TestPageCacheOutlivesSessionMarks(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	office := a.signedIn(demo.AdminEmail)
	for range 100 {
		dbtest.Exec(t, a.db, `UPDATE sessions SET last_seen_at = last_seen_at - interval '2 minutes'`)
		built := office.get("/admin/tracking") // built after that commit, and the session marked used
		if recent := dbtest.Scalar[bool](t, a.db, `SELECT bool_and(last_seen_at > now() - interval '1 minute') FROM sessions`); !recent {
			t.Fatal("the session was not marked used")
		}
		before := a.srv.PageCacheStats()
		if again := office.get("/admin/tracking"); a.srv.PageCacheStats().Hits > before.Hits {
			if again.body != built.body {
				t.Fatal("the page served after the mark differs")
			}
			return
		}
		// another test's commit came between: try again
	}
	t.Fatal("a page kept before a session's mark was never served after it")
}

// TestPageCacheUnderConcurrentLooks: many looks at once at one page of
// one session (one builds, the others wait for it or are served it) all
// get the fresh page; after a signature, every look gets the new one.
func TestPageCacheUnderConcurrentLooks(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	_, fresh := a.serverAt(-1)
	office := a.signedIn(demo.AdminEmail)
	page := "/admin/tracking/forms/" + itoa(a.formID(aup))
	looks := func(want string) {
		t.Helper()
		var wg sync.WaitGroup
		for range 12 {
			wg.Go(func() {
				for range 4 {
					res, err := office.http.Get(a.ts.URL + page)
					if err != nil {
						t.Error(err)
						return
					}
					body, _ := io.ReadAll(res.Body)
					res.Body.Close()
					if res.StatusCode != 200 || string(body) != want {
						t.Errorf("a look at once with others: %d, %d bytes, not the fresh page", res.StatusCode, len(body))
					}
				}
			})
		}
		wg.Wait()
	}
	before := office.getAt(fresh, page).body
	looks(before)
	staff := a.signedIn(demo.StaffEmail)
	if res := staff.post("/forms/"+itoa(a.formID(aup)), url.Values{"version_id": {itoa(a.versionID(a.formID(aup)))}, "agree": {"yes"}, "typed_name": {"Daniel Okafor"}}); res.status != http.StatusSeeOther {
		t.Fatalf("sign: %d", res.status)
	}
	after := office.getAt(fresh, page).body
	if after == before {
		t.Fatal("the signature changed nothing on the page")
	}
	looks(after)
}
