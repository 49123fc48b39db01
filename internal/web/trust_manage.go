package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/auth"
	"signoff/internal/mail"
	"signoff/internal/onboarding"
	"signoff/internal/schools"
	"signoff/internal/schooltime"
	"signoff/templates"
)

// viewerTrust is the trust a trust administrator manages: their school's.
func (s *Server) viewerTrust(r *http.Request) (schools.Trust, error) {
	v := viewerOf(r)
	if v.school.TrustID == 0 {
		return schools.Trust{}, apperr.New(apperr.NotFound, "Your school is not in a trust")
	}
	return s.schools.TrustByID(r.Context(), v.school.TrustID)
}

// trustSchools lists the trust's schools and how far each is set up.
func (s *Server) trustSchools(w http.ResponseWriter, r *http.Request) {
	t, err := s.viewerTrust(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list, err := s.schools.InTrust(r.Context(), t.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view := templates.TrustSchoolsView{Layout: s.layout(r, "The trust's schools"), Trust: t.Name}
	if added := r.URL.Query().Get("added"); added != "" {
		view.Notice = "School added: its administrator has been emailed a link to set up their account"
	}
	for _, sc := range list {
		row := templates.TrustSchool{Name: sc.Name, Slug: sc.Slug, URN: sc.URN}
		cl, err := s.onboarding.Checklist(r.Context(), sc.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		row.Live = cl.Done()
		row.Steps = fmt.Sprintf("%d of %d set-up steps done", cl.DoneCount(), len(cl.Steps))
		admins, staff, err := s.onboarding.SchoolSummary(r.Context(), sc.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		row.Admins, row.Staff = strings.Join(admins, ", "), staff
		view.Schools = append(view.Schools, row)
	}
	s.render(w, r, http.StatusOK, templates.TrustSchoolsPage(view))
}

// trustSchoolNew is the form to add a school to the trust.
func (s *Server) trustSchoolNew(w http.ResponseWriter, r *http.Request) {
	t, err := s.viewerTrust(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, templates.TrustSchoolNewPage(templates.TrustSchoolNewView{Layout: s.layout(r, "Add a school"), Trust: t.Name}))
}

// trustSchoolCreate adds the school with its first administrator, who is
// emailed a set-up link in the same transaction.
func (s *Server) trustSchoolCreate(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	t, err := s.viewerTrust(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	n := onboarding.NewSchool{Name: r.PostFormValue("name"), Slug: r.PostFormValue("slug"), TrustID: t.ID,
		AdminName: r.PostFormValue("admin_name"), AdminEmail: r.PostFormValue("admin_email")}
	deliver := func(ctx context.Context, tx pgx.Tx, sc schools.School, a auth.Account, token string) error {
		return s.deliverSetUpLink("the first administrator of "+sc.Name)(ctx, tx, sc.ID, a, token)
	}
	c, err := s.onboarding.CreateSchool(r.Context(), n, v.account.Actor(clientIP(r)), deliver)
	if apperr.CodeOf(err) == apperr.Invalid {
		l := s.layout(r, "Add a school")
		l.HasErrors = true
		s.render(w, r, http.StatusUnprocessableEntity, templates.TrustSchoolNewPage(templates.TrustSchoolNewView{Layout: l, Trust: t.Name,
			Name: r.PostFormValue("name"), Slug: r.PostFormValue("slug"), AdminName: r.PostFormValue("admin_name"),
			AdminEmail: r.PostFormValue("admin_email"), Errors: viewErrors(err)}))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/trust/schools?added="+url.QueryEscape(c.School.Slug), http.StatusSeeOther)
}

// trustAdmins lists the trust's administrators.
func (s *Server) trustAdmins(w http.ResponseWriter, r *http.Request) {
	view := templates.TrustAdminsView{}
	switch {
	case r.URL.Query().Get("granted") != "":
		view.Notice = "Trust administrator added: they have been emailed"
	case r.URL.Query().Get("removed") != "":
		view.Notice = "Trust administrator removed"
	}
	s.trustAdminsPage(w, r, http.StatusOK, view)
}

func (s *Server) trustAdminsPage(w http.ResponseWriter, r *http.Request, status int, view templates.TrustAdminsView) {
	v := viewerOf(r)
	t, err := s.viewerTrust(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list, err := s.onboarding.TrustAdmins(r.Context(), t.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view.Layout = s.layout(r, "Trust administrators")
	view.Layout.HasErrors = len(view.Errors) > 0
	view.Trust = t.Name
	for _, a := range list {
		row := templates.TrustAdminRow{Name: a.Name, Email: a.Email, School: a.School, SignedIn: "Never"}
		if a.LastSignedIn != nil {
			row.SignedIn = schooltime.Date(*a.LastSignedIn)
		} else if !a.HasPassword {
			row.SignedIn = "Never (has not set a password yet)"
		}
		if a.AccountID != v.account.ID {
			row.Remove = fmt.Sprintf("/trust/admins/%d/remove", a.AccountID)
		}
		view.Admins = append(view.Admins, row)
	}
	s.render(w, r, status, templates.TrustAdminsPage(view))
}

// trustAdminGrant makes someone a trust administrator and emails them.
func (s *Server) trustAdminGrant(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	t, err := s.viewerTrust(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, err = s.onboarding.GrantTrustAdmin(r.Context(), t.ID, v.school.ID, r.PostFormValue("email"), r.PostFormValue("name"),
		v.account.Actor(clientIP(r)), s.deliverTrustAdminNotice)
	if apperr.CodeOf(err) == apperr.Invalid {
		s.trustAdminsPage(w, r, http.StatusUnprocessableEntity, templates.TrustAdminsView{Email: r.PostFormValue("email"),
			Name: r.PostFormValue("name"), Errors: viewErrors(err)})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/trust/admins?granted=1", http.StatusSeeOther)
}

// trustAdminRemove takes the role away (never from the viewer, and never
// from the trust's last administrator).
func (s *Server) trustAdminRemove(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	t, err := s.viewerTrust(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id, err := idParam(r, "accountID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if id == v.account.ID {
		s.fail(w, r, apperr.New(apperr.Conflict, "You cannot remove yourself: ask another trust administrator"))
		return
	}
	if err := s.onboarding.RemoveTrustAdmin(r.Context(), t.ID, id, v.account.Actor(clientIP(r))); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/trust/admins?removed=1", http.StatusSeeOther)
}

// deliverTrustAdminNotice tells a new trust administrator, with a set-up
// link when they have no password yet.
func (s *Server) deliverTrustAdminNotice(ctx context.Context, tx pgx.Tx, trustName string, a auth.Account, token string) error {
	if token != "" {
		return s.deliverSetUpLink("a trust administrator of "+trustName)(ctx, tx, a.SchoolID, a, token)
	}
	_, _, err := mail.Enqueue(ctx, tx, s.db.Now(), mail.Message{
		SchoolID: a.SchoolID,
		To:       a.Email,
		ToName:   a.DisplayName,
		Subject:  "You are now a trust administrator of " + trustName,
		Kind:     "trust_admin",
		Text: fmt.Sprintf(`Hello %s,

You have been made a trust administrator of %s in Signoff: you can see every school of the trust side by side, add schools and name other trust administrators.

Sign in as usual at %s and choose "The trust's schools".

%s
`, a.DisplayName, trustName, s.link("/sign-in"), trustName),
	})
	return err
}
