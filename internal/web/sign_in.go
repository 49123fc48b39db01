package web

import (
	"net/http"

	"signoff/internal/apperr"
	"signoff/templates"
)

// signInForm shows the sign-in page.
func (s *Server) signInForm(w http.ResponseWriter, r *http.Request) {
	if viewerOf(r).signedIn {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	if need, err := s.onboarding.NeedsSetup(r.Context()); err == nil && need {
		http.Redirect(w, r, "/set-up-school", http.StatusSeeOther)
		return
	}
	if r.URL.Query().Get("link_sent") != "" {
		s.signInLinkSent(w, r)
		return
	}
	v := templates.SignInView{Layout: s.layout(r, "Sign in"), Next: r.URL.Query().Get("next")}
	if r.URL.Query().Get("signed_out") != "" {
		v.Message = "You have signed out."
	}
	s.render(w, r, http.StatusOK, templates.SignInPage(v))
}

// signIn checks the email and password, then starts a new session: a new
// token in a new cookie, so a session fixed before sign-in is useless.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	email, password, next := r.PostFormValue("email"), r.PostFormValue("password"), r.PostFormValue("next")
	_, token, err := s.accounts.SignIn(r.Context(), email, password, clientIP(r), r.UserAgent())
	if err != nil {
		code := apperr.CodeOf(err)
		if code != apperr.Invalid && code != apperr.Unauthenticated {
			s.fail(w, r, err)
			return
		}
		l := s.layout(r, "Sign in")
		l.HasErrors = true
		s.render(w, r, statusOf(code), templates.SignInPage(templates.SignInView{Layout: l, Email: email, Next: next, Errors: viewErrors(err)}))
		return
	}
	s.startSession(w, r, token, safeNext(next))
}

// startSession ends any session the browser had, puts the new session's
// token in a new cookie, and redirects to next.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, token, next string) {
	if old := viewerOf(r); old.signedIn {
		_ = s.accounts.SignOut(r.Context(), old.token, clientIP(r))
	}
	sess, _ := s.cookies.New(r, sessionCookie)
	sess.Values["token"] = token
	if err := sess.Save(r, w); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// signOut ends the session on the server and removes the cookie.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	if v := viewerOf(r); v.signedIn {
		if err := s.accounts.SignOut(r.Context(), v.token, clientIP(r)); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	sess, _ := s.cookies.New(r, sessionCookie)
	sess.Options.MaxAge = -1
	_ = sess.Save(r, w)
	http.Redirect(w, r, "/sign-in?signed_out=1", http.StatusSeeOther)
}
