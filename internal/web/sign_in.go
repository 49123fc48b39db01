package web

import (
	"net/http"
	"net/url"

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
	v := s.signInView(r, s.layout(r, "Sign in"))
	v.Next = r.URL.Query().Get("next")
	if r.URL.Query().Get("signed_out") != "" {
		v.Message = "You have signed out of Signoff."
		// After a single sign-on, the provider's own sign-out is offered.
		if slug := r.URL.Query().Get("sso"); slug != "" {
			if sc, err := s.schools.BySlug(r.Context(), slug); err == nil {
				if c, ok, err := s.sso.Get(r.Context(), sc.ID); err == nil && ok {
					v.ProviderSignOutHref = s.sso.SignOutURL(r.Context(), sc.ID)
					v.ProviderSignOutLabel = "Sign out of " + c.Provider.Label() + " too"
				}
			}
		}
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
		v := s.signInView(r, l)
		v.Email, v.Next, v.Errors = email, next, viewErrors(err)
		s.render(w, r, statusOf(code), templates.SignInPage(v))
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
	target := "/sign-in?signed_out=1"
	if v := viewerOf(r); v.signedIn {
		if id := v.account.Session.SSOSchoolID; id != 0 {
			if sc, err := s.schools.Get(r.Context(), id); err == nil {
				target += "&sso=" + url.QueryEscape(sc.Slug)
			}
		}
		if err := s.accounts.SignOut(r.Context(), v.token, clientIP(r)); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	sess, _ := s.cookies.New(r, sessionCookie)
	sess.Options.MaxAge = -1
	_ = sess.Save(r, w)
	http.Redirect(w, r, target, http.StatusSeeOther)
}
