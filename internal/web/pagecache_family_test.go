package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"signoff/internal/database/dbtest"
)

// TestPageCacheFamilyPage: the family page is kept for its session and
// served again, byte for byte what a server without the cache renders;
// the parent's own answers (a commit) show at the very next look, and
// so does a write by someone else; a
// change of language is never kept and each language is its own page.
func TestPageCacheFamilyPage(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	_, fresh := a.serverAt(-1)
	_, parentID, _ := a.demoParent()
	photo := a.id(`SELECT id FROM forms WHERE title = 'Photo consent'`)
	p := a.parent(parentID)
	same := func(what string) response {
		t.Helper()
		got, want := p.get("/family"), p.getAt(fresh, "/family")
		if got.status != 200 || got.body != want.body {
			t.Fatalf("%s: the family page is not what a fresh render gives (%d, %d bytes; fresh %d, %d bytes)", what, got.status, len(got.body), want.status, len(want.body))
		}
		if again := hit(t, a, p, "/family"); again.body != got.body {
			t.Fatalf("%s: the family page served from the cache differs from the page just built", what)
		}
		return got
	}
	before := same("at first")
	if strings.Count(before.body, "To complete") < 4 {
		t.Fatalf("the family page should list two forms to complete for each of two children:\n%s", before.body)
	}

	// The parent completes the photo form for one child.
	child := regexp.MustCompile(`/family/children/(\d+)/forms/` + itoa(photo)).FindStringSubmatch(before.body)
	if child == nil {
		t.Fatal("no child with the photo form")
	}
	path := "/family/children/" + child[1] + "/forms/" + itoa(photo)
	form := p.get(path)
	vals := url.Values{"typed_name": {"Samira Walsh"}}
	for _, m := range regexp.MustCompile(`name="(item-\d+)" type="(?:radio|checkbox)"`).FindAllStringSubmatch(form.body, -1) {
		vals.Set(m[1], "yes")
	}
	if res := p.post(path, vals); res.status != http.StatusSeeOther {
		t.Fatalf("submit: %d\n%s", res.status, res.body)
	}
	after := same("after the parent's answers")
	if after.body == before.body || strings.Count(after.body, "To complete") != strings.Count(before.body, "To complete")-1 ||
		!strings.Contains(after.body, "Completed by you on") {
		t.Errorf("the family page did not change with the parent's answers:\n%s", after.body)
	}

	// A write by someone else (the office renames the child) shows at
	// the next look too.
	dbtest.Exec(t, a.db, `UPDATE people SET family_name = 'Zebedee' WHERE id = $1`, child[1])
	if renamed := same("after the office renamed the child"); !strings.Contains(renamed.body, "Zebedee") {
		t.Errorf("the family page did not follow the office's change of the child's name:\n%s", renamed.body)
	}
	after = same("again")

	// Choosing a language sets a cookie: that answer is never kept, and
	// the page in Polish is kept apart from the English one.
	stats := a.srv.PageCacheStats()
	for range 2 {
		if res := p.get("/family?lang=pl"); res.status != 200 || res.header.Get("Set-Cookie") == "" || !strings.Contains(res.body, `lang="pl"`) {
			t.Fatalf("choosing Polish: %d", res.status)
		}
	}
	if now := a.srv.PageCacheStats(); now.Hits != stats.Hits {
		t.Errorf("an answer that sets a cookie was served from the cache: %+v, then %+v", stats, now)
	}
	polish := same("in Polish")
	if !strings.Contains(polish.body, `lang="pl"`) || polish.body == after.body {
		t.Errorf("the page with the Polish cookie is not in Polish:\n%s", polish.body)
	}
}
