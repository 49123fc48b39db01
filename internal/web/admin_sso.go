package web

import (
	"net/http"
	"strconv"
	"strings"

	"signoff/internal/apperr"
	"signoff/internal/auth"
	"signoff/internal/people"
	"signoff/internal/schools"
	"signoff/internal/sso"
	"signoff/templates"
	"signoff/templates/components"
)

// ssoTarget is the school whose single sign-on the request is about: the
// viewer's own (administrators), or, for trust administrators, any school
// of their trust (?school=ID). Any other school is "not found".
func (s *Server) ssoTarget(r *http.Request) (schools.School, []schools.School, error) {
	v := viewerOf(r)
	id, _ := strconv.ParseInt(r.FormValue("school"), 10, 64)
	var trust []schools.School
	if v.account.Has(auth.TrustAdmin) {
		var err error
		if trust, err = s.schools.TrustSchools(r.Context(), v.school.ID); err != nil {
			return schools.School{}, nil, err
		}
	}
	if id == 0 || id == v.school.ID {
		return v.school, trust, nil
	}
	for _, sc := range trust {
		if sc.ID == id {
			return sc, trust, nil
		}
	}
	return schools.School{}, nil, apperr.New(apperr.NotFound, "There is no such school")
}

func ssoHref(path string, schoolID int64, extra string) string {
	h := path + "?school=" + strconv.FormatInt(schoolID, 10)
	if extra != "" {
		h += "&" + extra
	}
	return h
}

// ssoView builds the page for school from c (as stored, or as typed).
func (s *Server) ssoView(r *http.Request, sc schools.School, trust []schools.School, c sso.Connection, connected bool) templates.SSOSettingsView {
	v := templates.SSOSettingsView{
		Layout: s.layout(r, "Single sign-on"), SchoolID: strconv.FormatInt(sc.ID, 10), SchoolName: sc.Name,
		Connected: connected, HasSecret: c.HasSecret, TenantID: c.TenantID, GoogleDomain: c.GoogleDomain, IssuerURL: c.IssuerURL,
		ClientID: c.ClientID, EmailDomains: strings.Join(c.EmailDomains, "\n"),
		RedirectURL: s.sso.RedirectURL(), Scopes: strings.Join(sso.Scopes, " "),
		BackHref: "/admin/school", BackLabel: "School settings",
	}
	if !viewerOf(r).account.Has(auth.Admin) {
		v.BackHref, v.BackLabel = "/trust/schools", "The trust's schools"
	}
	if c.Provider != sso.Generic {
		v.IssuerURL = ""
	}
	v.Provider = components.ChoiceProps{ID: "provider", Name: "provider", Legend: "Provider", Options: []components.Option{
		{Value: string(sso.Microsoft), Label: "Microsoft 365 (Microsoft Entra ID)", Checked: c.Provider == sso.Microsoft},
		{Value: string(sso.Google), Label: "Google Workspace", Checked: c.Provider == sso.Google},
		{Value: string(sso.Generic), Label: "Another OpenID Connect provider", Checked: c.Provider == sso.Generic},
	}}
	v.Roles = components.ChoiceProps{ID: "required_roles", Name: "required_roles", Legend: "Who must sign in this way",
		Hint: "Passwords and emailed sign-in links are then refused for these roles, with a message saying to use this button. Administrators always keep their password, so the office can still get in if the provider is down. Governors often use personal addresses: leave them out unless they have school accounts."}
	for _, role := range people.StaffRoles {
		v.Roles.Options = append(v.Roles.Options, components.Option{Value: string(role), Label: role.Label(), Checked: c.Requires(role)})
	}
	for _, o := range trust {
		if o.ID == sc.ID {
			continue
		}
		_, ok, _ := s.sso.Get(r.Context(), o.ID)
		v.OtherSchools = append(v.OtherSchools, templates.SSOSchoolLink{Name: o.Name, Href: ssoHref("/admin/sso", o.ID, ""), Connected: ok})
	}
	return v
}

