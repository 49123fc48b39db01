package web

import (
	"net/http"

	"signoff/internal/apperr"
	"signoff/internal/onboarding"
	"signoff/templates"
	"signoff/templates/components"
)

// firstRunForm is the first-run page, while the installation has no
// school: set up the first school and its administrator with the code
// that `signoff serve` printed.
func (s *Server) firstRunForm(w http.ResponseWriter, r *http.Request) {
	need, err := s.onboarding.NeedsSetup(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !need {
		http.Redirect(w, r, "/sign-in", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, templates.FirstRunPage(templates.FirstRunView{Layout: s.layout(r, "Set up your school")}))
}

// firstRun creates the school and its administrator and signs them in.
func (s *Server) firstRun(w http.ResponseWriter, r *http.Request) {
	n := onboarding.NewSchool{Name: r.PostFormValue("name"), AdminName: r.PostFormValue("admin_name"), AdminEmail: r.PostFormValue("admin_email"),
		AdminPassword: r.PostFormValue("new_password"), ConfirmPassword: r.PostFormValue("confirm_password")}
	_, session, err := s.onboarding.SetUpFirstSchool(r.Context(), r.PostFormValue("code"), n, clientIP(r), r.UserAgent())
	if code := apperr.CodeOf(err); code == apperr.Invalid || code == apperr.TooMany {
		l := s.layout(r, "Set up your school")
		l.HasErrors = true
		view := templates.FirstRunView{Layout: l, Code: r.PostFormValue("code"), Name: r.PostFormValue("name"),
			AdminName: r.PostFormValue("admin_name"), AdminEmail: r.PostFormValue("admin_email"), Errors: viewErrors(err)}
		if code == apperr.TooMany {
			view.Errors = components.Errors{{Field: "code", Message: apperr.MessageOf(err)}}
		}
		s.render(w, r, statusOf(code), templates.FirstRunPage(view))
		return
	}
	if apperr.CodeOf(err) == apperr.NotFound {
		http.Redirect(w, r, "/sign-in", http.StatusSeeOther)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.startSession(w, r, session, "/admin/tracking")
}
