package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"signoff/internal/apperr"
	"signoff/internal/people"
	"signoff/internal/schooltime"
	"signoff/templates"
	"signoff/templates/components"
)

// pupilsPerPage is how many pupils one page of the list shows.
const pupilsPerPage = 100

// pupilList lists pupils, filtered by class or a name.
func (s *Server) pupilList(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	q := r.URL.Query()
	f := people.PupilFilter{Search: q.Get("q"), RegClass: q.Get("class")}
	list, err := s.people.ListPupils(r.Context(), v.school.ID, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	classes, err := s.people.Classes(r.Context(), v.school.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// One page at a time: a secondary school has well over a thousand pupils.
	page := pageParam(q.Get("page"))
	view := templates.PupilListView{Layout: s.layout(r, "Pupils"), Search: f.Search, Total: len(list)}
	pageLink := func(n int) string {
		qs := url.Values{"page": {strconv.Itoa(n)}}
		if f.Search != "" {
			qs.Set("q", f.Search)
		}
		if f.RegClass != "" {
			qs.Set("class", f.RegClass)
		}
		return "/admin/pupils?" + qs.Encode()
	}
	from := (page - 1) * pupilsPerPage
	if from >= len(list) {
		from = 0
		page = 1
	}
	to := min(from+pupilsPerPage, len(list))
	if len(list) > pupilsPerPage {
		view.Showing = fmt.Sprintf("(showing %d to %d)", from+1, to)
	}
	if page > 1 {
		view.PrevHref = pageLink(page - 1)
	}
	if to < len(list) {
		view.NextHref = pageLink(page + 1)
	}
	list = list[from:to]
	for _, c := range classes {
		view.Classes = append(view.Classes, components.Option{Value: c.Name, Label: c.Name + " (" + c.YearGroup.Label() + ")", Checked: c.Name == f.RegClass})
	}
	for _, p := range list {
		row := templates.PupilRow{Name: p.FamilyName + ", " + p.FirstName(), Href: fmt.Sprintf("/admin/pupils/%d", p.ID), Class: p.RegClass, UPN: p.MISID}
		if p.YearGroup != nil {
			row.Year = p.YearGroup.Label()
		}
		view.Rows = append(view.Rows, row)
	}
	s.render(w, r, http.StatusOK, templates.PupilListPage(view))
}

// pupilShow shows a pupil and their parents and carers.
func (s *Server) pupilShow(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	p, err := s.personAt(r, "pupilID", people.Pupil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	guardians, err := s.people.GuardiansOf(r.Context(), v.school.ID, p.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view := templates.PupilView{Layout: s.layout(r, p.DisplayName()), Name: p.DisplayName(),
		Summary: []components.SummaryRow{
			{Key: "Legal name", Value: p.FullName()},
			{Key: "Class", Value: orDash(classLabel(p))},
			{Key: "UPN", Value: orDash(p.MISID), Mono: true},
		}}
	if p.DateOfBirth != nil {
		view.Summary = append(view.Summary, components.SummaryRow{Key: "Date of birth", Value: p.DateOfBirth.Format("2 January 2006")})
	}
	for _, g := range guardians {
		pr := "No"
		if g.ParentalResponsibility {
			pr = "Yes"
		}
		view.Guardians = append(view.Guardians, templates.GuardianRow{Name: g.Person.FullName(), Href: fmt.Sprintf("/admin/parents/%d", g.Person.ID),
			Relationship: g.Relationship, PR: pr, Email: orDash(g.Person.Email), Mobile: g.Person.Mobile})
	}
	if view.DataProtection, err = s.dataProtection(r, p); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, templates.PupilPage(view))
}

// parentShow shows a parent or carer with their children and family link.
func (s *Server) parentShow(w http.ResponseWriter, r *http.Request) {
	notice := ""
	switch r.URL.Query().Get("done") {
	case "emailed":
		notice = "A new family link has been emailed; the old one no longer works"
		if !s.mailOn {
			notice = "A new family link is waiting in the outbox (no mail server is set up); the old one no longer works"
		}
	case "revoked":
		notice = "The family link no longer works"
	}
	token := ""
	if r.URL.Query().Get("done") == "printed" {
		// The new link is held for this page for a few minutes after it
		// is made (post/redirect/get); the database keeps only its hash.
		var made printedLink
		if s.held(r, &made) {
			token = made.Token
			notice = "A new family link has been made; the old one no longer works"
		} else {
			notice = "The new family link is no longer shown: it is shown only for a few minutes after it is made. Make another to print it"
		}
	}
	s.parentPage(w, r, notice, token, nil)
}

// personAt is the pupil or parent (kind) whose id is the route's param, in
// the viewer's school.
func (s *Server) personAt(r *http.Request, param string, kind people.Kind) (people.Person, error) {
	id, err := idParam(r, param)
	if err != nil {
		return people.Person{}, err
	}
	return s.people.GetKind(r.Context(), viewerOf(r).school.ID, id, kind)
}

// printedLink is a family link just made, held for the parent's page.
type printedLink struct{ Token string }

func (s *Server) parentPage(w http.ResponseWriter, r *http.Request, notice, newToken string, actionErr error) {
	v := viewerOf(r)
	p, err := s.personAt(r, "parentID", people.Parent)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	children, err := s.people.ChildrenOf(r.Context(), v.school.ID, p.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	link, hasLink, err := s.accounts.CurrentFamilyLink(r.Context(), v.school.ID, p.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	base := fmt.Sprintf("/admin/parents/%d", p.ID)
	view := templates.ParentView{
		Layout: s.layout(r, p.FullName()),
		Name:   p.FullName(),
		Summary: []components.SummaryRow{
			{Key: "Email", Value: orDash(p.Email)},
			{Key: "Mobile", Value: orDash(p.Mobile)},
		},
		HasEmail:     p.Email != "",
		SendAction:   base + "/family-link/email",
		PrintAction:  base + "/family-link/print",
		RevokeAction: base + "/family-link/revoke",
		HasLink:      hasLink,
		Notice:       notice,
		LinkStatus:   "No family link yet. Make one to email or print.",
	}
	if actionErr != nil {
		view.Message = apperr.MessageOf(actionErr)
		view.Layout.HasErrors = true
	}
	if hasLink {
		view.LinkStatus = fmt.Sprintf("A family link made on %s works until %s.", schooltime.Date(link.CreatedAt), schooltime.Date(link.ExpiresAt))
		if link.LastUsed != nil {
			view.LinkStatus += " Last used " + schooltime.DateTime(*link.LastUsed) + "."
		} else {
			view.LinkStatus += " It has not been used yet."
		}
	}
	if newToken != "" {
		view.NewLink = s.link("/f/" + newToken)
		view.NewCode = newToken
	}
	for _, c := range children {
		pr := "no parental responsibility"
		if c.ParentalResponsibility {
			pr = "parental responsibility"
		}
		view.Children = append(view.Children, templates.ChildItem{Name: c.Person.DisplayName(), Href: fmt.Sprintf("/admin/pupils/%d", c.Person.ID),
			Class: classLabel(c.Person), Note: strings.TrimSpace(c.Relationship + ", " + pr)})
	}
	if view.DataProtection, err = s.dataProtection(r, p); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, formStatus(actionErr), templates.ParentPage(view))
}

// parentEmailLink makes a new family link and emails it.
func (s *Server) parentEmailLink(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	p, err := s.personAt(r, "parentID", people.Parent)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if p.Email == "" {
		s.parentPage(w, r, "", "", apperr.New(apperr.Invalid, "There is no email address for %s: make a link to print instead", p.FullName()))
		return
	}
	if _, err := s.accounts.IssueFamilyLink(r.Context(), v.school.ID, p.ID, v.account.Actor(clientIP(r)), s.deliverFamilyLink); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/parents/%d?done=emailed", p.ID), http.StatusSeeOther)
}

// parentPrintLink makes a new family link and shows it once, to print.
func (s *Server) parentPrintLink(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	id, err := idParam(r, "parentID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	link, err := s.accounts.IssueFamilyLink(r.Context(), v.school.ID, id, v.account.Actor(clientIP(r)), nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page := fmt.Sprintf("/admin/parents/%d", id)
	if err := s.hold(w, r, page, printedLink{Token: link.Token}); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, page+"?done=printed", http.StatusSeeOther)
}

// parentRevokeLink stops a parent's family link working.
func (s *Server) parentRevokeLink(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	id, err := idParam(r, "parentID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.accounts.RevokeFamilyLinks(r.Context(), v.school.ID, id, v.account.Actor(clientIP(r))); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/parents/%d?done=revoked", id), http.StatusSeeOther)
}
