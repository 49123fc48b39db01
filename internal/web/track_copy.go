package web

import (
	"bytes"
	"net/http"

	"signoff/internal/auth"
)

// writeSignedCopyWithCertificate sends the signed copy of the signature
// with reference ref (of the viewer's school) with its certificate page,
// recording the hash of the bytes issued so that the copy verifies: a
// member of staff's copy (signature.go) and a parent's (family_records.go),
// after their ownership checks.
func (s *Server) writeSignedCopyWithCertificate(w http.ResponseWriter, r *http.Request, ref string) {
	ev := s.evidence
	rec, err := ev.Load(r.Context(), viewerOf(r).school.ID, ref)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The IP address and browser only for the one who gave them and the
	// office (a co-parent's download leaves them out).
	if v := viewerOf(r); !rec.DeviceShownTo(v.account.ID, v.account.Has(auth.Admin)) {
		rec = rec.WithoutDevice()
	}
	var buf bytes.Buffer
	if _, err := ev.Render(r.Context(), &buf, rec); err != nil {
		s.fail(w, r, err)
		return
	}
	sendPDF(w, slug(rec.Copy.PolicyTitle)+"-"+rec.Reference+".pdf", buf.Bytes())
}
