package web

import (
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/jackc/pgx/v5"

	"signoff/internal/audit"
	"signoff/internal/subjectaccess"
)

// subjectAccessZip sends the office everything Signoff holds about one
// person (staff, parent or pupil) as a ZIP, and records that it did.
func (s *Server) subjectAccessZip(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	id, err := idParam(r, "personID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.people.Get(r.Context(), v.school.ID, id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.sendSubjectAccess(w, r, id, "subject_access.exported")
}

// familyRecordsZip sends a parent their own records: what they gave for
// each of their children (never the other parent's), their sign-ins and
// the emails sent to them.
func (s *Server) familyRecordsZip(w http.ResponseWriter, r *http.Request) {
	parent, err := s.parentOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.sendSubjectAccess(w, r, parent.ID, "subject_access.downloaded")
}

// sendSubjectAccess gathers what is held about personID, records the
// download in the audit log (before a byte is sent) and streams the ZIP,
// rendering one signed copy at a time.
func (s *Server) sendSubjectAccess(w http.ResponseWriter, r *http.Request, personID int64, action string) {
	v := viewerOf(r)
	ex, err := s.subjectAccess.Collect(r.Context(), v.school.ID, personID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.db.InTx(r.Context(), func(tx pgx.Tx) error {
		return audit.Record(r.Context(), tx, audit.Entry{SchoolID: v.school.ID, At: s.db.Now(), Actor: v.account.Actor(clientIP(r)),
			Action: action, Subject: "person " + strconv.FormatInt(personID, 10),
			Detail: map[string]string{"records": strconv.Itoa(len(ex.Records) + len(ex.AboutThem)), "emails": strconv.Itoa(len(ex.Emails))}})
	}); err != nil {
		s.fail(w, r, err)
		return
	}
	ev := s.evidence
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, ex.FileName()))
	w.Header().Set("Cache-Control", "private, no-store")
	err = subjectaccess.WriteZIP(w, ex, func(out io.Writer, ref string, own bool) error {
		rec, err := ev.Load(r.Context(), v.school.ID, ref)
		if err != nil {
			return err
		}
		if !own {
			rec = rec.WithoutDevice()
		}
		_, err = ev.Render(r.Context(), out, rec)
		return err
	})
	if err != nil {
		s.log.Error("subject access zip", "person", personID, "err", err)
		panic(http.ErrAbortHandler) // a broken download, never a partial archive that looks whole
	}
}
