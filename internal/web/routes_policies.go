package web

import (
	"net/http"
	"strconv"

	"signoff/internal/auth"
)

var (
	// board may read policies, their revisions and the review calendar.
	board = access{roles: []auth.Role{auth.Admin, auth.Head, auth.Governor}}
	// authors draft revisions and record reviews.
	authors = access{roles: []auth.Role{auth.Admin, auth.Head}}
)

// policyRoutes are the routes of the policy lifecycle: the library, a
// policy's first draft, revisions, approval, publishing and reviews.
// Governors and heads read policies here (never parents' or staff's
// details). The first generation's /admin/policies addresses redirect.
func (s *Server) policyRoutes() []route {
	return []route{
		{"GET", "/policies", board, s.policyLibrary},
		{"GET", "/policies/new", admin, s.policyNewForm},
		{"POST", "/policies/new", admin, s.policyCreate},
		{"GET", "/policies/starter", admin, s.policyStarterForm},
		{"POST", "/policies/starter", admin, s.policyStarterAdopt},
		{"GET", "/policies/approval-settings", admin, s.approvalSettings},
		{"POST", "/policies/approval-settings", admin, s.approvalSettingsSave},
		{"GET", "/policies/{policyID}", board, s.policyShow},
		{"GET", "/policies/{policyID}/compare", board, s.policyCompare},
		{"GET", "/policies/{policyID}/approval-pack.pdf", board, s.policyApprovalPack},
		{"GET", "/policies/{policyID}/revision", authors, s.policyRevision},
		{"POST", "/policies/{policyID}/revision", authors, s.policyRevision},
		{"POST", "/policies/{policyID}/submit", authors, s.policySubmit},
		{"POST", "/policies/{policyID}/discard", authors, s.policyDiscard},
		{"POST", "/policies/{policyID}/decision", board, s.policyDecision},
		{"POST", "/policies/{policyID}/meeting", admin, s.policyMeeting},
		{"GET", "/policies/{policyID}/publish", admin, s.policyPublishForm},
		{"POST", "/policies/{policyID}/publish", admin, s.policyPublish},
		{"POST", "/policies/{policyID}/reviewed", authors, s.policyReviewed},
		{"GET", "/policies/{policyID}/settings", admin, s.policySettings},
		{"POST", "/policies/{policyID}/settings", admin, s.policySettings},
		{"GET", "/reviews", board, s.reviewCalendar},
		{"POST", "/reviews/feed", board, s.reviewFeedCreate},
		{"POST", "/reviews/feed/revoke", board, s.reviewFeedRevoke},
		{"GET", "/calendar/{token}.ics", anyone, s.reviewFeed},

		// Retired: the office's first policy pages.
		{"GET", "/admin/policies", admin, moved(func(*http.Request) string { return "/policies" })},
		{"GET", "/admin/policies/new", admin, moved(func(*http.Request) string { return "/policies/new" })},
		{"GET", "/admin/policies/{policyID}", admin, moved(policyPath(""))},
		{"GET", "/admin/policies/{policyID}/edit", admin, moved(policyPath("/revision"))},
	}
}

// policyPath is the address of a page of the policy in the path.
func policyPath(suffix string) func(*http.Request) string {
	return func(r *http.Request) string {
		id, err := idParam(r, "policyID")
		if err != nil {
			return "/policies"
		}
		return "/policies/" + strconv.FormatInt(id, 10) + suffix
	}
}
