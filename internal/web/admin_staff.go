package web

import (
	"fmt"
	"net/http"
	"strconv"

	"signoff/internal/apperr"
	"signoff/internal/auth"
	"signoff/internal/people"
	"signoff/internal/schooltime"
	"signoff/templates"
	"signoff/templates/components"
)

// staffList lists the school's staff, filtered by name or email and role.
func (s *Server) staffList(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	q := r.URL.Query()
	filter := people.StaffFilter{Search: q.Get("q")}
	if role, ok := people.ParseStaffRole(q.Get("role")); ok {
		filter.Role = role
	}
	list, err := s.people.ListStaff(r.Context(), v.school.ID, filter)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	owed, err := s.signing.OwedCounts(r.Context(), v.school.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	access, err := s.onboarding.StaffAccess(r.Context(), v.school.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view := templates.StaffListView{Layout: s.layout(r, "Staff"), Search: filter.Search}
	if n := q.Get("invited"); n != "" {
		if n == "1" {
			view.Notice = "1 invitation sent"
		} else if _, err := strconv.Atoi(n); err == nil {
			view.Notice = n + " invitations sent"
		}
	}
	for _, role := range people.StaffRoles {
		view.Roles = append(view.Roles, components.Option{Value: string(role), Label: role.Label(), Checked: role == filter.Role})
	}
	for _, p := range list {
		row := templates.StaffRow{Name: p.SortName(), Href: fmt.Sprintf("/admin/staff/%d", p.ID), Role: p.RoleLabel(), Email: p.Email, Owes: owed[p.ID]}
		switch a, ok := access[p.ID]; {
		case !ok:
			row.SignedIn = "No account (no email address)"
		case a.LastSignedIn != nil:
			row.SignedIn = schooltime.Date(*a.LastSignedIn)
		case a.InvitedAt != nil:
			row.NeverSignedIn, row.SignedIn = true, "invited "+schooltime.Date(*a.InvitedAt)
		default:
			row.NeverSignedIn, row.SignedIn = true, "not invited yet"
		}
		if row.NeverSignedIn {
			view.NeverSignedIn++
		}
		view.Rows = append(view.Rows, row)
	}
	s.render(w, r, http.StatusOK, templates.StaffListPage(view))
}

// staffPerson shows one member of staff: what they have signed and owe.
func (s *Server) staffPerson(w http.ResponseWriter, r *http.Request) {
	notice := ""
	if r.URL.Query().Get("saved") != "" {
		notice = "Roles saved"
	}
	s.staffPersonPage(w, r, nil, notice)
}

// staffRoles gives or takes away the admin and headteacher roles.
func (s *Server) staffRoles(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	id, err := idParam(r, "personID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a, ok, err := s.accounts.ForPerson(r.Context(), v.school.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ok {
		s.fail(w, r, apperr.New(apperr.NotFound, "Page not found"))
		return
	}
	_ = r.ParseForm()
	var want []auth.Role
	for _, role := range r.PostForm["roles"] {
		want = append(want, auth.Role(role))
	}
	if err := s.accounts.SetRoles(r.Context(), v.school.ID, a.ID, want, v.account.Actor(clientIP(r))); err != nil {
		if apperr.CodeOf(err) == apperr.Invalid {
			s.staffPersonPage(w, r, err, "")
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/staff/%d?saved=1", id), http.StatusSeeOther)
}

func (s *Server) staffPersonPage(w http.ResponseWriter, r *http.Request, formErr error, notice string) {
	v := viewerOf(r)
	id, err := idParam(r, "personID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.people.Get(r.Context(), v.school.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view := templates.PersonView{Layout: s.layout(r, p.FullName()), Name: p.FullName(), Errors: viewErrors(formErr), Notice: notice,
		Summary: []components.SummaryRow{
			{Key: "Role", Value: p.RoleLabel()},
			{Key: "Email", Value: orDash(p.Email)},
			{Key: "Staff code", Value: orDash(p.MISID)},
		}}
	if p.LeftAt != nil {
		view.Summary = append(view.Summary, components.SummaryRow{Key: "Left", Value: p.LeftAt.Format("2 January 2006")})
	}
	if a, ok, err := s.accounts.ForPerson(r.Context(), v.school.ID, p.ID); err != nil {
		s.fail(w, r, err)
		return
	} else if ok {
		view.RolesAction = fmt.Sprintf("/admin/staff/%d/roles", p.ID)
		view.Roles = components.ChoiceProps{ID: "roles", Name: "roles", Legend: "Roles in Signoff", Small: true,
			Hint: "Every member of staff can read and sign what is addressed to them.", Error: view.Errors.Get("roles"),
			Options: []components.Option{
				{Value: string(auth.Admin), Label: "Administrator", Hint: "Publishes policies, imports people, sees who has signed. Needs a password.", Checked: a.Has(auth.Admin)},
				{Value: string(auth.Head), Label: "Headteacher or policy owner", Hint: "Drafts revisions and sends them to governors.", Checked: a.Has(auth.Head)},
			}}
	}
	view.Layout.HasErrors = formErr != nil
	if view.DataProtection, err = s.dataProtection(r, p); err != nil {
		s.fail(w, r, err)
		return
	}
	owed, err := s.signing.ToSign(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.db.Now()
	for _, o := range owed {
		item := owedItem(o, now)
		item.Href = fmt.Sprintf("/admin/tracking/forms/%d", o.Form.ID)
		view.Owed = append(view.Owed, item)
	}
	sigs, err := s.signing.SignaturesOf(r.Context(), v.school.ID, p.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, sig := range sigs {
		view.Signed = append(view.Signed, signedItem(sig))
	}
	s.render(w, r, formStatus(formErr), templates.PersonPage(view))
}
