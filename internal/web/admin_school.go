package web

import (
	"net/http"
	"strconv"
	"strings"

	"signoff/internal/apperr"
	"signoff/templates"
)

// schoolSettings shows the school's settings.
func (s *Server) schoolSettings(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	notice := ""
	if r.URL.Query().Get("saved") != "" {
		notice = "Settings saved"
	}
	s.render(w, r, http.StatusOK, templates.SchoolSettingsPage(templates.SchoolSettingsView{Layout: s.layout(r, "School settings"),
		Name: v.school.Name, Colour: v.school.Colour, FamilyLinkDays: strconv.Itoa(v.school.FamilyLinkDays), Notice: notice}))
}

// schoolSettingsSave saves them.
func (s *Server) schoolSettingsSave(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	sc := v.school
	sc.Name = r.PostFormValue("name")
	sc.Colour = strings.TrimSpace(r.PostFormValue("colour"))
	if sc.Colour != "" && !strings.HasPrefix(sc.Colour, "#") {
		sc.Colour = "#" + sc.Colour
	}
	days := strings.TrimSpace(r.PostFormValue("family_link_days"))
	n, convErr := strconv.Atoi(days)
	sc.FamilyLinkDays = n
	if convErr != nil {
		sc.FamilyLinkDays = -1
	}
	err := s.schools.Update(r.Context(), sc, v.account.Actor(clientIP(r)))
	if apperr.CodeOf(err) == apperr.Invalid {
		l := s.layout(r, "School settings")
		l.HasErrors = true
		s.render(w, r, http.StatusUnprocessableEntity, templates.SchoolSettingsPage(templates.SchoolSettingsView{Layout: l,
			Name: r.PostFormValue("name"), Colour: r.PostFormValue("colour"), FamilyLinkDays: days, Errors: viewErrors(err)}))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/school?saved=1", http.StatusSeeOther)
}
