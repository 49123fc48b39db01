package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"signoff/internal/audit"
	"signoff/internal/auth"
	"signoff/internal/demo"
	"signoff/internal/mis"
	"signoff/internal/people"
)

// expected is the permission table as the product describes it: who may
// use each route. The test checks the server's route table says the same
// and that every role is treated accordingly.
// expected holds the core routes; the other areas' routes are added by
// init functions in authz_*_test.go files.
var expected = map[string][]string{
	"GET /healthz":                                      ALL,
	"GET /readyz":                                       ALL,
	"GET /theme/{colour}.css":                           ALL,
	"GET /sign-in":                                      ALL,
	"POST /sign-in":                                     ALL,
	"POST /sign-in/link":                                ALL,
	"GET /sign-in/link/{token}":                         ALL,
	"POST /sign-in/link/{token}":                        ALL,
	"POST /sign-out":                                    ALL,
	"GET /set-up/{token}":                               ALL,
	"POST /set-up/{token}":                              ALL,
	"GET /set-up-school":                                ALL,
	"POST /set-up-school":                               ALL,
	"GET /f/{token}":                                    ALL,
	"GET /family/code":                                  ALL,
	"POST /family/code":                                 ALL,
	"GET /family/lost":                                  ALL,
	"POST /family/lost":                                 ALL,
	"GET /":                                             {"staff", "admin", "staff+admin", "parent", "trust"},
	"GET /account":                                      {"staff", "admin", "staff+admin", "trust"},
	"POST /account/password":                            {"staff", "admin", "staff+admin", "trust"},
	"GET /forms/{formID}":                               {"staff", "staff+admin"},
	"POST /forms/{formID}":                              {"staff", "staff+admin"},
	"GET /signatures/{ref}":                             {"staff", "admin", "staff+admin", "parent", "trust"},
	"GET /signatures/{ref}/copy.pdf":                    {"staff", "admin", "staff+admin", "parent", "trust"},
	"GET /admin":                                        ADMIN,
	"GET /admin/forms/{formID}":                         ADMIN,
	"GET /admin/staff":                                  ADMIN,
	"GET /admin/staff/invite":                           ADMIN,
	"GET /admin/staff/invite/confirm":                   ADMIN,
	"POST /admin/staff/invite":                          ADMIN,
	"GET /admin/staff/{personID}":                       ADMIN,
	"POST /admin/staff/{personID}/roles":                ADMIN,
	"GET /admin/pupils":                                 ADMIN,
	"GET /admin/pupils/{pupilID}":                       ADMIN,
	"GET /admin/parents/{parentID}":                     ADMIN,
	"POST /admin/parents/{parentID}/family-link/email":  ADMIN,
	"POST /admin/parents/{parentID}/family-link/print":  ADMIN,
	"POST /admin/parents/{parentID}/family-link/revoke": ADMIN,
	"GET /admin/import":                                 ADMIN,
	"POST /admin/import":                                ADMIN,
	"GET /admin/import/{importID}":                      ADMIN,
	"POST /admin/import/{importID}/mapping":             ADMIN,
	"POST /admin/import/{importID}/apply":               ADMIN,
	"GET /admin/outbox":                                 ADMIN,
	"GET /admin/outbox/{messageID}":                     ADMIN,
	"POST /admin/outbox/{messageID}/retry":              ADMIN,
	"GET /admin/audit":                                  ADMIN,
	"GET /admin/school":                                 ADMIN,
	"POST /admin/school":                                ADMIN,
	"POST /admin/school/logo":                           ADMIN,
	"POST /admin/school/logo/remove":                    ADMIN,
	"GET /logo/{schoolID}/{hash}":                       ALL,
}

var (
	ALL   = []string{"anonymous", "staff", "admin", "staff+admin", "parent", "trust"}
	ADMIN = []string{"admin", "staff+admin"}
)

var anyParam = regexp.MustCompile(`\{[a-zA-Z]+\}`)

