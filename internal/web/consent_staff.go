package web

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"signoff/internal/apperr"
	"signoff/internal/consent"
	"signoff/internal/people"
	"signoff/internal/schooltime"
	"signoff/internal/signing"
	"signoff/internal/tracking"
	"signoff/templates"
)

// pickForm chooses a parents' form of kind from ?form=, else the newest
// (preferring one with photo uses for consent).
func (s *Server) pickForm(r *http.Request, kind signing.Kind) (signing.Form, []templates.Option, error) {
	v := viewerOf(r)
	forms, err := s.consent.Forms(r.Context(), v.school.ID)
	if err != nil {
		return signing.Form{}, nil, err
	}
	want, _ := strconv.ParseInt(r.URL.Query().Get("form"), 10, 64)
	var chosen signing.Form
	var opts []templates.Option
	for _, f := range forms {
		if f.Kind != kind {
			continue
		}
		if chosen.ID == 0 || f.ID == want {
			chosen = f
		}
		opts = append(opts, templates.Option{Value: fmt.Sprint(f.ID), Label: f.Title})
	}
	for i := range opts {
		opts[i].Checked = opts[i].Value == fmt.Sprint(chosen.ID)
	}
	return chosen, opts, nil
}

func (s *Server) classOptions(r *http.Request, current string) ([]templates.Option, string, error) {
	classes, err := s.people.Classes(r.Context(), viewerOf(r).school.ID)
	if err != nil {
		return nil, "", err
	}
	var opts []templates.Option
	found := false
	for _, c := range classes {
		opts = append(opts, templates.Option{Value: c.Name, Label: c.Name + " (" + c.YearGroup.Label() + ")", Checked: c.Name == current})
		found = found || c.Name == current
	}
	if !found && len(opts) > 0 {
		current = opts[0].Value
		opts[0].Checked = true
	}
	return opts, current, nil
}

func cell(st consent.State, conflict bool) templates.ConsentCell {
	c := templates.ConsentCell{Text: "Not returned", Mark: "?", State: "none"}
	switch st {
	case consent.Given:
		c = templates.ConsentCell{Text: "Yes", Mark: "✓", State: "yes"}
	case consent.Refused:
		c = templates.ConsentCell{Text: "No", Mark: "✗", State: "no"}
	}
	if conflict {
		c.Note = "parents disagree"
	}
	return c
}

