package web_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"signoff/internal/auth"
	"signoff/internal/demo"
	"signoff/internal/people"
)

// The permission table of parents, pupils and consent. "staff" (Daniel,
// a teacher) reaches the class lists; a governor never does (see
// TestGovernorsSeeNoConsentDetails).
func init() {
	CLASSROOM := []string{"staff", "admin", "staff+admin"}
	for k, v := range map[string][]string{
		"GET /family":                                           {"parent"},
		"GET /family/children/{pupilID}":                        {"parent"},
		"GET /family/children/{pupilID}/forms/{formID}":         {"parent"},
		"POST /family/children/{pupilID}/forms/{formID}":        {"parent"},
		"GET /family/children/{pupilID}/forms/{formID}/change":  {"parent"},
		"POST /family/children/{pupilID}/forms/{formID}/change": {"parent"},
		"GET /family/records/{ref}":                             {"parent"},
		"GET /family/records/{ref}/copy.pdf":                    {"parent"},
		"GET /classes/photos":                                   CLASSROOM,
		"GET /classes/photos.csv":                               CLASSROOM,
		"GET /check":                                            CLASSROOM,
		"GET /class-mode":                                       CLASSROOM,
		"GET /class-mode/{formID}/pupils/{pupilID}":             CLASSROOM,
		"POST /class-mode/{formID}/pupils/{pupilID}":            CLASSROOM,
		"GET /admin/consents":                                   ADMIN,
		"GET /admin/consents/new":                               ADMIN,
		"POST /admin/consents":                                  ADMIN,
		"GET /admin/consents/{formID}":                          ADMIN,
		"POST /admin/consents/{formID}/school":                  ADMIN,
		"POST /admin/consents/{formID}/close":                   ADMIN,
		"GET /admin/consents/{formID}/paper":                    ADMIN,
		"POST /admin/consents/{formID}/paper":                   ADMIN,
		"POST /admin/consents/{formID}/letters":                 ADMIN,
		"GET /admin/consents/{formID}/letters/{batchID}.pdf":    ADMIN,
		"GET /admin/records/{ref}/scan":                         ADMIN,
	} {
		expected[k] = v
	}
}

// TestClassroomAccessIsDeclaredInTheRouteTable: who sees class lists is
// the classroom access beside the route table, and the guard alone
// enforces it: the class-list routes (and only they) narrow staff to
// teachers, teaching assistants and support staff; a governor, who holds
// the staff role, is refused each with the reason, a teaching assistant
// is let in, and the menu links the class lists only for those let in.
func TestClassroomAccessIsDeclaredInTheRouteTable(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	var narrowed []string
	for _, rt := range a.srv.Routes() {
		if len(rt.StaffRoles) == 0 {
			continue
		}
		narrowed = append(narrowed, rt.Method+" "+rt.Pattern)
		if !slices.Equal(rt.StaffRoles, []people.StaffRole{people.Teacher, people.TeachingAssistant, people.Support}) {
			t.Errorf("%s %s lets in %v", rt.Method, rt.Pattern, rt.StaffRoles)
		}
	}
	want := []string{"GET /classes/photos", "GET /classes/photos.csv", "GET /check", "GET /class-mode",
		"GET /class-mode/{formID}/pupils/{pupilID}", "POST /class-mode/{formID}/pupils/{pupilID}"}
	if !slices.Equal(narrowed, want) {
		t.Fatalf("routes narrowed to classroom staff: %v, want %v", narrowed, want)
	}
	var roles []string
	if err := a.db.Pool.QueryRow(ctx, `SELECT roles FROM accounts WHERE email = $1`, demo.GovernorEmail).Scan(&roles); err != nil || !slices.Contains(roles, string(auth.Staff)) {
		t.Fatalf("the governor's roles: %v (%v); the test needs one holding the staff role", roles, err)
	}
	// A teaching assistant: a member of staff like the governor, in another staff role.
	if _, err := a.db.Pool.Exec(ctx, `UPDATE people SET staff_role = 'teaching_assistant' WHERE email = $1`, demo.StaffEmail); err != nil {
		t.Fatal(err)
	}
	gov, ta := a.signedIn(demo.GovernorEmail), a.signedIn(demo.StaffEmail)
	for _, path := range []string{"/classes/photos", "/classes/photos.csv", "/check?q=a", "/class-mode", "/class-mode/1/pupils/1"} {
		if res := gov.get(path); res.status != http.StatusForbidden || !strings.Contains(res.body, "Class lists and consent details are for teaching and support staff") {
			t.Errorf("governor opening %s: %d\n%s", path, res.status, res.body)
		}
	}
	if res := gov.post("/class-mode/1/pupils/1", url.Values{}); res.status != http.StatusForbidden {
		t.Errorf("governor signing in class mode: %d", res.status)
	}
	if res := ta.get("/classes/photos"); res.status != http.StatusOK {
		t.Errorf("teaching assistant opening the class list: %d", res.status)
	}
	if home := gov.get("/"); strings.Contains(home.body, `href="/classes/photos"`) {
		t.Error("the governor's menu links the class lists")
	}
	if home := ta.get("/"); !strings.Contains(home.body, `href="/classes/photos"`) {
		t.Error("the teaching assistant's menu does not link the class lists")
	}
}
