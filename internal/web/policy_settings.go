package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"signoff/internal/apperr"
	"signoff/internal/auth"
	"signoff/internal/policies"
	"signoff/templates"
	"signoff/templates/components"
)

// A policy's details: title, category, review cycle, owner, approval
// level, next review date and related policies, changed in this one place.

// policySettings shows the form for a policy's details (GET) or saves them
// (POST).
func (s *Server) policySettings(w http.ResponseWriter, r *http.Request) {
	post := r.Method == http.MethodPost
	v := viewerOf(r)
	ctx := r.Context()
	p, ok := s.policyOf(w, r)
	if !ok {
		return
	}
	id := p.ID
	related, err := s.policies.Related(ctx, v.school.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	in := policies.SettingsInput{Title: p.Title, Category: p.Category, ReviewCycleYears: p.ReviewCycleYears, OwnerAccountID: p.OwnerAccountID,
		Statutory: p.Statutory, ApprovalLevel: p.ApprovalLevel, NextReviewOn: p.NextReviewOn, Related: related}
	var day, month, year string
	if p.NextReviewOn != nil {
		day, month, year = strconv.Itoa(p.NextReviewOn.Day()), strconv.Itoa(int(p.NextReviewOn.Month())), strconv.Itoa(p.NextReviewOn.Year())
	}
	var formErr error
	status := http.StatusOK
	if post {
		_ = r.ParseForm()
		cycle, _ := strconv.Atoi(r.PostFormValue("review_cycle_years"))
		owner, _ := strconv.ParseInt(r.PostFormValue("owner"), 10, 64)
		in = policies.SettingsInput{Title: r.PostFormValue("title"), Category: r.PostFormValue("category"), ReviewCycleYears: cycle,
			OwnerAccountID: owner, Statutory: r.PostFormValue("statutory") == "yes", ApprovalLevel: policies.ApprovalLevel(r.PostFormValue("approval_level"))}
		day, month, year = r.PostFormValue("next_review-day"), r.PostFormValue("next_review-month"), r.PostFormValue("next_review-year")
		in.NextReviewOn, in.NextReviewError = formDate(r, "next_review", "The next review date")
		for _, x := range r.PostForm["related"] {
			if n, err := strconv.ParseInt(x, 10, 64); err == nil {
				in.Related = append(in.Related, n)
			}
		}
		formErr = s.policies.SaveSettings(ctx, v.school.ID, id, v.account.Actor(clientIP(r)), in)
		if formErr == nil {
			http.Redirect(w, r, fmt.Sprintf("/policies/%d?done=settings", id), http.StatusSeeOther)
			return
		}
		if apperr.CodeOf(formErr) != apperr.Invalid {
			s.fail(w, r, formErr)
			return
		}
		status = http.StatusUnprocessableEntity
	}
	view := templates.PolicySettingsView{Layout: s.lifecycleLayout(r, "Change "+p.Title), Title: p.Title, Action: fmt.Sprintf("/policies/%d/settings", id),
		BackHref: fmt.Sprintf("/policies/%d", id), TitleValue: in.Title, Category: in.Category, Statutory: in.Statutory,
		OwnerValue: strconv.FormatInt(in.OwnerAccountID, 10), Errors: viewErrors(formErr)}
	view.Layout.HasErrors = formErr != nil
	cycle := strconv.Itoa(in.ReviewCycleYears)
	view.Cycle = cycleChoice(cycle, view.Errors.Get("review_cycle_years"))
	view.Level = components.ChoiceProps{ID: "approval_level", Name: "approval_level", Legend: "Who approves it?", Small: true, Error: view.Errors.Get("approval_level")}
	for _, l := range policies.ApprovalLevels {
		view.Level.Options = append(view.Level.Options, components.Option{Value: string(l), Label: l.Label(), Checked: in.ApprovalLevel == l})
	}
	view.NextReview = components.DateProps{ID: "next_review", Name: "next_review", Legend: "Next review by", Error: view.Errors.Get("next_review"),
		Hint: "Set when a version is approved or a review is recorded. Change it to match your governors' plan.", Day: day, Month: month, Year: year}
	members, err := s.accounts.Members(ctx, v.school.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, m := range members {
		if m.Has(auth.Admin) || m.Has(auth.Head) || m.Has(auth.Governor) || m.AccountID == in.OwnerAccountID {
			view.Owner = append(view.Owner, components.Option{Value: strconv.FormatInt(m.AccountID, 10), Label: m.Name})
		}
	}
	lib, _, err := s.policies.Library(ctx, v.school.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view.Related = components.ChoiceProps{ID: "related", Name: "related", Legend: "Related policies", Hint: "Select all that apply.", Small: true}
	for _, l := range lib {
		if l.ID != id {
			view.Related.Options = append(view.Related.Options, components.Option{Value: strconv.FormatInt(l.ID, 10), Label: l.Title, Checked: slices.Contains(in.Related, l.ID)})
		}
	}
	s.render(w, r, status, templates.PolicySettingsPage(view))
}
