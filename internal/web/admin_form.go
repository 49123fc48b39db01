package web

import (
	"fmt"
	"net/http"
	"net/url"

	"signoff/internal/schooltime"
	"signoff/internal/signing"
	"signoff/templates"
)

// adminForm shows one form's figures and who has or hasn't signed,
// sortable by name, role, email (and date signed).
func (s *Server) adminForm(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	formID, err := idParam(r, "formID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st, err := s.signing.FormStats(r.Context(), v.school.ID, formID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	showSigned := q.Get("show") == "signed"
	sort := signing.Sort{By: q.Get("sort"), Desc: q.Get("dir") == "desc"}
	switch sort.By {
	case "name", "role", "email":
	case "signed":
		if !showSigned {
			sort.By = "name"
		}
	default:
		sort.By = "name"
		if showSigned {
			sort = signing.Sort{By: "signed", Desc: true}
		}
	}
	rows, err := s.signing.People(r.Context(), v.school.ID, formID, showSigned, sort)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	base := fmt.Sprintf("/admin/forms/%d", formID)
	show := ""
	if showSigned {
		show = "signed"
	}
	header := func(label, key string) templates.SortHeader {
		h := templates.SortHeader{Label: label}
		dir := "asc"
		if sort.By == key {
			h.Sort = "ascending"
			if sort.Desc {
				h.Sort = "descending"
			} else {
				dir = "desc"
			}
		}
		qs := url.Values{"sort": {key}, "dir": {dir}}
		if show != "" {
			qs.Set("show", show)
		}
		h.Href = base + "?" + qs.Encode()
		return h
	}
	view := templates.AdminFormView{
		Layout:          s.layout(r, st.Form.Title),
		Title:           st.Form.Title,
		Version:         fmt.Sprintf("Version %d", st.VersionNumber),
		Statement:       st.Form.Statement,
		Renewal:         st.Form.Renewal.Label(),
		Audience:        audienceLabel(st.Form.AudienceRoles),
		Due:             "No date set",
		Signed:          st.Signed,
		Total:           st.Audience,
		Outstanding:     st.Outstanding(),
		Percent:         st.Percent(),
		ShowSigned:      showSigned,
		OutstandingHref: base,
		SignedHref:      base + "?show=signed",
		PolicyHref:      fmt.Sprintf("/admin/policies/%d", st.Form.PolicyID),
		Headers:         []templates.SortHeader{header("Name", "name"), header("Role", "role"), header("Email", "email")},
	}
	if st.Form.DueOn != nil {
		view.Due = st.Form.DueOn.Format("2 January 2006")
	}
	if showSigned {
		view.Headers = append(view.Headers, header("Signed", "signed"))
	}
	for _, row := range rows {
		p := row.Person
		pr := templates.PersonRow{Name: p.SortName(), Href: fmt.Sprintf("/admin/staff/%d", p.ID), Role: p.RoleLabel(), Email: p.Email}
		switch {
		case row.SignedAt != nil:
			pr.SignedAt = schooltime.DateTime(*row.SignedAt)
			pr.Receipt = "/signatures/" + row.Reference
			pr.PDFHref = "/signatures/" + row.Reference + "/copy.pdf"
		case row.LastSignedVersion > 0:
			pr.Note = fmt.Sprintf("Signed version %d before", row.LastSignedVersion)
			if row.LastSignedVersion >= st.VersionNumber {
				pr.Note = "Signed in an earlier year"
			}
		default:
			pr.Note = "Not signed before"
		}
		view.Rows = append(view.Rows, pr)
	}
	s.render(w, r, http.StatusOK, templates.AdminFormPage(view))
}
