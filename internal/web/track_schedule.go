package web

import (
	"net/http"
	"strconv"
	"strings"

	"signoff/internal/apperr"
	"signoff/internal/tracking"
	"signoff/templates"
	"signoff/templates/components"
)

func scheduleLabel(sc tracking.Schedule) string {
	if !sc.Enabled {
		return "off"
	}
	days := make([]string, len(sc.DaysAfter))
	for i, d := range sc.DaysAfter {
		days[i] = strconv.Itoa(d)
	}
	out := strings.Join(days, ", ") + " days after publication"
	if sc.ThenWeekly {
		out += ", then weekly until the due date"
	}
	return out
}

// trackSchedule shows the school's automatic reminder settings.
func (s *Server) trackSchedule(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	sc, err := s.tracking.Schedule(r.Context(), v.school.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view := scheduleView(s.trackLayout(r, "Automatic reminders"), sc)
	if r.URL.Query().Get("saved") != "" {
		view.Notice = "Automatic reminders saved: " + scheduleLabel(sc)
	}
	s.render(w, r, http.StatusOK, templates.TrackSchedulePage(view))
}

func scheduleView(l components.LayoutProps, sc tracking.Schedule) templates.TrackScheduleView {
	days := make([]string, len(sc.DaysAfter))
	for i, d := range sc.DaysAfter {
		days[i] = strconv.Itoa(d)
	}
	return templates.TrackScheduleView{Layout: l, Enabled: sc.Enabled, DaysAfter: strings.Join(days, ", "), ThenWeekly: sc.ThenWeekly, WeeksMax: strconv.Itoa(sc.WeeksMax)}
}

// trackScheduleSave saves the automatic reminder settings.
func (s *Server) trackScheduleSave(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, apperr.New(apperr.Invalid, "The form could not be read"))
		return
	}
	f := r.PostForm
	sc := tracking.Schedule{Enabled: f.Get("enabled") == "yes", ThenWeekly: f.Get("then_weekly") == "yes"}
	var errs components.Errors
	for _, part := range strings.FieldsFunc(f.Get("days_after"), func(r rune) bool { return r == ',' || r == ' ' || r == ';' }) {
		d, err := strconv.Atoi(part)
		if err != nil {
			errs = append(errs, components.FieldError{Field: "days_after", Message: "Enter days after publication as whole numbers, for example 7, 14"})
			break
		}
		sc.DaysAfter = append(sc.DaysAfter, d)
	}
	weeks, err := strconv.Atoi(strings.TrimSpace(f.Get("weeks_max")))
	if err != nil {
		errs = append(errs, components.FieldError{Field: "weeks_max", Message: "Enter a number of weeks from 0 to 52"})
	}
	sc.WeeksMax = weeks
	if errs == nil {
		err = s.tracking.SetSchedule(r.Context(), v.school.ID, sc, v.account.Actor(clientIP(r)))
		if err == nil {
			http.Redirect(w, r, "/admin/tracking/schedule?saved=1", http.StatusSeeOther)
			return
		}
		if apperr.CodeOf(err) != apperr.Invalid {
			s.fail(w, r, err)
			return
		}
		errs = viewErrors(err)
	}
	view := templates.TrackScheduleView{Layout: s.trackLayout(r, "Automatic reminders"), Errors: errs, Enabled: sc.Enabled,
		DaysAfter: f.Get("days_after"), ThenWeekly: sc.ThenWeekly, WeeksMax: f.Get("weeks_max")}
	view.Layout.HasErrors = true
	s.render(w, r, http.StatusUnprocessableEntity, templates.TrackSchedulePage(view))
}
