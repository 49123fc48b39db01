package web

import (
	"fmt"
	"net/http"
	"strconv"

	"signoff/internal/apperr"
	"signoff/internal/policies"
	"signoff/templates"
)

// draftInput reads the policy form.
func draftInput(r *http.Request) policies.DraftInput {
	cycle, _ := strconv.Atoi(r.PostFormValue("review_cycle_years"))
	return policies.DraftInput{
		Title:            r.PostFormValue("title"),
		Category:         r.PostFormValue("category"),
		ReviewCycleYears: cycle,
		Body:             r.PostFormValue("body"),
	}
}

func editView(l templates.LayoutProps, in policies.DraftInput, err error) templates.PolicyEditView {
	cycle := ""
	if in.ReviewCycleYears > 0 {
		cycle = strconv.Itoa(in.ReviewCycleYears)
	}
	l.HasErrors = err != nil
	return templates.PolicyEditView{Layout: l, Title: in.Title, Category: in.Category, Cycle: cycle, Body: in.Body, Errors: viewErrors(err)}
}

// policyNewForm shows the form for a new policy.
func (s *Server) policyNewForm(w http.ResponseWriter, r *http.Request) {
	view := editView(s.layout(r, "Create a policy"), policies.DraftInput{ReviewCycleYears: 1}, nil)
	view.Heading, view.Action, view.BackHref, view.Submit = "Create a policy", "/admin/policies", "/admin/policies", "Save draft"
	s.render(w, r, http.StatusOK, templates.PolicyEditPage(view))
}

// policyCreate saves a new policy as a draft of version 1.
func (s *Server) policyCreate(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	in := draftInput(r)
	p, _, err := s.policies.CreateDraft(r.Context(), v.school.ID, v.account.Actor(clientIP(r)), in)
	if err != nil {
		if code := statusOf(apperr.CodeOf(err)); code == http.StatusUnprocessableEntity {
			view := editView(s.layout(r, "Create a policy"), in, err)
			view.Heading, view.Action, view.BackHref, view.Submit = "Create a policy", "/admin/policies", "/admin/policies", "Save draft"
			s.render(w, r, code, templates.PolicyEditPage(view))
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/policies/%d?saved=1", p.ID), http.StatusSeeOther)
}

// latestDraft returns the policy's draft version, if it has one.
func (s *Server) latestDraft(r *http.Request, schoolID, policyID int64) (policies.Version, bool, []policies.Version, error) {
	versions, err := s.policies.Versions(r.Context(), schoolID, policyID)
	if err != nil {
		return policies.Version{}, false, nil, err
	}
	if len(versions) > 0 && versions[0].Status == policies.Draft {
		return versions[0], true, versions, nil
	}
	return policies.Version{}, false, versions, nil
}

// policyEditForm shows the draft for editing.
func (s *Server) policyEditForm(w http.ResponseWriter, r *http.Request) {
	s.policyEditPage(w, r, nil)
}

// policyEdit saves the draft.
func (s *Server) policyEdit(w http.ResponseWriter, r *http.Request) {
	s.policyEditPage(w, r, draftInput)
}

func (s *Server) policyEditPage(w http.ResponseWriter, r *http.Request, read func(*http.Request) policies.DraftInput) {
	v := viewerOf(r)
	id, err := idParam(r, "policyID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.policies.Get(r.Context(), v.school.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	draft, ok, _, err := s.latestDraft(r, v.school.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ok {
		s.renderError(w, r, http.StatusConflict, "There is no draft to edit",
			"The published text of a policy cannot be changed. A new version can be drafted once revisions are available.")
		return
	}
	in := policies.DraftInput{Title: p.Title, Category: p.Category, ReviewCycleYears: p.ReviewCycleYears, Body: draft.Body}
	status := http.StatusOK
	if read != nil {
		in = read(r)
		err = s.policies.UpdateDraft(r.Context(), v.school.ID, draft.ID, v.account.Actor(clientIP(r)), in)
		if err == nil {
			http.Redirect(w, r, fmt.Sprintf("/admin/policies/%d?saved=1", id), http.StatusSeeOther)
			return
		}
		status = statusOf(apperr.CodeOf(err))
		if status != http.StatusUnprocessableEntity {
			s.fail(w, r, err)
			return
		}
	}
	view := editView(s.layout(r, "Edit "+p.Title), in, err)
	view.Heading = fmt.Sprintf("Edit the draft of version %d", draft.Number)
	view.Action = fmt.Sprintf("/admin/policies/%d/edit", id)
	view.BackHref = fmt.Sprintf("/admin/policies/%d", id)
	view.Submit = "Save draft"
	s.render(w, r, status, templates.PolicyEditPage(view))
}
