package web_test

import (
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"signoff/internal/demo"
	"signoff/internal/web"
)

// Every POST redirects (post/redirect/get). Every POST the HTTP tests of
// this package make is watched as it is answered: a 200 fails the run
// (bad input answers 4xx, with the message beside the field). When the
// whole package runs, TestMain also walks the route table's POSTs: each
// must have been answered with a redirect by some test, so a new POST
// route comes with a test of its valid use.

var posts = struct {
	sync.Mutex
	routes     []web.RouteInfo
	redirected map[string]bool // paths
	problems   map[string]int  // path → POSTs answered 200
}{redirected: map[string]bool{}, problems: map[string]int{}}

var routeParam = regexp.MustCompile(`\\\{[a-zA-Z]+\\\}`)

// learnRoutes keeps the route table (once) for matching paths to routes.
func learnRoutes(srv *web.Server) {
	posts.Lock()
	defer posts.Unlock()
	if posts.routes == nil {
		posts.routes = srv.Routes()
	}
}

// postRoute is the POST route pattern a path is served by: a route with
// fewer parameters wins, as in chi.
func postRoute(path string) string {
	best, bestParams := path, 99
	for _, rt := range posts.routes {
		if rt.Method != http.MethodPost {
			continue
		}
		re := regexp.MustCompile("^" + routeParam.ReplaceAllString(regexp.QuoteMeta(rt.Pattern), `[^/]+`) + "$")
		if n := strings.Count(rt.Pattern, "{"); re.MatchString(path) && n < bestParams {
			best, bestParams = rt.Pattern, n
		}
	}
	return best
}

// previewing is a POST that only shows a form again with what was typed
// (the policy editor's preview, and its import of a file into the text):
// it changes nothing, so it may answer with the page.
var previewing = regexp.MustCompile(`(^|&)action=(preview|import)(&|$)|name="action"\r\n\r\n(preview|import)\r\n`)

// watchPost records how a POST was answered.
func watchPost(path string, body []byte, status int) {
	path, _, _ = strings.Cut(path, "?")
	posts.Lock()
	defer posts.Unlock()
	switch {
	case status == http.StatusOK && !previewing.Match(body):
		posts.problems[path]++
	case status == http.StatusSeeOther || status == http.StatusFound:
		posts.redirected[path] = true
	}
}

// postProblems describes the POSTs that answered 200, and (when every
// test ran) the POST routes no test saw redirect.
func postProblems() string {
	posts.Lock()
	defer posts.Unlock()
	var out []string
	for path, n := range posts.problems {
		out = append(out, fmt.Sprintf("POST %s (%s) answered 200 %d times: redirect to a page that shows the result", path, postRoute(path), n))
	}
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() == "" && posts.routes != nil {
		seen := map[string]bool{}
		for path := range posts.redirected {
			seen[postRoute(path)] = true
		}
		for _, rt := range posts.routes {
			if rt.Method == http.MethodPost && !seen[rt.Pattern] {
				out = append(out, fmt.Sprintf("POST %s: no test saw it redirect after a valid request", rt.Pattern))
			}
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// TestPostsOfOtherwiseUntestedFormsRedirect makes a valid request to the
// POSTs no other HTTP test of this package makes (the browser tests do),
// so that the walk of the route table sees each redirect.
func TestPostsOfOtherwiseUntestedFormsRedirect(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.makeHead()
	office := a.signedIn(demo.AdminEmail)
	head := a.signedIn(headEmail)
	redirects := func(c *client, path string, form url.Values) response {
		t.Helper()
		res := c.post(path, form)
		if res.status != http.StatusSeeOther {
			t.Fatalf("POST %s: %d, want 303\n%s", path, res.status, res.body)
		}
		return res
	}

	// The school signs its part of the home-school agreement.
	redirects(office, "/admin/consents/"+itoa(a.formID("Home-school agreement"))+"/school", url.Values{"typed_name": {"Jane Clarke"}})
	// Invitations to staff never invited.
	redirects(office, "/admin/staff/invite", url.Values{"who": {"never"}})
	// A published policy: its details, a review with no change, a
	// revision discarded, and one approved at a meeting.
	policy := "/policies/" + itoa(a.id(`SELECT policy_id FROM forms WHERE title = $1`, aup))
	redirects(office, policy+"/settings", url.Values{"title": {aup}, "category": {"IT and online safety"}, "review_cycle_years": {"2"}, "owner": {""},
		"approval_level": {"governing_board"}})
	redirects(head, policy+"/reviewed", url.Values{"review_date-day": {"1"}, "review_date-month": {"9"}, "review_date-year": {"2026"},
		"body": {"governing_board"}, "meeting": {"Autumn FGB"}, "minute_ref": {"FGB-2026-09/4"}, "note": {"Read through; nothing to change."}})
	revise := func() string {
		t.Helper()
		redirects(head, policy+"/revision", url.Values{"action": {"save"}, "body": {"# Acceptable use\n\nBe kind online.\n"}, "kind": {"major"}, "change_note": {"Shorter."}})
		vid := versionIDRE.FindStringSubmatch(head.get(policy).body)
		if vid == nil {
			t.Fatal("no version id on the policy's page")
		}
		return vid[1]
	}
	redirects(head, policy+"/discard", url.Values{"version_id": {revise()}})
	redirects(office, policy+"/meeting", url.Values{"version_id": {revise()}, "date-day": {"2"}, "date-month": {"9"}, "date-year": {"2026"},
		"body": {"governing_board"}, "meeting": {"Autumn FGB"}, "minute_ref": {"FGB-2026-09/5"}})
}
