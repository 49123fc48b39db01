package web

import (
	"fmt"
	"net/http"

	"signoff/internal/apperr"
	"signoff/internal/consent"
	"signoff/internal/i18n"
	"signoff/internal/people"
	"signoff/templates"
	"signoff/templates/components"
)

// The parents' pages, reached with a family link: their children and the
// forms for each (here), a child (family_child.go), a form for a child
// (family_form.go), one change of an answer (family_change.go) and a
// record with its copy and receipt (family_records.go).

// familyLayout is the layout in the parent's language, with the choice
// of languages linking to the same page.
func (s *Server) familyLayout(w http.ResponseWriter, r *http.Request, title func(i18n.Lang) string) (components.LayoutProps, i18n.Lang, []components.LanguageChoice) {
	lang := i18n.FromRequest(w, r, s.secure)
	l := s.layout(r, title(lang))
	l.Lang, l.Dir = lang.Code, lang.Dir()
	l.SkipLink, l.SignOut = lang.T("Skip to main content"), lang.T("Sign out")
	l.Footer = lang.T("Signoff · forms for %s", l.SiteName)
	l.VerifyText = lang.T("Check a signed copy")
	for i := range l.Nav {
		l.Nav[i].Label = lang.T(l.Nav[i].Label)
	}
	var choices []components.LanguageChoice
	for _, other := range i18n.Languages {
		q := r.URL.Query()
		q.Set("lang", other.Code)
		choices = append(choices, components.LanguageChoice{Code: other.Code, Name: other.Name, Current: other.Code == lang.Code,
			Href: r.URL.Path + "?" + q.Encode()})
	}
	return l, lang, choices
}

// parentOf returns the signed-in parent's own record.
func (s *Server) parentOf(r *http.Request) (people.Person, error) {
	id, err := parentIDOf(r)
	if err != nil {
		return people.Person{}, err
	}
	return s.people.Get(r.Context(), viewerOf(r).school.ID, id)
}

// parentIDOf is the signed-in parent's person ID; an account that is no
// parent finds no page.
func parentIDOf(r *http.Request) (int64, error) {
	if id := viewerOf(r).account.ParentID; id != 0 {
		return id, nil
	}
	return 0, apperr.New(apperr.NotFound, "Page not found")
}

func formItems(lang i18n.Lang, pupilID int64, cfs []consent.ChildForm) []templates.FamilyFormItem {
	var out []templates.FamilyFormItem
	for _, cf := range cfs {
		it := templates.FamilyFormItem{Title: cf.Form.Title, Href: fmt.Sprintf("/family/children/%d/forms/%d", pupilID, cf.Form.ID)}
		switch {
		case cf.Owed:
			it.Status, it.Action = lang.T("To complete"), lang.T("Complete the form")
		case cf.Mine != nil:
			it.Status, it.Done = lang.T("Completed by you on %s", lang.Date(cf.Mine.SignedAt)), true
			it.Action = lang.T("View or change your answers")
		case len(cf.Others) > 0:
			it.Status, it.Done = lang.T("Completed by %s on %s", cf.Others[0].PersonName, lang.Date(cf.Others[0].SignedAt)), true
			it.Action = lang.T("View the answers")
		case !cf.CanSign:
			it.Status, it.Action = lang.T("Completed by a parent with parental responsibility"), lang.T("View")
		}
		out = append(out, it)
	}
	return out
}

// familyHome lists a parent's children with the forms for each.
func (s *Server) familyHome(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	id, err := parentIDOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	parent, children, err := s.consent.Family(r.Context(), v.school.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	l, lang, langs := s.familyLayout(w, r, func(l i18n.Lang) string { return l.T("Your children") })
	view := templates.FamilyView{Layout: l, Languages: langs, Greeting: lang.T("Hello, %s", parent.GivenName),
		Intro: lang.T("Here are the forms the school is asking you to complete for each of your children."),
		Text: templates.FamilyText{Language: lang.T("Language"), NoChildren: lang.T("The school has no children linked to you at the moment. If this is wrong, please contact the school office."),
			NothingToDo: lang.T("Nothing to complete at the moment.")},
		RecordsTitle: lang.T("Your records"),
		RecordsLink:  lang.T("Download everything the school holds about you and the forms you completed for your children (ZIP)")}
	for _, c := range children {
		view.Children = append(view.Children, templates.ChildItem{
			ID:    fmt.Sprintf("child-%d", c.Link.Person.ID),
			Name:  c.Link.Person.DisplayName(),
			Href:  fmt.Sprintf("/family/children/%d", c.Link.Person.ID),
			Class: classLabelIn(lang, c.Link.Person),
			Forms: formItems(lang, c.Link.Person.ID, c.Forms),
		})
	}
	s.render(w, r, http.StatusOK, templates.FamilyPage(view))
}
