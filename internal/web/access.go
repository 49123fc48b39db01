package web

import (
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"signoff/internal/apperr"
	"signoff/templates"
	"signoff/templates/components"
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
			errs = components.Errors{{Field: "link_email", Message: apperr.MessageOf(err)}}
		}
		v := s.signInView(r, l)
		v.LinkEmail, v.Errors = email, errs
		s.render(w, r, statusOf(code), templates.SignInPage(v))
		return
	}
	// Post/redirect/get: a reload does not ask again. The address stays
	// out of the address bar (and the logs); the answer is the same for
	// any address.
	http.Redirect(w, r, "/sign-in?link_sent=1", http.StatusSeeOther)
}

// signInLinkSent is the page after asking for a sign-in link.
func (s *Server) signInLinkSent(w http.ResponseWriter, r *http.Request) {
	paras := []string{
		"If the address you gave belongs to a member of staff at your school, we have sent a sign-in link to it. The link works once, for 20 minutes.",
		"No email? Check your junk folder, or ask your school office. Administrators sign in with their password.",
	}
	if len(s.signInView(r, components.LayoutProps{}).SSO) > 0 {
		paras = append(paras, "If your school signs you in with your Microsoft or Google account, no link is sent: use the “Sign in with Microsoft” or “Sign in with Google” button on the sign-in page instead.")
	}
	s.render(w, r, http.StatusOK, templates.MessagePage(templates.MessageView{
		Layout:     s.layout(r, "Check your email"),
		Heading:    "Check your email",
		Paragraphs: paras,
		LinkHref:   "/sign-in", LinkLabel: "Back to sign in",
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
	s.deadLink(w, r, err, "/sign-in#link", "Ask for a new sign-in link")
}

// deadLink answers a link that no longer works (used, expired, or tried
// too often) with a page saying so and where to go instead; any other
// error is the usual error page.
func (s *Server) deadLink(w http.ResponseWriter, r *http.Request, err error, href, label string) {
	switch apperr.CodeOf(err) {
	case apperr.Unauthenticated, apperr.TooMany:
		s.render(w, r, statusOf(apperr.CodeOf(err)), templates.MessagePage(templates.MessageView{
			Layout:     s.layout(r, "This link does not work"),
			Heading:    "This link does not work",
			Paragraphs: []string{apperr.MessageOf(err)},
			LinkHref:   href, LinkLabel: label,
		}))
	default:
		s.fail(w, r, err)
	}
}
