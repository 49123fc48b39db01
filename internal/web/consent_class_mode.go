package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"signoff/internal/apperr"
	"signoff/internal/consent"
	"signoff/internal/people"
	"signoff/internal/signing"
	"signoff/templates"
)

// classMode is the start of class mode: the children's names, large.
func (s *Server) classMode(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	classes, class, err := s.classOptions(r, r.URL.Query().Get("class"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, forms, err := s.pickForm(r, signing.Agreement)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	l := s.layout(r, "Class mode")
	view := templates.ClassModeListView{Layout: l, Title: "Home-school agreement: class " + class, Class: class, Classes: classes, Forms: forms}
	if name := r.URL.Query().Get("done"); name != "" {
		view.Notice = "Well done, " + name + "! Next child, please."
	}
	if f.ID == 0 {
		view.Empty = "There is no home-school agreement yet. The office can create one under Parents' forms."
		s.render(w, r, http.StatusOK, templates.ClassModeListPage(view))
		return
	}
	_, _, children, err := s.consent.Consents(r.Context(), v.school.ID, f.ID, class)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, c := range children {
		view.Children = append(view.Children, templates.ClassModeChild{Name: c.Pupil.FirstName() + " " + c.Pupil.FamilyName,
			Href: fmt.Sprintf("/class-mode/%d/pupils/%d?class=%s", f.ID, c.Pupil.ID, url.QueryEscape(class)), Signed: c.ChildSigned})
	}
	slices.SortFunc(view.Children, func(a, b templates.ClassModeChild) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	if len(view.Children) == 0 {
		view.Empty = "This agreement is not for this class."
	}
	s.render(w, r, http.StatusOK, templates.ClassModeListPage(view))
}

func (s *Server) classModeChild(r *http.Request) (signing.Form, people.Person, string, error) {
	v := viewerOf(r)
	formID, err := idParam(r, "formID")
	if err != nil {
		return signing.Form{}, people.Person{}, "", err
	}
	pupilID, err := idParam(r, "pupilID")
	if err != nil {
		return signing.Form{}, people.Person{}, "", err
	}
	f, _, err := s.consent.Form(r.Context(), v.school.ID, formID)
	if err != nil || f.Kind != signing.Agreement {
		return f, people.Person{}, "", apperr.New(apperr.NotFound, "Page not found")
	}
	p, err := s.people.GetKind(r.Context(), v.school.ID, pupilID, people.Pupil)
	if err != nil || !consent.ForPupil(f, p) {
		return f, p, "", apperr.New(apperr.NotFound, "Page not found")
	}
	back := "/class-mode?" + url.Values{"class": {p.RegClass}, "form": {fmt.Sprint(f.ID)}}.Encode()
	return f, p, back, nil
}

// classModeSign shows a child their part, in large text.
func (s *Server) classModeSign(w http.ResponseWriter, r *http.Request) {
	f, p, back, err := s.classModeChild(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, templates.ClassModeSignPage(templates.ClassModeSignView{Layout: s.layout(r, "Class mode"),
		Name: p.FirstName(), PartHTML: renderMarkdown(f.ChildPartMD), Action: r.URL.Path, BackHref: back}))
}

// classModeSubmit records the child's part, witnessed by the teacher.
func (s *Server) classModeSubmit(w http.ResponseWriter, r *http.Request) {
	f, p, back, err := s.classModeChild(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := viewerOf(r)
	if v.account.PersonID == 0 {
		s.fail(w, r, apperr.New(apperr.Forbidden, "Class mode needs a member of staff's account, to witness the signing"))
		return
	}
	teacher, err := s.people.Get(r.Context(), v.school.ID, v.account.PersonID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	in := consent.ChildInput{SchoolID: v.school.ID, FormID: f.ID, PupilID: p.ID, Agreed: r.PostFormValue("agree") == "yes",
		TypedName: r.PostFormValue("typed_name"), Witness: teacher, Actor: v.account.Actor(clientIP(r)), UserAgent: r.UserAgent()}
	if d := r.PostFormValue("drawn"); d != "" {
		in.Drawn = decodeDataURL(d)
	}
	if err := s.inTurn(r.Context(), func() error { _, err := s.consent.SignChild(r.Context(), in); return err }); err != nil {
		if apperr.CodeOf(err) == apperr.Invalid {
			l := s.layout(r, "Class mode")
			l.HasErrors = true
			s.render(w, r, http.StatusUnprocessableEntity, templates.ClassModeSignPage(templates.ClassModeSignView{Layout: l,
				Name: p.FirstName(), PartHTML: renderMarkdown(f.ChildPartMD), Action: r.URL.Path, BackHref: back,
				Errors: viewErrors(err), Agreed: in.Agreed, TypedName: in.TypedName}))
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, back+"&done="+url.QueryEscape(p.FirstName()), http.StatusSeeOther)
}
