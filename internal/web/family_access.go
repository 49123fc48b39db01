package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"signoff/internal/apperr"
	"signoff/internal/auth"
	"signoff/internal/i18n"
	"signoff/templates"
	"signoff/templates/components"
)

// The ways in for parents, in the parent's language: the family link,
// the code typed from a letter, and a new link by email.

// familyLink opens a parent's session from their family link. It may be
// used again and again until it expires or is replaced.
func (s *Server) familyLink(w http.ResponseWriter, r *http.Request) {
	_, token, err := s.accounts.UseFamilyLink(r.Context(), chi.URLParam(r, "token"), clientIP(r), r.UserAgent())
	if err != nil {
		if c := apperr.CodeOf(err); c == apperr.Unauthenticated || c == apperr.TooMany {
			l, lang, langs := s.familyLayout(w, r, func(l i18n.Lang) string { return l.T("This link does not work") })
			msg := lang.T("This link no longer works: it has expired or the school has replaced it. Ask for a new one below, or contact the school office.")
			if c == apperr.TooMany {
				msg = lang.T("Too many attempts. Please wait a few minutes and try again.")
			}
			s.render(w, r, statusOf(c), templates.MessagePage(templates.MessageView{Layout: l, Languages: langs,
				Heading: lang.T("This link does not work"), Paragraphs: []string{msg},
				LinkHref: "/family/lost", LinkLabel: lang.T("Get a new link by email")}))
			return
		}
		s.fail(w, r, err)
		return
	}
	s.startSession(w, r, token, "/family")
}

func (s *Server) familyCodeView(w http.ResponseWriter, r *http.Request, code string, err error) templates.EmailFormView {
	l, lang, langs := s.familyLayout(w, r, func(l i18n.Lang) string { return l.T("Type the code from your letter") })
	v := templates.EmailFormView{
		Layout:    l,
		Languages: langs,
		Heading:   lang.T("Type the code from your letter"),
		Intro:     []string{lang.T("Your letter from the school has a code of 16 letters and numbers, like ABCD-EFGH-JKMN-PQRS.")},
		Action:    "/family/code",
		Field: components.InputProps{ID: "code", Name: "code", Label: lang.T("Code"), Value: code, Width: "govuk-input--width-20",
			Autocomplete: "off", Hint: lang.T("Capital or small letters, with or without the dashes.")},
		Submit:     lang.T("Continue"),
		Errors:     viewErrors(err),
		ErrorTitle: lang.T("There is a problem"),
	}
	v.Field.Error = v.Errors.Get("code")
	v.Layout.HasErrors = err != nil
	return v
}

// familyCodeForm asks for the code printed on a letter.
func (s *Server) familyCodeForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, templates.EmailFormPage(s.familyCodeView(w, r, "", nil)))
}

// familyCode checks the typed code and opens the family's pages.
func (s *Server) familyCode(w http.ResponseWriter, r *http.Request) {
	code := r.PostFormValue("code")
	lang := i18n.FromRequest(w, r, s.secure)
	norm := auth.NormaliseFamilyToken(code)
	fieldErr := func(msg string) error {
		return &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "code", Message: msg}}}
	}
	if len(norm) != 19 {
		s.render(w, r, http.StatusUnprocessableEntity, templates.EmailFormPage(s.familyCodeView(w, r, code,
			fieldErr(lang.T("Enter the 16 letters and numbers of the code on your letter")))))
		return
	}
	_, token, err := s.accounts.UseFamilyLink(r.Context(), norm, clientIP(r), r.UserAgent())
	if err != nil {
		if c := apperr.CodeOf(err); c == apperr.Unauthenticated || c == apperr.TooMany {
			msg := lang.T("That code does not work. Check it against your letter, or ask the school office for a new one")
			if c == apperr.TooMany {
				msg = lang.T("Too many attempts. Please wait a few minutes and try again.")
			}
			s.render(w, r, statusOf(c), templates.EmailFormPage(s.familyCodeView(w, r, code, fieldErr(msg))))
			return
		}
		s.fail(w, r, err)
		return
	}
	s.startSession(w, r, token, "/family")
}

func (s *Server) familyLostView(w http.ResponseWriter, r *http.Request, email string, err error) templates.EmailFormView {
	l, lang, langs := s.familyLayout(w, r, func(l i18n.Lang) string { return l.T("Get a new link") })
	v := templates.EmailFormView{
		Layout:    l,
		Languages: langs,
		Heading:   lang.T("Get a new link"),
		Intro: []string{lang.T("Enter the email address the school has for you. We'll send you a new link to your children's forms."),
			lang.T("The new link replaces the old one.")},
		Action:     "/family/lost",
		Field:      components.InputProps{ID: "email", Name: "email", Label: lang.T("Email address"), Value: email, Type: "email", Autocomplete: "email", Width: "govuk-!-width-two-thirds"},
		Submit:     lang.T("Send me a new link"),
		Errors:     viewErrors(err),
		ErrorTitle: lang.T("There is a problem"),
	}
	switch apperr.CodeOf(err) {
	case apperr.TooMany:
		v.Errors = components.Errors{{Field: "email", Message: lang.T("Too many attempts. Please wait a few minutes and try again.")}}
	case apperr.Invalid:
		v.Errors = components.Errors{{Field: "email", Message: lang.T("Enter your email address, like name@example.org")}}
	}
	v.Field.Error = v.Errors.Get("email")
	v.Layout.HasErrors = err != nil
	return v
}

// familyLostForm asks a parent for their email to send a new link.
func (s *Server) familyLostForm(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("sent") != "" {
		s.familyLostSent(w, r)
		return
	}
	s.render(w, r, http.StatusOK, templates.EmailFormPage(s.familyLostView(w, r, "", nil)))
}

// familyLost sends a new family link; the answer is the same whether or
// not the address is known.
func (s *Server) familyLost(w http.ResponseWriter, r *http.Request) {
	email := r.PostFormValue("email")
	err := s.accounts.RequestFamilyLink(r.Context(), email, clientIP(r), s.deliverFamilyLink)
	if err != nil {
		if c := apperr.CodeOf(err); c == apperr.Invalid || c == apperr.TooMany {
			s.render(w, r, statusOf(c), templates.EmailFormPage(s.familyLostView(w, r, email, err)))
			return
		}
		s.fail(w, r, err)
		return
	}
	// Post/redirect/get, without the address in the address bar.
	http.Redirect(w, r, "/family/lost?sent=1", http.StatusSeeOther)
}

// familyLostSent is the page after asking for a new family link.
func (s *Server) familyLostSent(w http.ResponseWriter, r *http.Request) {
	l, lang, langs := s.familyLayout(w, r, func(l i18n.Lang) string { return l.T("Check your email") })
	s.render(w, r, http.StatusOK, templates.MessagePage(templates.MessageView{
		Layout: l, Languages: langs,
		Heading: lang.T("Check your email"),
		Paragraphs: []string{
			lang.T("If the school has the address you gave for a parent or carer, we have sent a new link to it."),
			lang.T("No email? Check your junk folder, or contact the school office: they can give you a link on paper."),
		},
	}))
}
