package web

import (
	"fmt"
	"net/http"

	"signoff/internal/people"
	"signoff/templates"
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
	view := templates.StaffListView{Layout: s.layout(r, "Staff"), Search: filter.Search}
	for _, role := range people.StaffRoles {
		view.Roles = append(view.Roles, templates.Option{Value: string(role), Label: role.Label(), Checked: role == filter.Role})
	}
	for _, p := range list {
		view.Rows = append(view.Rows, templates.StaffRow{Name: p.SortName(), Href: fmt.Sprintf("/admin/staff/%d", p.ID), Role: p.RoleLabel(), Email: p.Email})
	}
	s.render(w, r, http.StatusOK, templates.StaffListPage(view))
}

// staffPerson shows one member of staff: what they have signed and owe.
func (s *Server) staffPerson(w http.ResponseWriter, r *http.Request) {
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
	view := templates.PersonView{Layout: s.layout(r, p.FullName()), Name: p.FullName(),
		Summary: []templates.SummaryRow{
			{Key: "Role", Value: p.RoleLabel()},
			{Key: "Email", Value: orDash(p.Email)},
			{Key: "Staff code", Value: orDash(p.MISID)},
		}}
	if p.LeftAt != nil {
		view.Summary = append(view.Summary, templates.SummaryRow{Key: "Left", Value: p.LeftAt.Format("2 January 2006")})
	}
	owed, err := s.signing.ToSign(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.db.Now()
	for _, o := range owed {
		item := owedItem(o, now)
		item.Href = fmt.Sprintf("/admin/forms/%d", o.Form.ID)
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
	s.render(w, r, http.StatusOK, templates.PersonPage(view))
}
