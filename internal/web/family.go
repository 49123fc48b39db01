package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"signoff/internal/apperr"
	"signoff/internal/consent"
	"signoff/internal/i18n"
	"signoff/internal/people"
	"signoff/templates"
)

func classLabel(p people.Person) string { return classLabelIn(i18n.English, p) }

// classLabelIn is a child's year group and class in the parent's language.
func classLabelIn(lang i18n.Lang, p people.Person) string {
	switch {
	case p.YearGroup != nil && p.RegClass != "":
		return lang.T("%s, class %s", lang.YearGroup(int(*p.YearGroup)), p.RegClass)
	case p.YearGroup != nil:
		return lang.YearGroup(int(*p.YearGroup))
	case p.RegClass != "":
		return lang.T("class %s", p.RegClass)
	}
	return ""
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// familyLayout is the layout in the parent's language, with the choice
// of languages linking to the same page.
func (s *Server) familyLayout(w http.ResponseWriter, r *http.Request, title func(i18n.Lang) string) (templates.LayoutProps, i18n.Lang, []templates.LanguageChoice) {
	lang := i18n.FromRequest(w, r, s.secure)
	l := s.layout(r, title(lang))
	l.Lang, l.Dir = lang.Code, lang.Dir()
	l.SkipLink, l.SignOut = lang.T("Skip to main content"), lang.T("Sign out")
	l.Footer = lang.T("Signoff · forms for %s", l.SiteName)
	l.VerifyText = lang.T("Check a signed copy")
	for i := range l.Nav {
		l.Nav[i].Label = lang.T(l.Nav[i].Label)
	}
	var choices []templates.LanguageChoice
	for _, other := range i18n.Languages {
		q := r.URL.Query()
		q.Set("lang", other.Code)
		choices = append(choices, templates.LanguageChoice{Code: other.Code, Name: other.Name, Current: other.Code == lang.Code,
			Href: r.URL.Path + "?" + q.Encode()})
	}
	return l, lang, choices
}

// parentOf returns the signed-in parent's own record.
func (s *Server) parentOf(r *http.Request) (people.Person, error) {
	v := viewerOf(r)
	if v.account.ParentID == 0 {
		return people.Person{}, apperr.New(apperr.NotFound, "Page not found")
	}
	return s.people.Get(r.Context(), v.school.ID, v.account.ParentID)
}

func formItems(lang i18n.Lang, pupilID int64, cfs []consent.ChildForm) []templates.FamilyFormItem {
	var out []templates.FamilyFormItem
	for _, cf := range cfs {
		it := templates.FamilyFormItem{Title: cf.Form.Title, Href: fmt.Sprintf("/family/children/%d/forms/%d", pupilID, cf.Form.ID)}
		switch {
		case cf.Owed:
			it.Status, it.Action = lang.T("To complete"), lang.T("Complete the form")
		case cf.Mine != nil:
			it.Status, it.Done = lang.T("Completed by you on %s", lang.Date(cf.Mine.SignedAt)), true
			it.Action = lang.T("View or change your answers")
		case len(cf.Others) > 0:
			it.Status, it.Done = lang.T("Completed by %s on %s", cf.Others[0].PersonName, lang.Date(cf.Others[0].SignedAt)), true
			it.Action = lang.T("View the answers")
		case !cf.CanSign:
			it.Status, it.Action = lang.T("Completed by a parent with parental responsibility"), lang.T("View")
		}
		out = append(out, it)
	}
	return out
}

// familyHome lists a parent's children with the forms for each.
func (s *Server) familyHome(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	parent, err := s.parentOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	children, err := s.consent.ForParent(r.Context(), v.school.ID, parent.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	l, lang, langs := s.familyLayout(w, r, func(l i18n.Lang) string { return l.T("Your children") })
	view := templates.FamilyView{Layout: l, Languages: langs, Greeting: lang.T("Hello, %s", parent.GivenName),
		Intro: lang.T("Here are the forms the school is asking you to complete for each of your children."),
		Text: templates.FamilyText{Language: lang.T("Language"), NoChildren: lang.T("The school has no children linked to you at the moment. If this is wrong, please contact the school office."),
			NothingToDo: lang.T("Nothing to complete at the moment.")},
		RecordsTitle: lang.T("Your records"),
		RecordsLink:  lang.T("Download everything the school holds about you and the forms you completed for your children (ZIP)")}
	for _, c := range children {
		view.Children = append(view.Children, templates.ChildItem{
			ID:    fmt.Sprintf("child-%d", c.Link.Person.ID),
			Name:  c.Link.Person.DisplayName(),
			Href:  fmt.Sprintf("/family/children/%d", c.Link.Person.ID),
			Class: classLabelIn(lang, c.Link.Person),
			Forms: formItems(lang, c.Link.Person.ID, c.Forms),
		})
	}
	s.render(w, r, http.StatusOK, templates.FamilyPage(view))
}

// familyChild shows one of the parent's children and their forms; any
// other child is not found.
func (s *Server) familyChild(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	id, err := idParam(r, "pupilID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	parent, err := s.parentOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	link, err := s.people.ChildOf(r.Context(), v.school.ID, parent.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	all, err := s.consent.ForParent(r.Context(), v.school.ID, parent.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var forms []consent.ChildForm
	for _, c := range all {
		if c.Link.Person.ID == id {
			forms = c.Forms
		}
	}
	c := link.Person
	l, lang, _ := s.familyLayout(w, r, func(i18n.Lang) string { return c.DisplayName() })
	s.render(w, r, http.StatusOK, templates.ChildPage(templates.ChildView{
		Layout: l,
		Name:   c.DisplayName(),
		Back:   lang.T("Your children"),
		Summary: []templates.SummaryRow{
			{Key: lang.T("Class"), Value: orDash(classLabelIn(lang, c))},
			{Key: lang.T("You are their"), Value: orDash(lowerFirst(link.Relationship))},
		},
		Note:  lang.T("There are no forms for %s at the moment.", c.GivenName),
		Forms: formItems(lang, c.ID, forms),
	}))
}

// parentFormPaths are the addresses of one child's form.
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
		q := templates.ConsentQuestion{ID: fmt.Sprintf("item-%d", it.ID), Label: it.Label, Explanation: it.Explanation, Ack: it.Kind == consent.AckItem}
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
	rec, err := s.consent.Submit(r.Context(), in)
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

// parentChangeConfirm asks a parent to confirm one change.
func (s *Server) parentChangeConfirm(w http.ResponseWriter, r *http.Request) {
	view, cf, _, lang, err := s.parentFormView(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var itemID int64
	fmt.Sscan(r.URL.Query().Get("item"), &itemID)
	to := r.URL.Query().Get("to")
	var label string
	for _, it := range cf.Items {
		if it.ID == itemID && it.Kind == consent.ConsentItem {
			label = it.Label
		}
	}
	if label == "" || (to != "yes" && to != "no") {
		s.fail(w, r, apperr.New(apperr.NotFound, "Page not found"))
		return
	}
	heading, body, confirm := lang.T("Give consent?"), lang.T("“%s” for %s will change to yes straight away.", label, view.ChildName), lang.T("Yes, give consent")
	if to == "no" {
		heading, body, confirm = lang.T("Withdraw consent?"), lang.T("“%s” for %s will change to no straight away. The school is told at once.", label, view.ChildName), lang.T("Yes, withdraw consent")
	}
	l := view.Layout
	l.Title = heading + " – " + cf.Form.Title
	s.render(w, r, http.StatusOK, templates.ConfirmChangePage(templates.ConfirmChangeView{Layout: l, Heading: heading, Body: body,
		Languages: view.Languages, LanguageLabel: view.Text.Language,
		Action: parentFormPath(cf.State.Pupil.ID, cf.Form.ID) + "/change", ItemID: fmt.Sprint(itemID), Value: to, Confirm: confirm,
		Cancel: lang.T("Cancel"), CancelTo: parentFormPath(cf.State.Pupil.ID, cf.Form.ID)}))
}

// parentChange applies one confirmed change at once.
func (s *Server) parentChange(w http.ResponseWriter, r *http.Request) {
	_, cf, parent, lang, err := s.parentFormView(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := viewerOf(r)
	var itemID int64
	fmt.Sscan(r.PostFormValue("item"), &itemID)
	value := r.PostFormValue("value")
	if value != "yes" && value != "no" {
		s.fail(w, r, apperr.New(apperr.NotFound, "Page not found"))
		return
	}
	if _, err := s.consent.Change(r.Context(), v.school.ID, cf.Form.ID, cf.State.Pupil.ID, parent.ID, itemID, value == "yes",
		v.account.Actor(clientIP(r)), r.UserAgent(), lang.Code); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, parentFormPath(cf.State.Pupil.ID, cf.Form.ID)+"?changed=1", http.StatusSeeOther)
}

// translateFieldError gives a form error in the parent's language.
func translateFieldError(lang i18n.Lang, e templates.FieldError, items []consent.Item) string {
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
