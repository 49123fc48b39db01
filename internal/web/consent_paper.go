package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"signoff/internal/apperr"
	"signoff/internal/consent"
	"signoff/internal/people"
	"signoff/internal/signing"
	"signoff/templates"
	"signoff/templates/components"
)

// paperForm records a paper form: first choose the child, then copy the answers.
func (s *Server) paperForm(w http.ResponseWriter, r *http.Request) {
	s.paperPage(w, r, nil, nil)
}

func (s *Server) paperPage(w http.ResponseWriter, r *http.Request, in *consent.Submission, formErr error) {
	v := viewerOf(r)
	id, err := idParam(r, "formID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, items, children, err := s.consent.Consents(r.Context(), v.school.ID, id, "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	l := s.layout(r, "Record a paper form")
	l.HasErrors = formErr != nil
	view := templates.PaperFormView{Layout: l, Title: f.Title, Errors: viewErrors(formErr), Action: fmt.Sprintf("/admin/consents/%d/paper", f.ID),
		Agreement: f.Kind == signing.Agreement}
	pupilID, _ := strconv.ParseInt(r.FormValue("pupil"), 10, 64)
	var pupil *people.Person
	for _, c := range children {
		view.Pupils = append(view.Pupils, components.Option{Value: fmt.Sprint(c.Pupil.ID), Label: c.Pupil.FamilyName + ", " + c.Pupil.FirstName() + " (" + c.Pupil.RegClass + ")"})
		if c.Pupil.ID == pupilID {
			p := c.Pupil
			pupil = &p
		}
	}
	if pupil == nil {
		view.Choose = true
		slices.SortFunc(view.Pupils, func(a, b components.Option) int {
			return strings.Compare(strings.ToLower(a.Label), strings.ToLower(b.Label))
		})
		// A pupil lost with the form (it could not be read) is said so
		// by formErr, rather than a plain "choose a pupil".
		s.render(w, r, formStatus(formErr), templates.PaperFormPage(view))
		return
	}
	view.PupilName, view.PupilID = pupil.DisplayName()+", "+classLabel(*pupil), fmt.Sprint(pupil.ID)
	guardians, err := s.people.GuardiansOf(r.Context(), v.school.ID, pupil.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view.Parents = components.ChoiceProps{ID: "parent", Name: "parent", Legend: "Who signed it?", Error: view.Errors.Get("parent"), Small: true}
	for _, g := range guardians {
		if !g.ParentalResponsibility {
			continue
		}
		view.Parents.Options = append(view.Parents.Options, components.Option{Value: fmt.Sprint(g.Person.ID), Label: g.Person.FullName() + " (" + g.Relationship + ")",
			Checked: in != nil && in.ParentID == g.Person.ID})
	}
	for _, it := range items {
		q := components.ConsentQuestion{ID: fmt.Sprintf("item-%d", it.ID), Label: it.Label, Ack: it.Kind == consent.AckItem}
		if in != nil {
			ans, ok := in.Answers[it.ID]
			q.Yes, q.No, q.Checked = ok && ans, ok && !ans, in.Acks[it.ID]
			q.Error = view.Errors.Get(q.ID)
		}
		view.Questions = append(view.Questions, q)
	}
	view.Day = components.DateProps{ID: "paper_date", Name: "paper_date", Legend: "Date on the form", Hint: "For example, 27 9 2026", Error: view.Errors.Get("paper_date")}
	if in != nil {
		view.Agreed, view.TypedName = in.Agreed, in.TypedName
		view.Day.Day, view.Day.Month, view.Day.Year = r.FormValue("paper_date-day"), r.FormValue("paper_date-month"), r.FormValue("paper_date-year")
	}
	s.render(w, r, formStatus(formErr), templates.PaperFormPage(view))
}

// paperSubmit records the paper form with its scan, all or nothing.
func (s *Server) paperSubmit(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	id, err := idParam(r, "formID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, consent.MaxScan+1<<20)
	if err := r.ParseMultipartForm(consent.MaxScan + 1<<20); err != nil {
		var tooBig *http.MaxBytesError
		msg := "Choose the scan of the paper form"
		if errors.As(err, &tooBig) {
			msg = "The scan must be smaller than 10 MB"
		}
		s.paperPage(w, r, &consent.Submission{}, &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "scan", Message: msg}}})
		return
	}
	_, items, err := s.consent.Form(r.Context(), v.school.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pupilID, _ := strconv.ParseInt(r.FormValue("pupil"), 10, 64)
	parentID, _ := strconv.ParseInt(r.FormValue("parent"), 10, 64)
	in := consent.Submission{SchoolID: v.school.ID, FormID: id, PupilID: pupilID, ParentID: parentID, Answers: map[int64]bool{}, Acks: map[int64]bool{},
		Agreed: r.FormValue("agree") == "yes", TypedName: r.FormValue("typed_name"), Paper: true, Actor: v.account.Actor(clientIP(r)), UserAgent: r.UserAgent()}
	for _, it := range items {
		switch r.FormValue(fmt.Sprintf("item-%d", it.ID)) {
		case "yes":
			in.Answers[it.ID], in.Acks[it.ID] = true, true
		case "no":
			in.Answers[it.ID] = false
		}
	}
	var fieldErrs []apperr.FieldError
	// The domain says whether the date is there and not in the future.
	if day, msg := formDate(r, "paper_date", "The date on the paper form"); msg != "" {
		fieldErrs = append(fieldErrs, apperr.FieldError{Field: "paper_date", Message: msg})
	} else {
		in.PaperDate = day
	}
	if parentID == 0 {
		fieldErrs = append(fieldErrs, apperr.FieldError{Field: "parent", Message: "Choose who signed the form"})
	}
	if file, header, err := r.FormFile("scan"); err == nil {
		data, _ := io.ReadAll(file)
		file.Close()
		in.Scan = &consent.Scan{Filename: header.Filename, Data: data}
	}
	if len(fieldErrs) > 0 {
		var v2 apperr.Validation
		for _, fe := range fieldErrs {
			v2.Add(fe.Field, fe.Message)
		}
		s.paperPage(w, r, &in, v2.Err())
		return
	}
	if err := s.inTurn(r.Context(), func() error { _, err := s.consent.Submit(r.Context(), in); return err }); err != nil {
		if c := apperr.CodeOf(err); c == apperr.Invalid || c == apperr.Forbidden {
			if c == apperr.Forbidden {
				err = &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "parent", Message: apperr.MessageOf(err)}}}
			}
			s.paperPage(w, r, &in, err)
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/consents/%d?paper=1", id), http.StatusSeeOther)
}

// recordScan sends the scan of a paper record.
func (s *Server) recordScan(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	rec, err := s.consent.RecordByReference(r.Context(), v.school.ID, chi.URLParam(r, "ref"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sc, err := s.consent.ScanOf(r.Context(), v.school.ID, rec.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", sc.ContentType)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="scan-%s%s"`, rec.Reference, scanExt(sc.ContentType)))
	w.Header().Set("Cache-Control", "private, no-store")
	_, _ = w.Write(sc.Data)
}

func scanExt(ct string) string {
	switch ct {
	case "application/pdf":
		return ".pdf"
	case "image/png":
		return ".png"
	}
	return ".jpg"
}
