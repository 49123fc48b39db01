package web

import (
	"fmt"
	"net/http"

	"signoff/internal/tracking"
	"signoff/templates"
)

// trackTrust is every school of the trust side by side, for trust admins.
func (s *Server) trackTrust(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	// The figures are a few rows per form (tracking.Forms); the page is
	// kept by the page cache only while no commit has come since its
	// reads (pagecache.go), so a trust never sees stale figures.
	trust, schools, forms, err := s.tracking.Trust(r.Context(), v.school.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if trust == "" {
		trust = v.school.Name
	}
	view := templates.TrackTrustView{Layout: s.trackLayout(r, "Schools compared"), Trust: trust}
	// Each school's staff and parents apart, as on its own dashboard.
	bySchool := map[int64][]tracking.FormFigures{}
	for _, f := range forms {
		bySchool[f.SchoolID] = append(bySchool[f.SchoolID], f)
	}
	for _, sc := range schools {
		staff, parents := tracking.Headlines(bySchool[sc.SchoolID])
		row := templates.TrustSchoolRow{Name: sc.Name, Forms: sc.Forms, FormsDone: sc.FormsDone,
			Staff: headlineView(staff), Parents: headlineView(parents), Lowest: "—"}
		if sc.Lowest != "" {
			row.Lowest = fmt.Sprintf("%s (%d%%)", sc.Lowest, sc.LowestPct)
		}
		view.Schools = append(view.Schools, row)
	}
	for _, f := range forms {
		view.Forms = append(view.Forms, trackFormRow(f, ""))
	}
	s.render(w, r, http.StatusOK, templates.TrackTrustPage(view))
}
