package web

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"signoff/internal/audit"
	"signoff/internal/schooltime"
	"signoff/templates"
	"signoff/templates/components"
)

const auditPage = 50

// auditLog lists the school's audit log, newest first, filtered.
func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	q := r.URL.Query()
	before, err := cursorParam(q.Get("before"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := audit.Filter{Action: q.Get("action"), Text: q.Get("q"), Before: before, Limit: auditPage + 1}
	entries, err := audit.Search(r.Context(), s.db, v.school.ID, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	actions, err := audit.Actions(r.Context(), s.db, v.school.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view := templates.AuditView{Layout: s.layout(r, "Audit log"), Action: f.Action, Search: f.Text}
	for _, a := range actions {
		view.Actions = append(view.Actions, components.Option{Value: a, Label: a, Checked: a == f.Action})
	}
	more := len(entries) > auditPage
	if more {
		entries = entries[:auditPage]
	}
	for _, e := range entries {
		keys := make([]string, 0, len(e.Detail))
		for k := range e.Detail {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var detail []string
		for _, k := range keys {
			detail = append(detail, k+": "+e.Detail[k])
		}
		view.Rows = append(view.Rows, templates.AuditRow{At: schooltime.DateTime(e.At), Actor: e.Actor.Name, Action: e.Action,
			Subject: e.Subject, Detail: strings.Join(detail, "; "), IP: e.Actor.IP})
	}
	link := func(before int64) string {
		qs := url.Values{}
		if f.Action != "" {
			qs.Set("action", f.Action)
		}
		if f.Text != "" {
			qs.Set("q", f.Text)
		}
		if before > 0 {
			qs.Set("before", fmt.Sprint(before))
		}
		if len(qs) == 0 {
			return "/admin/audit"
		}
		return "/admin/audit?" + qs.Encode()
	}
	if more {
		view.NextHref = link(entries[len(entries)-1].ID)
	}
	if before > 0 {
		view.PrevHref = link(0)
	}
	s.render(w, r, http.StatusOK, templates.AuditPage(view))
}
