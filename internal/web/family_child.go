package web

import (
	"net/http"
	"slices"
	"strings"

	"signoff/internal/apperr"
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
	parentID, err := parentIDOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The family's one batch has the parent's current children with
	// their forms: any other pupil is not found (people.ChildOf's rule).
	all, err := s.consent.ForParent(r.Context(), v.school.ID, parentID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	i := slices.IndexFunc(all, func(c consent.ChildForms) bool { return c.Link.Person.ID == id })
	if i < 0 {
		s.fail(w, r, apperr.New(apperr.NotFound, "Page not found"))
		return
	}
	link, forms := all[i].Link, all[i].Forms
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
