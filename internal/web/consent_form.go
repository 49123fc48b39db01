package web

import (
	"fmt"
	"net/http"
	"net/url"

	"signoff/internal/apperr"
	"signoff/internal/auth"
	"signoff/internal/consent"
	"signoff/internal/people"
	"signoff/internal/schooltime"
	"signoff/internal/signing"
	"signoff/templates"
	"signoff/templates/components"
)

// consentShow is one parents' form's set-up: what it asks and of whom,
// the school's part, paper forms, class lists and closing it. Its figures
// and chase lists are on its dashboard page (trackForm), linked both ways.
func (s *Server) consentShow(w http.ResponseWriter, r *http.Request) {
	s.consentShowPage(w, r, nil)
}

func (s *Server) consentShowPage(w http.ResponseWriter, r *http.Request, formErr error) {
	v := viewerOf(r)
	id, err := idParam(r, "formID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, items, err := s.consent.Form(r.Context(), v.school.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	classes, err := s.people.Classes(r.Context(), v.school.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	base := fmt.Sprintf("/admin/consents/%d", f.ID)
	signer := "One parent or carer with parental responsibility"
	if f.Signer == signing.EachParent {
		signer = "Each parent or carer with parental responsibility"
	}
	view := templates.ParentFormAdminView{Layout: s.layout(r, f.Title), Title: f.Title, Errors: viewErrors(formErr),
		PaperHref: base + "/paper", Agreement: f.Kind == signing.Agreement, SchoolAction: base + "/school",
		CloseAction:   base + "/close",
		CanSignSchool: v.account.PersonID != 0 && (v.account.Has(auth.Head) || v.account.Has(auth.Admin)),
		IntroHTML:     renderMarkdown(f.IntroMD),
		Summary: []components.SummaryRow{
			{Key: "Kind", Value: kindLabelForm(f)},
			{Key: "For the parents of", Value: formAudience(f)},
			{Key: "Completed by", Value: signer},
			{Key: "Asked again", Value: f.Renewal.Label()},
			{Key: "Published", Value: schooltime.Date(f.CreatedAt)},
			{Key: "Text fingerprint (SHA-256)", Value: f.TextSHA256, Mono: true},
		}}
	view.Layout.HasErrors = formErr != nil
	if f.ClosedAt != nil {
		view.Closed = "Closed on " + schooltime.Date(*f.ClosedAt)
	} else {
		view.FiguresHref = fmt.Sprintf("/admin/tracking/forms/%d", f.ID)
	}
	if r.URL.Query().Get("created") != "" {
		view.Notice = "Published: parents see it with their family link now"
	}
	if r.URL.Query().Get("paper") != "" {
		view.Notice = "Paper form recorded"
	}
	for _, it := range items {
		q := templates.ParentFormQuestion{Label: it.Label, Explanation: it.Explanation, Photo: it.Photo, Ack: it.Kind == consent.AckItem}
		view.Questions = append(view.Questions, q)
	}
	if f.Kind == signing.Agreement {
		view.Parts = []templates.AgreementPart{{Heading: "The school's part", HTML: renderMarkdown(f.SchoolPartMD)},
			{Heading: "The parent's part", HTML: renderMarkdown(f.ParentPartMD)}, {Heading: "The child's part", HTML: renderMarkdown(f.ChildPartMD)}}
		if rec, ok, err := s.consent.SchoolSignature(r.Context(), v.school.ID, f.ID); err == nil && ok {
			view.SchoolSigned = fmt.Sprintf("Signed on the school's behalf by %s on %s for %s.", rec.TypedName, schooltime.Date(rec.SignedAt),
				schooltime.AcademicYearLabel(rec.AcademicYear))
		}
	}
	// The class lists of the classes the form is for.
	for _, c := range classes {
		y := c.YearGroup
		if !consent.ForPupil(f, people.Person{Kind: people.Pupil, YearGroup: &y, RegClass: c.Name}) {
			continue
		}
		href := "/classes/photos?" + url.Values{"class": {c.Name}, "form": {fmt.Sprint(f.ID)}}.Encode()
		if f.Kind == signing.Agreement {
			href = "/class-mode?" + url.Values{"class": {c.Name}, "form": {fmt.Sprint(f.ID)}}.Encode()
		}
		view.ClassLinks = append(view.ClassLinks, components.NavItem{Label: "Class " + c.Name, Href: href})
	}
	s.render(w, r, formStatus(formErr), templates.ParentFormAdminPage(view))
}

// consentSignSchool signs the school's part of an agreement.
func (s *Server) consentSignSchool(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	id, err := idParam(r, "formID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if v.account.PersonID == 0 {
		s.consentShowPage(w, r, &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "typed_name",
			Message: "Your account is not a member of staff's: the headteacher, or an administrator who is on the staff, signs for the school"}}})
		return
	}
	signer, err := s.people.Get(r.Context(), v.school.ID, v.account.PersonID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.inTurn(r.Context(), func() error {
		_, err := s.consent.SignSchool(r.Context(), v.school.ID, id, signer, r.PostFormValue("typed_name"), v.account.Actor(clientIP(r)))
		return err
	}); err != nil {
		if apperr.CodeOf(err) == apperr.Invalid {
			s.consentShowPage(w, r, err)
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/consents/%d", id), http.StatusSeeOther)
}

// consentClose closes a parents' form.
func (s *Server) consentClose(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	id, err := idParam(r, "formID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.consent.Close(r.Context(), v.school.ID, id, v.account.Actor(clientIP(r))); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/consents?closed=1", http.StatusSeeOther)
}
