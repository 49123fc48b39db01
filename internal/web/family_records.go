package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/consent"
	"signoff/internal/i18n"
	"signoff/internal/mail"
	"signoff/internal/pdf"
	"signoff/internal/people"
	"signoff/internal/policies"
	"signoff/internal/schooltime"
	"signoff/internal/signing"
	"signoff/templates"
)

// renderMarkdown renders school-written Markdown safely, "" for none.
func renderMarkdown(md string) string {
	if strings.TrimSpace(md) == "" {
		return ""
	}
	return policies.RenderHTML(md)
}

// decodeDataURL reads the drawn signature a browser sends as
// "data:image/png;base64,…"; nil when it is anything else.
func decodeDataURL(s string) []byte {
	data, ok := strings.CutPrefix(s, "data:image/png;base64,")
	if !ok {
		return nil
	}
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil
	}
	return b
}

// recordCopy renders the copy of a parents' form record as a PDF.
func (s *Server) recordCopy(r *http.Request, schoolName string, f signing.Form, items []consent.Item, rec consent.Record, child people.Person) ([]byte, error) {
	var drawn []byte
	if rec.HasDrawing {
		d, err := s.consent.Drawing(r.Context(), f.SchoolID, rec.ID)
		if err == nil {
			drawn = d
		}
	}
	return s.renderRecordCopy(r.Context(), schoolName, f, items, rec, child, drawn)
}

// renderRecordCopy renders a record's copy from what is at hand (inside
// the transaction that records it, for the receipt).
func (s *Server) renderRecordCopy(ctx context.Context, schoolName string, f signing.Form, items []consent.Item, rec consent.Record, child people.Person, drawn []byte) ([]byte, error) {
	var answers []pdf.Answer
	for _, it := range items {
		if it.Kind != consent.ConsentItem {
			continue
		}
		v := "No"
		if rec.Answers[it.ID] {
			v = "Yes"
		}
		answers = append(answers, pdf.Answer{Item: it.Label, Value: v})
	}
	method := "Online"
	identified := "Their family link"
	switch rec.Method {
	case signing.Paper:
		method = "On paper, recorded by " + rec.RecordedBy
		if rec.PaperDate != nil {
			method += "; the form is dated " + rec.PaperDate.Format("2 January 2006")
		}
		identified = "Their signature on the paper form"
	case signing.Class:
		method = "In class, witnessed by " + rec.WitnessName
		identified = "In person, by their teacher"
	}
	statement := f.Statement
	logo, err := s.schools.LogoPNG(ctx, f.SchoolID)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	err = pdf.WriteSignedCopy(&buf, pdf.SignedCopy{
		SchoolName: schoolName, SchoolLogo: logo, PolicyTitle: f.Title, VersionNumber: 1, VersionDate: f.CreatedAt,
		BodyMarkdown: consent.CopyMarkdown(f, items, rec.Answers), Statement: statement, SignerName: rec.PersonName,
		SignerRole: "Parent or carer of " + child.DisplayName(), TypedSignature: rec.TypedName, SignedAt: rec.SignedAt,
		SHA256: rec.TextSHA256, Reference: rec.Reference,
		Certificate: &pdf.Certificate{ForChild: child.DisplayName() + ", " + classLabel(child), IdentifiedBy: identified, Method: method,
			Answers: answers, IP: rec.IP, UserAgent: rec.UserAgent, VerifyURL: s.link("/verify/" + rec.Reference), DrawnSignature: drawn},
	})
	if err != nil {
		return nil, err
	}
	return s.evidence().Sign(ctx, buf.Bytes(), schoolName, rec.Reference)
}

// familyRecord loads a record the signed-in parent may see: one for a
// child of theirs.
func (s *Server) familyRecord(r *http.Request) (consent.Record, signing.Form, []consent.Item, people.Person, error) {
	v := viewerOf(r)
	parent, err := s.parentOf(r)
	if err != nil {
		return consent.Record{}, signing.Form{}, nil, people.Person{}, err
	}
	rec, err := s.consent.RecordByReference(r.Context(), v.school.ID, chi.URLParam(r, "ref"))
	if err != nil {
		return rec, signing.Form{}, nil, people.Person{}, err
	}
	link, err := s.people.ChildOf(r.Context(), v.school.ID, parent.ID, rec.PupilID)
	if err != nil || rec.Part == consent.PartChild {
		return consent.Record{}, signing.Form{}, nil, people.Person{}, apperr.New(apperr.NotFound, "Page not found")
	}
	f, items, err := s.consent.Form(r.Context(), v.school.ID, rec.FormID)
	return rec, f, items, link.Person, err
}

