package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"signoff/internal/apperr"
	"signoff/internal/people"
	"signoff/internal/policies"
	"signoff/internal/schooltime"
	"signoff/internal/signing"
	"signoff/templates"
)

// publishForm is what the admin chose in the publish form, as typed.
type publishForm struct {
	versionID        int64
	statement        string
	roles            []people.StaffRole
	renewal          signing.Renewal
	day, month, year string
}

// policyShow shows a policy: its details, history, the draft waiting and
// the form to publish it.
func (s *Server) policyShow(w http.ResponseWriter, r *http.Request) {
	s.policyPage(w, r, nil, nil)
}

// policyPublish publishes the draft with the chosen audience.
func (s *Server) policyPublish(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	id, err := idParam(r, "policyID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	versionID, _ := strconv.ParseInt(r.PostFormValue("version_id"), 10, 64)
	pf := publishForm{
		versionID: versionID,
		statement: r.PostFormValue("statement"),
		renewal:   signing.Renewal(r.PostFormValue("renewal")),
		day:       strings.TrimSpace(r.PostFormValue("due-day")),
		month:     strings.TrimSpace(r.PostFormValue("due-month")),
		year:      strings.TrimSpace(r.PostFormValue("due-year")),
	}
	_ = r.ParseForm()
	for _, role := range r.PostForm["audience"] {
		pf.roles = append(pf.roles, people.StaffRole(role))
	}
	in := signing.FormInput{Statement: pf.statement, AudienceRoles: pf.roles, Renewal: pf.renewal}
	due, dueMsg := parseDueDate(pf.day, pf.month, pf.year, s.db.Now())
	in.DueOn = due
	fields := apperr.FieldsOf(in.Validate())
	if dueMsg != "" {
		fields = append(fields, apperr.FieldError{Field: "due", Message: dueMsg})
	}
	if len(fields) > 0 {
		s.policyPage(w, r, &pf, &apperr.Error{Code: apperr.Invalid, Fields: fields})
		return
	}
	draft, ok, _, err := s.latestDraft(r, v.school.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ok || draft.ID != versionID {
		s.policyPage(w, r, &pf, apperr.New(apperr.Conflict, "The draft has changed since this page was opened. Check it and publish again."))
		return
	}
	if err := policies.CheckPublishable(draft); err != nil {
		s.policyPage(w, r, &pf, err)
		return
	}
	f, err := s.signing.Publish(r.Context(), v.school.ID, draft.ID, v.account.Actor(clientIP(r)), in)
	if err != nil {
		if c := apperr.CodeOf(err); c == apperr.Invalid || c == apperr.Conflict {
			s.policyPage(w, r, &pf, err)
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/tracking/forms/%d", f.ID), http.StatusSeeOther)
}

// parseDueDate reads the optional date people must sign by: today or
// within the next 2 years.
func parseDueDate(day, month, year string, now time.Time) (*time.Time, string) {
	t, msg := parseDate(day, month, year, "The date people must sign by")
	if t == nil {
		return nil, msg
	}
	today := time.Date(now.In(schooltime.London).Year(), now.In(schooltime.London).Month(), now.In(schooltime.London).Day(), 0, 0, 0, 0, time.UTC)
	if t.Before(today) {
		return nil, "The date people must sign by must be today or in the future"
	}
	if t.After(today.AddDate(2, 0, 0)) {
		return nil, "The date people must sign by must be within the next 2 years"
	}
	return t, ""
}

func (s *Server) policyPage(w http.ResponseWriter, r *http.Request, pf *publishForm, formErr error) {
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
	draft, hasDraft, versions, err := s.latestDraft(r, v.school.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	form, hasForm, err := s.signing.PolicyForm(r.Context(), v.school.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view := templates.PolicyShowView{
		Layout: s.layout(r, p.Title),
		Title:  p.Title,
		Summary: []templates.SummaryRow{
			{Key: "Category", Value: orDash(p.Category)},
			{Key: "Reviewed", Value: cycleLabel(p.ReviewCycleYears)},
		},
		Errors: viewErrors(formErr),
	}
	if formErr != nil {
		view.Layout.HasErrors = true
		if len(view.Errors) == 0 {
			view.Message = apperr.MessageOf(formErr)
		}
	}
	if r.URL.Query().Get("saved") != "" && formErr == nil {
		view.Notice = "Draft saved"
	}
	for _, ver := range versions {
		row := templates.VersionRow{Number: strconv.Itoa(ver.Number), Status: ver.Status.Label(), Published: "–", SHA256: ver.SHA256, Kind: "Major"}
		if !ver.Major {
			row.Kind = "Minor"
		}
		if ver.PublishedAt != nil {
			row.Published = schooltime.Date(*ver.PublishedAt)
		}
		if ver.Status == policies.Published {
			view.CurrentHTML = policies.RenderBody(ver.Body, p.Title)
			view.Summary = append(view.Summary, templates.SummaryRow{Key: "Current version", Value: versionLabel(ver.Number, ver.PublishedAt)})
		}
		view.Versions = append(view.Versions, row)
	}
	if hasForm {
		view.FormHref = fmt.Sprintf("/admin/tracking/forms/%d", form.ID)
		view.Summary = append(view.Summary, templates.SummaryRow{Key: "Who signs", Value: audienceLabel(form.AudienceRoles)})
	}
	view.LifecycleHref = fmt.Sprintf("/policies/%d", id)
	if hasDraft && draft.Number > 1 {
		// A revision goes through approval on the policy's page.
		view.RevisionNumber = strconv.Itoa(draft.Number)
		hasDraft = false
	}
	if hasDraft {
		view.HasDraft = true
		view.DraftNumber = strconv.Itoa(draft.Number)
		view.DraftHTML = policies.RenderBody(draft.Body, p.Title)
		view.EditHref = fmt.Sprintf("/admin/policies/%d/edit", id)
		view.PublishHref = fmt.Sprintf("/admin/policies/%d/publish", id)
		if pf == nil {
			pf = &publishForm{versionID: draft.ID, statement: signing.DefaultStatement(p.Title), renewal: signing.EachYear,
				roles: []people.StaffRole{people.Teacher, people.TeachingAssistant, people.Support, people.Governor, people.Volunteer, people.Contractor}}
			if hasForm {
				pf.statement, pf.roles, pf.renewal = form.Statement, form.AudienceRoles, form.Renewal
			}
		}
		view.Statement = pf.statement
		view.Audience = templates.ChoiceProps{ID: "audience", Name: "audience", Legend: "Who must sign it?",
			Hint: "Select all that apply.", Error: view.Errors.Get("audience"), Small: true}
		for _, role := range people.StaffRoles {
			view.Audience.Options = append(view.Audience.Options, templates.Option{Value: string(role), Label: role.Label(), Checked: slices.Contains(pf.roles, role)})
		}
		view.Renewal = templates.ChoiceProps{ID: "renewal", Name: "renewal", Legend: "When must they sign again?", Error: view.Errors.Get("renewal"), Small: true,
			Options: []templates.Option{
				{Value: string(signing.EachYear), Label: "Every academic year, and when a new version is published", Checked: pf.renewal == signing.EachYear,
					Hint: "Usual for acceptable use policies: everyone signs again each September."},
				{Value: string(signing.EachVersion), Label: "Only when a new version is published", Checked: pf.renewal == signing.EachVersion},
			}}
		view.Due = templates.DateProps{ID: "due", Name: "due", Legend: "Sign by (optional)", Hint: "For example, 15 1 2027",
			Error: view.Errors.Get("due"), Day: pf.day, Month: pf.month, Year: pf.year}
		view.VersionID = strconv.FormatInt(pf.versionID, 10)
	}
	status := http.StatusOK
	if formErr != nil {
		status = statusOf(apperr.CodeOf(formErr))
	}
	s.render(w, r, status, templates.PolicyShowPage(view))
}

func cycleLabel(years int) string {
	if years == 1 {
		return "Every year"
	}
	return fmt.Sprintf("Every %d years", years)
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
