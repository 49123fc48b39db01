package web

// policyRoutes are the routes of the policy lifecycle: the library,
// revisions, approval, publishing and reviews. Governors and heads read
// policies here (never parents' or staff's details); the office's own
// policy pages are in the core table.
func (s *Server) policyRoutes() []route {
	return []route{
		{"GET", "/policies", board, s.policyLibrary},
		{"GET", "/policies/starter", admin, s.policyStarterForm},
		{"POST", "/policies/starter", admin, s.policyStarterAdopt},
		{"GET", "/policies/approval-settings", admin, s.approvalSettings},
		{"POST", "/policies/approval-settings", admin, s.approvalSettingsSave},
		{"GET", "/policies/{policyID}", board, s.policyLifecycle},
		{"GET", "/policies/{policyID}/compare", board, s.policyCompare},
		{"GET", "/policies/{policyID}/approval-pack.pdf", board, s.policyApprovalPack},
		{"GET", "/policies/{policyID}/revision", authors, s.policyRevisionForm},
		{"POST", "/policies/{policyID}/revision", authors, s.policyRevisionSave},
		{"POST", "/policies/{policyID}/submit", authors, s.policySubmit},
		{"POST", "/policies/{policyID}/discard", authors, s.policyDiscard},
		{"POST", "/policies/{policyID}/decision", board, s.policyDecision},
		{"POST", "/policies/{policyID}/meeting", admin, s.policyMeeting},
		{"POST", "/policies/{policyID}/publish", admin, s.policyPublishRevision},
		{"POST", "/policies/{policyID}/reviewed", authors, s.policyReviewed},
		{"GET", "/policies/{policyID}/settings", admin, s.policySettingsForm},
		{"POST", "/policies/{policyID}/settings", admin, s.policySettingsSave},
		{"GET", "/reviews", board, s.reviewCalendar},
		{"POST", "/reviews/feed", board, s.reviewFeedCreate},
		{"POST", "/reviews/feed/revoke", board, s.reviewFeedRevoke},
		{"GET", "/calendar/{token}.ics", anyone, s.reviewFeed},
	}
}
