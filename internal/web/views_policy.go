package web

import (
	"net/http"
	"time"

	"signoff/internal/policies"
	"signoff/internal/schooltime"
	"signoff/templates/components"
	"signoff/web/static"
)

// Helpers shared by the policy pages.

// lifecycleLayout is the page frame with the lifecycle's stylesheet.
func (s *Server) lifecycleLayout(r *http.Request, title string) components.LayoutProps {
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

// policyOf is the policy in the path (policyID), of the viewer's school.
// When there is none it has answered (404) and ok is false.
func (s *Server) policyOf(w http.ResponseWriter, r *http.Request) (p policies.Policy, ok bool) {
	id, err := idParam(r, "policyID")
	if err == nil {
		p, err = s.policies.Get(r.Context(), viewerOf(r).school.ID, id)
	}
	if err != nil {
		s.fail(w, r, err)
		return policies.Policy{}, false
	}
	return p, true
}
