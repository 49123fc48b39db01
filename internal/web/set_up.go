package web

import (
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"signoff/internal/apperr"
	"signoff/templates"
)

// setUpForm is a set-up link's page: the new account chooses a password.
func (s *Server) setUpForm(w http.ResponseWriter, r *http.Request) {
	token := chi.URLParam(r, "token")
	a, err := s.accounts.PeekSetUpLink(r.Context(), token)
	if err != nil {
		s.setUpFailed(w, r, err)
		return
	}
	s.renderSetUp(w, r, http.StatusOK, token, a.DisplayName, a.Email, a.SchoolID, nil)
}

// setUp uses the link once: sets the password and signs in.
func (s *Server) setUp(w http.ResponseWriter, r *http.Request) {
	token := chi.URLParam(r, "token")
	_, session, err := s.accounts.UseSetUpLink(r.Context(), token, r.PostFormValue("new_password"), r.PostFormValue("confirm_password"), clientIP(r), r.UserAgent())
	if apperr.CodeOf(err) == apperr.Invalid {
		a, perr := s.accounts.PeekSetUpLink(r.Context(), token)
		if perr != nil {
			s.setUpFailed(w, r, perr)
			return
		}
		s.renderSetUp(w, r, http.StatusUnprocessableEntity, token, a.DisplayName, a.Email, a.SchoolID, err)
		return
	}
	if err != nil {
		s.setUpFailed(w, r, err)
		return
	}
	s.startSession(w, r, session, "/")
}

func (s *Server) renderSetUp(w http.ResponseWriter, r *http.Request, status int, token, name, email string, schoolID int64, err error) {
	l := s.layout(r, "Set your password")
	l.HasErrors = err != nil
	school := "your school"
	if sc, serr := s.schools.Get(r.Context(), schoolID); serr == nil {
		school = sc.Name
	}
	s.render(w, r, status, templates.SetUpPage(templates.SetUpView{Layout: l, Name: name, Email: email, School: school,
		Action: "/set-up/" + url.PathEscape(token), Errors: viewErrors(err)}))
}

func (s *Server) setUpFailed(w http.ResponseWriter, r *http.Request, err error) {
	s.deadLink(w, r, err, "/sign-in", "Sign in")
}
