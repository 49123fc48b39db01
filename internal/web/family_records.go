package web

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/consent"
	"signoff/internal/i18n"
	"signoff/internal/mail"
	"signoff/internal/people"
	"signoff/internal/signing"
	"signoff/templates"
	"signoff/templates/components"
)

// familyRecord loads a record the signed-in parent may see: one for a
// child of theirs.
func (s *Server) familyRecord(r *http.Request) (consent.Record, signing.Form, []consent.Item, people.Person, error) {
	v := viewerOf(r)
	parentID, err := parentIDOf(r) // ChildOf below finds no child of a parent not held
	if err != nil {
		return consent.Record{}, signing.Form{}, nil, people.Person{}, err
	}
	rec, err := s.consent.RecordByReference(r.Context(), v.school.ID, chi.URLParam(r, "ref"))
	if err != nil {
		return rec, signing.Form{}, nil, people.Person{}, err
	}
	link, err := s.people.ChildOf(r.Context(), v.school.ID, parentID, rec.PupilID)
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
	rows := []components.SummaryRow{
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
		rows = append(rows, components.SummaryRow{Key: it.Label, Value: ans})
	}
	rows = append(rows, components.SummaryRow{Key: lang.T("Reference"), Value: rec.Reference, Mono: true})
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

// receipt returns the function that queues a parent's receipt email in
// the transaction that records their answers.
func (s *Server) receipt(r *http.Request, parent people.Person, cf consent.ChildForm) func(context.Context, pgx.Tx, consent.Record) error {
	v := viewerOf(r)
	return func(ctx context.Context, tx pgx.Tx, rec consent.Record) error {
		if parent.Email == "" {
			return nil
		}
		subject, body := receiptText(i18n.ByCode(rec.Language), v.school.Name, parent, cf, rec, s.link("/family/records/"+rec.Reference))
		// The one builder of signed copies issues the attached copy in
		// this transaction, recording its hash so it verifies by upload.
		copyPDF, err := s.evidence.IssueTx(ctx, tx, v.school.ID, rec.Reference)
		if err != nil {
			return err
		}
		_, _, err = mail.Enqueue(ctx, tx, s.db.Now(), mail.Message{SchoolID: v.school.ID, To: parent.Email, ToName: parent.FullName(),
			Subject: subject, Text: body, Kind: "consent_receipt",
			DedupeKey:   "receipt:" + rec.Reference,
			Attachments: []mail.Attachment{{Filename: slug(cf.Form.Title) + "-" + rec.Reference + ".pdf", ContentType: "application/pdf", Data: copyPDF}}})
		return err
	}
}
