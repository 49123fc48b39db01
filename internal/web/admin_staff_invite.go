package web

import (
	"fmt"
	"net/http"

	"signoff/internal/apperr"
	"signoff/internal/onboarding"
	"signoff/internal/people"
	"signoff/templates"
	"signoff/templates/components"
)

// whoChoice is the radios of who to invite.
func whoChoice(chosen onboarding.Who, errMsg string) components.ChoiceProps {
	p := components.ChoiceProps{ID: "who", Name: "who", Legend: "Who should get an invitation?", Error: errMsg}
	add := func(w onboarding.Who, label, hint string) {
		p.Options = append(p.Options, components.Option{Value: string(w), Label: label, Hint: hint, Checked: w == chosen})
	}
	add(onboarding.WhoNeverInvited, "Everyone who has not been invited yet", "")
	add(onboarding.WhoAll, "All staff", "Including those invited before: they get a new link")
	for _, r := range people.StaffRoles {
		add(onboarding.Who(r), "Only staff with the role "+r.Label(), "")
	}
	return p
}

// staffInviteForm chooses who to invite.
func (s *Server) staffInviteForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, templates.StaffInvitePage(templates.StaffInviteView{Layout: s.layout(r, "Invite staff"),
		Who: whoChoice(onboarding.WhoNeverInvited, "")}))
}

// staffInviteConfirm shows who the invitations would go to.
func (s *Server) staffInviteConfirm(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	who := onboarding.Who(r.URL.Query().Get("who"))
	list, err := s.onboarding.Invitees(r.Context(), v.school.ID, who)
	if apperr.CodeOf(err) == apperr.Invalid {
		l := s.layout(r, "Invite staff")
		l.HasErrors = true
		s.render(w, r, http.StatusUnprocessableEntity, templates.StaffInvitePage(templates.StaffInviteView{Layout: l,
			Who: whoChoice("", "Choose who should get an invitation"), Errors: components.Errors{{Field: "who", Message: "Choose who should get an invitation"}}}))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view := templates.StaffInviteConfirmView{Layout: s.layout(r, "Send invitations"), Who: string(who), Label: who.Label(), Count: len(list)}
	for i, p := range list {
		if i == 100 {
			break
		}
		view.Names = append(view.Names, p.Name+" ("+p.Email+")")
	}
	s.render(w, r, http.StatusOK, templates.StaffInviteConfirmPage(view))
}

// staffInvite sends the invitations and says how many went.
func (s *Server) staffInvite(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	n, err := s.onboarding.Invite(r.Context(), v.school.ID, onboarding.Who(r.PostFormValue("who")), v.account.Actor(clientIP(r)), s.deliverInvitation)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/staff?invited=%d", n), http.StatusSeeOther)
}
