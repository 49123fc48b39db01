package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"signoff/internal/apperr"
	"signoff/internal/consent"
	"signoff/internal/schooltime"
	"signoff/internal/signing"
	"signoff/internal/spreadsheet"
	"signoff/templates"
	"signoff/templates/components"
)

// pickForm chooses a parents' form of kind from ?form=, else the newest
// (preferring one with photo uses for consent).
func (s *Server) pickForm(r *http.Request, kind signing.Kind) (signing.Form, []components.Option, error) {
	v := viewerOf(r)
	forms, err := s.consent.Forms(r.Context(), v.school.ID)
	if err != nil {
		return signing.Form{}, nil, err
	}
	want, _ := strconv.ParseInt(r.URL.Query().Get("form"), 10, 64)
	var chosen signing.Form
	var opts []components.Option
	for _, f := range forms {
		if f.Kind != kind {
			continue
		}
		if chosen.ID == 0 || f.ID == want {
			chosen = f
		}
		opts = append(opts, components.Option{Value: fmt.Sprint(f.ID), Label: f.Title})
	}
	for i := range opts {
		opts[i].Checked = opts[i].Value == fmt.Sprint(chosen.ID)
	}
	return chosen, opts, nil
}

func (s *Server) classOptions(r *http.Request, current string) ([]components.Option, string, error) {
	classes, err := s.people.Classes(r.Context(), viewerOf(r).school.ID)
	if err != nil {
		return nil, "", err
	}
	var opts []components.Option
	found := false
	for _, c := range classes {
		opts = append(opts, components.Option{Value: c.Name, Label: c.Name + " (" + c.YearGroup.Label() + ")", Checked: c.Name == current})
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
	t := spreadsheet.Table{Sheet: "Photo list", Header: []string{"Last name", "First name", "Class", "Do not photograph"}}
	for _, it := range items {
		if it.Kind == consent.ConsentItem {
			t.Header = append(t.Header, it.Label)
		}
	}
	for _, c := range children {
		no := ""
		if c.NoPhotos(items) && hasPhoto(items) {
			no = "DO NOT PHOTOGRAPH"
		}
		rec := []string{c.Pupil.FamilyName, c.Pupil.FirstName(), c.Pupil.RegClass, no}
		for _, it := range items {
			if it.Kind == consent.ConsentItem {
				rec = append(rec, cell(c.Items[it.ID], false).Text)
			}
		}
		t.Rows = append(t.Rows, rec)
	}
	s.sendTable(w, r, "photo-list-"+slug(class), "csv", t)
}
