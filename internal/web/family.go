package web

import (
	"fmt"
	"net/http"
	"strings"

	"signoff/internal/apperr"
	"signoff/internal/people"
	"signoff/templates"
)

func classLabel(p people.Person) string {
	out := ""
	if p.YearGroup != nil {
		out = p.YearGroup.Label()
	}
	if p.RegClass != "" {
		if out != "" {
			out += ", "
		}
		out += "class " + p.RegClass
	}
	return out
}

// familyHome lists a parent's children.
func (s *Server) familyHome(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	if v.account.ParentID == 0 {
		s.fail(w, r, apperr.New(apperr.NotFound, "Page not found"))
		return
	}
	parent, err := s.people.Get(r.Context(), v.school.ID, v.account.ParentID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	children, err := s.people.ChildrenOf(r.Context(), v.school.ID, parent.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view := templates.FamilyView{Layout: s.layout(r, "Your children"), Greeting: "Hello, " + parent.GivenName}
	for _, c := range children {
		view.Children = append(view.Children, templates.ChildItem{
			Name:  c.Person.DisplayName(),
			Href:  fmt.Sprintf("/family/children/%d", c.Person.ID),
			Class: classLabel(c.Person),
			Note:  "Nothing to complete at the moment.",
		})
	}
	s.render(w, r, http.StatusOK, templates.FamilyPage(view))
}

// familyChild shows one of the parent's children; any other child is not
// found.
func (s *Server) familyChild(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	id, err := idParam(r, "pupilID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if v.account.ParentID == 0 {
		s.fail(w, r, apperr.New(apperr.NotFound, "Page not found"))
		return
	}
	link, err := s.people.ChildOf(r.Context(), v.school.ID, v.account.ParentID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c := link.Person
	s.render(w, r, http.StatusOK, templates.ChildPage(templates.ChildView{
		Layout: s.layout(r, c.DisplayName()),
		Name:   c.DisplayName(),
		Summary: []templates.SummaryRow{
			{Key: "Class", Value: orDash(classLabel(c))},
			{Key: "You are their", Value: orDash(lowerFirst(link.Relationship))},
		},
		Note: "There are no forms for " + c.GivenName + " at the moment.",
	}))
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
