package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/a-h/templ"

	"signoff/internal/apperr"
	"signoff/internal/auth"
	"signoff/internal/policies"
	"signoff/templates/components"
	"signoff/web/static"
)

// render writes a component with status. It renders to a buffer first so
// that a failure half-way shows an error page, not half a page. Rendering
// is bounded work in memory, so it goes on after the request's time is up:
// the "taking too long" page of a request that ran out of time still shows.
//
// The buffers are reused (renderBuffers): growing a new one for every page
// was a sixth of the bytes a page allocated (issue 15).
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	buf := renderBuffers.Get().(*bytes.Buffer)
	defer putRenderBuffer(buf)
	if err := c.Render(context.WithoutCancel(r.Context()), buf); err != nil {
		s.log.ErrorContext(r.Context(), "render failed", "path", r.URL.Path, "err", err)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// The length is known: the page goes out whole, not chunked.
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderBuffers holds the buffers of render and sendTable between
// responses.
var renderBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putRenderBuffer returns buf to renderBuffers, emptied; a buffer grown
// past 1 MB by a rare large page is left to the collector.
func putRenderBuffer(buf *bytes.Buffer) {
	if buf.Cap() > 1<<20 {
		return
	}
	buf.Reset()
	renderBuffers.Put(buf)
}

// layout builds the page frame for the viewer: school name and colour,
// the menu their roles open, and who is signed in.
func (s *Server) layout(r *http.Request, title string) components.LayoutProps {
	v := viewerOf(r)
	p := components.LayoutProps{
		Title:    title,
		SiteName: "Signoff",
		CSS:      []string{static.Path("govuk-frontend.min.css"), static.Path("app.css")},
		JS:       static.Path("app.js"),
		Favicon:  static.Path("favicon.svg"),
	}
	school := v.school
	if !v.signedIn {
		// Before sign-in, a single-school installation shows that school.
		if all, err := s.schools.List(r.Context()); err == nil && len(all) == 1 {
			school = all[0]
		}
	}
	if school.ID != 0 {
		p.SiteName = school.Name
		p.ThemeCSS = "/theme/" + strings.TrimPrefix(school.Colour, "#") + ".css"
		p.Logo = school.LogoPath()
	}
	if !v.signedIn {
		return p
	}
	p.UserName = v.account.DisplayName
	path := r.URL.Path
	add := func(label, href string, current bool) {
		p.Nav = append(p.Nav, components.NavItem{Label: label, Href: href, Current: current})
	}
	// The office's menu is grouped: its daily pages, then People and More
	// (pages of links), so it fits two rows on a phone.
	if v.account.Has(auth.Admin) {
		add("Dashboard", "/admin/tracking", strings.HasPrefix(path, "/admin/tracking"))
		add("Policies", "/policies", strings.HasPrefix(path, "/policies") || strings.HasPrefix(path, "/reviews"))
		add("Parents' forms", "/admin/consents", strings.HasPrefix(path, "/admin/consents"))
		add("People", "/admin/people", path == "/admin/people" || strings.HasPrefix(path, "/admin/staff") || strings.HasPrefix(path, "/admin/pupils") ||
			strings.HasPrefix(path, "/admin/parents") || strings.HasPrefix(path, "/admin/import"))
		add("More", "/admin/more", path == "/admin/more" || strings.HasPrefix(path, "/admin/outbox") || strings.HasPrefix(path, "/admin/audit") ||
			strings.HasPrefix(path, "/admin/school") || strings.HasPrefix(path, "/admin/sso") || strings.HasPrefix(path, "/admin/retention") || path == "/account" || strings.HasPrefix(path, "/trust") ||
			path == "/" || strings.HasPrefix(path, "/forms/") ||
			strings.HasPrefix(path, "/classes") || path == "/check" || strings.HasPrefix(path, "/class-mode"))
		if v.account.Has(auth.Parent) {
			add("Your children", "/family", strings.HasPrefix(path, "/family"))
		}
		return p
	}
	if v.account.Has(auth.Staff) {
		add("Your documents", "/", path == "/" || strings.HasPrefix(path, "/forms/"))
	}
	if s.isClassroomStaff(r) {
		add("Class lists", "/classes/photos", strings.HasPrefix(path, "/classes"))
		add("Check a child", "/check", path == "/check")
		add("Class mode", "/class-mode", strings.HasPrefix(path, "/class-mode"))
	}
	if v.account.Has(auth.Parent) {
		add("Your children", "/family", strings.HasPrefix(path, "/family"))
	}
	if v.account.Has(auth.Governor) || v.account.Has(auth.Head) {
		add("Policies", "/policies", strings.HasPrefix(path, "/policies") || strings.HasPrefix(path, "/reviews"))
	}
	if v.account.Has(auth.TrustAdmin) {
		add("Schools compared", "/trust", path == "/trust")
		add("The trust's schools", "/trust/schools", strings.HasPrefix(path, "/trust/schools"))
		add("Trust administrators", "/trust/admins", strings.HasPrefix(path, "/trust/admins"))
		if !v.account.Has(auth.Admin) {
			add("Single sign-on", "/admin/sso", strings.HasPrefix(path, "/admin/sso"))
		}
	}
	if v.account.Has(auth.Staff) || v.account.Has(auth.Governor) || v.account.Has(auth.Head) || v.account.Has(auth.TrustAdmin) {
		add("Your account", "/account", path == "/account")
	}
	return p
}

// viewErrors converts domain field errors for the templates.
func viewErrors(err error) components.Errors {
	var out components.Errors
	for _, f := range apperr.FieldsOf(err) {
		out = append(out, components.FieldError{Field: f.Field, Message: f.Message})
	}
	return out
}

// isClassroomStaff reports whether the viewer may see class lists (the
// classroom access of the route table), for the menus that link to them.
func (s *Server) isClassroomStaff(r *http.Request) bool {
	v := viewerOf(r)
	return v.signedIn && classroom.allows(v.account)
}

// renderMarkdown renders school-written Markdown safely, "" for none.
func renderMarkdown(md string) string {
	if strings.TrimSpace(md) == "" {
		return ""
	}
	return policies.RenderHTML(md)
}

// sendPDF sends a PDF as a download that no shared cache keeps.
func sendPDF(w http.ResponseWriter, name string, data []byte) {
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, name))
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("Content-Length", fmt.Sprint(len(data)))
	_, _ = w.Write(data)
}
