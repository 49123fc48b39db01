package web

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"signoff/internal/evidence"
	"signoff/internal/ratelimit"
	"signoff/internal/schooltime"
	"signoff/internal/signkey"
	"signoff/templates"
	"signoff/templates/components"
)

// LimitVerifyByIP limits the public verification page: 60 checks per IP
// address in 15 minutes, so references cannot be guessed in bulk.
var LimitVerifyByIP = ratelimit.Rule{Name: "verify-ip", Max: 60, Window: 15 * time.Minute}

// verifyForm is the public page: type a reference (?ref=) or upload a PDF.
func (s *Server) verifyForm(w http.ResponseWriter, r *http.Request) {
	ref := strings.TrimSpace(r.URL.Query().Get("ref"))
	if ref == "" {
		s.render(w, r, http.StatusOK, templates.VerifyPage(templates.VerifyView{Layout: s.trackLayout(r, "Check a signed copy")}))
		return
	}
	s.verifyReference(w, r, ref)
}

// verifyLink is the link printed (and in the QR code) on a signed copy.
func (s *Server) verifyLink(w http.ResponseWriter, r *http.Request) {
	s.verifyReference(w, r, chi.URLParam(r, "ref"))
}

func (s *Server) verifyReference(w http.ResponseWriter, r *http.Request, ref string) {
	if len(ref) > 40 {
		ref = ref[:40]
	}
	if err := s.limits.Allow(r.Context(), LimitVerifyByIP, clientIP(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.evidence.VerifyReference(r.Context(), ref)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderVerify(w, r, res, ref)
}

// verifyUpload checks an uploaded signed copy.
func (s *Server) verifyUpload(w http.ResponseWriter, r *http.Request) {
	if err := s.limits.Allow(r.Context(), LimitVerifyByIP, clientIP(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	bad := func(msg string) {
		view := templates.VerifyView{Layout: s.trackLayout(r, "Check a signed copy"), Errors: components.Errors{{Field: "file", Message: msg}}}
		view.Layout.HasErrors = true
		s.render(w, r, http.StatusUnprocessableEntity, templates.VerifyPage(view))
	}
	r.Body = http.MaxBytesReader(w, r.Body, evidence.MaxUpload+1<<20)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			bad("The file must be smaller than 20 MB")
			return
		}
		bad("Choose the signed copy (a PDF file) to upload")
		return
	}
	defer func() { _ = r.MultipartForm.RemoveAll() }()
	file, _, err := r.FormFile("file")
	if err != nil {
		bad("Choose the signed copy (a PDF file) to upload")
		return
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, evidence.MaxUpload+1))
	if err != nil {
		bad("The file could not be read: try again")
		return
	}
	if len(data) > evidence.MaxUpload {
		bad("The file must be smaller than 20 MB")
		return
	}
	if len(data) == 0 || !strings.HasPrefix(string(data[:min(len(data), 1024)]), "%PDF-") && !strings.Contains(string(data[:min(len(data), 1024)]), "%PDF-") {
		bad("The file must be a PDF: the signed copy you downloaded from Signoff")
		return
	}
	res, err := s.evidence.VerifyPDF(r.Context(), data)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The result is shown by a GET (post/redirect/get): the file is not
	// kept, only what the result page shows.
	if err := s.hold(w, r, verifyResultPath, verifyResultOf(res, res.Reference)); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, verifyResultPath, http.StatusSeeOther)
}

// verifyResultPath shows the check of an uploaded file.
const verifyResultPath = "/verify/result"

// verifyUploaded shows the result of the upload just checked, held for
// this browser; without one, the form.
func (s *Server) verifyUploaded(w http.ResponseWriter, r *http.Request) {
	var res verifyResult
	if !s.held(r, &res) {
		http.Redirect(w, r, "/verify", http.StatusSeeOther)
		return
	}
	s.showVerify(w, r, res)
}

// verifyResult is what a check shows.
type verifyResult struct {
	Status                                                int
	Reference                                             string
	Verified, Found, FileChecked, FileMatches, TextIntact bool
	Heading, Reason                                       string
	Rows                                                  []components.SummaryRow
}

// renderVerify shows a result.
func (s *Server) renderVerify(w http.ResponseWriter, r *http.Request, res evidence.Result, typed string) {
	s.showVerify(w, r, verifyResultOf(res, typed))
}

func (s *Server) showVerify(w http.ResponseWriter, r *http.Request, res verifyResult) {
	w.Header().Set("Referrer-Policy", "no-referrer")
	s.render(w, r, res.Status, templates.VerifyPage(templates.VerifyView{Layout: s.trackLayout(r, "Check a signed copy"), Reference: res.Reference,
		Checked: true, Verified: res.Verified, Found: res.Found, FileChecked: res.FileChecked, FileMatches: res.FileMatches, TextIntact: res.TextIntact,
		Heading: res.Heading, Reason: res.Reason, Rows: res.Rows}))
}

