package web

import (
	"fmt"
	"net/http"
	"strconv"

	"signoff/internal/apperr"
	"signoff/internal/policies"
	"signoff/templates"
	"signoff/templates/components"
)

// The page that starts a policy: its title, category, review cycle and
// the text of version 1, saved as a draft. The draft is then edited,
// approved and published on the policy's page like any later version.

// policyNewForm shows the form for a new policy.
func (s *Server) policyNewForm(w http.ResponseWriter, r *http.Request) {
	s.policyNewPage(w, r, policies.DraftInput{ReviewCycleYears: 1}, nil)
}

// policyCreate saves a new policy as a draft of version 1.
func (s *Server) policyCreate(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	cycle, _ := strconv.Atoi(r.PostFormValue("review_cycle_years"))
	in := policies.DraftInput{Title: r.PostFormValue("title"), Category: r.PostFormValue("category"), ReviewCycleYears: cycle, Body: r.PostFormValue("body")}
	p, _, err := s.policies.CreateDraft(r.Context(), v.school.ID, v.account.Actor(clientIP(r)), in)
	if err != nil {
		if apperr.CodeOf(err) == apperr.Invalid {
			s.policyNewPage(w, r, in, err)
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/policies/%d?done=saved", p.ID), http.StatusSeeOther)
}

func (s *Server) policyNewPage(w http.ResponseWriter, r *http.Request, in policies.DraftInput, err error) {
	view := templates.PolicyNewView{Layout: s.lifecycleLayout(r, "Create a policy"), Title: in.Title, Category: in.Category, Body: in.Body, Errors: viewErrors(err)}
	view.Layout.HasErrors = err != nil
	view.Cycle = cycleChoice(strconv.Itoa(in.ReviewCycleYears), view.Errors.Get("review_cycle_years"))
	status := http.StatusOK
	if err != nil {
		status = http.StatusUnprocessableEntity
	}
	s.render(w, r, status, templates.PolicyNewPage(view))
}

// cycleChoice is the "how often is it reviewed" question.
func cycleChoice(cycle, errMsg string) components.ChoiceProps {
	return components.ChoiceProps{ID: "review_cycle_years", Name: "review_cycle_years", Legend: "How often is it reviewed?", Small: true, Error: errMsg,
		Options: []components.Option{{Value: "1", Label: "Every year", Checked: cycle == "1"}, {Value: "2", Label: "Every 2 years", Checked: cycle == "2"}, {Value: "3", Label: "Every 3 years", Checked: cycle == "3"}}}
}
