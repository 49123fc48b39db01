package web

import (
	"fmt"
	"net/http"

	"signoff/internal/apperr"
	"signoff/internal/people"
	"signoff/internal/schooltime"
	"signoff/templates"
)

// personPath is the office's page of a person.
func personPath(p people.Person) string {
	switch p.Kind {
	case people.Pupil:
		return fmt.Sprintf("/admin/pupils/%d", p.ID)
	case people.Parent:
		return fmt.Sprintf("/admin/parents/%d", p.ID)
	}
	return fmt.Sprintf("/admin/staff/%d", p.ID)
}

// dataProtection is the data-protection part of a person's page.
func (s *Server) dataProtection(r *http.Request, p people.Person) (templates.DataProtectionProps, error) {
	v := viewerOf(r)
	base := fmt.Sprintf("/admin/people/%d", p.ID)
	props := templates.DataProtectionProps{Name: p.FullName(), ZipHref: base + "/subject-access.zip", HoldHref: base + "/hold", LiftAction: base + "/hold/lift"}
	st := s.retention
	hold, err := st.HoldOn(r.Context(), v.school.ID, p.ID)
	if err != nil {
		return props, err
	}
	if hold != nil {
		props.Held, props.HoldReason, props.HoldSince, props.HoldPlacer = true, hold.Reason, schooltime.Date(hold.PlacedAt), orDash(hold.PlacedBy)
	}
	at, err := st.AnonymisedAt(r.Context(), v.school.ID, p.ID)
	if err != nil {
		return props, err
	}
	if at != nil {
		props.AnonymisedAt = schooltime.Date(*at)
	}
	return props, nil
}

// holdPerson loads the person named in the path.
func (s *Server) holdPerson(r *http.Request) (people.Person, error) {
	id, err := idParam(r, "personID")
	if err != nil {
		return people.Person{}, err
	}
	return s.people.Get(r.Context(), viewerOf(r).school.ID, id)
}

// holdForm asks why a person's records are to be held.
func (s *Server) holdForm(w http.ResponseWriter, r *http.Request) {
	p, err := s.holdPerson(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderHold(w, r, p, "", nil)
}

func (s *Server) renderHold(w http.ResponseWriter, r *http.Request, p people.Person, reason string, formErr error) {
	view := templates.HoldView{Layout: s.layout(r, "Legal hold: "+p.FullName()), Name: p.FullName(), Action: fmt.Sprintf("/admin/people/%d/hold", p.ID),
		BackHref: personPath(p), Reason: reason, Errors: viewErrors(formErr)}
	status := http.StatusOK
	if formErr != nil {
		status = http.StatusUnprocessableEntity
		view.Layout.HasErrors = true
	}
	s.render(w, r, status, templates.HoldPage(view))
}

// holdPlace places a legal hold on a person.
func (s *Server) holdPlace(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	p, err := s.holdPerson(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	reason := r.PostFormValue("reason")
	if err := s.retention.PlaceHold(r.Context(), v.school.ID, p.ID, reason, v.account.Actor(clientIP(r))); err != nil {
		if apperr.CodeOf(err) == apperr.Invalid {
			s.renderHold(w, r, p, reason, err)
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, personPath(p)+"#data-protection", http.StatusSeeOther)
}

// holdLift lifts the legal hold on a person.
func (s *Server) holdLift(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	p, err := s.holdPerson(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.retention.LiftHold(r.Context(), v.school.ID, p.ID, v.account.Actor(clientIP(r))); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, personPath(p)+"#data-protection", http.StatusSeeOther)
}
