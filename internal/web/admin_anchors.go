package web

import (
	"crypto/x509"
	"fmt"
	"net/http"

	"signoff/internal/apperr"
	"signoff/internal/evidence"
	"signoff/internal/schooltime"
	"signoff/internal/signkey"
	"signoff/templates"
)

// anchorsPage lists the school's anchors, with "anchor now" and where
// anchors are emailed.
func (s *Server) anchorsPage(w http.ResponseWriter, r *http.Request) {
	view, err := s.anchorsView(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	switch {
	case r.URL.Query().Get("anchored") != "":
		view.Notice = "The audit log was anchored: anchor " + r.URL.Query().Get("anchored") + " is at the top of the list."
	case r.URL.Query().Get("saved") == "1":
		if view.Email == "" {
			view.Notice = "Anchors will not be emailed to anyone."
		} else {
			view.Notice = "Anchors will be emailed to " + view.Email + "."
		}
	}
	s.render(w, r, http.StatusOK, templates.AnchorsPage(view))
}

func (s *Server) anchorsView(r *http.Request) (templates.AnchorsView, error) {
	v := viewerOf(r)
	view := templates.AnchorsView{Layout: s.layout(r, "Anchors of the audit log")}
	anchors, err := evidence.Anchors(r.Context(), s.db, v.school.ID, 100)
	if err != nil {
		return view, err
	}
	if view.Email, err = evidence.AnchorEmail(r.Context(), s.db, v.school.ID); err != nil {
		return view, err
	}
	if an := s.anchorer; an != nil {
		view.CanAnchor = true
		view.Fingerprint = an.Key.Fingerprint()
		if an.TSA != nil {
			view.TSA = an.TSA.URL
		}
	}
	for _, a := range anchors {
		row := templates.AnchorRow{ID: fmt.Sprint(a.ID), At: schooltime.DateTimeZone(a.CreatedAt), Head: a.HeadHash,
			Entry: fmt.Sprintf("entry %d (%d entries)", a.EntryID, a.Entries), EmailedTo: a.EmailedTo, Reason: "hourly"}
		if a.Reason == evidence.AnchorOnDemand {
			row.Reason = "on demand"
		}
		switch {
		case a.TSAToken != nil:
			row.Status = "Time-stamped " + schooltime.DateTimeZone(*a.TSATime)
		case a.TSAURL != "":
			row.Pending = true
			row.Status = fmt.Sprintf("Tried %d time(s); last: %s", a.TSAAttempts, a.TSAError)
			if a.TSANextAt != nil {
				row.Status += "; next try " + schooltime.DateTimeZone(*a.TSANextAt)
			}
		default:
			row.Status = "Signed; no time-stamping authority set"
		}
		if a.Certificate != nil && view.Fingerprint != "" {
			if c, err := x509.ParseCertificate(a.Certificate); err == nil && signkey.Fingerprint(c) != view.Fingerprint {
				row.Status += " (signed with another certificate)"
			}
		}
		view.Rows = append(view.Rows, row)
	}
	return view, nil
}

// anchorNow anchors the school's audit log at once.
func (s *Server) anchorNow(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	an := s.anchorer
	if an == nil {
		s.fail(w, r, apperr.New(apperr.Conflict, "This installation has no signing key, so it cannot anchor the audit log"))
		return
	}
	a, _, err := an.Anchor(r.Context(), v.school.ID, evidence.AnchorOnDemand, v.account.Actor(clientIP(r)))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/audit/anchors?anchored=%d", a.ID), http.StatusSeeOther)
}

// anchorEmailSave sets where the school's anchors are emailed.
func (s *Server) anchorEmailSave(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, apperr.New(apperr.Invalid, "The form could not be read"))
		return
	}
	email := r.PostForm.Get("anchor_email")
	err := evidence.SetAnchorEmail(r.Context(), s.db, v.school.ID, email, v.account.Actor(clientIP(r)))
	if err == nil {
		http.Redirect(w, r, "/admin/audit/anchors?saved=1", http.StatusSeeOther)
		return
	}
	if apperr.CodeOf(err) != apperr.Invalid {
		s.fail(w, r, err)
		return
	}
	view, verr := s.anchorsView(r)
	if verr != nil {
		s.fail(w, r, verr)
		return
	}
	view.Errors, view.Email = viewErrors(err), email
	view.Layout.HasErrors = true
	s.render(w, r, http.StatusUnprocessableEntity, templates.AnchorsPage(view))
}
