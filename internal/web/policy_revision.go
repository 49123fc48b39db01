package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"signoff/internal/apperr"
	"signoff/internal/docimport"
	"signoff/internal/policies"
	"signoff/templates"
	"signoff/templates/components"
)

// The one editor of a policy's text (GET and POST /policies/{id}/revision):
// the draft of version 1, or a revision of the published version, with a
// preview, the changes marked and importing a Word file.

// policyRevision shows the editor for a new revision or its draft (GET),
// or saves, previews or imports into the draft (POST).
func (s *Server) policyRevision(w http.ResponseWriter, r *http.Request) {
	post := r.Method == http.MethodPost
	v := viewerOf(r)
	ctx := r.Context()
	p, ok := s.policyOf(w, r)
	if !ok {
		return
	}
	id := p.ID
	current, hasCurrent, err := s.policies.Current(ctx, v.school.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	open, hasOpen, err := s.policies.OpenRevision(ctx, v.school.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if hasOpen && open.Status != policies.Draft {
		s.renderError(w, r, http.StatusConflict, "The revision cannot be edited now",
			fmt.Sprintf("Version %d is %s. A version can be edited only while it is a draft; approvers who ask for changes return it to draft.", open.Number, strings.ToLower(open.Status.Label())))
		return
	}
	if !hasCurrent && !hasOpen {
		s.renderError(w, r, http.StatusConflict, "There is nothing to revise", "This policy has not been published yet.")
		return
	}
	in := policies.RevisionInput{Body: current.Body, Major: true}
	if hasOpen {
		in = policies.RevisionInput{Body: open.Body, Major: open.Major, ChangeNote: open.ChangeNote}
	}
	var formErr error
	var message, notice string
	preview := false
	status := http.StatusOK
	if post {
		r.Body = http.MaxBytesReader(w, r.Body, docimport.MaxSize+1<<20)
		if err := r.ParseMultipartForm(2 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
			s.renderError(w, r, http.StatusRequestEntityTooLarge, "The file is too large", "Choose a file smaller than 10 MB.")
			return
		}
		in = policies.RevisionInput{Body: r.FormValue("body"), Major: r.FormValue("kind") != "minor", ChangeNote: r.FormValue("change_note")}
		switch r.FormValue("action") {
		case "import":
			file, hdr, err := r.FormFile("file")
			if err != nil {
				formErr = &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "file", Message: "Choose a Word (.docx), Markdown (.md) or text (.txt) file to import"}}}
				break
			}
			data, _ := io.ReadAll(io.LimitReader(file, docimport.MaxSize+1))
			_ = file.Close()
			if len(data) > docimport.MaxSize {
				formErr = &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "file", Message: "The file must be smaller than 10 MB"}}}
				break
			}
			md, err := docimport.ToMarkdown(hdr.Filename, data)
			if err != nil {
				msg := "The file could not be read: save it again as a Word (.docx) file and try again"
				if errors.Is(err, docimport.ErrUnsupported) {
					msg = "The file must be a Word (.docx), Markdown (.md) or text (.txt) file"
				}
				formErr = &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "file", Message: msg}}}
				break
			}
			in.Body = md
			preview = true
			notice = "Imported " + hdr.Filename + ": check the text and the preview, then save the draft"
		case "preview":
			preview = true
		default:
			_, err := s.policies.SaveRevision(ctx, v.school.ID, id, v.account.Actor(clientIP(r)), in)
			if err == nil {
				http.Redirect(w, r, fmt.Sprintf("/policies/%d?done=saved", id), http.StatusSeeOther)
				return
			}
			if c := apperr.CodeOf(err); c != apperr.Invalid && c != apperr.Conflict {
				s.fail(w, r, err)
				return
			}
			formErr = err
		}
		if formErr != nil {
			status = statusOf(apperr.CodeOf(formErr))
			if len(apperr.FieldsOf(formErr)) == 0 {
				message = apperr.MessageOf(formErr)
			}
		}
	}
	heading := fmt.Sprintf("Revise the policy: version %d", current.Number+1)
	if hasOpen {
		heading = fmt.Sprintf("Edit the draft of version %d", open.Number)
	}
	view := templates.PolicyRevisionView{Layout: s.lifecycleLayout(r, heading), Title: p.Title, Heading: heading,
		Action: fmt.Sprintf("/policies/%d/revision", id), BackHref: fmt.Sprintf("/policies/%d", id), Body: in.Body, ChangeNote: in.ChangeNote,
		Errors: viewErrors(formErr), Message: message, Notice: notice}
	view.Layout.HasErrors = formErr != nil
	view.Kind = components.ChoiceProps{ID: "kind", Name: "kind", Legend: "What kind of change is it?", Small: true, Options: []components.Option{
		{Value: "major", Label: "A major change", Hint: "Everyone asked to sign the policy is asked to sign the new version.", Checked: in.Major},
		{Value: "minor", Label: "A minor change", Hint: "Typing errors, names, dates or contact details: signatures of the current version still count.", Checked: !in.Major},
	}}
	if preview && strings.TrimSpace(in.Body) != "" {
		view.PreviewHTML = policies.RenderBody(in.Body, p.Title)
		if hasCurrent {
			view.Diff = diffView(policies.CompareDocuments(current.Body, policies.NormaliseText(in.Body)), false, "", "Changes from the current version", 2)
			view.Diff.WholeHref, view.Diff.ChangesHref = "", ""
			view.HasDiff = true
		}
	}
	s.render(w, r, status, templates.PolicyRevisionPage(view))
}
