package web

import (
	"fmt"
	"net/http"
	"net/url"

	"signoff/internal/apperr"
	"signoff/internal/consent"
	"signoff/internal/i18n"
	"signoff/internal/people"
	"signoff/templates"
	"signoff/templates/components"
)

// parentFormPath is the address of one child's form.
func parentFormPath(pupilID, formID int64) string {
	return fmt.Sprintf("/family/children/%d/forms/%d", pupilID, formID)
}

func (s *Server) parentFormText(lang i18n.Lang, child string) templates.ParentFormText {
	return templates.ParentFormText{
		ErrorTitle: lang.T("There is a problem"), Back: lang.T("Your children"), ForChild: lang.T("For %s", child), Yes: lang.T("Yes"), No: lang.T("No"),
		YourName: lang.T("Your full name"), YourNameHint: lang.T("Typing your name is your signature."),
		DrawLabel: lang.T("Draw your signature (optional)"), DrawHint: lang.T("Use your finger or mouse. You can leave this blank."),
		Clear: lang.T("Clear"), Submit: lang.T("Send"), CurrentTitle: lang.T("Your answers now"),
		HistoryTitle: lang.T("History of changes"), When: lang.T("When"), Who: lang.T("Who"), What: lang.T("What"),
		SchoolPart: lang.T("The school's part"), ParentPart: lang.T("Your part"), ChildPart: lang.T("Your child's part"),
		ChildPartNote: lang.T("Your child signs their part at school, with their teacher."),
		Agree:         lang.T("I agree to my part of this agreement"),
		NotYours:      lang.T("Only a parent or carer with parental responsibility can complete this form. Please contact the school office if this is wrong."),
		DownloadCopy:  lang.T("Download a copy (PDF)"), Language: lang.T("Language"),
	}
}

// parentFormView builds the form page for one child: to complete when it
// is owed, and the current answers with the way to change each.
func (s *Server) parentFormView(w http.ResponseWriter, r *http.Request) (templates.ParentFormView, consent.ChildForm, people.Person, i18n.Lang, error) {
	v := viewerOf(r)
	pupilID, err := idParam(r, "pupilID")
	if err != nil {
		return templates.ParentFormView{}, consent.ChildForm{}, people.Person{}, i18n.English, err
	}
	formID, err := idParam(r, "formID")
	if err != nil {
		return templates.ParentFormView{}, consent.ChildForm{}, people.Person{}, i18n.English, err
	}
	parent, err := s.parentOf(r)
	if err != nil {
		return templates.ParentFormView{}, consent.ChildForm{}, parent, i18n.English, err
	}
	link, cf, err := s.consent.ChildForm(r.Context(), v.school.ID, parent.ID, pupilID, formID)
	if err != nil {
		return templates.ParentFormView{}, cf, parent, i18n.English, err
	}
	child := link.Person
	l, lang, langs := s.familyLayout(w, r, func(i18n.Lang) string { return cf.Form.Title })
	path := parentFormPath(pupilID, formID)
	view := templates.ParentFormView{
		Layout: l, Languages: langs, Text: s.parentFormText(lang, child.DisplayName()),
		Title: cf.Form.Title, ChildName: child.DisplayName(), IntroHTML: renderMarkdown(cf.Form.IntroMD),
		Action: path, Complete: cf.Owed || cf.Mine == nil, CanSign: cf.CanSign, Agreement: cf.Form.Kind == "agreement",
	}
	if view.Agreement {
		view.SchoolHTML, view.ParentHTML, view.ChildHTML = renderMarkdown(cf.Form.SchoolPartMD), renderMarkdown(cf.Form.ParentPartMD), renderMarkdown(cf.Form.ChildPartMD)
		if rec, ok, err := s.consent.SchoolSignature(r.Context(), v.school.ID, formID); err == nil && ok {
			view.SchoolNote = lang.T("Signed on behalf of the school by %s on %s.", rec.TypedName, lang.Date(rec.SignedAt))
		}
	}
	privacy := v.school.PrivacyNoticeURL != "" && consent.FormMentionsPrivacyNotice(cf.Form, cf.Items)
	if privacy {
		view.PrivacyHref, view.PrivacyText = v.school.PrivacyNoticeURL, lang.T("Read the school's privacy notice")
	}
	for _, it := range cf.Items {
		q := components.ConsentQuestion{ID: fmt.Sprintf("item-%d", it.ID), Label: it.Label, Explanation: it.Explanation, Ack: it.Kind == consent.AckItem}
		if privacy && (consent.MentionsPrivacyNotice(it.Label) || consent.MentionsPrivacyNotice(it.Explanation)) {
			q.LinkHref, q.LinkText = view.PrivacyHref, view.PrivacyText
		}
		view.Questions = append(view.Questions, q)
	}
	// The answers now: this parent's own, else the other parent's.
	shown := cf.Mine
	if shown == nil && len(cf.Others) > 0 {
		shown = &cf.Others[0]
		view.AnswersNote = lang.T("%s completed this form on %s. You can change any answer: your answer will then count too, and if you and another parent disagree, the school follows the “no”.",
			shown.PersonName, lang.Date(shown.SignedAt))
		view.Complete = false
	}
	if shown != nil {
		view.Complete = cf.Owed
		view.PDFHref = "/family/records/" + shown.Reference + "/copy.pdf"
		for _, it := range cf.Items {
			if it.Kind != consent.ConsentItem {
				continue
			}
			yes := shown.Answers[it.ID]
			row := templates.AnswerRow{Label: it.Label, Answer: lang.T("No"), Allowed: false}
			to := "yes"
			row.ChangeText = lang.T("Give consent")
			if yes {
				row.Answer, row.Allowed, to, row.ChangeText = lang.T("Yes"), true, "no", lang.T("Withdraw consent")
			}
			if cf.State.Conflict[it.ID] {
				row.Note = lang.T("Parents disagree: the school follows the “no”.")
			}
			if cf.CanSign {
				row.ChangeHref = path + "/change?" + url.Values{"item": {fmt.Sprint(it.ID)}, "to": {to}}.Encode()
			}
			view.Answers = append(view.Answers, row)
		}
	}
	hist, err := s.consent.History(r.Context(), v.school.ID, formID, pupilID)
	if err != nil {
		return view, cf, parent, lang, err
	}
	for _, h := range hist {
		if h.Part == consent.PartChild {
			continue
		}
		what := lang.T("Completed the form")
		if h.SupersedesID != 0 {
			what = lang.T("Changed an answer")
		}
		if h.Method == "paper" {
			what = lang.T("Paper form recorded by the school office")
		}
		view.History = append(view.History, templates.HistoryRow{When: lang.DateTime(h.SignedAt), Who: h.PersonName, What: what})
	}
	return view, cf, parent, lang, nil
}

