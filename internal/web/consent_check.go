package web

import (
	"net/http"
	"strings"

	"signoff/internal/consent"
	"signoff/internal/people"
	"signoff/templates"
)

// quickCheck finds a child by name and shows what is allowed now.
func (s *Server) quickCheck(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	view := templates.QuickCheckView{Layout: s.layout(r, "Check a child"), Query: q, TooShort: q != "" && len([]rune(q)) < 2}
	if len([]rune(q)) >= 2 {
		view.Searched = true
		pupils, err := s.people.ListPupils(r.Context(), v.school.ID, people.PupilFilter{Search: q})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if len(pupils) > 30 {
			pupils = pupils[:30]
		}
		consents, err := s.consent.ConsentsOf(r.Context(), v.school.ID, pupils)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, p := range pupils {
			res := templates.QuickCheckResult{Name: p.DisplayName(), Class: classLabel(p)}
			for _, pc := range consents[p.ID] {
				if hasPhoto(pc.Items) {
					res.NoPhotos = res.NoPhotos || pc.State.NoPhotos(pc.Items)
				}
				for _, it := range pc.Items {
					if it.Kind == consent.ConsentItem {
						res.Lines = append(res.Lines, pc.Form.Title+": "+it.Label+": "+strings.ToLower(cell(pc.State.Items[it.ID], false).Text))
					}
				}
			}
			view.Results = append(view.Results, res)
		}
	}
	s.render(w, r, http.StatusOK, templates.QuickCheckPage(view))
}
