package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"signoff/internal/auth"
	"signoff/internal/policies"
	"signoff/templates"
)

// The policy library (GET /policies): every policy with its current
// version, approval, review cycle and status.

// policyLibrary is the library for the office, governors and heads.
func (s *Server) policyLibrary(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	list, rule, err := s.policies.Library(r.Context(), v.school.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view := templates.PolicyLibraryView{Layout: s.lifecycleLayout(r, "Policies"), Admin: v.account.Has(auth.Admin), RuleText: rule.Describe(), WindowDays: strconv.Itoa(rule.WindowDays)}
	if n, err := strconv.Atoi(r.URL.Query().Get("adopted")); err == nil {
		view.Notice = fmt.Sprintf("%d %s added to the library as drafts: replace each placeholder text with your own", n, map[bool]string{true: "policy", false: "policies"}[n == 1])
	}
	for _, p := range list {
		row := templates.PolicyLibraryRow{Title: p.Title, Href: fmt.Sprintf("/policies/%d", p.ID), Owner: orDash(p.OwnerName), Category: orDash(p.Category),
			Statutory: p.Statutory, Current: "Not published yet", Approval: "–", Cycle: cycleLabel(p.ReviewCycleYears) + " (" + p.ApprovalLevel.Label() + ")",
			NextReview: date(p.NextReviewOn), Status: p.Status.Label(), StatusClass: statusClass(p.Status), Related: p.Related}
		if p.Current != nil {
			row.Current = versionLabel(p.Current.Number, p.Current.PublishedAt)
			row.Approval = approvalLine(*p.Current)
		}
		if p.Open != nil {
			if p.Current == nil {
				row.Status = "Draft of version 1"
			} else if p.DateStatus == policies.Overdue || p.DateStatus == policies.DueSoon {
				row.Status = p.Status.Label() + " (" + strings.ToLower(p.DateStatus.Label()) + ")"
			}
		}
		view.Policies = append(view.Policies, row)
	}
	s.render(w, r, http.StatusOK, templates.PolicyLibraryPage(view))
}
