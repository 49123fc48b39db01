package web

import (
	"net/http"
	"strconv"
	"strings"

	"signoff/internal/apperr"
	"signoff/internal/policies"
	"signoff/templates"
	"signoff/templates/components"
)

// The school's approval rule and review window.

// approvalSettings shows the school's approval rule.
func (s *Server) approvalSettings(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	rule, err := s.policies.SchoolRule(r.Context(), v.school.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	notice := ""
	if r.URL.Query().Get("saved") != "" {
		notice = "Saved"
	}
	s.approvalSettingsPage(w, r, rule.Kind, strconv.Itoa(rule.Count), strconv.Itoa(rule.WindowDays), notice, nil)
}

// approvalSettingsSave saves the school's approval rule.
func (s *Server) approvalSettingsSave(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	kind, count, window := r.PostFormValue("rule"), strings.TrimSpace(r.PostFormValue("count")), strings.TrimSpace(r.PostFormValue("window"))
	c, errC := strconv.Atoi(count)
	wd, errW := strconv.Atoi(window)
	if errC != nil {
		c = -1
		if kind != "count" {
			c = 2
		}
	}
	if errW != nil {
		wd = -1
	}
	err := s.policies.SaveSchoolRule(r.Context(), v.school.ID, v.account.Actor(clientIP(r)), policies.Rule{Kind: kind, Count: c, WindowDays: wd})
	if err != nil {
		if apperr.CodeOf(err) == apperr.Invalid {
			s.approvalSettingsPage(w, r, kind, count, window, "", err)
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/policies/approval-settings?saved=1", http.StatusSeeOther)
}

func (s *Server) approvalSettingsPage(w http.ResponseWriter, r *http.Request, kind, count, window, notice string, err error) {
	view := templates.PolicyApprovalSettingsView{Layout: s.lifecycleLayout(r, "How revisions are approved"), Count: count, Window: window, Notice: notice, Errors: viewErrors(err)}
	view.Layout.HasErrors = err != nil
	view.Rule = components.ChoiceProps{ID: "rule", Name: "rule", Legend: "A revision is approved when", Error: view.Errors.Get("rule"), Small: true, Options: []components.Option{
		{Value: "majority", Label: "A majority of its approvers approve it", Checked: kind == "majority"},
		{Value: "count", Label: "A number of approvers approve it", Hint: "If fewer people are asked, all of them must approve.", Checked: kind == "count"},
	}}
	status := http.StatusOK
	if err != nil {
		status = http.StatusUnprocessableEntity
	}
	s.render(w, r, status, templates.PolicyApprovalSettingsPage(view))
}
