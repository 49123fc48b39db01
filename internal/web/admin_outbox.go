package web

import (
	"fmt"
	"net/http"
	"strconv"

	"signoff/internal/mail"
	"signoff/internal/schooltime"
	"signoff/templates"
	"signoff/templates/components"
)

func outboxStatus(e mail.Entry, mailOn bool) (string, bool) {
	switch {
	case e.SentAt != nil:
		return "Sent " + schooltime.DateTime(*e.SentAt), true
	case e.FailedAt != nil:
		return "Failed: " + e.LastError, false
	case !mailOn:
		return "Not sent: print or forward it", false
	case e.Attempts > 0:
		return fmt.Sprintf("Retrying (%d attempts)", e.Attempts), false
	}
	return "Waiting to send", false
}

// outboxList lists the school's messages.
func (s *Server) outboxList(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	status := r.URL.Query().Get("status")
	switch status {
	case "waiting", "sent", "failed":
	default:
		status = "all"
	}
	entries, total, err := s.mail.List(r.Context(), v.school.ID, mail.Filter{Status: status, Limit: 200})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view := templates.OutboxView{Layout: s.layout(r, "Outbox"), MailEnabled: s.mailOn}
	if total > len(entries) {
		view.More = fmt.Sprintf("Showing the newest %d of %d messages.", len(entries), total)
	}
	for _, f := range []struct{ key, label string }{{"all", "All"}, {"waiting", "Not sent"}, {"sent", "Sent"}, {"failed", "Failed"}} {
		href := "/admin/outbox"
		if f.key != "all" {
			href += "?status=" + f.key
		}
		view.Filters = append(view.Filters, components.NavItem{Label: f.label, Href: href, Current: f.key == status})
	}
	for _, e := range entries {
		label, sent := outboxStatus(e, s.mailOn)
		to := e.To
		if e.ToName != "" {
			to = e.ToName + " <" + e.To + ">"
		}
		view.Rows = append(view.Rows, templates.OutboxRow{Href: "/admin/outbox/" + strconv.FormatInt(e.ID, 10), To: to, Subject: e.Subject,
			Created: schooltime.DateTime(e.CreatedAt), Status: label, Sent: sent})
	}
	s.render(w, r, http.StatusOK, templates.OutboxPage(view))
}

// outboxMessage shows one message, to read or print.
func (s *Server) outboxMessage(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	id, err := idParam(r, "messageID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	e, err := s.mail.Get(r.Context(), v.school.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	label, _ := outboxStatus(e, s.mailOn)
	view := templates.OutboxMessageView{
		Layout:  s.layout(r, e.Subject),
		Subject: e.Subject,
		Summary: []components.SummaryRow{
			{Key: "To", Value: e.ToName + " <" + e.To + ">"},
			{Key: "Created", Value: schooltime.DateTime(e.CreatedAt)},
			{Key: "Status", Value: label},
			{Key: "Attempts", Value: strconv.Itoa(e.Attempts)},
		},
		Body: e.Text,
	}
	if e.Status == mail.StatusFailed && s.mailOn {
		view.RetryAction = "/admin/outbox/" + strconv.FormatInt(e.ID, 10) + "/retry"
	}
	if r.URL.Query().Get("done") == "retry" {
		view.Notice = "The message will be sent again (up to 8 more attempts)."
	}
	s.render(w, r, http.StatusOK, templates.OutboxMessagePage(view))
}

// outboxRetry gives a failed message another round of attempts.
func (s *Server) outboxRetry(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	id, err := idParam(r, "messageID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := mail.Retry(r.Context(), s.db, v.school.ID, id, v.account.Actor(clientIP(r))); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/outbox/"+strconv.FormatInt(id, 10)+"?done=retry", http.StatusSeeOther)
}
