package web

import (
	"net/http"

	"signoff/internal/auth"
	"signoff/templates"
)

// menuRoutes are the pages the office's grouped menu opens: People, and
// More (the less frequent jobs).
func (s *Server) menuRoutes() []route {
	return []route{
		{"GET", "/admin/people", admin, s.adminPeople},
		{"GET", "/admin/more", admin, s.adminMore},
	}
}

// adminPeople is the office's way to staff, pupils and parents.
func (s *Server) adminPeople(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, templates.MenuPage(templates.MenuPageView{Layout: s.layout(r, "People"), Heading: "People",
		Intro: "Everyone the school holds, from its MIS.",
		Groups: []templates.MenuGroup{{Heading: "Who the school holds", Links: []templates.MenuLink{
			{Label: "Staff", Href: "/admin/staff", About: "Staff, governors, volunteers and contractors: roles, sign-in, invitations and what each has signed."},
			{Label: "Pupils and their parents", Href: "/admin/pupils", About: "Each pupil's class and consents, their parents and carers, and family links."},
			{Label: "Import from your MIS", Href: "/admin/import", About: "Upload staff, pupils and contacts exports; see who changes before anything is saved."},
		}}}}))
}

// adminMore lists the office's less frequent jobs, and the staff pages an
// administrator also has.
func (s *Server) adminMore(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	office := templates.MenuGroup{Heading: "The office", Links: []templates.MenuLink{
		{Label: "Import from your MIS", Href: "/admin/import", About: "Staff, pupils and contacts, checked before anything changes."},
		{Label: "Outbox", Href: "/admin/outbox", About: "Every email Signoff has sent or is about to send."},
		{Label: "Audit log", Href: "/admin/audit", About: "Everything anyone has changed, in order."},
		{Label: "Retention", Href: "/admin/retention", About: "How long records are kept, and legal holds."},
		{Label: "Settings", Href: "/admin/school", About: "The school's name, colour, logo, emails and privacy notice."},
		{Label: "Single sign-on", Href: "/admin/sso", About: "Staff sign in with their Microsoft 365 or Google Workspace account; who must."},
	}}
	if v.account.Has(auth.TrustAdmin) {
		office.Links = append(office.Links, templates.MenuLink{Label: "Schools compared", Href: "/trust", About: "Every school of the trust side by side."},
			templates.MenuLink{Label: "The trust's schools", Href: "/trust/schools", About: "The schools of the trust, and adding one."},
			templates.MenuLink{Label: "Trust administrators", Href: "/trust/admins", About: "Who administers the trust."})
	}
	groups := []templates.MenuGroup{office}
	if v.account.Has(auth.Staff) {
		mine := templates.MenuGroup{Heading: "As a member of staff", Links: []templates.MenuLink{
			{Label: "Your documents", Href: "/", About: "What you have to read and sign yourself."},
		}}
		if s.isClassroomStaff(r) {
			mine.Links = append(mine.Links,
				templates.MenuLink{Label: "Class lists", Href: "/classes/photos", About: "Which children may be photographed, class by class."},
				templates.MenuLink{Label: "Check a child", Href: "/check", About: "What one child's parents allow, now."},
				templates.MenuLink{Label: "Class mode", Href: "/class-mode", About: "Children sign their part of the home-school agreement in class."})
		}
		groups = append(groups, mine)
	}
	groups = append(groups, templates.MenuGroup{Heading: "You", Links: []templates.MenuLink{{Label: "Your account", Href: "/account", About: "Your password and how you sign in."}}})
	s.render(w, r, http.StatusOK, templates.MenuPage(templates.MenuPageView{Layout: s.layout(r, "More"), Heading: "More", Groups: groups}))
}
