package web

import (
	"fmt"
	"net/http"
	"strconv"

	"signoff/internal/apperr"
	"signoff/internal/signing"
	"signoff/templates"
)

// signPage gathers what the signing page shows: the form, the person, the
// version to sign and any signature that already counts. A form not
// addressed to the person is not found.
func (s *Server) signPage(r *http.Request) (templates.SignFormView, error) {
	v := viewerOf(r)
	formID, err := idParam(r, "formID")
	if err != nil {
		return templates.SignFormView{}, err
	}
	if v.account.PersonID == 0 {
		return templates.SignFormView{}, apperr.New(apperr.NotFound, "Page not found")
	}
	pg, err := s.signing.SignPageOf(r.Context(), v.school.ID, v.account.PersonID, formID)
	if err != nil {
		return templates.SignFormView{}, err
	}
	p, f, ver := pg.Person, pg.Form, pg.Version
	view := templates.SignFormView{
		Layout:    s.layout(r, f.Title),
		Title:     f.Title,
		Version:   versionLabel(ver.Number, ver.PublishedAt),
		BodyHTML:  s.publishedHTML(ver, f.Title),
		Action:    fmt.Sprintf("/forms/%d", f.ID),
		VersionID: strconv.FormatInt(ver.ID, 10),
		Statement: f.Statement,
		NameHint:  "Typing your name is your signature. For example, " + p.FullName() + ".",
	}
	view.Due, _ = dueLabel(f.DueOn, s.db.Now())
	if pg.HasSigned {
		item := signedItem(pg.Signed)
		view.AlreadySigned = &item
	}
	return view, nil
}

// signForm shows a policy's text and the form to sign it.
func (s *Server) signForm(w http.ResponseWriter, r *http.Request) {
	view, err := s.signPage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, templates.SignFormPage(view))
}

// sign records a signature, or shows the form again with what was wrong.
// The signing reads what it checks once, in its transaction: the page's
// reads (and its rendered text) are needed only to show it again.
func (s *Server) sign(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	formID, err := idParam(r, "formID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if v.account.PersonID == 0 {
		s.fail(w, r, apperr.New(apperr.NotFound, "Page not found"))
		return
	}
	versionID, _ := strconv.ParseInt(r.PostFormValue("version_id"), 10, 64)
	in := signing.SignInput{
		SchoolID:  v.school.ID,
		FormID:    formID,
		PersonID:  v.account.PersonID,
		VersionID: versionID,
		Agreed:    r.PostFormValue("agree") == "yes",
		TypedName: r.PostFormValue("typed_name"),
		Actor:     v.account.Actor(clientIP(r)),
		UserAgent: r.UserAgent(),

		IdentifiedBy: v.account.Session.IdentifiedBy,
	}
	var sig signing.Signature
	var created bool
	err = s.inTurn(r.Context(), func() (err error) {
		sig, created, err = s.signing.Sign(r.Context(), in)
		return err
	})
	switch code := apperr.CodeOf(err); code {
	case apperr.Invalid, apperr.Conflict:
		view, perr := s.signPage(r)
		if perr != nil {
			s.fail(w, r, perr)
			return
		}
		view.Errors = viewErrors(err)
		if code == apperr.Conflict {
			view.Message = apperr.MessageOf(err)
		}
		view.Agreed, view.TypedName = in.Agreed, in.TypedName
		view.Layout.HasErrors = true
		s.render(w, r, statusOf(code), templates.SignFormPage(view))
		return
	case apperr.Forbidden:
		// As on the page itself: a form not addressed to this person is
		// not found.
		s.fail(w, r, apperr.New(apperr.NotFound, "Page not found"))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	target := "/signatures/" + sig.Reference
	if created {
		target += "?signed=1"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}
