package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"signoff/internal/apperr"
	"signoff/internal/people"
	"signoff/internal/schooltime"
	"signoff/internal/tracking"
	"signoff/templates"
	"signoff/web/static"
)

// trackLayout is the page frame with the tracking stylesheet.
func (s *Server) trackLayout(r *http.Request, title string) templates.LayoutProps {
	l := s.layout(r, title)
	l.CSS = append(l.CSS, static.Path("tracking.css"))
	return l
}

func trackFormRow(f tracking.FormFigures, href string) templates.TrackFormRow {
	row := templates.TrackFormRow{Title: f.Title, Href: href, School: f.SchoolName, Version: fmt.Sprintf("Version %d", f.VersionNumber),
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
	forms, err := st.Forms(r.Context(), []int64{v.school.ID}, 0)
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
	// Staff policies and parents' forms apart: their figures never add up
	// into one percentage.
	staff := templates.TrackHeadline{Label: "Staff policies and agreements", Unit: "signatures"}
	parents := templates.TrackHeadline{Label: "Parents' forms", Unit: "children's forms returned"}
	for _, f := range forms {
		row := trackFormRow(f, fmt.Sprintf("/admin/tracking/forms/%d", f.FormID))
		h := &staff
		if f.ForParents {
			h = &parents
			view.ParentForms = append(view.ParentForms, row)
		} else {
			view.Forms = append(view.Forms, row)
		}
		h.Forms++
		h.Signed += f.Signed
		h.Total += f.Audience
		h.Withdrawn += f.Withdrawn
	}
	for _, h := range []*templates.TrackHeadline{&staff, &parents} {
		h.Outstanding = max(h.Total-h.Signed-h.Withdrawn, 0)
		h.Percent = 100
		if h.Total > 0 {
			h.Percent = h.Signed * 100 / h.Total
		}
		if h.Forms > 0 {
			view.Headlines = append(view.Headlines, *h)
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

// trackForm is one form's dashboard: figures, trend, roles and the lists.
func (s *Server) trackForm(w http.ResponseWriter, r *http.Request) {
	s.renderTrackForm(w, r, http.StatusOK, "", "", nil)
}

func (s *Server) renderTrackForm(w http.ResponseWriter, r *http.Request, status int, notice, noticeBody string, errs templates.Errors) {
	v := viewerOf(r)
	formID, err := idParam(r, "formID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st := s.tracking
	f, err := st.Form(r.Context(), v.school.ID, formID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	lq := tracking.ListQuery{SchoolID: v.school.ID, FormID: formID, Signed: q.Get("show") == "signed", Group: q.Get("group"),
		Search: q.Get("q"), Sort: q.Get("sort"), Desc: q.Get("dir") == "desc"}
	if lq.Group != "" && !f.ForParents && !people.StaffRole(lq.Group).Valid() {
		lq.Group = ""
	}
	if len(lq.Group) > 100 {
		lq.Group = ""
	}
	lq.Search = clip(lq.Search, 100)
	switch lq.Sort {
	case "name", "group", "email":
	case "reminded":
		if lq.Signed {
			lq.Sort = "name"
		}
	case "signed":
		if !lq.Signed {
			lq.Sort = "name"
		}
	default:
		lq.Sort = "name"
		if lq.Signed {
			lq.Sort, lq.Desc = "signed", true
		}
	}
	lq.Page = pageParam(q.Get("page"))
	lq.PerPage = 50
	rows, matching, err := st.List(r.Context(), lq)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	groups, err := st.Groups(r.Context(), v.school.ID, formID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	trend, weekly, err := st.Trend(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	base := fmt.Sprintf("/admin/tracking/forms/%d", formID)
	link := func(change url.Values) string {
		qs := url.Values{}
		if lq.Signed {
			qs.Set("show", "signed")
		}
		if lq.Group != "" {
			qs.Set("group", lq.Group)
		}
		if lq.Search != "" {
			qs.Set("q", lq.Search)
		}
		qs.Set("sort", lq.Sort)
		if lq.Desc {
			qs.Set("dir", "desc")
		}
		for k, v := range change {
			if v[0] == "" {
				qs.Del(k)
			} else {
				qs[k] = v
			}
		}
		return base + "?" + qs.Encode() + "#people"
	}
	header := func(label, key string) templates.SortHeader {
		h := templates.SortHeader{Label: label}
		dir := "asc"
		if lq.Sort == key {
			h.Sort = "ascending"
			if lq.Desc {
				h.Sort = "descending"
			} else {
				dir = "desc"
			}
		}
		h.Href = link(url.Values{"sort": {key}, "dir": {dir}, "page": {""}})
		return h
	}
	if notice == "" && q.Has("reminded") {
		notice, noticeBody = s.reminderNotice(q, f.Title, f.ForParents)
	}
	view := templates.TrackFormView{
		Layout:          s.trackLayout(r, f.Title),
		Notice:          notice,
		NoticeBody:      noticeBody,
		Errors:          errs,
		FormID:          strconv.FormatInt(formID, 10),
		Title:           f.Title,
		Version:         fmt.Sprintf("Version %d", f.VersionNumber),
		Published:       schooltime.Date(f.PublishedAt),
		Due:             "No due date.",
		IsConsent:       f.Kind == "consent",
		Signed:          f.Signed,
		Total:           f.Audience,
		Outstanding:     f.Outstanding(),
		Withdrawn:       f.Withdrawn,
		Percent:         f.Percent(),
		LastReminder:    "none sent yet",
		TrendWeekly:     weekly,
		ShowSigned:      lq.Signed,
		OutstandingHref: base + "#people",
		SignedHref:      base + "?show=signed#people",
		Search:          lq.Search,
		Matching:        matching,
		Action:          base + "/reminders",
		ChaseHref:       base + "/chase",
		ExportBase:      base + "/export?",
		ZipHref:         base + "/copies.zip",
		FilterAction:    base + "#people",
	}
	if f.DueOn != nil {
		view.Due = "Due " + f.DueOn.Format("2 January 2006") + "."
	}
	if f.LastReminder != nil {
		view.LastReminder = schooltime.DateTime(*f.LastReminder)
	}
	// The form itself (what it asks, of whom) is another page: the
	// policy's, or the parents' form's set-up.
	if f.ForParents {
		view.SetUpHref = fmt.Sprintf("/admin/consents/%d", formID)
		view.LettersHref = view.SetUpHref + "/letters"
		_, _, children, err := s.consent.Consents(r.Context(), v.school.ID, formID, "")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, c := range children {
			if c.HasConflict() {
				view.Conflicts = append(view.Conflicts, templates.ConsentRow{Name: c.Pupil.FamilyName + ", " + c.Pupil.FirstName() + " (" + c.Pupil.RegClass + ")",
					Href: fmt.Sprintf("/admin/pupils/%d", c.Pupil.ID)})
			}
		}
	} else if sf, err := s.signing.Form(r.Context(), v.school.ID, formID); err != nil {
		s.fail(w, r, err)
		return
	} else if sf.PolicyID != 0 {
		view.SetUpHref = fmt.Sprintf("/policies/%d", sf.PolicyID)
	}
	// Trend: cumulative, as a share of the audience.
	if len(trend) > 0 {
		last := trend[len(trend)-1]
		for _, p := range trend {
			label := p.Day.Format("2 Jan")
			view.Trend = append(view.Trend, templates.Bar{Label: label, Value: p.Cumulative, Of: f.Audience,
				Width: widthOf(p.Cumulative, f.Audience), Extra: strconv.Itoa(p.New)})
		}
		unit := "day"
		if weekly {
			unit = "week"
		}
		view.TrendSummary = fmt.Sprintf("%d of %d signed so far (%d%%), from %s to %s, shown per %s.", last.Cumulative, f.Audience,
			f.Percent(), trend[0].Day.Format("2 January"), last.Day.Format("2 January 2006"), unit)
	}
	for _, g := range groups {
		view.Groups = append(view.Groups, templates.Bar{Label: g.Label, Value: g.Signed, Of: g.Audience, Width: g.Percent()})
	}
	view.ForParents, view.GroupNoun = f.ForParents, "Role"
	all := "All roles"
	if f.ForParents {
		view.GroupNoun, all = "Class", "All classes"
	}
	view.GroupOptions = []templates.Option{{Value: "", Label: all, Checked: lq.Group == ""}}
	for _, g := range groups {
		label := g.Label
		if label == "" {
			label = "No class"
		}
		view.GroupOptions = append(view.GroupOptions, templates.Option{Value: g.Group, Label: label, Checked: lq.Group == g.Group})
	}
	view.Headers = []templates.SortHeader{header("Name", "name"), header(view.GroupNoun, "group"), header("Email", "email")}
	if f.ForParents {
		view.Headers[0].Label = "Parent or carer"
	}
	if lq.Signed {
		view.Headers = append(view.Headers, header("Signed", "signed"))
	} else {
		view.Headers = append(view.Headers, header("Last reminder", "reminded"))
	}
	for _, row := range rows {
		view.Rows = append(view.Rows, trackRow(row))
	}
	pages := (matching + lq.PerPage - 1) / lq.PerPage
	for i := 1; i <= pages; i++ {
		if pages > 9 && i != 1 && i != pages && (i < lq.Page-2 || i > lq.Page+2) {
			if len(view.Pages) == 0 || view.Pages[len(view.Pages)-1].Href != "" {
				view.Pages = append(view.Pages, templates.Page{Label: "…"})
			}
			continue
		}
		view.Pages = append(view.Pages, templates.Page{Label: strconv.Itoa(i), Href: link(url.Values{"page": {strconv.Itoa(i)}}), Current: i == lq.Page})
	}
	if lq.Page > 1 {
		view.PrevHref = link(url.Values{"page": {strconv.Itoa(lq.Page - 1)}})
	}
	if lq.Page < pages {
		view.NextHref = link(url.Values{"page": {strconv.Itoa(lq.Page + 1)}})
	}
	s.render(w, r, status, templates.TrackFormPage(view))
}

func widthOf(n, of int) int {
	if of <= 0 {
		return 0
	}
	return min(n*100/of, 100)
}

func trackRow(row tracking.Row) templates.TrackRow {
	p := row.Person
	tr := templates.TrackRow{PersonID: strconv.FormatInt(p.ID, 10), RowID: strconv.FormatInt(p.ID, 10), Name: p.SortName(), Href: fmt.Sprintf("/admin/staff/%d", p.ID),
		Group: tracking.GroupLabel(row.Group), Email: p.Email, Child: row.PupilName, LastReminder: "None"}
	if p.Kind == people.Parent {
		tr.Href = fmt.Sprintf("/admin/parents/%d", p.ID)
	}
	if row.PupilID != 0 {
		tr.RowID += "-" + strconv.FormatInt(row.PupilID, 10) // a parent of two children has two rows
	}
	if row.LastReminder != nil {
		tr.LastReminder = schooltime.DateTime(*row.LastReminder)
		if row.Reminders > 1 {
			tr.LastReminder += fmt.Sprintf(" (%d sent)", row.Reminders)
		}
	}
	if row.SignedAt != nil {
		tr.SignedAt = schooltime.DateTime(*row.SignedAt)
		tr.PDFHref = "/signatures/" + row.Reference + "/copy.pdf"
	}
	return tr
}

// trackRemind emails a reminder to everyone outstanding (who=all) or to
// those ticked (who=ticked, person=ID...).
func (s *Server) trackRemind(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	formID, err := idParam(r, "formID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, apperr.New(apperr.Invalid, "The form could not be read"))
		return
	}
	in := tracking.RemindInput{SchoolID: v.school.ID, FormID: formID, Actor: v.account.Actor(clientIP(r)), Origin: tracking.ByOffice, BaseURL: s.baseURL}
	switch r.PostForm.Get("who") {
	case "all":
	case "ticked":
		for _, id := range r.PostForm["person"] {
			n, err := strconv.ParseInt(id, 10, 64)
			if err == nil && n > 0 {
				in.PersonIDs = append(in.PersonIDs, n)
			}
		}
		if len(in.PersonIDs) == 0 {
			if _, err := s.tracking.Form(r.Context(), v.school.ID, formID); err != nil {
				s.fail(w, r, err)
				return
			}
			s.renderTrackForm(w, r, http.StatusUnprocessableEntity, "", "", templates.Errors{{Field: "people", Message: "Tick at least one person to remind, or use the button to remind everyone"}})
			return
		}
	default:
		if _, err := s.tracking.Form(r.Context(), v.school.ID, formID); err != nil {
			s.fail(w, r, err)
			return
		}
		s.renderTrackForm(w, r, http.StatusUnprocessableEntity, "", "", templates.Errors{{Field: "people", Message: "Choose who to remind"}})
		return
	}
	res, err := s.tracking.Remind(r.Context(), in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Post/redirect/get: the page says what was sent, and a reload sends nothing.
	q := url.Values{"reminded": {strconv.Itoa(res.Queued)}}
	if res.AlreadyToday > 0 {
		q.Set("already", strconv.Itoa(res.AlreadyToday))
	}
	if res.NoEmail > 0 {
		q.Set("noemail", strconv.Itoa(res.NoEmail))
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/tracking/forms/%d?%s", formID, q.Encode()), http.StatusSeeOther)
}

// reminderNotice says what a press of a reminder button sent, from the
// figures its redirect carries.
func (s *Server) reminderNotice(q url.Values, title string, forParents bool) (notice, body string) {
	n, err := strconv.Atoi(q.Get("reminded"))
	if err != nil || n < 0 {
		return "", ""
	}
	already, _ := strconv.Atoi(q.Get("already"))
	noEmail, _ := strconv.Atoi(q.Get("noemail"))
	notice = "No reminders sent"
	if n > 0 {
		subject := "Please sign: " + title
		if forParents {
			subject = "Please complete: " + title
		}
		notice = pluralise(n, "reminder", "reminders") + " emailed, subject “" + subject + "”"
	}
	var parts []string
	if already > 0 {
		parts = append(parts, pluralise(already, "person was", "people were")+" reminded today already and will not get another")
	}
	if noEmail > 0 {
		parts = append(parts, pluralise(noEmail, "person has", "people have")+" no email address: print the chase list for them")
	}
	if !s.mailOn && n > 0 {
		parts = append(parts, "no mail server is set up, so the emails wait in the Outbox")
	}
	if len(parts) > 0 {
		body = strings.ToUpper(parts[0][:1]) + parts[0][1:]
		for _, p := range parts[1:] {
			body += "; " + p
		}
		body += "."
	}
	return notice, body
}

func pluralise(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// trackChase is the printable list of who still has to sign.
func (s *Server) trackChase(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	formID, err := idParam(r, "formID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st := s.tracking
	f, err := st.Form(r.Context(), v.school.ID, formID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
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

func scheduleView(l templates.LayoutProps, sc tracking.Schedule) templates.TrackScheduleView {
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
	var errs templates.Errors
	for _, part := range strings.FieldsFunc(f.Get("days_after"), func(r rune) bool { return r == ',' || r == ' ' || r == ';' }) {
		d, err := strconv.Atoi(part)
		if err != nil {
			errs = append(errs, templates.FieldError{Field: "days_after", Message: "Enter days after publication as whole numbers, for example 7, 14"})
			break
		}
		sc.DaysAfter = append(sc.DaysAfter, d)
	}
	weeks, err := strconv.Atoi(strings.TrimSpace(f.Get("weeks_max")))
	if err != nil {
		errs = append(errs, templates.FieldError{Field: "weeks_max", Message: "Enter a number of weeks from 0 to 52"})
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

// trackTrust is every school of the trust side by side, for trust admins.
func (s *Server) trackTrust(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	trust, schools, forms, err := s.trustFigures(r, v.school.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if trust == "" {
		trust = v.school.Name
	}
	view := templates.TrackTrustView{Layout: s.trackLayout(r, "Schools compared"), Trust: trust}
	for _, sc := range schools {
		row := templates.TrustSchoolRow{Name: sc.Name, Forms: sc.Forms, FormsDone: sc.FormsDone, Signed: sc.Signed, Total: sc.Audience,
			Outstanding: sc.Outstanding, Percent: sc.Percent(), Lowest: "—"}
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

// trustTTL is how old the trust view's figures may be: working them out
// for every form of twenty schools takes a quarter of a second, so a
// trust refreshing the page (or many admins at once) reuse them briefly.
const trustTTL = 30 * time.Second

type trustEntry struct {
	at      time.Time
	trust   string
	schools []tracking.SchoolFigures
	forms   []tracking.FormFigures
}

// trustFigures returns the trust view's figures, computed at most once
// every trustTTL for each trust.
func (s *Server) trustFigures(r *http.Request, schoolID int64) (string, []tracking.SchoolFigures, []tracking.FormFigures, error) {
	s.trustMu.Lock()
	e, ok := s.trustCache[schoolID]
	s.trustMu.Unlock()
	if ok && time.Since(e.at) < trustTTL {
		return e.trust, e.schools, e.forms, nil
	}
	// Requests arriving together while the figures are worked out share
	// the one computation.
	v, err, _ := s.trustFlight.Do(fmt.Sprint(schoolID), func() (any, error) {
		trust, schools, forms, err := s.tracking.Trust(context.WithoutCancel(r.Context()), schoolID)
		if err != nil {
			return nil, err
		}
		e := trustEntry{at: time.Now(), trust: trust, schools: schools, forms: forms}
		s.trustMu.Lock()
		if s.trustCache == nil {
			s.trustCache = map[int64]trustEntry{}
		}
		s.trustCache[schoolID] = e
		s.trustMu.Unlock()
		return e, nil
	})
	if err != nil {
		return "", nil, nil, err
	}
	e = v.(trustEntry)
	return e.trust, e.schools, e.forms, nil
}
