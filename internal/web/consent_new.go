package web

import (
	"fmt"
	"net/http"
	"strconv"

	"signoff/internal/apperr"
	"signoff/internal/consent"
	"signoff/internal/people"
	"signoff/internal/signing"
	"signoff/templates"
	"signoff/templates/components"
)

func newFormView(l components.LayoutProps, in consent.NewForm, err error) templates.NewParentFormView {
	errs := viewErrors(err)
	l.HasErrors = err != nil
	view := templates.NewParentFormView{Layout: l, Errors: errs, Title: in.Title, Intro: in.Intro,
		SchoolPart: in.SchoolPart, ParentPart: in.ParentPart, ChildPart: in.ChildPart}
	view.Kind = components.ChoiceProps{ID: "kind", Name: "kind", Legend: "What kind of form?", Error: errs.Get("kind"), Options: []components.Option{
		{Value: string(signing.Consent), Label: "Consent form", Hint: "Questions answered yes or no, such as photo consent", Checked: in.Kind == signing.Consent},
		{Value: string(signing.Agreement), Label: "Home-school agreement", Hint: "The school's, the parent's and the child's parts", Checked: in.Kind == signing.Agreement},
	}}
	view.YearGroups = components.ChoiceProps{ID: "year_groups", Name: "year_groups", Legend: "For the parents of pupils in", Hint: "Choose none for every year group.",
		Error: errs.Get("year_groups"), Small: true}
	for y := people.YearGroup(-1); y <= 13; y++ {
		checked := false
		for _, c := range in.YearGroups {
			checked = checked || c == y
		}
		view.YearGroups.Options = append(view.YearGroups.Options, components.Option{Value: strconv.Itoa(int(y)), Label: y.Label(), Checked: checked})
	}
	view.Signer = components.ChoiceProps{ID: "signer", Name: "signer", Legend: "Who completes it for each child?", Error: errs.Get("signer"), Options: []components.Option{
		{Value: string(signing.OneParent), Label: "One parent or carer with parental responsibility", Checked: in.Signer == signing.OneParent},
		{Value: string(signing.EachParent), Label: "Each parent or carer with parental responsibility", Checked: in.Signer == signing.EachParent},
	}}
	view.Renewal = components.ChoiceProps{ID: "renewal", Name: "renewal", Legend: "When are parents asked again?", Error: errs.Get("renewal"), Options: []components.Option{
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
