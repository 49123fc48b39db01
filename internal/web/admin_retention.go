package web

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"signoff/internal/apperr"
	"signoff/internal/retention"
	"signoff/internal/schooltime"
	"signoff/templates"
	"signoff/templates/components"
)

// retentionPage is the school's retention schedule, a preview of the
// next run (today, or ?at-day=&at-month=&at-year=), the reports of past
// runs and the legal holds.
func (s *Server) retentionPage(w http.ResponseWriter, r *http.Request) {
	notice := ""
	switch r.URL.Query().Get("done") {
	case "saved":
		notice = "Retention schedule saved"
	case "run":
		notice = "The records due have been erased or removed; the report is below"
	}
	s.renderRetention(w, r, nil, nil, notice)
}

func (s *Server) renderRetention(w http.ResponseWriter, r *http.Request, typed map[retention.Kind]string, formErr error, notice string) {
	v := viewerOf(r)
	st := s.retention
	periods, err := st.Schedule(r.Context(), v.school.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view := templates.RetentionView{Layout: s.layout(r, "Retention"), Errors: viewErrors(formErr), Notice: notice}
	for _, p := range periods {
		months := strconv.Itoa(p.Months)
		if typed != nil {
			months = typed[p.Kind]
		}
		view.Rows = append(view.Rows, templates.RetentionRow{Kind: string(p.Kind), Label: p.Label, Trigger: p.Trigger, Action: p.Action,
			Source: p.Source, Months: months, Default: retention.Months(p.DefaultMonths), Describe: p.Describe(),
			Error: view.Errors.Get(string(p.Kind))})
	}

	// The preview: today unless a valid date is asked for.
	now := s.db.Now()
	at := now
	q := r.URL.Query()
	view.PreviewAt = components.DateProps{ID: "at", Name: "at", Legend: "Preview the run on another day", Hint: "For example, 1 9 2027",
		Day: q.Get("at-day"), Month: q.Get("at-month"), Year: q.Get("at-year")}
	if view.PreviewAt.Day != "" || view.PreviewAt.Month != "" || view.PreviewAt.Year != "" {
		if d, msg := parseDate(view.PreviewAt.Day, view.PreviewAt.Month, view.PreviewAt.Year, "The preview date"); d != nil && msg == "" {
			// The end of that day in London.
			at = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, schooltime.London).Add(24*time.Hour - time.Second)
		} else {
			view.PreviewAt.Error = "Enter a real date, like 1 9 2027"
			view.Errors = append(view.Errors, components.FieldError{Field: "at", Message: view.PreviewAt.Error})
		}
	}
	view.IsToday = schooltime.Date(at) == schooltime.Date(now)
	if view.IsToday {
		at = now
	}
	view.PreviewDate = schooltime.Date(at)
	plan, err := st.Preview(r.Context(), v.school.ID, at)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view.PreviewAll, view.Held = plan.Total(), plan.Held
	view.Preview = counts(plan.Counts, plan.Items)

	reports, err := st.Reports(r.Context(), v.school.ID, 20)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, rep := range reports {
		tot := 0
		for _, n := range rep.Counts {
			tot += n
		}
		view.Reports = append(view.Reports, templates.RetentionReport{When: schooltime.DateTime(rep.RanAt), By: rep.By, Total: tot, Counts: counts(rep.Counts, nil)})
	}
	holds, err := st.Holds(r.Context(), v.school.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, h := range holds {
		p, err := s.people.Get(r.Context(), v.school.ID, h.PersonID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		view.Holds = append(view.Holds, templates.RetentionHold{Name: h.PersonName, Href: personPath(p), Reason: h.Reason, Since: schooltime.Date(h.PlacedAt)})
	}
	status := http.StatusOK
	if len(view.Errors) > 0 {
		view.Layout.HasErrors = true
		if formErr != nil {
			status = http.StatusUnprocessableEntity
		}
	}
	s.render(w, r, status, templates.RetentionPage(view))
}

// counts lists a plan's or report's counts in the schedule's order.
func counts(c map[retention.Kind]int, items map[retention.Kind][]retention.Item) []templates.RetentionCount {
	var out []templates.RetentionCount
	for _, rule := range retention.Rules {
		n := c[rule.Kind]
		if n == 0 {
			continue
		}
		rc := templates.RetentionCount{Label: rule.Label, Count: n}
		for _, it := range items[rule.Kind] {
			rc.Items = append(rc.Items, it.Label)
		}
		if len(items[rule.Kind]) > 0 && len(rc.Items) < n && rule.Kind != retention.Audit && rule.Kind != retention.SignIns {
			rc.More = n - len(rc.Items)
		}
		out = append(out, rc)
	}
	return out
}

// retentionSave saves the school's schedule.
func (s *Server) retentionSave(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	typed := map[retention.Kind]string{}
	for _, rule := range retention.Rules {
		typed[rule.Kind] = r.PostFormValue(string(rule.Kind))
	}
	if err := s.retention.SaveSchedule(r.Context(), v.school.ID, v.account.Actor(clientIP(r)), typed); err != nil {
		if apperr.CodeOf(err) == apperr.Invalid {
			s.renderRetention(w, r, typed, err, "")
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/retention?done=saved", http.StatusSeeOther)
}

// retentionRun erases and removes what is due today, now.
func (s *Server) retentionRun(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	if _, err := s.retention.Apply(r.Context(), v.school.ID, s.db.Now(), retention.FromOffice, v.account.Actor(clientIP(r))); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/retention?done=%s", "run"), http.StatusSeeOther)
}