// familyRecordPage confirms a submission and shows what was given.
func (s *Server) familyRecordPage(w http.ResponseWriter, r *http.Request) {
	rec, f, items, child, err := s.familyRecord(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	l, lang, langs := s.familyLayout(w, r, func(l i18n.Lang) string { return f.Title })
	rows := []templates.SummaryRow{
		{Key: lang.T("Child"), Value: child.DisplayName()},
		{Key: lang.T("Class"), Value: orDash(classLabelIn(lang, child))},
		{Key: lang.T("Completed by"), Value: rec.PersonName},
		{Key: lang.T("When"), Value: lang.DateTime(rec.SignedAt)},
	}
	for _, it := range items {
		if it.Kind != consent.ConsentItem {
			continue
		}
		ans := lang.T("No")
		if rec.Answers[it.ID] {
			ans = lang.T("Yes")
		}
		rows = append(rows, templates.SummaryRow{Key: it.Label, Value: ans})
	}
	rows = append(rows, templates.SummaryRow{Key: lang.T("Reference"), Value: rec.Reference, Mono: true})
	view := templates.SignedView{Layout: l, Title: f.Title, Reference: rec.Reference, JustNow: r.URL.Query().Get("done") != "",
		Rows: rows, PDFHref: "/family/records/" + rec.Reference + "/copy.pdf",
		BackHref: parentFormPath(child.ID, f.ID), BackLabel: lang.T("Back to the form, to change an answer"),
		PanelTitle: lang.T("Thank you"), Lead: lang.T("Your answers have been recorded. We have emailed you a receipt with a copy."),
		DownloadText: lang.T("Download a copy (PDF)"), RefText: lang.T("Your reference"),
		Languages: langs, LanguageLabel: lang.T("Language"), Caption: lang.T("Signature")}
	s.render(w, r, http.StatusOK, templates.SignedPage(view))
}

// familyRecordPDF sends the copy of a record as a PDF.
func (s *Server) familyRecordPDF(w http.ResponseWriter, r *http.Request) {
	rec, _, _, _, err := s.familyRecord(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeSignedCopyWithCertificate(w, r, rec.Reference)
}

// sendPDF sends a PDF as a download that no shared cache keeps.
func sendPDF(w http.ResponseWriter, name string, data []byte) {
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, name))
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("Content-Length", fmt.Sprint(len(data)))
	_, _ = w.Write(data)
}

// receipt returns the function that queues a parent's receipt email in
// the transaction that records their answers.
func (s *Server) receipt(r *http.Request, parent people.Person, cf consent.ChildForm, drawn []byte) func(context.Context, pgx.Tx, consent.Record) error {
	v := viewerOf(r)
	return func(ctx context.Context, tx pgx.Tx, rec consent.Record) error {
		if parent.Email == "" {
			return nil
		}
		var lines []string
		for _, it := range cf.Items {
			if it.Kind != consent.ConsentItem {
				continue
			}
			a := "No"
			if rec.Answers[it.ID] {
				a = "Yes"
			}
			lines = append(lines, "- "+it.Label+": "+a)
		}
		body := fmt.Sprintf(`Hello %s,

Thank you. %s has received your %s for %s.

%s

Reference: %s
Date: %s

Your signed copy is attached. You can see your answers or change one at any time with your family link:
%s

%s
`, parent.GivenName, v.school.Name, cf.Form.Title, cf.State.Pupil.DisplayName(), strings.Join(lines, "\n"), rec.Reference,
			schooltime.DateTimeZone(rec.SignedAt), s.link("/family/records/"+rec.Reference), v.school.Name)
		copyPDF, err := s.renderRecordCopy(ctx, v.school.Name, cf.Form, cf.Items, rec, cf.State.Pupil, drawn)
		if err != nil {
			return err
		}
		// The attached copy verifies by upload too: record the hash of
		// the exact bytes sent.
		sum := sha256.Sum256(copyPDF)
		if _, err := tx.Exec(ctx, `INSERT INTO signed_copies (signature_id, sha256, first_issued) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			rec.ID, hex.EncodeToString(sum[:]), s.db.Now()); err != nil {
			return fmt.Errorf("web: record receipt copy: %w", err)
		}
		_, _, err = mail.Enqueue(ctx, tx, s.db.Now(), mail.Message{SchoolID: v.school.ID, To: parent.Email, ToName: parent.FullName(),
			Subject: "Receipt: " + cf.Form.Title + " for " + cf.State.Pupil.DisplayName(), Text: body, Kind: "consent_receipt",
			DedupeKey:   "receipt:" + rec.Reference,
			Attachments: []mail.Attachment{{Filename: slug(cf.Form.Title) + "-" + rec.Reference + ".pdf", ContentType: "application/pdf", Data: copyPDF}}})
		return err
	}
}