func TestAuthorisationMatrix(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()

	// The staff member's own signature, so that ownership lets them in.
	staff := a.signedIn(demo.StaffEmail)
	form := a.formID(aup)
	res := staff.post("/forms/"+itoa(form), url.Values{"version_id": {itoa(a.versionID(form))}, "agree": {"yes"}, "typed_name": {"Daniel Okafor"}})
	ref := refRE.FindStringSubmatch(res.location)[1]

	// An admin who is not staff.
	school := a.id(`SELECT id FROM schools`)
	a.account(school, "office-only@hollybrook.example.sch.uk", "Office Only", "admin")

	// A trust administrator (and nothing else) of a trust the school is in.
	a.inTrust(school, "Matrix Trust", "matrix")
	a.account(school, "trust-only@hollybrook.example.sch.uk", "Trust Only", "trust_admin")

	parentID, _, err := demo.Parent(ctx, a.db, school)
	if err != nil {
		t.Fatal(err)
	}
	clients := map[string]func() *client{
		"anonymous":   a.client,
		"staff":       func() *client { return a.signedIn(demo.StaffEmail) },
		"admin":       func() *client { return a.signedIn("office-only@hollybrook.example.sch.uk") },
		"staff+admin": func() *client { return a.signedIn(demo.AdminEmail) },
		"parent":      func() *client { return a.parent(parentID) },
		"trust":       func() *client { return a.signedIn("trust-only@hollybrook.example.sch.uk") },
	}
	batch, err := mis.NewStore(a.db).SaveBatch(ctx, school, audit.System("test"), []mis.File{{Name: "staff.csv", Data: []byte("Staff Code,Forename,Surname,Work Email,Role\nXX99,Bad,Row,,Teacher\n")}})
	if err != nil {
		t.Fatal(err)
	}
	message := a.id(`INSERT INTO outbox (school_id, to_address, subject, body_text, created_at, next_attempt_at)
		VALUES ($1, 'x@example.org', 'Hello', 'Body', now(), now()) RETURNING id`, school)
	params := strings.NewReplacer(
		"{formID}", itoa(form),
		"{ref}", ref,
		"{policyID}", itoa(a.id(`SELECT policy_id FROM forms WHERE id = $1`, form)),
		"{personID}", itoa(a.id(`SELECT id FROM people WHERE email = $1`, demo.StaffEmail)),
		"{colour}", "00594f",
		"{token}", "not-a-real-token",
		"{pupilID}", itoa(a.id(`SELECT min(pupil_id) FROM guardianships WHERE parent_id = $1`, parentID)),
		"{parentID}", itoa(parentID),
		"{importID}", itoa(batch),
		"{messageID}", itoa(message),
	)

	// One signed-in client per role, so the matrix does not trip the
	// sign-in and family-link rate limits.
	cached := map[string]*client{}
	routes := a.srv.Routes()
	if len(routes) != len(expected) {
		t.Errorf("the route table has %d routes, the expected table %d", len(routes), len(expected))
	}
	for _, rt := range routes {
		key := rt.Method + " " + rt.Pattern
		want, ok := expected[key]
		if !ok {
			t.Errorf("route %s is not in the expected permission table: add it", key)
			continue
		}
		for role, newClient := range clients {
			allowed := slices.Contains(want, role)
			// The table itself must agree.
			tableAllows := rt.Public || (role != "anonymous" && (len(rt.Roles) == 0 || slices.ContainsFunc(rt.Roles, func(r auth.Role) bool {
				// "staff" is a teacher: let in by a narrowed staff access only if it names teachers.
				return (r == auth.Staff && strings.Contains(role, "staff") && (len(rt.StaffRoles) == 0 || slices.Contains(rt.StaffRoles, people.Teacher))) || (r == auth.Admin && strings.Contains(role, "admin")) ||
					(r == auth.Parent && role == "parent") || (r == auth.TrustAdmin && role == "trust")
			})))
			if tableAllows != allowed {
				t.Errorf("%s for %s: the route table allows=%v, the permission table says %v", key, role, tableAllows, allowed)
			}
			if key == "POST /sign-out" || key == "POST /sign-in" {
				continue // these change the session itself; covered by their own tests
			}
			c := cached[role]
			if c == nil {
				c = newClient()
				if role != "anonymous" {
					cached[role] = c
				}
			}
			path := params.Replace(rt.Pattern)
			// Any id not named above: a number. The guard refuses before
			// the handler looks at it, so it serves the denied cases.
			path = anyParam.ReplaceAllString(path, "1")
			var got response
			if rt.Method == "GET" {
				got = c.get(path)
			} else {
				got = c.post(path, url.Values{})
			}
			denied := got.status == http.StatusForbidden || (got.status == http.StatusUnauthorized && !rt.Public) ||
				(got.status == http.StatusSeeOther && strings.HasPrefix(got.location, "/sign-in") && !rt.Public)
			if allowed && denied {
				t.Errorf("%s %s as %s: %d %s, want allowed", rt.Method, path, role, got.status, got.location)
			}
			if strings.Contains(rt.Pattern, "/family-link/") {
				delete(cached, "parent") // revoking ends the parent's session
			}
			if !allowed && !denied {
				t.Errorf("%s %s as %s: %d, want refused", rt.Method, path, role, got.status)
			}
			if !allowed && role != "anonymous" && got.status != http.StatusForbidden {
				t.Errorf("%s %s as %s: %d, want 403", rt.Method, path, role, got.status)
			}
		}
	}
}
