package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"signoff/internal/policies"
	"signoff/internal/reviews"
	"signoff/internal/schooltime"
	"signoff/templates"
)

// reviewCalendar lists review dates by month, with the viewer's private
// calendar link.
func (s *Server) reviewCalendar(w http.ResponseWriter, r *http.Request) {
	feedURL, notice := "", ""
	switch r.URL.Query().Get("done") {
	case "feed":
		// The new link is held for this page for a few minutes
		// (post/redirect/get); the database keeps only its hash.
		var made calendarLink
		if s.held(r, &made) {
			feedURL, notice = made.URL, "Your calendar link is ready"
		} else {
			notice = "Your new calendar link is no longer shown: it is shown only for a few minutes after it is made. Make another to see it"
		}
	case "revoked":
		notice = "Your calendar link no longer works"
	}
	s.calendarPage(w, r, feedURL, notice)
}

// calendarLink is a private calendar link just made, held for the page.
type calendarLink struct{ URL string }

func (s *Server) calendarPage(w http.ResponseWriter, r *http.Request, feedURL, notice string) {
	v := viewerOf(r)
	list, _, err := s.policies.Library(r.Context(), v.school.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list = withReviewDates(list)
	view := templates.ReviewCalendarView{Layout: s.lifecycleLayout(r, "Review calendar"), FeedURL: feedURL, Notice: notice}
	for _, p := range list {
		label := p.NextReviewOn.Format("January 2006")
		if n := len(view.Months); n == 0 || view.Months[n-1].Label != label {
			view.Months = append(view.Months, templates.ReviewCalendarMonth{Label: label})
		}
		m := &view.Months[len(view.Months)-1]
		m.Rows = append(m.Rows, templates.ReviewCalendarRow{Date: p.NextReviewOn.Format("2 January"), Title: p.Title, Href: fmt.Sprintf("/policies/%d", p.ID),
			Status: p.Status.Label(), StatusClass: statusClass(p.Status)})
	}
	since, err := s.reviewFeeds.Active(r.Context(), v.account.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if since != nil {
		view.HasFeed = true
		view.FeedSince = schooltime.Date(*since)
	}
	s.render(w, r, http.StatusOK, templates.ReviewCalendarPage(view))
}

// withReviewDates keeps the published policies with a review date, by date.
func withReviewDates(list []policies.LibraryRow) []policies.LibraryRow {
	var out []policies.LibraryRow
	for _, p := range list {
		if p.NextReviewOn != nil && p.Current != nil {
			out = append(out, p)
		}
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].NextReviewOn.Before(*out[j-1].NextReviewOn); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// reviewFeedCreate makes a new private calendar link, replacing the old.
func (s *Server) reviewFeedCreate(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	token, err := s.reviewFeeds.Create(r.Context(), v.school.ID, v.account.ID, v.account.Actor(clientIP(r)))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.hold(w, r, "/reviews", calendarLink{URL: s.baseURL + "/calendar/" + token + ".ics"}); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/reviews?done=feed", http.StatusSeeOther)
}

// reviewFeedRevoke stops the viewer's calendar link working.
func (s *Server) reviewFeedRevoke(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	if err := s.reviewFeeds.Revoke(r.Context(), v.school.ID, v.account.ID, v.account.Actor(clientIP(r))); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/reviews?done=revoked", http.StatusSeeOther)
}

// reviewFeed is the iCalendar feed at a private link (no session: the
// calendar application fetches it).
func (s *Server) reviewFeed(w http.ResponseWriter, r *http.Request) {
	token := chi.URLParam(r, "token")
	schoolID, err := s.reviewFeeds.Open(r.Context(), token)
	if err != nil {
		http.Error(w, "Not found", http.StatusNotFound)
		return
	}
	school, err := s.schools.Get(r.Context(), schoolID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list, _, err := s.policies.Library(r.Context(), schoolID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	host := strings.TrimPrefix(strings.TrimPrefix(s.baseURL, "https://"), "http://")
	var events []reviews.Event
	for _, p := range withReviewDates(list) {
		events = append(events, reviews.Event{
			UID:         fmt.Sprintf("policy-%d-review-%s@%s", p.ID, p.NextReviewOn.Format("20060102"), host),
			Date:        *p.NextReviewOn,
			Summary:     "Policy review due: " + p.Title,
			Description: fmt.Sprintf("%s, %s. Reviewed %s; approved by %s.", p.Title, school.Name, strings.ToLower(cycleLabel(p.ReviewCycleYears)), strings.ToLower(p.ApprovalLevel.Label())),
			URL:         fmt.Sprintf("%s/policies/%d", s.baseURL, p.ID),
		})
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	w.Header().Set("Content-Disposition", `inline; filename="policy-reviews.ics"`)
	_, _ = w.Write([]byte(reviews.ICS(school.Name+": policy reviews", s.db.Now(), events)))
}
