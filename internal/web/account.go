package web

import (
	"net/http"
	"strings"

	"signoff/internal/apperr"
	"signoff/internal/auth"
	"signoff/templates"
	"signoff/templates/components"
)

func (s *Server) accountView(r *http.Request, err error, notice string) (templates.AccountView, error) {
	v := viewerOf(r)
	has, herr := s.accounts.HasPassword(r.Context(), v.account.ID)
	if herr != nil {
		return templates.AccountView{}, herr
	}
	var roles []string
	for _, role := range v.account.Roles {
		roles = append(roles, role.Label())
	}
	view := templates.AccountView{
		Layout: s.layout(r, "Your account"),
		Summary: []components.SummaryRow{
			{Key: "Name", Value: v.account.DisplayName},
			{Key: "Email", Value: orDash(v.account.Email)},
			{Key: "School", Value: v.school.Name},
			{Key: "Roles", Value: strings.Join(roles, ", ")},
		},
		HasPassword: has,
		Errors:      viewErrors(err),
		Notice:      notice,
	}
	view.Layout.HasErrors = err != nil
	return view, nil
}

// account shows the signed-in person's account.
func (s *Server) account(w http.ResponseWriter, r *http.Request) {
	notice := ""
	if r.URL.Query().Get("saved") != "" {
		notice = "Your password has been saved"
	}
	view, err := s.accountView(r, nil, notice)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, templates.AccountPage(view))
}

// accountPassword sets or changes the account's password.
func (s *Server) accountPassword(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	if !v.account.Has(auth.Staff) && !v.account.Has(auth.Admin) && !v.account.Has(auth.Head) && !v.account.Has(auth.Governor) && !v.account.Has(auth.TrustAdmin) {
		s.fail(w, r, apperr.New(apperr.Forbidden, "Parents and carers sign in with their family link and need no password"))
		return
	}
	err := s.accounts.SetPassword(r.Context(), v.account, v.token, r.PostFormValue("current_password"), r.PostFormValue("new_password"),
		r.PostFormValue("confirm_password"), clientIP(r))
	if apperr.CodeOf(err) == apperr.Invalid {
		view, verr := s.accountView(r, err, "")
		if verr != nil {
			s.fail(w, r, verr)
			return
		}
		s.render(w, r, http.StatusUnprocessableEntity, templates.AccountPage(view))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/account?saved=1", http.StatusSeeOther)
}
