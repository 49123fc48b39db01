package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"signoff/internal/apperr"
	"signoff/internal/tracking"
	"signoff/templates/components"
)

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
	// A page with errors is the form's page again (renderTrackForm finds
	// the form, or says it is not found).
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
			s.renderTrackForm(w, r, http.StatusUnprocessableEntity, "", "", components.Errors{{Field: "people", Message: "Tick at least one person to remind, or use the button to remind everyone"}})
			return
		}
	default:
		s.renderTrackForm(w, r, http.StatusUnprocessableEntity, "", "", components.Errors{{Field: "people", Message: "Choose who to remind"}})
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