// ssoConnection is the school the page is about, the trust's schools and
// the school's connection (ok when it has one).
func (s *Server) ssoConnection(r *http.Request) (sc schools.School, trust []schools.School, c sso.Connection, ok bool, err error) {
	if sc, trust, err = s.ssoTarget(r); err != nil {
		return sc, trust, c, false, err
	}
	c, ok, err = s.sso.Get(r.Context(), sc.ID)
	return sc, trust, c, ok, err
}

// ssoSettings shows a school's single sign-on settings.
func (s *Server) ssoSettings(w http.ResponseWriter, r *http.Request) {
	sc, trust, c, ok, err := s.ssoConnection(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.ssoView(r, sc, trust, c, ok)
	switch {
	case r.URL.Query().Get("saved") != "":
		v.Notice = "Single sign-on saved. Test the connection, then try signing in with it."
	case r.URL.Query().Get("removed") != "":
		v.Notice = "Single sign-on removed: staff sign in with passwords and emailed links."
	}
	s.render(w, r, http.StatusOK, templates.SSOSettingsPage(v))
}

// ssoSettingsSave saves them.
func (s *Server) ssoSettingsSave(w http.ResponseWriter, r *http.Request) {
	sc, trust, err := s.ssoTarget(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c := sso.Connection{
		SchoolID: sc.ID, Provider: sso.Provider(r.PostFormValue("provider")), TenantID: r.PostFormValue("tenant_id"),
		GoogleDomain: r.PostFormValue("google_domain"), IssuerURL: r.PostFormValue("issuer_url"), ClientID: r.PostFormValue("client_id"),
		ClientSecret: r.PostFormValue("client_secret"), EmailDomains: sso.ParseDomains(r.PostFormValue("email_domains")),
	}
	for _, role := range r.PostForm["required_roles"] {
		c.RequiredRoles = append(c.RequiredRoles, people.StaffRole(role))
	}
	err = s.sso.Save(r.Context(), c, viewerOf(r).account.Actor(clientIP(r)))
	if apperr.CodeOf(err) == apperr.Invalid {
		_, connected, _ := s.sso.Get(r.Context(), sc.ID)
		c.HasSecret = connected
		v := s.ssoView(r, sc, trust, c, connected)
		v.IssuerURL, v.EmailDomains = r.PostFormValue("issuer_url"), r.PostFormValue("email_domains")
		v.Errors = viewErrors(err)
		v.Provider.Error, v.Roles.Error = v.Errors.Get("provider"), v.Errors.Get("required_roles")
		v.Layout.HasErrors = true
		s.render(w, r, http.StatusUnprocessableEntity, templates.SSOSettingsPage(v))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, ssoHref("/admin/sso", sc.ID, "saved=1"), http.StatusSeeOther)
}

// ssoTest runs "Test the connection" and shows the results on the page.
// It changes nothing, so it is a GET.
func (s *Server) ssoTest(w http.ResponseWriter, r *http.Request) {
	sc, trust, c, ok, err := s.ssoConnection(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ok {
		http.Redirect(w, r, ssoHref("/admin/sso", sc.ID, ""), http.StatusSeeOther)
		return
	}
	steps, err := s.sso.Test(r.Context(), sc.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.ssoView(r, sc, trust, c, ok)
	v.Tested = true
	for _, st := range steps {
		v.Steps = append(v.Steps, templates.SSOTestStep{Label: st.Label, OK: st.OK, Detail: st.Detail})
	}
	s.render(w, r, http.StatusOK, templates.SSOSettingsPage(v))
}

// ssoRemove turns a school's single sign-on off.
func (s *Server) ssoRemove(w http.ResponseWriter, r *http.Request) {
	sc, _, err := s.ssoTarget(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.sso.Remove(r.Context(), sc.ID, viewerOf(r).account.Actor(clientIP(r))); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, ssoHref("/admin/sso", sc.ID, "removed=1"), http.StatusSeeOther)
}
