package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"signoff/internal/apperr"
	"signoff/internal/people"
	"signoff/internal/policies"
	"signoff/internal/signing"
	"signoff/templates"
	"signoff/templates/components"
)

// The publish page: who signs the policy, what they tick, when they sign
// again and by when, then the one publish action for every version. The
// policy's page posts here too, keeping the signing settings already
// chosen (settings=keep).

// publishChoice is what the office chose on the publish page, as typed.
type publishChoice struct {
	in               signing.FormInput
	day, month, year string
}

// policyPublishForm shows the publish page for the policy's open version.
func (s *Server) policyPublishForm(w http.ResponseWriter, r *http.Request) {
	s.publishPage(w, r, nil, nil)
}

// policyPublish publishes the open version and opens (or updates) the
// form that asks staff to sign it.
func (s *Server) policyPublish(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	id, err := idParam(r, "policyID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	form, hasForm, err := s.signing.PolicyForm(r.Context(), v.school.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var pc publishChoice
	if r.PostFormValue("settings") == "keep" && hasForm {
		pc.in = signing.FormInput{Statement: form.Statement, AudienceRoles: form.AudienceRoles, Renewal: form.Renewal, DueOn: form.DueOn}
	} else {
		pc = readPublishChoice(r)
		due, msg := dueDate(r, s.db.Now())
		pc.in.DueOn = due
		fields := apperr.FieldsOf(pc.in.Validate())
		if msg != "" {
			fields = append(fields, apperr.FieldError{Field: "due", Message: msg})
		}
		if len(fields) > 0 {
			s.publishPage(w, r, &pc, &apperr.Error{Code: apperr.Invalid, Fields: fields})
			return
		}
	}
	open, err := s.openVersion(r, id)
	if err == nil {
		_, err = s.signing.Publish(r.Context(), v.school.ID, open.ID, v.account.Actor(clientIP(r)), pc.in, s.baseURL)
	}
	switch c := apperr.CodeOf(err); {
	case err == nil:
		http.Redirect(w, r, fmt.Sprintf("/policies/%d?done=published", id), http.StatusSeeOther)
	case c == apperr.Invalid || c == apperr.Conflict:
		s.publishPage(w, r, &pc, err)
	default:
		s.fail(w, r, err)
	}
}

func readPublishChoice(r *http.Request) publishChoice {
	_ = r.ParseForm()
	pc := publishChoice{in: signing.FormInput{Statement: r.PostFormValue("statement"), Renewal: signing.Renewal(r.PostFormValue("renewal"))},
		day: r.PostFormValue("due-day"), month: r.PostFormValue("due-month"), year: r.PostFormValue("due-year")}
	for _, role := range r.PostForm["audience"] {
		pc.in.AudienceRoles = append(pc.in.AudienceRoles, people.StaffRole(role))
	}
	return pc
}

// dueDate reads the optional date people must sign by: today or later,
// within two years.
func dueDate(r *http.Request, now time.Time) (*time.Time, string) {
	t, msg := formDate(r, "due", "The date people must sign by")
	if t == nil || msg != "" {
		return t, msg
	}
	today := policies.Today(now)
	if t.Before(today) {
		return nil, "The date people must sign by must be today or in the future"
	}
	if t.After(today.AddDate(2, 0, 0)) {
		return nil, "The date people must sign by must be within the next 2 years"
	}
	return t, ""
}

func (s *Server) publishPage(w http.ResponseWriter, r *http.Request, pc *publishChoice, formErr error) {
	v := viewerOf(r)
	ctx := r.Context()
	p, ok := s.policyOf(w, r)
	if !ok {
		return
	}
	id := p.ID
	open, hasOpen, err := s.policies.OpenRevision(ctx, v.school.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !hasOpen {
		s.renderError(w, r, http.StatusConflict, "There is nothing to publish", "This policy has no draft or approved version waiting. Start a revision on the policy's page.")
		return
	}
	form, hasForm, err := s.signing.PolicyForm(ctx, v.school.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if pc == nil {
		pc = &publishChoice{in: signing.FormInput{Statement: signing.DefaultStatement(p.Title), Renewal: signing.EachYear,
			AudienceRoles: []people.StaffRole{people.Teacher, people.TeachingAssistant, people.Support, people.Governor, people.Volunteer, people.Contractor}}}
		if hasForm {
			pc.in = signing.FormInput{Statement: form.Statement, AudienceRoles: form.AudienceRoles, Renewal: form.Renewal}
			if form.DueOn != nil {
				pc.day, pc.month, pc.year = strconv.Itoa(form.DueOn.Day()), strconv.Itoa(int(form.DueOn.Month())), strconv.Itoa(form.DueOn.Year())
			}
		}
	}
	ids := strconv.FormatInt(id, 10)
	view := templates.PolicyPublishView{Layout: s.lifecycleLayout(r, "Publish "+p.Title), Title: p.Title, ID: ids, Number: strconv.Itoa(open.Number),
		VersionID: strconv.FormatInt(open.ID, 10), Statement: pc.in.Statement, Errors: viewErrors(formErr), Major: open.Major, First: open.Number == 1}
	if err := policies.CheckPublishable(open); err != nil && formErr == nil {
		view.Message = apperr.MessageOf(err)
	}
	if formErr != nil {
		view.Layout.HasErrors = true
		if len(view.Errors) == 0 {
			view.Message = apperr.MessageOf(formErr)
		}
	}
	view.Audience = components.ChoiceProps{ID: "audience", Name: "audience", Legend: "Who must sign it?", Hint: "Select all that apply.", Error: view.Errors.Get("audience"), Small: true}
	for _, role := range people.StaffRoles {
		view.Audience.Options = append(view.Audience.Options, components.Option{Value: string(role), Label: role.Label(), Checked: slices.Contains(pc.in.AudienceRoles, role)})
	}
	view.Renewal = components.ChoiceProps{ID: "renewal", Name: "renewal", Legend: "When must they sign again?", Error: view.Errors.Get("renewal"), Small: true,
		Options: []components.Option{
			{Value: string(signing.EachYear), Label: "Every academic year, and when a new version is published", Checked: pc.in.Renewal == signing.EachYear,
				Hint: "Usual for acceptable use policies: everyone signs again each September."},
			{Value: string(signing.EachVersion), Label: "Only when a new version is published", Checked: pc.in.Renewal == signing.EachVersion},
		}}
	view.Due = components.DateProps{ID: "due", Name: "due", Legend: "Sign by (optional)", Hint: "For example, 15 1 2027",
		Error: view.Errors.Get("due"), Day: pc.day, Month: pc.month, Year: pc.year}
	s.render(w, r, formStatus(formErr), templates.PolicyPublishPage(view))
}
