package web

import (
	"net/http"
	"strings"

	"signoff/internal/consent"
	"signoff/internal/i18n"
	"signoff/templates"
	"signoff/templates/components"
)

// familyChild shows one of the parent's children and their forms; any
// other child is not found.
func (s *Server) familyChild(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	id, err := idParam(r, "pupilID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	parent, err := s.parentOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	link, err := s.people.ChildOf(r.Context(), v.school.ID, parent.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	all, err := s.consent.ForParent(r.Context(), v.school.ID, parent.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var forms []consent.ChildForm
	for _, c := range all {
		if c.Link.Person.ID == id {
			forms = c.Forms
		}
	}
	c := link.Person
	l, lang, _ := s.familyLayout(w, r, func(i18n.Lang) string { return c.DisplayName() })
	s.render(w, r, http.StatusOK, templates.ChildPage(templates.ChildView{
		Layout: l,
		Name:   c.DisplayName(),
		Back:   lang.T("Your children"),
		Summary: []components.SummaryRow{
			{Key: lang.T("Class"), Value: orDash(classLabelIn(lang, c))},
			{Key: lang.T("You are their"), Value: orDash(lowerFirst(link.Relationship))},
		},
		Note:  lang.T("There are no forms for %s at the moment.", c.GivenName),
		Forms: formItems(lang, c.ID, forms),
	}))
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
