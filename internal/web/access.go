package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	"signoff/internal/apperr"
	"signoff/internal/auth"
	"signoff/templates"
)

// requestSignInLink emails a sign-in link. The page that follows is the
// same whether or not the address is known.
func (s *Server) requestSignInLink(w http.ResponseWriter, r *http.Request) {
	email := r.PostFormValue("email")
	err := s.accounts.RequestSignInLink(r.Context(), email, clientIP(r), s.deliverSignInLink)
	if err != nil {
		code := apperr.CodeOf(err)
		if code != apperr.Invalid && code != apperr.TooMany {
			s.fail(w, r, err)
			return
		}
		l := s.layout(r, "Sign in")
		l.HasErrors = true
		errs := viewErrors(err)
		if code == apperr.TooMany {
			errs = templates.Errors{{Field: "link_email", Message: apperr.MessageOf(err)}}
		}
		s.render(w, r, statusOf(code), templates.SignInPage(templates.SignInView{Layout: l, LinkEmail: email, Errors: errs}))
		return
	}
	s.render(w, r, http.StatusOK, templates.MessagePage(templates.MessageView{
		Layout:  s.layout(r, "Check your email"),
		Heading: "Check your email",
		Paragraphs: []string{
			"If " + strings.TrimSpace(email) + " belongs to a member of staff at your school, we have sent a sign-in link to it. The link works once, for 20 minutes.",
			"No email? Check your junk folder, or ask your school office. Administrators sign in with their password.",
		},
		LinkHref: "/sign-in", LinkLabel: "Back to sign in",
	}))
}

// signInLinkPage asks the holder of a sign-in link to press a button.
func (s *Server) signInLinkPage(w http.ResponseWriter, r *http.Request) {
	token := chi.URLParam(r, "token")
	a, err := s.accounts.PeekSignInLink(r.Context(), token)
	if err != nil {
		s.linkFailed(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, templates.LinkConfirmPage(templates.LinkConfirmView{
		Layout: s.layout(r, "Sign in"), Name: a.DisplayName, Action: "/sign-in/link/" + url.PathEscape(token)}))
}

// useSignInLink uses the link once and signs in.
func (s *Server) useSignInLink(w http.ResponseWriter, r *http.Request) {
	_, token, err := s.accounts.UseSignInLink(r.Context(), chi.URLParam(r, "token"), clientIP(r), r.UserAgent())
	if err != nil {
		s.linkFailed(w, r, err)
		return
	}
	s.startSession(w, r, token, "/")
}

func (s *Server) linkFailed(w http.ResponseWriter, r *http.Request, err error) {
	switch apperr.CodeOf(err) {
	case apperr.Unauthenticated, apperr.TooMany:
		s.render(w, r, statusOf(apperr.CodeOf(err)), templates.MessagePage(templates.MessageView{
			Layout:     s.layout(r, "This link does not work"),
			Heading:    "This link does not work",
			Paragraphs: []string{apperr.MessageOf(err)},
			LinkHref:   "/sign-in#link", LinkLabel: "Ask for a new sign-in link",
		}))
	default:
		s.fail(w, r, err)
	}
}

// familyLink opens a parent's session from their family link. It may be
// used again and again until it expires or is replaced.
func (s *Server) familyLink(w http.ResponseWriter, r *http.Request) {
	_, token, err := s.accounts.UseFamilyLink(r.Context(), chi.URLParam(r, "token"), clientIP(r), r.UserAgent())
	if err != nil {
		if apperr.CodeOf(err) == apperr.Unauthenticated || apperr.CodeOf(err) == apperr.TooMany {
			s.render(w, r, statusOf(apperr.CodeOf(err)), templates.MessagePage(templates.MessageView{
				Layout:     s.layout(r, "This link does not work"),
				Heading:    "This link does not work",
				Paragraphs: []string{apperr.MessageOf(err)},
				LinkHref:   "/family/lost", LinkLabel: "Get a new link by email",
			}))
			return
		}
		s.fail(w, r, err)
		return
	}
	s.startSession(w, r, token, "/family")
}

func (s *Server) familyCodeView(r *http.Request, code string, err error) templates.EmailFormView {
	v := templates.EmailFormView{
		Layout:  s.layout(r, "Type the code from your letter"),
		Heading: "Type the code from your letter",
		Intro:   []string{"Your letter from the school has a code of 16 letters and numbers, like ABCD-EFGH-JKMN-PQRS."},
		Action:  "/family/code",
		Field: templates.InputProps{ID: "code", Name: "code", Label: "Code", Value: code, Width: "govuk-input--width-20",
			Autocomplete: "off", Hint: "Capital or small letters, with or without the dashes."},
		Submit: "Continue",
		Errors: viewErrors(err),
	}
	v.Field.Error = v.Errors.Get("code")
	v.Layout.HasErrors = err != nil
	return v
}

// familyCodeForm asks for the code printed on a letter.
func (s *Server) familyCodeForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, templates.EmailFormPage(s.familyCodeView(r, "", nil)))
}