// parentForm shows a form for one child.
func (s *Server) parentForm(w http.ResponseWriter, r *http.Request) {
	view, _, _, _, err := s.parentFormView(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, templates.ParentFormPage(view))
}

// parentFormSubmit records a parent's answers for one child.
func (s *Server) parentFormSubmit(w http.ResponseWriter, r *http.Request) {
	view, cf, parent, lang, err := s.parentFormView(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := viewerOf(r)
	_ = r.ParseForm()
	in := consent.Submission{SchoolID: v.school.ID, FormID: cf.Form.ID, PupilID: cf.State.Pupil.ID, ParentID: parent.ID,
		Answers: map[int64]bool{}, Acks: map[int64]bool{}, Agreed: r.PostFormValue("agree") == "yes", TypedName: r.PostFormValue("typed_name"),
		Actor: v.account.Actor(clientIP(r)), UserAgent: r.UserAgent(), Language: lang.Code}
	if d := r.PostFormValue("drawn"); d != "" {
		in.Drawn = decodeDataURL(d)
		if in.Drawn == nil {
			in.Drawn = []byte("invalid")
		}
	}
	for _, it := range cf.Items {
		key := fmt.Sprintf("item-%d", it.ID)
		switch r.PostFormValue(key) {
		case "yes":
			in.Answers[it.ID], in.Acks[it.ID] = true, true
		case "no":
			in.Answers[it.ID] = false
		}
	}
	in.Deliver = s.receipt(r, parent, cf)
	var rec consent.Record
	err = s.inTurn(r.Context(), func() (err error) {
		rec, err = s.consent.Submit(r.Context(), in)
		return err
	})
	if apperr.CodeOf(err) == apperr.Invalid {
		view.Errors = viewErrors(err)
		for i := range view.Errors {
			view.Errors[i].Message = translateFieldError(lang, view.Errors[i], cf.Items)
		}
		view.Layout.HasErrors = true
		view.Complete = true
		view.Agreed, view.TypedName = in.Agreed, in.TypedName
		for i, q := range view.Questions {
			var id int64
			fmt.Sscanf(q.ID, "item-%d", &id)
			ans, answered := in.Answers[id]
			view.Questions[i].Yes, view.Questions[i].No = answered && ans, answered && !ans
			view.Questions[i].Checked = in.Acks[id]
			view.Questions[i].Error = view.Errors.Get(q.ID)
		}
		s.render(w, r, http.StatusUnprocessableEntity, templates.ParentFormPage(view))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/family/records/"+rec.Reference+"?done=1", http.StatusSeeOther)
}

// translateFieldError gives a form error in the parent's language.
func translateFieldError(lang i18n.Lang, e components.FieldError, items []consent.Item) string {
	for _, it := range items {
		if e.Field != fmt.Sprintf("item-%d", it.ID) {
			continue
		}
		if it.Kind == consent.AckItem {
			return lang.T("Tick to confirm: %s", it.Label)
		}
		return lang.T("Choose yes or no for: %s", it.Label)
	}
	return lang.T(e.Message)
}
