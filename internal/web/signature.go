package web

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"signoff/internal/apperr"
	"signoff/internal/auth"
	"signoff/internal/people"
	"signoff/internal/schooltime"
	"signoff/internal/signing"
	"signoff/templates"
	"signoff/templates/components"
)

// ownSignature returns the signature named in the path, and its signer,
// when the viewer may see it: their own, or any of their school's for an admin. Anything
// else is not found, never forbidden, so references cannot be probed.
func (s *Server) ownSignature(r *http.Request) (signing.Signature, people.Person, error) {
	sig, err := s.ownedSignature(r)
	if err != nil {
		return sig, people.Person{}, err
	}
	p, err := s.people.Get(r.Context(), viewerOf(r).school.ID, sig.PersonID)
	return sig, p, err
}

// ownedSignature is ownSignature without the signer's details.
func (s *Server) ownedSignature(r *http.Request) (signing.Signature, error) {
	v := viewerOf(r)
	sig, err := s.signing.ByReference(r.Context(), v.school.ID, chi.URLParam(r, "ref"))
	if err != nil {
		return sig, err
	}
	if err := mayOpenSignatureOf(v, sig.PersonID); err != nil {
		return signing.Signature{}, err
	}
	return sig, nil
}

// mayOpenSignatureOf is ownSignature's rule: a signature of person
// personID is the viewer's own, or any of their school's for an admin;
// anything else is not found.
func mayOpenSignatureOf(v viewer, personID int64) error {
	if !v.account.Has(auth.Admin) && (v.account.PersonID == 0 || personID != v.account.PersonID) {
		return apperr.New(apperr.NotFound, "Page not found")
	}
	return nil
}

// signature shows a signature's receipt.
func (s *Server) signature(w http.ResponseWriter, r *http.Request) {
	sig, p, err := s.ownSignature(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := viewerOf(r)
	view := templates.SignedView{
		Layout:    s.layout(r, sig.FormTitle),
		Title:     sig.FormTitle,
		Reference: sig.Reference,
		JustNow:   r.URL.Query().Get("signed") != "" && sig.PersonID == v.account.PersonID,
		Rows: []components.SummaryRow{
			{Key: "Signed by", Value: p.FullName() + " (" + p.RoleLabel() + ")"},
			{Key: "Typed signature", Value: sig.TypedName},
			{Key: "Statement", Value: sig.Statement},
			{Key: "Version", Value: strconv.Itoa(sig.VersionNumber)},
			{Key: "Signed on", Value: schooltime.DateTimeZone(sig.SignedAt)},
			{Key: "Reference", Value: sig.Reference, Mono: true},
			{Key: "Text fingerprint (SHA-256)", Value: sig.VersionSHA256, Mono: true},
		},
		PDFHref:   "/signatures/" + sig.Reference + "/copy.pdf",
		BackHref:  "/",
		BackLabel: "Back to your documents",
	}
	if sig.PersonID != v.account.PersonID {
		view.BackHref = fmt.Sprintf("/admin/staff/%d", p.ID)
		view.BackLabel = "Back to " + p.FullName()
	}
	s.render(w, r, http.StatusOK, templates.SignedPage(view))
}

// signedCopy sends the signed copy as a PDF. The record the copy prints
// is read once (evidence.Load, of the viewer's school), and ownership is
// checked on it (ownSignature's rule): not first through the receipt's
// own read of the signature.
func (s *Server) signedCopy(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	rec, err := s.evidence.Load(r.Context(), v.school.ID, chi.URLParam(r, "ref"))
	if err == nil {
		err = mayOpenSignatureOf(v, rec.PersonID)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.sendSignedCopy(w, r, rec)
}

// slug makes a file-name-safe version of s.
func slug(s string) string {
	var b []byte
	dash := false
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b = append(b, byte(r))
			dash = false
		case r >= 'A' && r <= 'Z':
			b = append(b, byte(r-'A'+'a'))
			dash = false
		default:
			if !dash && len(b) > 0 {
				b = append(b, '-')
				dash = true
			}
		}
	}
	for len(b) > 0 && b[len(b)-1] == '-' {
		b = b[:len(b)-1]
	}
	if len(b) > 60 {
		b = b[:60]
	}
	return string(b)
}
