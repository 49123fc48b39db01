package web

import (
	"net/http"
	"time"

	"signoff/internal/policies"
	"signoff/internal/schooltime"
	"signoff/templates"
	"signoff/web/static"
)

// Helpers shared by the policy pages.

// lifecycleLayout is the page frame with the lifecycle's stylesheet.
func (s *Server) lifecycleLayout(r *http.Request, title string) templates.LayoutProps {
	l := s.layout(r, title)
	l.CSS = append(l.CSS, static.Path("policies.css"))
	return l
}

func date(t *time.Time) string {
	if t == nil {
		return "–"
	}
	return t.Format("2 January 2006")
}

func statusClass(st policies.ReviewStatus) string {
	switch st {
	case policies.UpToDate:
		return "up"
	case policies.DueSoon:
		return "soon"
	case policies.Overdue:
		return "overdue"
	case policies.InRevision:
		return "revision"
	}
	return "none"
}

// approvalLine says how a version was approved, as schools write it.
func approvalLine(v policies.Version) string {
	if v.ApprovalMethod == "" {
		if v.PublishedAt != nil {
			return "Published " + schooltime.Date(*v.PublishedAt) + " (no approval recorded)"
		}
		return "–"
	}
	out := "Approved by " + v.ApprovedByBody + " on " + date(v.ApprovedOn)
	if v.ApprovalMeeting != "" {
		out += " at " + v.ApprovalMeeting
	}
	if v.MinuteRef != "" {
		out += " (minute " + v.MinuteRef + ")"
	}
	return out
}