// familyCode checks the typed code and opens the family's pages.
func (s *Server) familyCode(w http.ResponseWriter, r *http.Request) {
	code := r.PostFormValue("code")
	norm := auth.NormaliseFamilyToken(code)
	if len(norm) != 19 {
		err := &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "code", Message: "Enter the 16 letters and numbers of the code on your letter"}}}
		s.render(w, r, http.StatusUnprocessableEntity, templates.EmailFormPage(s.familyCodeView(r, code, err)))
		return
	}
	_, token, err := s.accounts.UseFamilyLink(r.Context(), norm, clientIP(r), r.UserAgent())
	if err != nil {
		if c := apperr.CodeOf(err); c == apperr.Unauthenticated || c == apperr.TooMany {
			e := &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "code", Message: "That code does not work. Check it against your letter, or ask the school office for a new one"}}}
			if c == apperr.TooMany {
				e.Fields[0].Message = apperr.MessageOf(err)
			}
			s.render(w, r, statusOf(c), templates.EmailFormPage(s.familyCodeView(r, code, e)))
			return
		}
		s.fail(w, r, err)
		return
	}
	s.startSession(w, r, token, "/family")
}

func (s *Server) familyLostView(r *http.Request, email string, err error) templates.EmailFormView {
	v := templates.EmailFormView{
		Layout:  s.layout(r, "Get a new link"),
		Heading: "Get a new link",
		Intro: []string{"Enter the email address the school has for you. We'll send you a new link to your children's forms.",
			"The new link replaces the old one."},
		Action: "/family/lost",
		Field:  templates.InputProps{ID: "email", Name: "email", Label: "Email address", Value: email, Type: "email", Autocomplete: "email", Width: "govuk-!-width-two-thirds"},
		Submit: "Send me a new link",
		Errors: viewErrors(err),
	}
	if apperr.CodeOf(err) == apperr.TooMany {
		v.Errors = templates.Errors{{Field: "email", Message: apperr.MessageOf(err)}}
	}
	v.Field.Error = v.Errors.Get("email")
	v.Layout.HasErrors = err != nil
	return v
}

// familyLostForm asks a parent for their email to send a new link.
func (s *Server) familyLostForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, templates.EmailFormPage(s.familyLostView(r, "", nil)))
}

// familyLost sends a new family link; the answer is the same whether or
// not the address is known.
func (s *Server) familyLost(w http.ResponseWriter, r *http.Request) {
	email := r.PostFormValue("email")
	err := s.accounts.RequestFamilyLink(r.Context(), email, clientIP(r), s.deliverFamilyLink)
	if err != nil {
		if c := apperr.CodeOf(err); c == apperr.Invalid || c == apperr.TooMany {
			s.render(w, r, statusOf(c), templates.EmailFormPage(s.familyLostView(r, email, err)))
			return
		}
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, templates.MessagePage(templates.MessageView{
		Layout:  s.layout(r, "Check your email"),
		Heading: "Check your email",
		Paragraphs: []string{
			"If the school has " + strings.TrimSpace(email) + " for a parent or carer, we have sent a new link to it.",
			"No email? Check your junk folder, or contact the school office: they can give you a link on paper.",
		},
	}))
}
