package web

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"

	"signoff/internal/i18n"
	"signoff/internal/letters"
	"signoff/internal/people"
)

// noLettersNotice is the form's dashboard page after printing found no one to print for.
const noLettersNotice = "No letters to print: every family still to answer this form has an email address. Send them their family link from their page, or wait for them to answer"

// consentLetters prints a letter, with a new family link and its QR code,
// for each family without an email address whose children still owe the
// form (one class with ?class=). Making the letters replaces those
// families' earlier links.
func (s *Server) consentLetters(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	id, err := idParam(r, "formID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, _, children, err := s.consent.Consents(r.Context(), v.school.ID, id, r.URL.Query().Get("class"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	type family struct {
		parent people.Person
		pupils []people.Person
	}
	var order, waiting []int64
	for _, c := range children {
		if !c.Returned {
			waiting = append(waiting, c.Pupil.ID)
		}
	}
	guardians, err := s.people.GuardiansOfPupils(r.Context(), v.school.ID, waiting)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	families := map[int64]*family{}
	for _, c := range children {
		if c.Returned {
			continue
		}
		for _, g := range guardians[c.Pupil.ID] {
			if !g.ParentalResponsibility || g.Person.Email != "" {
				continue
			}
			fam, ok := families[g.Person.ID]
			if !ok {
				fam = &family{parent: g.Person}
				families[g.Person.ID] = fam
				order = append(order, g.Person.ID)
			}
			fam.pupils = append(fam.pupils, c.Pupil)
		}
	}
	page := fmt.Sprintf("/admin/consents/%d", f.ID)
	if len(order) == 0 {
		// Back to the form's dashboard, where the button is.
		http.Redirect(w, r, fmt.Sprintf("/admin/tracking/forms/%d?letters=none", f.ID), http.StatusSeeOther)
		return
	}
	logo, err := s.schools.LogoPNG(r.Context(), v.school.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Each letter is in the language its parent last answered a form in.
	langs, err := s.consent.Languages(r.Context(), v.school.ID, order)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	batch := letters.Batch{SchoolName: v.school.Name, SchoolLogo: logo, Date: s.db.Now()}
	for _, pid := range order {
		fam := families[pid]
		lang := i18n.ByCode(langs[pid])
		var kids []letters.Child
		for _, p := range fam.pupils {
			kids = append(kids, letters.Child{Name: p.DisplayName(), Class: classLabelIn(lang, p), Forms: []string{f.Title}})
		}
		link, err := s.accounts.IssueFamilyLink(r.Context(), v.school.ID, pid, v.account.Actor(clientIP(r)), nil)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		name := strings.TrimSpace(fam.parent.Title + " " + fam.parent.FullName())
		batch.Letters = append(batch.Letters, letters.Letter{ParentName: name, Children: kids, Link: s.link("/f/" + link.Token),
			Code: link.Token, CodeURL: s.link("/family/code"), ExpiresOn: link.ExpiresAt, Lang: lang})
	}
	var buf bytes.Buffer
	if err := letters.Write(&buf, batch); err != nil {
		s.fail(w, r, err)
		return
	}
	// The PDF is fetched by a GET (post/redirect/get): it is held, sealed,
	// for the office account that printed it.
	held, err := s.letters.Hold(r.Context(), v.school.ID, v.account.ID, "letters-"+slug(f.Title)+".pdf", buf.Bytes())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("%s/letters/%d.pdf", page, held), http.StatusSeeOther)
}

// consentLettersPDF sends a batch of letters just printed, to the account
// that printed it, for an hour.
func (s *Server) consentLettersPDF(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	id, err := idParam(r, "batchID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	name, data, err := s.letters.Get(r.Context(), v.school.ID, v.account.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sendPDF(w, name, data)
}
