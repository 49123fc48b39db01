package web

import (
	"net/http"
	"net/url"

	"signoff/internal/apperr"
	"signoff/internal/sso"
	"signoff/templates"
	"signoff/templates/components"
)

// ssoCookie carries the state of a single sign-on under way, binding the
// provider's answer to the browser that asked.
const ssoCookie = "signoff_sso"

// ssoStart sends the browser to the school's provider (GET
// /sign-in/sso?school=SLUG): the attempt's state, nonce and PKCE
// verifier are stored, the state also in a short-lived cookie.
func (s *Server) ssoStart(w http.ResponseWriter, r *http.Request) {
	sc, err := s.schools.BySlug(r.Context(), r.URL.Query().Get("school"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	authURL, state, err := s.sso.Begin(r.Context(), sc.ID, safeNext(r.URL.Query().Get("next")), clientIP(r))
	if err != nil {
		s.ssoFailed(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: state, Path: "/sign-in/sso", MaxAge: int(sso.AttemptLifetime.Seconds()),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, authURL, http.StatusSeeOther)
}

// ssoCallback is where the provider sends the browser back: the code is
// exchanged, the ID token checked, the account found and a session
// started.
func (s *Server) ssoCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ret := sso.Return{State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error"), ErrorDesc: q.Get("error_description"),
		IP: clientIP(r), UserAgent: r.UserAgent()}
	if c, err := r.Cookie(ssoCookie); err == nil {
		ret.BrowserState = c.Value
	}
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Path: "/sign-in/sso", MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	res, err := s.sso.Finish(r.Context(), ret)
	if err != nil {
		s.ssoFailed(w, r, err)
		return
	}
	s.startSession(w, r, res.Token, safeNext(res.Next))
}

// ssoFailed explains a refused single sign-on.
func (s *Server) ssoFailed(w http.ResponseWriter, r *http.Request, err error) {
	switch code := apperr.CodeOf(err); code {
	case apperr.Unauthenticated, apperr.TooMany, apperr.Unavailable:
		s.render(w, r, statusOf(code), templates.MessagePage(templates.MessageView{
			Layout:     s.layout(r, "You have not been signed in"),
			Heading:    "You have not been signed in",
			Paragraphs: []string{apperr.MessageOf(err)},
			LinkHref:   "/sign-in", LinkLabel: "Back to sign in",
		}))
	default:
		s.fail(w, r, err)
	}
}

// signInView is the sign-in page's view with the single sign-on buttons:
// every school's that has one, or only one school's with ?school=SLUG.
func (s *Server) signInView(r *http.Request, l components.LayoutProps) templates.SignInView {
	v := templates.SignInView{Layout: l}
	buttons, err := s.sso.Buttons(r.Context())
	if err != nil {
		s.log.Error("sign-in buttons", "err", err)
		return v
	}
	only := r.URL.Query().Get("school")
	next := r.URL.Query().Get("next")
	if next == "" {
		next = r.PostFormValue("next")
	}
	for _, b := range buttons {
		if only != "" && b.SchoolSlug != only {
			continue
		}
		href := "/sign-in/sso?school=" + url.QueryEscape(b.SchoolSlug)
		if n := safeNext(next); n != "/" {
			href += "&next=" + url.QueryEscape(n)
		}
		v.SSO = append(v.SSO, templates.SSOButton{Href: href, Label: b.Provider.ButtonLabel(), School: b.SchoolName})
	}
	return v
}
