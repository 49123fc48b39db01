package web

import (
	"fmt"
	"net/http"

	"signoff/internal/signing"
	"signoff/templates"
)

// adminForms is the office's overview: every form with how many have signed.
func (s *Server) adminForms(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	stats, err := s.signing.Stats(r.Context(), v.school.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view := templates.AdminFormsView{Layout: s.layout(r, "Who has signed")}
	for _, st := range stats {
		view.Forms = append(view.Forms, formRow(st))
	}
	s.render(w, r, http.StatusOK, templates.AdminFormsPage(view))
}

func formRow(st signing.FormStats) templates.FormRow {
	row := templates.FormRow{
		Title:       st.Form.Title,
		Href:        fmt.Sprintf("/admin/forms/%d", st.Form.ID),
		Version:     fmt.Sprintf("Version %d", st.VersionNumber),
		Audience:    audienceLabel(st.Form.AudienceRoles),
		Signed:      st.Signed,
		Total:       st.Audience,
		Outstanding: st.Outstanding(),
		Percent:     st.Percent(),
	}
	if st.Form.DueOn != nil {
		row.Due = "Due " + st.Form.DueOn.Format("2 January 2006")
	}
	return row
}
