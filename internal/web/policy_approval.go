package web

import (
	"fmt"
	"net/http"
	"strconv"

	"signoff/internal/apperr"
	"signoff/internal/policies"
)

// The actions on a policy's page: sending a draft for approval,
// discarding it, an approver's decision, the board's decision at a
// meeting, and a review with no changes. Each redirects to the page, or
// shows it again with the error.

// openVersion reads version_id from the form and checks it is the
// policy's open revision (the page may be stale).
func (s *Server) openVersion(r *http.Request, policyID int64) (policies.Version, error) {
	v := viewerOf(r)
	open, ok, err := s.policies.OpenRevision(r.Context(), v.school.ID, policyID)
	if err != nil {
		return policies.Version{}, err
	}
	want, _ := strconv.ParseInt(r.PostFormValue("version_id"), 10, 64)
	if !ok || open.ID != want {
		return policies.Version{}, apperr.New(apperr.Conflict, "The revision has changed since this page was opened. Check it and try again.")
	}
	return open, nil
}

// showAction runs a POST of the policy page and redirects, or shows
// the page again with the error.
func (s *Server) showAction(w http.ResponseWriter, r *http.Request, f *showForm, do func(id int64) (string, error)) {
	p, ok := s.policyOf(w, r)
	if !ok {
		return
	}
	done, err := do(p.ID)
	if err == nil {
		http.Redirect(w, r, fmt.Sprintf("/policies/%d?done=%s", p.ID, done), http.StatusSeeOther)
		return
	}
	switch apperr.CodeOf(err) {
	case apperr.Invalid, apperr.Conflict, apperr.Forbidden:
		f.err = err
		s.showPage(w, r, f)
	default:
		s.fail(w, r, err)
	}
}

func (s *Server) policyLink(id int64) string { return fmt.Sprintf("%s/policies/%d", s.baseURL, id) }

// policySubmit sends the draft for approval.
func (s *Server) policySubmit(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	s.showAction(w, r, &showForm{}, func(id int64) (string, error) {
		open, err := s.openVersion(r, id)
		if err != nil {
			return "", err
		}
		var named []int64
		for _, n := range r.PostForm["named"] {
			if x, err := strconv.ParseInt(n, 10, 64); err == nil {
				named = append(named, x)
			}
		}
		_, err = s.policies.Submit(r.Context(), v.school.ID, open.ID, v.account.Actor(clientIP(r)), named, s.policyLink(id))
		return "submitted", err
	})
}

// policyDiscard discards the draft revision.
func (s *Server) policyDiscard(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	s.showAction(w, r, &showForm{}, func(id int64) (string, error) {
		open, err := s.openVersion(r, id)
		if err != nil {
			return "", err
		}
		return "discarded", s.policies.DiscardRevision(r.Context(), v.school.ID, open.ID, v.account.Actor(clientIP(r)))
	})
}

// policyDecision records an approver's decision.
func (s *Server) policyDecision(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	f := &showForm{comment: r.PostFormValue("comment"), decision: r.PostFormValue("decision")}
	s.showAction(w, r, f, func(id int64) (string, error) {
		open, err := s.openVersion(r, id)
		if err != nil {
			return "", err
		}
		in := policies.DecisionInput{Approve: f.decision == "approve", Reject: f.decision == "reject", Comment: f.comment}
		_, err = s.policies.Decide(r.Context(), v.school.ID, open.ID, v.account.ID, v.account.Actor(clientIP(r)), in, s.policyLink(id))
		if in.Reject {
			return "rejected", err
		}
		return "approved", err
	})
}

// policyMeeting records the board's approval at a meeting.
func (s *Server) policyMeeting(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	f := &showForm{day: r.PostFormValue("date-day"), month: r.PostFormValue("date-month"), year: r.PostFormValue("date-year"),
		body: r.PostFormValue("body"), meeting: r.PostFormValue("meeting"), minuteRef: r.PostFormValue("minute_ref")}
	s.showAction(w, r, f, func(id int64) (string, error) {
		open, err := s.openVersion(r, id)
		if err != nil {
			return "", err
		}
		d, msg := formDate(r, "date", "The date of the meeting")
		_, err = s.policies.RecordMeeting(r.Context(), v.school.ID, open.ID, v.account.Actor(clientIP(r)),
			policies.MeetingInput{Date: d, DateError: msg, Body: f.body, Meeting: f.meeting, MinuteRef: f.minuteRef})
		return "meeting", err
	})
}

// policyReviewed records a review with no changes.
func (s *Server) policyReviewed(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	f := &showForm{reviewDay: r.PostFormValue("review_date-day"), reviewMonth: r.PostFormValue("review_date-month"), reviewYear: r.PostFormValue("review_date-year"),
		body: r.PostFormValue("body"), meeting: r.PostFormValue("meeting"), minuteRef: r.PostFormValue("minute_ref"), note: r.PostFormValue("note")}
	s.showAction(w, r, f, func(id int64) (string, error) {
		d, msg := formDate(r, "review_date", "The date of the review")
		_, err := s.policies.RecordNoChangeReview(r.Context(), v.school.ID, id, v.account.Actor(clientIP(r)),
			policies.ReviewInput{MeetingInput: policies.MeetingInput{Date: d, DateError: msg, Body: f.body, Meeting: f.meeting, MinuteRef: f.minuteRef}, Note: f.note})
		// The review form's fields have their own ids on the page.
		if fields := apperr.FieldsOf(err); len(fields) > 0 {
			for i := range fields {
				switch fields[i].Field {
				case "date":
					fields[i].Field = "review_date"
				case "body", "note":
					fields[i].Field = "review_" + fields[i].Field
				}
			}
			err = &apperr.Error{Code: apperr.Invalid, Fields: fields}
		}
		return "reviewed", err
	})
}
