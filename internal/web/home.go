package web

import (
	"fmt"
	"net/http"
	"time"

	"signoff/internal/auth"
	"signoff/internal/schooltime"
	"signoff/internal/signing"
	"signoff/templates"
)

// home is a member of staff's documents: what to sign, what is signed.
// An admin who is not staff goes to the office overview.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	if !v.account.Has(auth.Staff) {
		switch {
		case v.account.Has(auth.Admin):
			http.Redirect(w, r, "/admin/tracking", http.StatusSeeOther)
			return
		case v.account.Has(auth.Parent):
			http.Redirect(w, r, "/family", http.StatusSeeOther)
			return
		case v.account.Has(auth.TrustAdmin):
			http.Redirect(w, r, "/trust", http.StatusSeeOther)
			return
		case v.account.Has(auth.Governor) || v.account.Has(auth.Head):
			http.Redirect(w, r, "/policies", http.StatusSeeOther)
			return
		}
		s.renderError(w, r, http.StatusOK, "Nothing to show yet", "There is nothing for your account here yet.")
		return
	}
	view := templates.MyFormsView{Layout: s.layout(r, "Your documents"), Greeting: "Your documents"}
	if v.account.PersonID == 0 {
		view.NotLinked = true
		s.render(w, r, http.StatusOK, templates.MyFormsPage(view))
		return
	}
	docs, err := s.signing.DocumentsOf(r.Context(), v.school.ID, v.account.PersonID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view.Greeting = "Hello, " + docs.Person.GivenName
	now := s.db.Now()
	for _, o := range docs.Owed {
		view.Owed = append(view.Owed, owedItem(o, now))
	}
	for _, sig := range docs.Signed {
		view.Signed = append(view.Signed, signedItem(sig))
	}
	s.render(w, r, http.StatusOK, templates.MyFormsPage(view))
}

func owedItem(o signing.Owed, now time.Time) templates.OwedItem {
	it := templates.OwedItem{
		Title:   o.Form.Title,
		Href:    fmt.Sprintf("/forms/%d", o.Form.ID),
		Version: versionLabel(o.VersionNumber, &o.PublishedAt),
	}
	switch o.Why {
	case "new_version":
		it.Why = "A new version has been published: please read it and sign again."
	case "new_year":
		it.Why = "Signed every academic year: please sign again for " + schooltime.AcademicYearLabel(schooltime.AcademicYear(now)) + "."
	}
	it.Due, it.Overdue = dueLabel(o.Form.DueOn, now)
	return it
}

func signedItem(sig signing.Signature) templates.SignedItem {
	return templates.SignedItem{
		Title:    sig.FormTitle,
		Version:  fmt.Sprintf("Version %d", sig.VersionNumber),
		SignedAt: schooltime.DateTime(sig.SignedAt),
		Href:     "/signatures/" + sig.Reference,
		PDFHref:  "/signatures/" + sig.Reference + "/copy.pdf",
	}
}