// verifyResultOf describes a result: only what the signed copy itself
// shows on its face (never the IP address, browser or anything of anyone
// else).
func verifyResultOf(res evidence.Result, typed string) verifyResult {
	view := verifyResult{Reference: typed, Verified: res.Verified(),
		Found: res.Found, FileChecked: res.FileChecked, FileMatches: res.FileMatches, TextIntact: res.TextIntact}
	switch {
	case res.FileChecked && res.Reference == "":
		view.Heading = "This file is not a signed copy from Signoff"
		view.Reason = "It has no signature reference in it. Check the file is the signed copy as it was downloaded."
	case !res.Found:
		view.Heading = "There is no signature with this reference"
		view.Reason = "Check the reference is typed exactly as printed, for example SG-7Q2K-9XHM-4D1P. A copy with a reference Signoff does not hold is not genuine."
	case !res.TextIntact:
		view.Heading = "The stored text no longer matches its fingerprint"
		view.Reason = "Contact the school: the text held for this signature does not match the SHA-256 recorded when it was signed."
	case !res.SealState.Good() && res.FileChecked:
		view.Heading = "This copy does not match the record"
		view.Reason = "The reference is genuine, but the record Signoff holds has been changed since it was made (it no longer matches its seal), so neither the record nor this copy can be relied on. Contact the school."
	case !res.SealState.Good():
		view.Heading = "The record does not match its seal"
		view.Reason = "The record Signoff holds for this reference has been changed since it was made (it no longer matches the seal made with it). Contact the school: it cannot be relied on."
	case res.SignatureBroken():
		view.Heading = "This file's digital signature is broken"
		view.Reason = "Its digital signature does not match it: " + res.Signature.Problem + ". Ask the school for a fresh copy, or compare with the record below."
	case res.FileChecked && !res.FileMatches:
		view.Heading = "This file does not match the signed copy Signoff issued"
		view.Reason = "The reference is genuine, but the file has been changed since it was issued (its text, pages or details). Ask the school for a fresh copy, or compare with the record below."
	case res.FileChecked:
		view.Heading = "This signed copy is genuine"
		view.Reason = "The file is exactly the copy Signoff issued, and matches the stored record and the text signed."
	default:
		view.Heading = "This signature is on record"
		view.Reason = "The reference matches a stored signature, and the text signed is intact. Upload the PDF to check the file itself."
	}
	if res.Found {
		view.Reference = res.Reference
		view.Rows = []components.SummaryRow{
			{Key: "School", Value: res.SchoolName},
			{Key: "Document", Value: res.Title + ", version " + strconv.Itoa(res.Version)},
			{Key: "Signed by", Value: res.SignerName},
			{Key: "Signed on", Value: res.SignedAt},
			{Key: "Reference", Value: res.Reference, Mono: true},
			{Key: "SHA-256 of the text signed", Value: res.SHA256, Mono: true},
		}
		if res.FileChecked {
			view.Rows = append(view.Rows, components.SummaryRow{Key: "SHA-256 of the file checked", Value: res.FileSHA256, Mono: true})
			view.Rows = append(view.Rows, signatureRows(res)...)
		}
		if !res.SealState.Good() {
			// What the record says now is not evidence of anything.
			view.Rows = []components.SummaryRow{{Key: "Reference", Value: res.Reference, Mono: true}}
		}
	}
	view.Status = http.StatusOK
	if !res.Found {
		view.Status = http.StatusNotFound
	}
	return view
}

// signatureRows describe an uploaded file's digital signature and time stamp.
func signatureRows(res evidence.Result) []components.SummaryRow {
	sig := res.Signature
	var by, stamp string
	switch {
	case !sig.Signed:
		by = "None: this copy was issued before Signoff signed its copies"
	case !sig.Valid:
		by = "Broken: " + sig.Problem
	default:
		by = "Valid, made by " + sig.Certificate.Subject.CommonName
		if res.OurKey {
			by += " with this installation's certificate"
		} else {
			by += " with a certificate that is not this installation's"
		}
	}
	switch {
	case sig.TimeStamped:
		stamp = schooltime.DateTimeZone(sig.TimeStamp) + ", vouched for by " + sig.TimeStampBy.Subject.CommonName
	case sig.Signed && sig.Valid:
		stamp = "None: the copy was signed without a time-stamping authority"
	}
	rows := []components.SummaryRow{{Key: "Digital signature", Value: by}}
	if sig.Certificate != nil {
		rows = append(rows, components.SummaryRow{Key: "Certificate (SHA-256)", Value: signkey.Fingerprint(sig.Certificate), Mono: true})
	}
	if stamp != "" {
		rows = append(rows, components.SummaryRow{Key: "Time stamp", Value: stamp})
	}
	return rows
}
