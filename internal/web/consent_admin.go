package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"signoff/internal/apperr"
	"signoff/internal/auth"
	"signoff/internal/consent"
	"signoff/internal/letters"
	"signoff/internal/people"
	"signoff/internal/schooltime"
	"signoff/internal/signing"
	"signoff/templates"
)

func formAudience(f signing.Form) string {
	var parts []string
	for _, y := range f.YearGroups {
		parts = append(parts, y.Label())
	}
	if len(parts) == 0 {
		parts = []string{"every year group"}
	}
	out := "Pupils in " + strings.Join(parts, ", ")
	if len(f.Classes) > 0 {
		out += " (classes " + strings.Join(f.Classes, ", ") + ")"
	}
	return out
}

func kindLabelForm(f signing.Form) string {
	if f.Kind == signing.Agreement {
		return "Home-school agreement"
	}
	return "Consent form"
}

// consentList lists the open parents' forms: what each asks and of whom.
// Their figures are on the compliance dashboard.
func (s *Server) consentList(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	forms, err := s.consent.Forms(r.Context(), v.school.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view := templates.ParentFormsView{Layout: s.layout(r, "Parents' forms")}
	if r.URL.Query().Get("closed") != "" {
		view.Notice = "The form is closed. Its answers stay on record"
	}
	for _, f := range forms {
		view.Rows = append(view.Rows, templates.ParentFormRow{Title: f.Title, Href: fmt.Sprintf("/admin/consents/%d", f.ID), Kind: kindLabelForm(f),
			Audience: formAudience(f), Renewal: f.Renewal.Label(), Published: schooltime.Date(f.CreatedAt),
			FiguresHref: fmt.Sprintf("/admin/tracking/forms/%d", f.ID)})
	}
	s.render(w, r, http.StatusOK, templates.ParentFormsPage(view))
}

func newFormView(l templates.LayoutProps, in consent.NewForm, err error) templates.NewParentFormView {
	errs := viewErrors(err)
	l.HasErrors = err != nil
	view := templates.NewParentFormView{Layout: l, Errors: errs, Title: in.Title, Intro: in.Intro,
		SchoolPart: in.SchoolPart, ParentPart: in.ParentPart, ChildPart: in.ChildPart}
	view.Kind = templates.ChoiceProps{ID: "kind", Name: "kind", Legend: "What kind of form?", Error: errs.Get("kind"), Options: []templates.Option{
		{Value: string(signing.Consent), Label: "Consent form", Hint: "Questions answered yes or no, such as photo consent", Checked: in.Kind == signing.Consent},
		{Value: string(signing.Agreement), Label: "Home-school agreement", Hint: "The school's, the parent's and the child's parts", Checked: in.Kind == signing.Agreement},
	}}
	view.YearGroups = templates.ChoiceProps{ID: "year_groups", Name: "year_groups", Legend: "For the parents of pupils in", Hint: "Choose none for every year group.",
		Error: errs.Get("year_groups"), Small: true}
	for y := people.YearGroup(-1); y <= 13; y++ {
		checked := false
		for _, c := range in.YearGroups {
			checked = checked || c == y
		}
		view.YearGroups.Options = append(view.YearGroups.Options, templates.Option{Value: strconv.Itoa(int(y)), Label: y.Label(), Checked: checked})
	}
	view.Signer = templates.ChoiceProps{ID: "signer", Name: "signer", Legend: "Who completes it for each child?", Error: errs.Get("signer"), Options: []templates.Option{
		{Value: string(signing.OneParent), Label: "One parent or carer with parental responsibility", Checked: in.Signer == signing.OneParent},
		{Value: string(signing.EachParent), Label: "Each parent or carer with parental responsibility", Checked: in.Signer == signing.EachParent},
	}}
	view.Renewal = templates.ChoiceProps{ID: "renewal", Name: "renewal", Legend: "When are parents asked again?", Error: errs.Get("renewal"), Options: []templates.Option{
		{Value: string(signing.UntilWithdrawn), Label: "Never: answers stand until a parent changes them", Checked: in.Renewal == signing.UntilWithdrawn},
		{Value: string(signing.EachYear), Label: "Every academic year (September)", Hint: "Needed for the home-school agreement", Checked: in.Renewal == signing.EachYear},
		{Value: string(signing.EachKeyStage), Label: "When the child moves to a new key stage", Checked: in.Renewal == signing.EachKeyStage},
	}}
	for i := 0; i < 8; i++ {
		it := templates.ItemFields{N: strconv.Itoa(i + 1)}
		if i < len(in.Items) {
			it.Label, it.Explanation, it.Photo, it.Ack = in.Items[i].Label, in.Items[i].Explanation, in.Items[i].Photo, in.Items[i].Kind == consent.AckItem
		}
		view.Items = append(view.Items, it)
	}
	return view
}

// consentNewForm shows the page to create a parents' form, filled with a
// usual photo consent to edit.
func (s *Server) consentNewForm(w http.ResponseWriter, r *http.Request) {
	in := consent.NewForm{Kind: signing.Consent, Title: "Photo consent", Signer: signing.OneParent, Renewal: signing.UntilWithdrawn,
		Intro: "We like to celebrate what our children do. Please tell us where we may use photos of your child. You can change your answers at any time.",
		Items: []consent.Item{
			{Label: "Photos in class and corridor displays", Explanation: "Seen only by people in school.", Photo: true},
			{Label: "Photos on the school website", Explanation: "Anyone can see the website. We never put children's full names with photos.", Photo: true},
			{Label: "Photos in the newsletter and prospectus", Photo: true},
			{Label: "Photos on the school's social media", Photo: true},
			{Label: "Photos in local newspapers", Explanation: "Newspapers may print first names.", Photo: true},
		}}
	s.render(w, r, http.StatusOK, templates.NewParentFormPage(newFormView(s.layout(r, "Create a form for parents"), in, nil)))
}

// consentCreate publishes a parents' form.
func (s *Server) consentCreate(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	_ = r.ParseForm()
	in := consent.NewForm{Kind: signing.Kind(r.PostFormValue("kind")), Title: r.PostFormValue("title"), Intro: r.PostFormValue("intro"),
		Signer: signing.Signer(r.PostFormValue("signer")), Renewal: signing.Renewal(r.PostFormValue("renewal")),
		SchoolPart: r.PostFormValue("school_part"), ParentPart: r.PostFormValue("parent_part"), ChildPart: r.PostFormValue("child_part")}
	for _, y := range r.PostForm["year_groups"] {
		n, err := strconv.Atoi(y)
		if err == nil {
			in.YearGroups = append(in.YearGroups, people.YearGroup(n))
		}
	}
	for i := 1; i <= 8; i++ {
		n := strconv.Itoa(i)
		it := consent.Item{Label: r.PostFormValue("item-label-" + n), Explanation: r.PostFormValue("item-explanation-" + n),
			Photo: r.PostFormValue("item-photo-"+n) == "yes", Kind: consent.ConsentItem}
		if r.PostFormValue("item-ack-"+n) == "yes" {
			it.Kind = consent.AckItem
		}
		if in.Kind == signing.Consent {
			in.Items = append(in.Items, it)
		}
	}
	f, err := s.consent.Create(r.Context(), v.school.ID, v.account.Actor(clientIP(r)), in)
	if apperr.CodeOf(err) == apperr.Invalid {
		s.render(w, r, http.StatusUnprocessableEntity, templates.NewParentFormPage(newFormView(s.layout(r, "Create a form for parents"), in, err)))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/consents/%d?created=1", f.ID), http.StatusSeeOther)
}

// consentShow is one parents' form's set-up: what it asks and of whom,
// the school's part, paper forms, class lists and closing it. Its figures
// and chase lists are on its dashboard page (trackForm), linked both ways.
func (s *Server) consentShow(w http.ResponseWriter, r *http.Request) {
	s.consentShowPage(w, r, nil)
}

func (s *Server) consentShowPage(w http.ResponseWriter, r *http.Request, formErr error) {
	v := viewerOf(r)
	id, err := idParam(r, "formID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, items, err := s.consent.Form(r.Context(), v.school.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	classes, err := s.people.Classes(r.Context(), v.school.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	base := fmt.Sprintf("/admin/consents/%d", f.ID)
	signer := "One parent or carer with parental responsibility"
	if f.Signer == signing.EachParent {
		signer = "Each parent or carer with parental responsibility"
	}
	view := templates.ParentFormAdminView{Layout: s.layout(r, f.Title), Title: f.Title, Errors: viewErrors(formErr),
		PaperHref: base + "/paper", Agreement: f.Kind == signing.Agreement, SchoolAction: base + "/school",
		CloseAction:   base + "/close",
		CanSignSchool: v.account.PersonID != 0 && (v.account.Has(auth.Head) || v.account.Has(auth.Admin)),
		IntroHTML:     renderMarkdown(f.IntroMD),
		Summary: []templates.SummaryRow{
			{Key: "Kind", Value: kindLabelForm(f)},
			{Key: "For the parents of", Value: formAudience(f)},
			{Key: "Completed by", Value: signer},
			{Key: "Asked again", Value: f.Renewal.Label()},
			{Key: "Published", Value: schooltime.Date(f.CreatedAt)},
			{Key: "Text fingerprint (SHA-256)", Value: f.TextSHA256, Mono: true},
		}}
	view.Layout.HasErrors = formErr != nil
	if f.ClosedAt != nil {
		view.Closed = "Closed on " + schooltime.Date(*f.ClosedAt)
	} else {
		view.FiguresHref = fmt.Sprintf("/admin/tracking/forms/%d", f.ID)
	}
	if r.URL.Query().Get("created") != "" {
		view.Notice = "Published: parents see it with their family link now"
	}
	if r.URL.Query().Get("paper") != "" {
		view.Notice = "Paper form recorded"
	}
	for _, it := range items {
		q := templates.ParentFormQuestion{Label: it.Label, Explanation: it.Explanation, Photo: it.Photo, Ack: it.Kind == consent.AckItem}
		view.Questions = append(view.Questions, q)
	}
	if f.Kind == signing.Agreement {
		view.Parts = []templates.AgreementPart{{Heading: "The school's part", HTML: renderMarkdown(f.SchoolPartMD)},
			{Heading: "The parent's part", HTML: renderMarkdown(f.ParentPartMD)}, {Heading: "The child's part", HTML: renderMarkdown(f.ChildPartMD)}}
		if rec, ok, err := s.consent.SchoolSignature(r.Context(), v.school.ID, f.ID); err == nil && ok {
			view.SchoolSigned = fmt.Sprintf("Signed on the school's behalf by %s on %s for %s.", rec.TypedName, schooltime.Date(rec.SignedAt),
				schooltime.AcademicYearLabel(rec.AcademicYear))
		}
	}
	// The class lists of the classes the form is for.
	for _, c := range classes {
		y := c.YearGroup
		if !consent.ForPupil(f, people.Person{Kind: people.Pupil, YearGroup: &y, RegClass: c.Name}) {
			continue
		}
		href := "/classes/photos?" + url.Values{"class": {c.Name}, "form": {fmt.Sprint(f.ID)}}.Encode()
		if f.Kind == signing.Agreement {
			href = "/class-mode?" + url.Values{"class": {c.Name}, "form": {fmt.Sprint(f.ID)}}.Encode()
		}
		view.ClassLinks = append(view.ClassLinks, templates.NavItem{Label: "Class " + c.Name, Href: href})
	}
	status := http.StatusOK
	if formErr != nil {
		status = statusOf(apperr.CodeOf(formErr))
	}
	s.render(w, r, status, templates.ParentFormAdminPage(view))
}

// consentSignSchool signs the school's part of an agreement.
func (s *Server) consentSignSchool(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	id, err := idParam(r, "formID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if v.account.PersonID == 0 {
		s.consentShowPage(w, r, &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "typed_name",
			Message: "Your account is not a member of staff's: the headteacher, or an administrator who is on the staff, signs for the school"}}})
		return
	}
	signer, err := s.people.Get(r.Context(), v.school.ID, v.account.PersonID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.consent.SignSchool(r.Context(), v.school.ID, id, signer, r.PostFormValue("typed_name"), v.account.Actor(clientIP(r))); err != nil {
		if apperr.CodeOf(err) == apperr.Invalid {
			s.consentShowPage(w, r, err)
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/consents/%d", id), http.StatusSeeOther)
}

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
		view.Pupils = append(view.Pupils, templates.Option{Value: fmt.Sprint(c.Pupil.ID), Label: c.Pupil.FamilyName + ", " + c.Pupil.FirstName() + " (" + c.Pupil.RegClass + ")"})
		if c.Pupil.ID == pupilID {
			p := c.Pupil
			pupil = &p
		}
	}
	if pupil == nil {
		view.Choose = true
		slices.SortFunc(view.Pupils, func(a, b templates.Option) int {
			return strings.Compare(strings.ToLower(a.Label), strings.ToLower(b.Label))
		})
		status := http.StatusOK
		if formErr != nil {
			// The pupil was lost with the form (it could not be read):
			// say so, rather than a plain "choose a pupil".
			status = statusOf(apperr.CodeOf(formErr))
		}
		s.render(w, r, status, templates.PaperFormPage(view))
		return
	}
	view.PupilName, view.PupilID = pupil.DisplayName()+", "+classLabel(*pupil), fmt.Sprint(pupil.ID)
	guardians, err := s.people.GuardiansOf(r.Context(), v.school.ID, pupil.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view.Parents = templates.ChoiceProps{ID: "parent", Name: "parent", Legend: "Who signed it?", Error: view.Errors.Get("parent"), Small: true}
	for _, g := range guardians {
		if !g.ParentalResponsibility {
			continue
		}
		view.Parents.Options = append(view.Parents.Options, templates.Option{Value: fmt.Sprint(g.Person.ID), Label: g.Person.FullName() + " (" + g.Relationship + ")",
			Checked: in != nil && in.ParentID == g.Person.ID})
	}
	for _, it := range items {
		q := templates.ConsentQuestion{ID: fmt.Sprintf("item-%d", it.ID), Label: it.Label, Ack: it.Kind == consent.AckItem}
		if in != nil {
			ans, ok := in.Answers[it.ID]
			q.Yes, q.No, q.Checked = ok && ans, ok && !ans, in.Acks[it.ID]
			q.Error = view.Errors.Get(q.ID)
		}
		view.Questions = append(view.Questions, q)
	}
	view.Day = templates.DateProps{ID: "paper_date", Name: "paper_date", Legend: "Date on the form", Hint: "For example, 27 9 2026", Error: view.Errors.Get("paper_date")}
	if in != nil {
		view.Agreed, view.TypedName = in.Agreed, in.TypedName
		view.Day.Day, view.Day.Month, view.Day.Year = r.FormValue("paper_date-day"), r.FormValue("paper_date-month"), r.FormValue("paper_date-year")
	}
	status := http.StatusOK
	if formErr != nil {
		status = statusOf(apperr.CodeOf(formErr))
	}
	s.render(w, r, status, templates.PaperFormPage(view))
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
	if _, err := s.consent.Submit(r.Context(), in); err != nil {
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

// consentLetters prints a letter, with a new family link and its QR code,
// for each family without an email address whose children still owe the
// form (one class with ?class=). Making the letters replaces those
// families' earlier links.
func (s *Server) consentLetters(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	id, err := idParam(r, "formID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, _, children, err := s.consent.Consents(r.Context(), v.school.ID, id, r.URL.Query().Get("class"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	type family struct {
		parent   people.Person
		children []letters.Child
	}
	var order, waiting []int64
	for _, c := range children {
		if !c.Returned {
			waiting = append(waiting, c.Pupil.ID)
		}
	}
	guardians, err := s.people.GuardiansOfPupils(r.Context(), v.school.ID, waiting)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	families := map[int64]*family{}
	for _, c := range children {
		if c.Returned {
			continue
		}
		for _, g := range guardians[c.Pupil.ID] {
			if !g.ParentalResponsibility || g.Person.Email != "" {
				continue
			}
			fam, ok := families[g.Person.ID]
			if !ok {
				fam = &family{parent: g.Person}
				families[g.Person.ID] = fam
				order = append(order, g.Person.ID)
			}
			fam.children = append(fam.children, letters.Child{Name: c.Pupil.DisplayName(), Class: classLabel(c.Pupil), Forms: []string{f.Title}})
		}
	}
	if len(order) == 0 {
		s.renderError(w, r, http.StatusOK, "No letters to print",
			"Every family still to answer this form has an email address: send them their family link from their page, or wait for them to answer.")
		return
	}
	logo, err := s.schools.LogoPNG(r.Context(), v.school.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	batch := letters.Batch{SchoolName: v.school.Name, SchoolLogo: logo, Date: s.db.Now()}
	for _, pid := range order {
		fam := families[pid]
		link, err := s.accounts.IssueFamilyLink(r.Context(), v.school.ID, pid, v.account.Actor(clientIP(r)), nil)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		name := strings.TrimSpace(fam.parent.Title + " " + fam.parent.FullName())
		batch.Letters = append(batch.Letters, letters.Letter{ParentName: name, Children: fam.children, Link: s.link("/f/" + link.Token),
			Code: link.Token, CodeURL: s.link("/family/code"), ExpiresOn: link.ExpiresAt})
	}
	var buf bytes.Buffer
	if err := letters.Write(&buf, batch); err != nil {
		s.fail(w, r, err)
		return
	}
	sendPDF(w, "letters-"+slug(f.Title)+".pdf", buf.Bytes())
}

// consentClose closes a parents' form.
func (s *Server) consentClose(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	id, err := idParam(r, "formID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.consent.Close(r.Context(), v.school.ID, id, v.account.Actor(clientIP(r))); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/consents?closed=1", http.StatusSeeOther)
}
