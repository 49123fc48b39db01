package web

import (
	"fmt"
	"net/http"

	"signoff/internal/schooltime"
	"signoff/internal/tracking"
	"signoff/templates"
	"signoff/templates/components"
	"signoff/web/static"
)

// trackLayout is the page frame with the tracking stylesheet.
func (s *Server) trackLayout(r *http.Request, title string) components.LayoutProps {
	l := s.layout(r, title)
	l.CSS = append(l.CSS, static.Path("tracking.css"))
	return l
}

func trackFormRow(f tracking.FormFigures, href string) components.TrackFormRow {
	row := components.TrackFormRow{Title: f.Title, Href: href, School: f.SchoolName, Version: fmt.Sprintf("Version %d", f.VersionNumber),
		Signed: f.Signed, Total: f.Audience, Outstanding: f.Outstanding(), Withdrawn: f.Withdrawn, Percent: f.Percent(), LastReminder: "None sent"}
	if f.DueOn != nil {
		row.Due = "due " + f.DueOn.Format("2 January 2006")
	}
	if f.LastReminder != nil {
		row.LastReminder = schooltime.Date(*f.LastReminder)
	}
	return row
}

// trackSchool is the school's compliance dashboard: every open form.
func (s *Server) trackSchool(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	st := s.tracking
	forms, err := st.Forms(r.Context(), []int64{v.school.ID})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sched, err := st.Schedule(r.Context(), v.school.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view := templates.TrackSchoolView{Layout: s.trackLayout(r, "Compliance dashboard"), ReportHref: "/admin/tracking/report.pdf", Schedule: scheduleLabel(sched)}
	for _, f := range forms {
		row := trackFormRow(f, fmt.Sprintf("/admin/tracking/forms/%d", f.FormID))
		if f.ForParents {
			view.ParentForms = append(view.ParentForms, row)
		} else {
			view.Forms = append(view.Forms, row)
		}
	}
	// Staff policies and parents' forms apart: never one percentage.
	staff, parents := tracking.Headlines(forms)
	for _, h := range []tracking.Headline{staff, parents} {
		if h.Forms > 0 {
			view.Headlines = append(view.Headlines, headlineView(h))
		}
	}
	list, err := s.onboarding.Checklist(r.Context(), v.school.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !list.Done() {
		gl := &templates.GoingLiveView{Done: list.DoneCount()}
		for _, st := range list.Steps {
			gl.Steps = append(gl.Steps, templates.GoingLiveStep{Title: st.Title, Hint: st.Hint, Href: st.Href, Done: st.Done})
		}
		view.GoingLive = gl
	}
	s.render(w, r, http.StatusOK, templates.TrackSchoolPage(view))
}

// headlineView is one kind of form's headline figures.
func headlineView(h tracking.Headline) templates.TrackHeadline {
	out := templates.TrackHeadline{Label: "Staff policies and agreements", Unit: "signatures", Forms: h.Forms, Signed: h.Signed, Total: h.Audience,
		Withdrawn: h.Withdrawn, Outstanding: h.Outstanding(), Percent: h.Percent()}
	if h.ForParents {
		out.Label, out.Unit = "Parents' forms", "children's forms returned"
	}
	return out
}
