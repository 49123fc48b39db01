package web

import (
	"net/http"

	"signoff/internal/auth"
	"signoff/internal/evidence"
)

// writeSignedCopyWithCertificate sends the signed copy of the signature
// with reference ref (of the viewer's school) with its certificate page
// (a member of staff's copy, signature.go, and a parent's,
// family_records.go, after their ownership checks): the stored copy, the
// same bytes every time, read with no write; the first time it is
// rendered, signed, stored and its hash recorded so that it verifies
// (evidence.Store.Issue).
func (s *Server) writeSignedCopyWithCertificate(w http.ResponseWriter, r *http.Request, ref string) {
	rec, err := s.evidence.Load(r.Context(), viewerOf(r).school.ID, ref)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.sendSignedCopy(w, r, rec)
}

// sendSignedCopy sends the signed copy of the loaded record rec, whose
// ownership the caller has checked.
func (s *Server) sendSignedCopy(w http.ResponseWriter, r *http.Request, rec evidence.Record) {
	// The IP address and browser only for the one who gave them and the
	// office (a co-parent's download leaves them out).
	if v := viewerOf(r); !rec.DeviceShownTo(v.account.ID, v.account.Has(auth.Admin)) {
		rec = rec.WithoutDevice()
	}
	data, err := s.evidence.Issue(r.Context(), rec)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sendPDF(w, slug(rec.Copy.PolicyTitle)+"-"+rec.Reference+".pdf", data)
}
