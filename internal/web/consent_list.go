package web

import (
	"fmt"
	"net/http"
	"strings"

	"signoff/internal/schooltime"
	"signoff/internal/signing"
	"signoff/templates"
)

func formAudience(f signing.Form) string {
	var parts []string
	for _, y := range f.YearGroups {
		parts = append(parts, y.Label())
	}
	if len(parts) == 0 {
		parts = []string{"every year group"}
	}
	out := "Pupils in " + strings.Join(parts, ", ")
	if len(f.Classes) > 0 {
		out += " (classes " + strings.Join(f.Classes, ", ") + ")"
	}
	return out
}

func kindLabelForm(f signing.Form) string {
	if f.Kind == signing.Agreement {
		return "Home-school agreement"
	}
	return "Consent form"
}

// consentList lists the open parents' forms: what each asks and of whom.
// Their figures are on the compliance dashboard.
func (s *Server) consentList(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	forms, err := s.consent.Forms(r.Context(), v.school.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view := templates.ParentFormsView{Layout: s.layout(r, "Parents' forms")}
	if r.URL.Query().Get("closed") != "" {
		view.Notice = "The form is closed. Its answers stay on record"
	}
	for _, f := range forms {
		view.Rows = append(view.Rows, templates.ParentFormRow{Title: f.Title, Href: fmt.Sprintf("/admin/consents/%d", f.ID), Kind: kindLabelForm(f),
			Audience: formAudience(f), Renewal: f.Renewal.Label(), Published: schooltime.Date(f.CreatedAt),
			FiguresHref: fmt.Sprintf("/admin/tracking/forms/%d", f.ID)})
	}
	s.render(w, r, http.StatusOK, templates.ParentFormsPage(view))
}
