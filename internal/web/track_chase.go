package web

import (
	"fmt"
	"net/http"

	"signoff/internal/people"
	"signoff/internal/schooltime"
	"signoff/internal/tracking"
	"signoff/templates"
)

// trackChase is the printable list of who still has to sign.
func (s *Server) trackChase(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	f, err := s.trackedForm(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st, formID := s.tracking, f.FormID
	group := r.URL.Query().Get("group")
	if (!f.ForParents && !people.StaffRole(group).Valid()) || len(group) > 100 {
		group = ""
	}
	rows, _, err := st.List(r.Context(), tracking.ListQuery{SchoolID: v.school.ID, FormID: formID, Group: group, Sort: "group", PerPage: -1})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view := templates.TrackChaseView{Layout: s.trackLayout(r, "Still to sign: "+f.Title), School: v.school.Name, Title: f.Title,
		Version: fmt.Sprintf("Version %d", f.VersionNumber), Produced: schooltime.DateTime(s.db.Now()), BackHref: fmt.Sprintf("/admin/tracking/forms/%d", formID),
		ForParents: f.ForParents}
	if f.DueOn != nil {
		view.Due = "Please sign by " + f.DueOn.Format("2 January 2006") + "."
	}
	for _, row := range rows {
		tr := trackRow(row)
		tr.Name = row.Person.FullName()
		view.Rows = append(view.Rows, tr)
	}
	s.render(w, r, http.StatusOK, templates.TrackChasePage(view))
}
