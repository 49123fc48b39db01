package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"signoff/internal/apperr"
	"signoff/internal/mis"
	"signoff/templates"
	"signoff/templates/components"
)

// importForm shows the upload page.
func (s *Server) importForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, templates.ImportUploadPage(templates.ImportUploadView{Layout: s.layout(r, "Import from your MIS")}))
}

// importUpload stores the uploaded files and shows what they would change.
func (s *Server) importUpload(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	fail := func(msg string) {
		l := s.layout(r, "Import from your MIS")
		l.HasErrors = true
		s.render(w, r, http.StatusUnprocessableEntity, templates.ImportUploadPage(templates.ImportUploadView{Layout: l,
			Errors: components.Errors{{Field: "files", Message: msg}}}))
	}
	r.Body = http.MaxBytesReader(w, r.Body, mis.MaxUpload)
	if err := r.ParseMultipartForm(mis.MaxUpload); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			fail("The files are too big: upload at most 20 MB at a time")
			return
		}
		fail("Choose at least one CSV file to upload")
		return
	}
	var total int64
	for _, fh := range r.MultipartForm.File["files"] {
		total += fh.Size
	}
	if total > mis.MaxUpload {
		fail("The files are too big: upload at most 20 MB at a time")
		return
	}
	var files []mis.File
	for _, fh := range r.MultipartForm.File["files"] {
		name := fh.Filename
		if !strings.HasSuffix(strings.ToLower(name), ".csv") && !strings.HasSuffix(strings.ToLower(name), ".txt") {
			fail(fmt.Sprintf("%s is not a CSV file: export the data from your MIS as CSV", name))
			return
		}
		f, err := fh.Open()
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if len(data) == 0 {
			fail(fmt.Sprintf("%s is empty", name))
			return
		}
		files = append(files, mis.File{Name: name, Data: data})
	}
	if len(files) == 0 {
		fail("Choose at least one CSV file to upload")
		return
	}
	id, err := s.mis.SaveBatch(r.Context(), v.school.ID, v.account.Actor(clientIP(r)), files)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/import/%d", id), http.StatusSeeOther)
}

// importPreview shows what a stored batch would change (or did).
func (s *Server) importPreview(w http.ResponseWriter, r *http.Request) {
	s.importPage(w, r, nil)
}

func (s *Server) importPage(w http.ResponseWriter, r *http.Request, actionErr error) {
	v := viewerOf(r)
	id, err := idParam(r, "importID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	b, err := s.mis.Batch(r.Context(), v.school.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// An applied import's files are deleted; it shows its summary.
	var rep mis.Report
	if b.AppliedAt == nil {
		if rep, err = s.mis.Preview(r.Context(), v.school.ID, b.Files); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	base := fmt.Sprintf("/admin/import/%d", id)
	view := templates.ImportPreviewView{
		Layout:      s.layout(r, "Check the import"),
		Summary:     rep.Summary(),
		ApplyAction: base + "/apply",
		MapAction:   base + "/mapping",
		Applied:     b.AppliedAt != nil,
	}
	if view.Applied {
		view.Summary = b.Summary
	}
	if actionErr != nil {
		view.Errors = viewErrors(actionErr)
		if len(view.Errors) == 0 {
			view.Message = apperr.MessageOf(actionErr)
		}
		view.Layout.HasErrors = true
	}
	for _, w := range rep.Warnings() {
		view.Warnings = append(view.Warnings, w.Message)
	}
	for i, f := range rep.Files {
		fv := templates.ImportFileView{Name: f.Name, Kind: kindLabel(f.Kind), New: f.New, Changed: f.Changed, Unchanged: f.Unchanged, Leavers: f.Leavers,
			NewPeople: importPeople(f.NewPeople), ChangedPeople: importPeople(f.ChangedPeople), LeavingPeople: importPeople(f.LeavingPeople), Index: i}
		for j, h := range f.UnknownHeaders {
			m := templates.ImportMappingField{ID: fmt.Sprintf("map-%d-%d", i, j), Name: fmt.Sprintf("map-%d-%s", i, h), Header: h,
				Options: []components.Option{{Value: mis.FieldIgnore, Label: "Ignore this column", Checked: true}}}
			for _, fld := range mis.FieldsFor(f.Kind) {
				m.Options = append(m.Options, components.Option{Value: fld.Name, Label: fld.Label})
			}
			fv.Unknown = append(fv.Unknown, m)
		}
		view.Files = append(view.Files, fv)
	}
	for _, bad := range rep.BadRows() {
		view.BadRows = append(view.BadRows, templates.ImportBadRow{File: bad.File, Line: bad.Line, Reason: bad.Reason})
	}
	s.render(w, r, formStatus(actionErr), templates.ImportPreviewPage(view))
}

func kindLabel(k mis.Kind) string {
	switch k {
	case mis.Staff:
		return "Staff"
	case mis.Pupils:
		return "Pupils"
	case mis.Contacts:
		return "Contacts (parents and carers)"
	}
	return "Not recognised"
}

// importMapping records what unrecognised headings hold, then previews again.
func (s *Server) importMapping(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	id, err := idParam(r, "importID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.mis.Batch(r.Context(), v.school.ID, id); err != nil {
		s.fail(w, r, err)
		return
	}
	_ = r.ParseForm()
	byFile := map[int]map[string]string{}
	for key, vals := range r.PostForm {
		rest, ok := strings.CutPrefix(key, "map-")
		if !ok || len(vals) == 0 {
			continue
		}
		num, header, ok := strings.Cut(rest, "-")
		pos, err := strconv.Atoi(num)
		if !ok || err != nil {
			continue
		}
		if byFile[pos] == nil {
			byFile[pos] = map[string]string{}
		}
		byFile[pos][header] = vals[0]
	}
	for pos, m := range byFile {
		if err := s.mis.SetMapping(r.Context(), v.school.ID, id, pos, m); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/import/%d", id), http.StatusSeeOther)
}

// importApply applies a previewed batch, all or nothing.
func (s *Server) importApply(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	id, err := idParam(r, "importID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.mis.ApplyBatch(r.Context(), v.school.ID, id, v.account.Actor(clientIP(r)), r.PostFormValue("confirm") == "yes"); err != nil {
		if c := apperr.CodeOf(err); c == apperr.Invalid || c == apperr.Conflict {
			s.importPage(w, r, err)
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/import/%d", id), http.StatusSeeOther)
}

func importPeople(cs []mis.PersonChange) []templates.ImportPerson {
	out := make([]templates.ImportPerson, 0, len(cs))
	for _, c := range cs {
		p := templates.ImportPerson{Name: c.Name, Ref: c.Ref, Suspect: c.Suspect}
		if c.Line > 0 {
			p.Line = "line " + strconv.Itoa(c.Line)
		}
		for _, f := range c.Fields {
			p.Fields = append(p.Fields, templates.ImportField{Field: f.Field, Old: f.Old, New: f.New})
		}
		out = append(out, p)
	}
	return out
}
