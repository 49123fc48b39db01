package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"signoff/internal/apperr"
	"signoff/internal/database"
	"signoff/internal/people"
	"signoff/internal/schooltime"
	"signoff/internal/signing"
	"signoff/internal/tracking"
	"signoff/templates"
	"signoff/templates/components"
)

// trackForm is one form's dashboard: figures, trend, roles and the lists.
func (s *Server) trackForm(w http.ResponseWriter, r *http.Request) {
	s.renderTrackForm(w, r, http.StatusOK, "", "", nil)
}

func (s *Server) renderTrackForm(w http.ResponseWriter, r *http.Request, status int, notice, noticeBody string, errs components.Errors) {
	v := viewerOf(r)
	formID, err := idParam(r, "formID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st := s.tracking
	q := r.URL.Query()
	lq := tracking.ListQuery{SchoolID: v.school.ID, FormID: formID, Signed: q.Get("show") == "signed", Group: q.Get("group"),
		Search: q.Get("q"), Sort: q.Get("sort"), Desc: q.Get("dir") == "desc"}
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
	// The figures, groups, trend, the list's page and (on a parents'
	// form) the disagreements in one round trip.
	var conflicts []people.Person
	fp, err := st.FormPage(r.Context(), lq, func(rd *database.Reads) { s.consent.QueueConflicts(rd, v.school.ID, formID, &conflicts) })
	if err != nil {
		if home := s.closedFormHome(r, err); home != "" {
			http.Redirect(w, r, home, http.StatusSeeOther)
			return
		}
		s.fail(w, r, err)
		return
	}
	f, rows, matching, groups, trend, weekly := fp.Form, fp.Rows, fp.Matching, fp.Groups, fp.Trend, fp.Weekly
	if lq.Group != "" && !f.ForParents && !people.StaffRole(lq.Group).Valid() {
		// Not a role: the whole list (a staff form's groups are roles).
		lq.Group = ""
		if rows, matching, err = st.List(r.Context(), lq); err != nil {
			s.fail(w, r, err)
			return
		}
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
	header := func(label, key string) components.SortHeader {
		h := components.SortHeader{Label: label}
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
	if notice == "" && q.Get("letters") == "none" {
		notice = noLettersNotice
	}
	if notice != "" || len(errs) > 0 {
		dontKeep(r) // a notice is said once; errors belong to one attempt
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
		for _, p := range conflicts {
			view.Conflicts = append(view.Conflicts, components.NavItem{Label: p.FamilyName + ", " + p.FirstName() + " (" + p.RegClass + ")",
				Href: fmt.Sprintf("/admin/pupils/%d", p.ID)})
		}
	} else if f.PolicyID != 0 {
		view.SetUpHref = fmt.Sprintf("/policies/%d", f.PolicyID)
	}
	// Trend: cumulative, as a share of the audience.
	if len(trend) > 0 {
		last := trend[len(trend)-1]
		for _, p := range trend {
			label := p.Day.Format("2 Jan")
			view.Trend = append(view.Trend, components.Bar{Label: label, Value: p.Cumulative, Of: f.Audience,
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
		view.Groups = append(view.Groups, components.Bar{Label: g.Label, Value: g.Signed, Of: g.Audience, Width: g.Percent()})
	}
	view.ForParents, view.GroupNoun = f.ForParents, "Role"
	all := "All roles"
	if f.ForParents {
		view.GroupNoun, all = "Class", "All classes"
	}
	view.GroupOptions = []components.Option{{Value: "", Label: all, Checked: lq.Group == ""}}
	for _, g := range groups {
		label := g.Label
		if label == "" {
			label = "No class"
		}
		view.GroupOptions = append(view.GroupOptions, components.Option{Value: g.Group, Label: label, Checked: lq.Group == g.Group})
	}
	view.Headers = []components.SortHeader{header("Name", "name"), header(view.GroupNoun, "group"), header("Email", "email")}
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
				view.Pages = append(view.Pages, components.Page{Label: "…"})
			}
			continue
		}
		view.Pages = append(view.Pages, components.Page{Label: strconv.Itoa(i), Href: link(url.Values{"page": {strconv.Itoa(i)}}), Current: i == lq.Page})
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

// trackedForm is the open form in the path, of the viewer's school (any
// other is not found).
// closedFormHome is where a form the dashboard does not know goes when it
// is a closed form of the school (a bookmark, an old email): its set-up
// page (a parents' form, which says when it closed) or its policy's page.
// "" when the form is not closed or not the school's: the error stands.
func (s *Server) closedFormHome(r *http.Request, err error) string {
	formID, idErr := idParam(r, "formID")
	if apperr.CodeOf(err) != apperr.NotFound || idErr != nil {
		return ""
	}
	f, ferr := s.signing.Form(r.Context(), viewerOf(r).school.ID, formID)
	switch {
	case ferr != nil || f.ClosedAt == nil:
		return ""
	case f.Audience == signing.ParentsAudience:
		return "/admin/consents/" + strconv.FormatInt(f.ID, 10)
	case f.PolicyID != 0:
		return "/policies/" + strconv.FormatInt(f.PolicyID, 10)
	}
	return ""
}

func (s *Server) trackedForm(r *http.Request) (tracking.FormFigures, error) {
	formID, err := idParam(r, "formID")
	if err != nil {
		return tracking.FormFigures{}, err
	}
	return s.tracking.Form(r.Context(), viewerOf(r).school.ID, formID)
}