// classList is the class photo list, live, with "do not photograph" first.
func (s *Server) classList(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	classes, class, err := s.classOptions(r, r.URL.Query().Get("class"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, forms, err := s.pickForm(r, signing.Consent)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view := templates.ClassListView{Layout: s.layout(r, "Class photo list"), Title: "Class photo list: " + class, Class: class,
		Classes: classes, Forms: forms, AsAt: schooltime.DateTime(s.db.Now())}
	if f.ID == 0 {
		view.Empty = "There is no consent form yet. The office can create one under Parents' forms."
		s.render(w, r, http.StatusOK, templates.ClassListPage(view))
		return
	}
	_, items, children, err := s.consent.Consents(r.Context(), v.school.ID, f.ID, class)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view.FormTitle = f.Title
	view.CSVHref = "/classes/photos.csv?" + url.Values{"class": {class}, "form": {fmt.Sprint(f.ID)}}.Encode()
	for _, it := range items {
		if it.Kind == consent.ConsentItem {
			view.Columns = append(view.Columns, it.Label)
		}
	}
	for _, c := range children {
		row := templates.ConsentRow{Name: c.Pupil.FamilyName + ", " + c.Pupil.FirstName(), NoPhotos: c.NoPhotos(items) && hasPhoto(items),
			Restricted: c.Restricted(items), Conflict: c.HasConflict()}
		if row.NoPhotos {
			view.NoPhotoCnt++
		}
		for _, it := range items {
			if it.Kind == consent.ConsentItem {
				row.Cells = append(row.Cells, cell(c.Items[it.ID], c.Conflict[it.ID]))
			}
		}
		view.Rows = append(view.Rows, row)
	}
	if len(view.Rows) == 0 {
		view.Empty = "This form is not addressed to the parents of this class."
	}
	s.render(w, r, http.StatusOK, templates.ClassListPage(view))
}

func hasPhoto(items []consent.Item) bool {
	for _, it := range items {
		if it.Photo {
			return true
		}
	}
	return false
}

// classListCSV is the class photo list as a spreadsheet.
func (s *Server) classListCSV(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	_, class, err := s.classOptions(r, r.URL.Query().Get("class"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, _, err := s.pickForm(r, signing.Consent)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if f.ID == 0 {
		s.fail(w, r, apperr.New(apperr.NotFound, "There is no consent form"))
		return
	}
	_, items, children, err := s.consent.Consents(r.Context(), v.school.ID, f.ID, class)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="photo-list-%s.csv"`, slug(class)))
	w.Header().Set("Cache-Control", "private, no-store")
	_, _ = w.Write([]byte("\ufeff"))
	cw := csv.NewWriter(w)
	header := []string{"Last name", "First name", "Class", "Do not photograph"}
	for _, it := range items {
		if it.Kind == consent.ConsentItem {
			header = append(header, tracking.SafeCell(it.Label))
		}
	}
	_ = cw.Write(header)
	for _, c := range children {
		no := ""
		if c.NoPhotos(items) && hasPhoto(items) {
			no = "DO NOT PHOTOGRAPH"
		}
		rec := []string{tracking.SafeCell(c.Pupil.FamilyName), tracking.SafeCell(c.Pupil.FirstName()), tracking.SafeCell(c.Pupil.RegClass), no}
		for _, it := range items {
			if it.Kind == consent.ConsentItem {
				rec = append(rec, cell(c.Items[it.ID], false).Text)
			}
		}
		_ = cw.Write(rec)
	}
	cw.Flush()
}

// quickCheck finds a child by name and shows what is allowed now.
func (s *Server) quickCheck(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	view := templates.QuickCheckView{Layout: s.layout(r, "Check a child"), Query: q, TooShort: q != "" && len([]rune(q)) < 2}
	if len([]rune(q)) >= 2 {
		view.Searched = true
		pupils, err := s.people.ListPupils(r.Context(), v.school.ID, people.PupilFilter{Search: q})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if len(pupils) > 30 {
			pupils = pupils[:30]
		}
		consents, err := s.consent.ConsentsOf(r.Context(), v.school.ID, pupils)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, p := range pupils {
			res := templates.QuickCheckResult{Name: p.DisplayName(), Class: classLabel(p)}
			for _, pc := range consents[p.ID] {
				if hasPhoto(pc.Items) {
					res.NoPhotos = res.NoPhotos || pc.State.NoPhotos(pc.Items)
				}
				for _, it := range pc.Items {
					if it.Kind == consent.ConsentItem {
						res.Lines = append(res.Lines, pc.Form.Title+": "+it.Label+": "+strings.ToLower(cell(pc.State.Items[it.ID], false).Text))
					}
				}
			}
			view.Results = append(view.Results, res)
		}
	}
	s.render(w, r, http.StatusOK, templates.QuickCheckPage(view))
}

// classMode is the start of class mode: the children's names, large.
func (s *Server) classMode(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	classes, class, err := s.classOptions(r, r.URL.Query().Get("class"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, forms, err := s.pickForm(r, signing.Agreement)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	l := s.layout(r, "Class mode")
	view := templates.ClassModeListView{Layout: l, Title: "Home-school agreement: class " + class, Class: class, Classes: classes, Forms: forms}
	if name := r.URL.Query().Get("done"); name != "" {
		view.Notice = "Well done, " + name + "! Next child, please."
	}
	if f.ID == 0 {
		view.Empty = "There is no home-school agreement yet. The office can create one under Parents' forms."
		s.render(w, r, http.StatusOK, templates.ClassModeListPage(view))
		return
	}
	_, _, children, err := s.consent.Consents(r.Context(), v.school.ID, f.ID, class)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, c := range children {
		view.Children = append(view.Children, templates.ClassModeChild{Name: c.Pupil.FirstName() + " " + c.Pupil.FamilyName,
			Href: fmt.Sprintf("/class-mode/%d/pupils/%d?class=%s", f.ID, c.Pupil.ID, url.QueryEscape(class)), Signed: c.ChildSigned})
	}
	slices.SortFunc(view.Children, func(a, b templates.ClassModeChild) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	if len(view.Children) == 0 {
		view.Empty = "This agreement is not for this class."
	}
	s.render(w, r, http.StatusOK, templates.ClassModeListPage(view))
}

func (s *Server) classModeChild(r *http.Request) (signing.Form, people.Person, string, error) {
	v := viewerOf(r)
	formID, err := idParam(r, "formID")
	if err != nil {
		return signing.Form{}, people.Person{}, "", err
	}
	pupilID, err := idParam(r, "pupilID")
	if err != nil {
		return signing.Form{}, people.Person{}, "", err
	}
	f, _, err := s.consent.Form(r.Context(), v.school.ID, formID)
	if err != nil || f.Kind != signing.Agreement {
		return f, people.Person{}, "", apperr.New(apperr.NotFound, "Page not found")
	}
	p, err := s.people.GetKind(r.Context(), v.school.ID, pupilID, people.Pupil)
	if err != nil || !consent.ForPupil(f, p) {
		return f, p, "", apperr.New(apperr.NotFound, "Page not found")
	}
	back := "/class-mode?" + url.Values{"class": {p.RegClass}, "form": {fmt.Sprint(f.ID)}}.Encode()
	return f, p, back, nil
}

// classModeSign shows a child their part, in large text.
func (s *Server) classModeSign(w http.ResponseWriter, r *http.Request) {
	f, p, back, err := s.classModeChild(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, templates.ClassModeSignPage(templates.ClassModeSignView{Layout: s.layout(r, "Class mode"),
		Name: p.FirstName(), PartHTML: renderMarkdown(f.ChildPartMD), Action: r.URL.Path, BackHref: back}))
}

// classModeSubmit records the child's part, witnessed by the teacher.
func (s *Server) classModeSubmit(w http.ResponseWriter, r *http.Request) {
	f, p, back, err := s.classModeChild(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := viewerOf(r)
	if v.account.PersonID == 0 {
		s.fail(w, r, apperr.New(apperr.Forbidden, "Class mode needs a member of staff's account, to witness the signing"))
		return
	}
	teacher, err := s.people.Get(r.Context(), v.school.ID, v.account.PersonID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	in := consent.ChildInput{SchoolID: v.school.ID, FormID: f.ID, PupilID: p.ID, Agreed: r.PostFormValue("agree") == "yes",
		TypedName: r.PostFormValue("typed_name"), Witness: teacher, Actor: v.account.Actor(clientIP(r)), UserAgent: r.UserAgent()}
	if d := r.PostFormValue("drawn"); d != "" {
		in.Drawn = decodeDataURL(d)
	}
	if _, err := s.consent.SignChild(r.Context(), in); err != nil {
		if apperr.CodeOf(err) == apperr.Invalid {
			l := s.layout(r, "Class mode")
			l.HasErrors = true
			s.render(w, r, http.StatusUnprocessableEntity, templates.ClassModeSignPage(templates.ClassModeSignView{Layout: l,
				Name: p.FirstName(), PartHTML: renderMarkdown(f.ChildPartMD), Action: r.URL.Path, BackHref: back,
				Errors: viewErrors(err), Agreed: in.Agreed, TypedName: in.TypedName}))
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, back+"&done="+url.QueryEscape(p.FirstName()), http.StatusSeeOther)
}
