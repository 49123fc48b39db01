package web

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"signoff/internal/apperr"
	"signoff/internal/schools"
	"signoff/templates"
)

// schoolSettingsView fills the settings form from a school.
func schoolSettingsView(sc schools.School) templates.SchoolSettingsView {
	return templates.SchoolSettingsView{Name: sc.Name, URN: sc.URN, Colour: sc.Colour, FamilyLinkDays: strconv.Itoa(sc.FamilyLinkDays),
		MailFromName: sc.MailFromName, MailFromAddress: sc.MailFromAddress, ReplyTo: sc.ReplyTo, PrivacyNoticeURL: sc.PrivacyNoticeURL,
		LogoURL: sc.LogoPath()}
}

// schoolSettings shows the school's settings.
func (s *Server) schoolSettings(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	view := schoolSettingsView(v.school)
	view.Layout = s.layout(r, "School settings")
	switch {
	case r.URL.Query().Get("saved") != "":
		view.Notice = "Settings saved"
	case r.URL.Query().Get("logo") == "saved":
		view.Notice = "Logo saved"
	case r.URL.Query().Get("logo") == "removed":
		view.Notice = "Logo removed"
	}
	s.render(w, r, http.StatusOK, templates.SchoolSettingsPage(view))
}

// schoolSettingsSave saves them.
func (s *Server) schoolSettingsSave(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	sc := v.school
	sc.Name = r.PostFormValue("name")
	sc.URN = r.PostFormValue("urn")
	sc.Colour = strings.TrimSpace(r.PostFormValue("colour"))
	if sc.Colour != "" && !strings.HasPrefix(sc.Colour, "#") {
		sc.Colour = "#" + sc.Colour
	}
	days := strings.TrimSpace(r.PostFormValue("family_link_days"))
	n, convErr := strconv.Atoi(days)
	sc.FamilyLinkDays = n
	if convErr != nil {
		sc.FamilyLinkDays = -1
	}
	sc.MailFromName = r.PostFormValue("mail_from_name")
	sc.MailFromAddress = r.PostFormValue("mail_from_address")
	sc.ReplyTo = r.PostFormValue("reply_to")
	sc.PrivacyNoticeURL = r.PostFormValue("privacy_notice_url")
	err := s.schools.Update(r.Context(), sc, v.account.Actor(clientIP(r)))
	if apperr.CodeOf(err) == apperr.Invalid {
		view := templates.SchoolSettingsView{Name: r.PostFormValue("name"), URN: r.PostFormValue("urn"), Colour: r.PostFormValue("colour"),
			FamilyLinkDays: days, MailFromName: r.PostFormValue("mail_from_name"), MailFromAddress: r.PostFormValue("mail_from_address"),
			ReplyTo: r.PostFormValue("reply_to"), PrivacyNoticeURL: r.PostFormValue("privacy_notice_url"), LogoURL: v.school.LogoPath(),
			Errors: viewErrors(err)}
		view.Layout = s.layout(r, "School settings")
		view.Layout.HasErrors = true
		s.render(w, r, http.StatusUnprocessableEntity, templates.SchoolSettingsPage(view))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/school?saved=1", http.StatusSeeOther)
}

// schoolLogoSave uploads the school's logo. The body is limited before
// it is read, and the image's size is checked before its pixels.
func (s *Server) schoolLogoSave(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	limit := int64(schools.MaxLogoBytes + 64<<10)
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	var data []byte
	err := r.ParseMultipartForm(limit)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		err = &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "logo", Message: "The logo must be 512 KB or smaller"}}}
	case err != nil:
		err = &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "logo", Message: "Choose the logo's file: a PNG or JPEG image"}}}
	default:
		if f, _, ferr := r.FormFile("logo"); ferr == nil {
			data, _ = io.ReadAll(io.LimitReader(f, limit))
			f.Close()
		}
		err = s.schools.SetLogo(r.Context(), v.school.ID, data, v.account.Actor(clientIP(r)))
	}
	if apperr.CodeOf(err) == apperr.Invalid {
		view := schoolSettingsView(v.school)
		view.Layout = s.layout(r, "School settings")
		view.Layout.HasErrors = true
		view.Errors = viewErrors(err)
		s.render(w, r, http.StatusUnprocessableEntity, templates.SchoolSettingsPage(view))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/school?logo=saved", http.StatusSeeOther)
}

// schoolLogoRemove removes the logo.
func (s *Server) schoolLogoRemove(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	if err := s.schools.RemoveLogo(r.Context(), v.school.ID, v.account.Actor(clientIP(r))); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/school?logo=removed", http.StatusSeeOther)
}

// schoolLogo serves a school's logo (public: it is on the sign-in page
// and on letters). Its address changes with it, so it is cached for ever.
func (s *Server) schoolLogo(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "schoolID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	l, err := s.schools.GetLogo(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if hash := chi.URLParam(r, "hash"); !strings.HasPrefix(l.SHA256, hash) || len(hash) != 16 {
		s.notFound(w, r)
		return
	}
	w.Header().Set("Content-Type", l.ContentType)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("Content-Length", strconv.Itoa(len(l.Data)))
	_, _ = w.Write(l.Data)
}
