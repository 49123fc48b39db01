package web

import (
	"fmt"
	"net/http"

	"signoff/internal/apperr"
	"signoff/internal/consent"
	"signoff/templates"
)

// parentChangeConfirm asks a parent to confirm one change.
func (s *Server) parentChangeConfirm(w http.ResponseWriter, r *http.Request) {
	view, cf, _, lang, err := s.parentFormView(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var itemID int64
	fmt.Sscan(r.URL.Query().Get("item"), &itemID)
	to := r.URL.Query().Get("to")
	var label string
	for _, it := range cf.Items {
		if it.ID == itemID && it.Kind == consent.ConsentItem {
			label = it.Label
		}
	}
	if label == "" || (to != "yes" && to != "no") {
		s.fail(w, r, apperr.New(apperr.NotFound, "Page not found"))
		return
	}
	heading, body, confirm := lang.T("Give consent?"), lang.T("“%s” for %s will change to yes straight away.", label, view.ChildName), lang.T("Yes, give consent")
	if to == "no" {
		heading, body, confirm = lang.T("Withdraw consent?"), lang.T("“%s” for %s will change to no straight away. The school is told at once.", label, view.ChildName), lang.T("Yes, withdraw consent")
	}
	l := view.Layout
	l.Title = heading + " – " + cf.Form.Title
	s.render(w, r, http.StatusOK, templates.ConfirmChangePage(templates.ConfirmChangeView{Layout: l, Heading: heading, Body: body,
		Languages: view.Languages, LanguageLabel: view.Text.Language,
		Action: parentFormPath(cf.State.Pupil.ID, cf.Form.ID) + "/change", ItemID: fmt.Sprint(itemID), Value: to, Confirm: confirm,
		Cancel: lang.T("Cancel"), CancelTo: parentFormPath(cf.State.Pupil.ID, cf.Form.ID)}))
}

// parentChange applies one confirmed change at once.
func (s *Server) parentChange(w http.ResponseWriter, r *http.Request) {
	_, cf, parent, lang, err := s.parentFormView(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := viewerOf(r)
	var itemID int64
	fmt.Sscan(r.PostFormValue("item"), &itemID)
	value := r.PostFormValue("value")
	if value != "yes" && value != "no" {
		s.fail(w, r, apperr.New(apperr.NotFound, "Page not found"))
		return
	}
	if _, err := s.consent.Change(r.Context(), v.school.ID, cf.Form.ID, cf.State.Pupil.ID, parent.ID, itemID, value == "yes",
		v.account.Actor(clientIP(r)), r.UserAgent(), lang.Code); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, parentFormPath(cf.State.Pupil.ID, cf.Form.ID)+"?changed=1", http.StatusSeeOther)
}
