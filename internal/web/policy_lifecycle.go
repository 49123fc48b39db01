package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"signoff/internal/apperr"
	"signoff/internal/auth"
	"signoff/internal/docimport"
	"signoff/internal/policies"
	"signoff/internal/schooltime"
	"signoff/templates"
	"signoff/web/static"
)

// The policy lifecycle pages: the library, a policy's page for
// governors, heads and the office (revision, approval, publishing,
// reviews, history), the revision editor, comparisons, the starter set
// and the approval rule.

// lifecycleLayout is the page frame with the lifecycle's stylesheet.
func (s *Server) lifecycleLayout(r *http.Request, title string) templates.LayoutProps {
	l := s.layout(r, title)
	l.CSS = append(l.CSS, static.Path("policies.css"))
	return l
}

func date(t *time.Time) string {
	if t == nil {
		return "–"
	}
	return t.Format("2 January 2006")
}

func statusClass(st policies.ReviewStatus) string {
	switch st {
	case policies.UpToDate:
		return "up"
	case policies.DueSoon:
		return "soon"
	case policies.Overdue:
		return "overdue"
	case policies.InRevision:
		return "revision"
	}
	return "none"
}

// approvalLine says how a version was approved, as schools write it.
func approvalLine(v policies.Version) string {
	if v.ApprovalMethod == "" {
		if v.PublishedAt != nil {
			return "Published " + schooltime.Date(*v.PublishedAt) + " (no approval recorded)"
		}
		return "–"
	}
	out := "Approved by " + v.ApprovedByBody + " on " + date(v.ApprovedOn)
	if v.ApprovalMeeting != "" {
		out += " at " + v.ApprovalMeeting
	}
	if v.MinuteRef != "" {
		out += " (minute " + v.MinuteRef + ")"
	}
	return out
}

// policyLibrary is the library for governors and heads (GET /policies).
func (s *Server) policyLibrary(w http.ResponseWriter, r *http.Request) {
	s.library(w, r, viewerOf(r).account.Has(auth.Admin))
}

func (s *Server) library(w http.ResponseWriter, r *http.Request, admin bool) {
	v := viewerOf(r)
	list, rule, err := s.policies.Library(r.Context(), v.school.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view := templates.PolicyLibraryView{Layout: s.lifecycleLayout(r, "Policies"), Admin: admin, RuleText: rule.Describe(), WindowDays: strconv.Itoa(rule.WindowDays)}
	if n, err := strconv.Atoi(r.URL.Query().Get("adopted")); err == nil {
		view.Notice = fmt.Sprintf("%d %s added to the library as drafts: replace each placeholder text with your own", n, map[bool]string{true: "policy", false: "policies"}[n == 1])
	}
	for _, p := range list {
		row := templates.PolicyLibraryRow{Title: p.Title, Href: fmt.Sprintf("/policies/%d", p.ID), Owner: orDash(p.OwnerName), Category: orDash(p.Category),
			Statutory: p.Statutory, Current: "Not published yet", Approval: "–", Cycle: cycleLabel(p.ReviewCycleYears) + " (" + p.ApprovalLevel.Label() + ")",
			NextReview: date(p.NextReviewOn), Status: p.Status.Label(), StatusClass: statusClass(p.Status), Related: p.Related}
		if p.Current != nil {
			row.Current = versionLabel(p.Current.Number, p.Current.PublishedAt)
			row.Approval = approvalLine(*p.Current)
		}
		if p.Open != nil {
			if p.Current == nil {
				row.Status = "Draft of version 1"
			} else if p.DateStatus == policies.Overdue || p.DateStatus == policies.DueSoon {
				row.Status = p.Status.Label() + " (" + strings.ToLower(p.DateStatus.Label()) + ")"
			}
		}
		view.Policies = append(view.Policies, row)
	}
	s.render(w, r, http.StatusOK, templates.PolicyLibraryPage(view))
}

// lifecycleForm is what was typed into one of the policy page's forms,
// shown again with its errors.
type lifecycleForm struct {
	err                                error
	notice                             string
	comment, decision                  string
	day, month, year                   string
	body, meeting, minuteRef, note     string
	reviewDay, reviewMonth, reviewYear string
}

// policyLifecycle shows a policy to governors, heads and the office.
func (s *Server) policyLifecycle(w http.ResponseWriter, r *http.Request) {
	f := &lifecycleForm{}
	switch r.URL.Query().Get("done") {
	case "saved":
		f.notice = "Draft saved"
	case "submitted":
		f.notice = "Sent for approval: the approvers have been emailed"
	case "approved":
		f.notice = "Your decision has been recorded"
	case "rejected":
		f.notice = "Your comments have been sent: the revision is a draft again"
	case "meeting":
		f.notice = "The board's approval has been recorded"
	case "published":
		f.notice = "Published: everyone who signs it has been emailed"
	case "reviewed":
		f.notice = "The review has been recorded and the next review date moved on"
	case "discarded":
		f.notice = "The draft has been discarded"
	case "settings":
		f.notice = "The policy's details have been saved"
	}
	s.lifecyclePage(w, r, f)
}

func (s *Server) lifecyclePage(w http.ResponseWriter, r *http.Request, f *lifecycleForm) {
	v := viewerOf(r)
	ctx := r.Context()
	id, err := idParam(r, "policyID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.policies.Get(ctx, v.school.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	versions, err := s.policies.Versions(ctx, v.school.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	reviews, err := s.policies.Reviews(ctx, v.school.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rule, err := s.policies.SchoolRule(ctx, v.school.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ids := strconv.FormatInt(id, 10)
	isAdmin := v.account.Has(auth.Admin)
	view := templates.PolicyLifecycleView{
		Layout: s.lifecycleLayout(r, p.Title), Title: p.Title, ID: ids, Notice: f.notice, Errors: viewErrors(f.err),
		IsAdmin: isAdmin, CanRevise: isAdmin || v.account.Has(auth.Head),
		SettingsHref: "/policies/" + ids + "/settings", RuleText: rule.Describe(),
		Comment: f.comment, MeetingBody: f.body, MeetingName: f.meeting, MinuteRef: f.minuteRef,
		ReviewBody: f.body, ReviewMeeting: f.meeting, ReviewMinute: f.minuteRef, ReviewNote: f.note,
	}
	if f.err != nil {
		view.Layout.HasErrors = true
		if len(view.Errors) == 0 {
			view.Message = apperr.MessageOf(f.err)
		}
	}
	current, open := policies.CurrentAndOpen(versions)
	inRevision := open != nil && current != nil
	st := policies.StatusOf(p.NextReviewOn, policies.Today(s.db.Now()), rule.WindowDays, inRevision)
	if current == nil {
		st = policies.NotYet
	}
	view.Status, view.StatusClass = st.Label(), statusClass(st)
	related := "–"
	if lib, _, err := s.policies.Library(ctx, v.school.ID); err == nil {
		for _, l := range lib {
			if l.ID == id && len(l.Related) > 0 {
				related = strings.Join(l.Related, ", ")
			}
		}
	}
	view.Summary = []templates.SummaryRow{
		{Key: "Owner", Value: orDash(p.OwnerName)},
		{Key: "Category", Value: orDash(p.Category)},
		{Key: "Statutory", Value: map[bool]string{true: "Yes", false: "No"}[p.Statutory]},
		{Key: "Approved by", Value: p.ApprovalLevel.Label()},
		{Key: "Reviewed", Value: cycleLabel(p.ReviewCycleYears)},
		{Key: "Next review", Value: date(p.NextReviewOn)},
		{Key: "Related policies", Value: related},
	}
	if current != nil {
		view.Summary = append(view.Summary, templates.SummaryRow{Key: "Current version", Value: versionLabel(current.Number, current.PublishedAt)},
			templates.SummaryRow{Key: "Approval", Value: approvalLine(*current)})
		view.CurrentHTML = policies.RenderBody(current.Body, p.Title)
	}
	if isAdmin {
		form, hasForm, err := s.signing.PolicyForm(ctx, v.school.ID, id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if hasForm {
			view.HasForm = true
			view.FormHref = fmt.Sprintf("/admin/tracking/forms/%d", form.ID)
			view.Summary = append(view.Summary, templates.SummaryRow{Key: "Who signs", Value: audienceLabel(form.AudienceRoles)})
		}
	}
	if open != nil {
		view.HasOpen = true
		view.OpenNumber = strconv.Itoa(open.Number)
		view.OpenVersionID = strconv.FormatInt(open.ID, 10)
		view.OpenStatus = strings.ToLower(open.Status.Label())
		view.OpenKind = "Major change: everyone asked to sign will sign again"
		if !open.Major {
			view.OpenKind = "Minor change (typing, names, dates): nobody is asked to sign again"
		}
		view.OpenAuthor = orDash(open.AuthorName)
		view.OpenNote = open.ChangeNote
		view.IsDraft = open.Status == policies.Draft
		view.IsAwaiting = open.Status == policies.AwaitingApproval
		view.IsApproved = open.Status == policies.Approved
		if view.IsApproved {
			view.ApprovalLine = approvalLine(*open)
		}
		view.CanPublish = isAdmin && policies.CheckPublishable(*open) == nil
		if current != nil {
			view.Diff = diffView(policies.CompareDocuments(current.Body, open.Body), r.URL.Query().Get("whole") == "1", "/policies/"+ids,
				"Version "+view.OpenNumber+" with its changes marked", 3)
			view.PackHref = "/policies/" + ids + "/approval-pack.pdf"
		} else {
			view.DraftHTML = policies.RenderBody(open.Body, p.Title)
		}
		if open.Round > 0 {
			approvers, err := s.policies.Approvers(ctx, v.school.ID, open.ID, open.Round)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			for _, a := range approvers {
				row := templates.PolicyApproverRow{Name: a.Name, Decision: "Not decided yet", Comment: a.Comment}
				switch a.Decision {
				case "approve":
					row.Decision = "Approved"
				case "reject":
					row.Decision = "Changes asked for"
				}
				if a.DecidedAt != nil {
					row.When = schooltime.Date(*a.DecidedAt)
				}
				if view.IsAwaiting || view.IsApproved {
					view.Approvers = append(view.Approvers, row)
				}
				if a.AccountID == v.account.ID && a.Decision == "" && view.IsAwaiting && open.CreatedBy != v.account.ID {
					view.CanDecide = true
				}
			}
			if view.IsDraft {
				decisions, err := s.policies.Decisions(ctx, v.school.ID, open.ID)
				if err != nil {
					s.fail(w, r, err)
					return
				}
				for _, d := range decisions {
					if d.Decision == "reject" && d.Round == open.Round {
						view.Rejections = append(view.Rejections, templates.PolicyApproverRow{Name: d.Name, Comment: d.Comment, When: schooltime.Date(d.DecidedAt)})
					}
				}
			}
		}
		if view.IsAwaiting && !view.CanDecide {
			switch {
			case open.CreatedBy == v.account.ID:
				view.DecideReason = "You wrote this revision, so the other approvers decide."
			default:
				view.DecideReason = "You are not one of this revision's approvers, or you have given your decision."
			}
		}
		view.Decision = templates.ChoiceProps{ID: "decision", Name: "decision", Legend: "Do you approve version " + view.OpenNumber + "?",
			Error: view.Errors.Get("decision"), Options: []templates.Option{
				{Value: "approve", Label: "Yes, I approve it", Checked: f.decision == "approve"},
				{Value: "reject", Label: "No, it needs changes", Checked: f.decision == "reject"},
			}}
		view.Meeting = templates.DateProps{ID: "date", Name: "date", Legend: "Date of the meeting", Hint: "For example, 23 3 2026",
			Error: view.Errors.Get("date"), Day: f.day, Month: f.month, Year: f.year}
		if view.IsDraft && view.CanRevise {
			people, err := s.policies.People(ctx, v.school.ID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			approverRole := "governor"
			if p.ApprovalLevel == policies.Headteacher {
				approverRole = "head"
			}
			view.Named = templates.ChoiceProps{ID: "named", Name: "named", Legend: "Anyone else to approve it? (optional)", Small: true,
				Hint: "Every " + map[string]string{"governor": "governor", "head": "headteacher"}[approverRole] + " is asked already. Name others, such as a committee's co-opted member or the designated safeguarding lead."}
			for _, pp := range people {
				if slices.Contains(pp.Roles, approverRole) || pp.AccountID == open.CreatedBy {
					continue
				}
				if !slices.Contains(pp.Roles, "head") && !slices.Contains(pp.Roles, "admin") && !slices.Contains(pp.Roles, "governor") {
					continue // staff are named through their role as lead: keep the list short
				}
				view.Named.Options = append(view.Named.Options, templates.Option{Value: strconv.FormatInt(pp.AccountID, 10), Label: pp.Name})
			}
		}
	}
	view.Review = templates.DateProps{ID: "review_date", Name: "review_date", Legend: "Date of the review", Hint: "For example, 23 3 2026",
		Error: view.Errors.Get("review_date"), Day: f.reviewDay, Month: f.reviewMonth, Year: f.reviewYear}
	// History: versions and reviews, newest first.
	type dated struct {
		at  time.Time
		row templates.PolicyHistoryRow
	}
	var hist []dated
	for i, ver := range versions {
		row := templates.PolicyHistoryRow{What: fmt.Sprintf("Version %d %s", ver.Number, strings.ToLower(ver.Status.Label())), Who: ""}
		at := ver.CreatedAt
		if ver.PublishedAt != nil {
			at = *ver.PublishedAt
			row.Date = schooltime.Date(*ver.PublishedAt)
			row.What = fmt.Sprintf("Version %d published", ver.Number)
		} else {
			row.Date = schooltime.Date(ver.CreatedAt)
		}
		kind := "major change"
		if !ver.Major {
			kind = "minor change"
		}
		if ver.Number == 1 {
			kind = "first version"
		}
		row.Who = kind
		if ver.AuthorName != "" {
			row.Who += ", written by " + ver.AuthorName
		}
		if ver.ApprovalMethod != "" {
			row.Who += ". " + approvalLine(ver)
		}
		row.Detail = ver.ChangeNote
		if i+1 < len(versions) {
			row.Href = fmt.Sprintf("/policies/%d/compare?from=%d&to=%d", id, versions[i+1].Number, ver.Number)
			row.HrefTxt = fmt.Sprintf("Changes from version %d", versions[i+1].Number)
		}
		hist = append(hist, dated{at, row})
	}
	for _, rv := range reviews {
		if rv.Outcome != "no_changes" {
			continue // shown with its version
		}
		who := "Approved by " + rv.ApprovedByBody
		if rv.Meeting != "" {
			who += " at " + rv.Meeting
		}
		if rv.MinuteRef != "" {
			who += " (minute " + rv.MinuteRef + ")"
		}
		if rv.RecordedBy != "" {
			who += "; recorded by " + rv.RecordedBy
		}
		hist = append(hist, dated{rv.ReviewedOn.Add(23 * time.Hour), templates.PolicyHistoryRow{Date: rv.ReviewedOn.Format("2 January 2006"),
			What: "Reviewed with no changes", Who: who, Detail: strings.TrimSpace(rv.Note + "\nNext review by " + rv.NextReviewOn.Format("2 January 2006"))}})
	}
	slices.SortStableFunc(hist, func(a, b dated) int { return b.at.Compare(a.at) })
	for _, h := range hist {
		view.History = append(view.History, h.row)
	}
	for _, ver := range versions {
		view.Versions = append(view.Versions, templates.Option{Value: strconv.Itoa(ver.Number), Label: fmt.Sprintf("Version %d (%s)", ver.Number, strings.ToLower(ver.Status.Label()))})
	}
	if len(versions) > 1 {
		view.From, view.To = strconv.Itoa(versions[1].Number), strconv.Itoa(versions[0].Number)
	}
	status := http.StatusOK
	if f.err != nil {
		status = statusOf(apperr.CodeOf(f.err))
	}
	s.render(w, r, status, templates.PolicyLifecyclePage(view))
}

// policyCompare shows the changes between any two versions.
func (s *Server) policyCompare(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	id, err := idParam(r, "policyID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.policies.Get(r.Context(), v.school.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	versions, err := s.policies.Versions(r.Context(), v.school.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	find := func(param string, def int) *policies.Version {
		n, err := strconv.Atoi(r.URL.Query().Get(param))
		if err != nil {
			n = def
		}
		for i := range versions {
			if versions[i].Number == n {
				return &versions[i]
			}
		}
		return nil
	}
	if len(versions) == 0 {
		s.notFound(w, r)
		return
	}
	to := find("to", versions[0].Number)
	from := find("from", max(1, versions[0].Number-1))
	if to == nil || from == nil {
		s.notFound(w, r)
		return
	}
	page := fmt.Sprintf("/policies/%d/compare?from=%d&to=%d", id, from.Number, to.Number)
	view := templates.PolicyCompareView{Layout: s.lifecycleLayout(r, "Changes: "+p.Title), Title: p.Title, BackHref: fmt.Sprintf("/policies/%d", id),
		Heading: fmt.Sprintf("Changes from version %d to version %d", from.Number, to.Number),
		Diff:    diffView(policies.CompareDocuments(from.Body, to.Body), r.URL.Query().Get("whole") == "1", page, "Version "+strconv.Itoa(to.Number)+" with its changes marked", 2),
		From:    strconv.Itoa(from.Number), To: strconv.Itoa(to.Number), Action: fmt.Sprintf("/policies/%d/compare", id)}
	for _, ver := range versions {
		view.Versions = append(view.Versions, templates.Option{Value: strconv.Itoa(ver.Number), Label: fmt.Sprintf("Version %d (%s)", ver.Number, strings.ToLower(ver.Status.Label()))})
	}
	s.render(w, r, http.StatusOK, templates.PolicyComparePage(view))
}

// policyRevisionForm shows the editor for a new revision or its draft.
func (s *Server) policyRevisionForm(w http.ResponseWriter, r *http.Request) {
	s.revisionPage(w, r, false)
}

// policyRevisionSave saves, previews or imports into the draft.
func (s *Server) policyRevisionSave(w http.ResponseWriter, r *http.Request) {
	s.revisionPage(w, r, true)
}

func (s *Server) revisionPage(w http.ResponseWriter, r *http.Request, post bool) {
	v := viewerOf(r)
	ctx := r.Context()
	id, err := idParam(r, "policyID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.policies.Get(ctx, v.school.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
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
	view.Kind = templates.ChoiceProps{ID: "kind", Name: "kind", Legend: "What kind of change is it?", Small: true, Options: []templates.Option{
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

// openVersion reads version_id from the form and checks it is the
// policy's open revision (the page may be stale).
func (s *Server) openVersion(r *http.Request, policyID int64) (policies.Version, error) {
	v := viewerOf(r)
	open, ok, err := s.policies.OpenRevision(r.Context(), v.school.ID, policyID)
	if err != nil {
		return policies.Version{}, err
	}
	want, _ := strconv.ParseInt(r.PostFormValue("version_id"), 10, 64)
	if !ok || open.ID != want {
		return policies.Version{}, apperr.New(apperr.Conflict, "The revision has changed since this page was opened. Check it and try again.")
	}
	return open, nil
}

// lifecycleAction runs a POST of the policy page and redirects, or shows
// the page again with the error.
func (s *Server) lifecycleAction(w http.ResponseWriter, r *http.Request, f *lifecycleForm, do func(id int64) (string, error)) {
	id, err := idParam(r, "policyID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.policies.Get(r.Context(), viewerOf(r).school.ID, id); err != nil {
		s.fail(w, r, err)
		return
	}
	done, err := do(id)
	if err == nil {
		http.Redirect(w, r, fmt.Sprintf("/policies/%d?done=%s", id, done), http.StatusSeeOther)
		return
	}
	switch apperr.CodeOf(err) {
	case apperr.Invalid, apperr.Conflict, apperr.Forbidden:
		f.err = err
		s.lifecyclePage(w, r, f)
	default:
		s.fail(w, r, err)
	}
}

func (s *Server) policyLink(id int64) string { return fmt.Sprintf("%s/policies/%d", s.baseURL, id) }

// policySubmit sends the draft for approval.
func (s *Server) policySubmit(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	s.lifecycleAction(w, r, &lifecycleForm{}, func(id int64) (string, error) {
		open, err := s.openVersion(r, id)
		if err != nil {
			return "", err
		}
		var named []int64
		for _, n := range r.PostForm["named"] {
			if x, err := strconv.ParseInt(n, 10, 64); err == nil {
				named = append(named, x)
			}
		}
		_, err = s.policies.Submit(r.Context(), v.school.ID, open.ID, v.account.Actor(clientIP(r)), named, s.policyLink(id))
		return "submitted", err
	})
}

// policyDiscard discards the draft revision.
func (s *Server) policyDiscard(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	s.lifecycleAction(w, r, &lifecycleForm{}, func(id int64) (string, error) {
		open, err := s.openVersion(r, id)
		if err != nil {
			return "", err
		}
		return "discarded", s.policies.DiscardRevision(r.Context(), v.school.ID, open.ID, v.account.Actor(clientIP(r)))
	})
}

// policyDecision records an approver's decision.
func (s *Server) policyDecision(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	f := &lifecycleForm{comment: r.PostFormValue("comment"), decision: r.PostFormValue("decision")}
	s.lifecycleAction(w, r, f, func(id int64) (string, error) {
		open, err := s.openVersion(r, id)
		if err != nil {
			return "", err
		}
		in := policies.DecisionInput{Approve: f.decision == "approve", Reject: f.decision == "reject", Comment: f.comment}
		_, err = s.policies.Decide(r.Context(), v.school.ID, open.ID, v.account.ID, v.account.Actor(clientIP(r)), in, s.policyLink(id))
		if in.Reject {
			return "rejected", err
		}
		return "approved", err
	})
}

// policyMeeting records the board's approval at a meeting.
func (s *Server) policyMeeting(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	f := &lifecycleForm{day: r.PostFormValue("date-day"), month: r.PostFormValue("date-month"), year: r.PostFormValue("date-year"),
		body: r.PostFormValue("body"), meeting: r.PostFormValue("meeting"), minuteRef: r.PostFormValue("minute_ref")}
	s.lifecycleAction(w, r, f, func(id int64) (string, error) {
		open, err := s.openVersion(r, id)
		if err != nil {
			return "", err
		}
		d, msg := formDate(r, "date", "The date of the meeting")
		_, err = s.policies.RecordMeeting(r.Context(), v.school.ID, open.ID, v.account.Actor(clientIP(r)),
			policies.MeetingInput{Date: d, DateError: msg, Body: f.body, Meeting: f.meeting, MinuteRef: f.minuteRef})
		return "meeting", err
	})
}

// policyReviewed records a review with no changes.
func (s *Server) policyReviewed(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	f := &lifecycleForm{reviewDay: r.PostFormValue("review_date-day"), reviewMonth: r.PostFormValue("review_date-month"), reviewYear: r.PostFormValue("review_date-year"),
		body: r.PostFormValue("body"), meeting: r.PostFormValue("meeting"), minuteRef: r.PostFormValue("minute_ref"), note: r.PostFormValue("note")}
	s.lifecycleAction(w, r, f, func(id int64) (string, error) {
		d, msg := formDate(r, "review_date", "The date of the review")
		_, err := s.policies.RecordNoChangeReview(r.Context(), v.school.ID, id, v.account.Actor(clientIP(r)),
			policies.ReviewInput{MeetingInput: policies.MeetingInput{Date: d, DateError: msg, Body: f.body, Meeting: f.meeting, MinuteRef: f.minuteRef}, Note: f.note})
		// The review form's fields have their own ids on the page.
		if fields := apperr.FieldsOf(err); len(fields) > 0 {
			for i := range fields {
				switch fields[i].Field {
				case "date":
					fields[i].Field = "review_date"
				case "body", "note":
					fields[i].Field = "review_" + fields[i].Field
				}
			}
			err = &apperr.Error{Code: apperr.Invalid, Fields: fields}
		}
		return "reviewed", err
	})
}

// policySettingsForm shows the form for a policy's details.
func (s *Server) policySettingsForm(w http.ResponseWriter, r *http.Request) {
	s.settingsPage(w, r, false)
}

// policySettingsSave saves a policy's details.
func (s *Server) policySettingsSave(w http.ResponseWriter, r *http.Request) {
	s.settingsPage(w, r, true)
}

func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request, post bool) {
	v := viewerOf(r)
	ctx := r.Context()
	id, err := idParam(r, "policyID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.policies.Get(ctx, v.school.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	related, err := s.policies.Related(ctx, v.school.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	in := policies.SettingsInput{Title: p.Title, Category: p.Category, ReviewCycleYears: p.ReviewCycleYears, OwnerAccountID: p.OwnerAccountID,
		Statutory: p.Statutory, ApprovalLevel: p.ApprovalLevel, NextReviewOn: p.NextReviewOn, Related: related}
	var day, month, year string
	if p.NextReviewOn != nil {
		day, month, year = strconv.Itoa(p.NextReviewOn.Day()), strconv.Itoa(int(p.NextReviewOn.Month())), strconv.Itoa(p.NextReviewOn.Year())
	}
	var formErr error
	status := http.StatusOK
	if post {
		_ = r.ParseForm()
		cycle, _ := strconv.Atoi(r.PostFormValue("review_cycle_years"))
		owner, _ := strconv.ParseInt(r.PostFormValue("owner"), 10, 64)
		in = policies.SettingsInput{Title: r.PostFormValue("title"), Category: r.PostFormValue("category"), ReviewCycleYears: cycle,
			OwnerAccountID: owner, Statutory: r.PostFormValue("statutory") == "yes", ApprovalLevel: policies.ApprovalLevel(r.PostFormValue("approval_level"))}
		day, month, year = r.PostFormValue("next_review-day"), r.PostFormValue("next_review-month"), r.PostFormValue("next_review-year")
		in.NextReviewOn, in.NextReviewError = formDate(r, "next_review", "The next review date")
		for _, x := range r.PostForm["related"] {
			if n, err := strconv.ParseInt(x, 10, 64); err == nil {
				in.Related = append(in.Related, n)
			}
		}
		formErr = s.policies.SaveSettings(ctx, v.school.ID, id, v.account.Actor(clientIP(r)), in)
		if formErr == nil {
			http.Redirect(w, r, fmt.Sprintf("/policies/%d?done=settings", id), http.StatusSeeOther)
			return
		}
		if apperr.CodeOf(formErr) != apperr.Invalid {
			s.fail(w, r, formErr)
			return
		}
		status = http.StatusUnprocessableEntity
	}
	view := templates.PolicySettingsView{Layout: s.lifecycleLayout(r, "Change "+p.Title), Title: p.Title, Action: fmt.Sprintf("/policies/%d/settings", id),
		BackHref: fmt.Sprintf("/policies/%d", id), TitleValue: in.Title, Category: in.Category, Statutory: in.Statutory,
		OwnerValue: strconv.FormatInt(in.OwnerAccountID, 10), Errors: viewErrors(formErr)}
	view.Layout.HasErrors = formErr != nil
	cycle := strconv.Itoa(in.ReviewCycleYears)
	view.Cycle = cycleChoice(cycle, view.Errors.Get("review_cycle_years"))
	view.Level = templates.ChoiceProps{ID: "approval_level", Name: "approval_level", Legend: "Who approves it?", Small: true, Error: view.Errors.Get("approval_level")}
	for _, l := range policies.ApprovalLevels {
		view.Level.Options = append(view.Level.Options, templates.Option{Value: string(l), Label: l.Label(), Checked: in.ApprovalLevel == l})
	}
	view.NextReview = templates.DateProps{ID: "next_review", Name: "next_review", Legend: "Next review by", Error: view.Errors.Get("next_review"),
		Hint: "Set when a version is approved or a review is recorded. Change it to match your governors' plan.", Day: day, Month: month, Year: year}
	people, err := s.policies.People(ctx, v.school.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, pp := range people {
		if slices.Contains(pp.Roles, "admin") || slices.Contains(pp.Roles, "head") || slices.Contains(pp.Roles, "governor") || pp.AccountID == in.OwnerAccountID {
			view.Owner = append(view.Owner, templates.Option{Value: strconv.FormatInt(pp.AccountID, 10), Label: pp.Name})
		}
	}
	lib, _, err := s.policies.Library(ctx, v.school.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view.Related = templates.ChoiceProps{ID: "related", Name: "related", Legend: "Related policies", Hint: "Select all that apply.", Small: true}
	for _, l := range lib {
		if l.ID != id {
			view.Related.Options = append(view.Related.Options, templates.Option{Value: strconv.FormatInt(l.ID, 10), Label: l.Title, Checked: slices.Contains(in.Related, l.ID)})
		}
	}
	s.render(w, r, status, templates.PolicySettingsPage(view))
}

// policyStarterForm offers the starter set.
func (s *Server) policyStarterForm(w http.ResponseWriter, r *http.Request) {
	s.starterPage(w, r, nil, nil)
}

// policyStarterAdopt adds the chosen starter policies as drafts.
func (s *Server) policyStarterAdopt(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	_ = r.ParseForm()
	keys := r.PostForm["starter"]
	n, err := s.policies.AdoptStarters(r.Context(), v.school.ID, v.account.Actor(clientIP(r)), keys)
	if err != nil {
		if apperr.CodeOf(err) == apperr.Invalid {
			s.starterPage(w, r, keys, err)
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/policies?adopted=%d", n), http.StatusSeeOther)
}

func (s *Server) starterPage(w http.ResponseWriter, r *http.Request, chosen []string, err error) {
	v := viewerOf(r)
	have := map[string]bool{}
	if list, _, lerr := s.policies.Library(r.Context(), v.school.ID); lerr == nil {
		for _, l := range list {
			have[strings.ToLower(l.Title)] = true
		}
	}
	view := templates.PolicyStarterView{Layout: s.lifecycleLayout(r, "Add policies from the starter set"), Errors: viewErrors(err)}
	view.Layout.HasErrors = err != nil
	view.Starters = templates.ChoiceProps{ID: "starter", Name: "starter", Legend: "Choose the policies to add", Hint: "Policies you already have are not listed.",
		Error: view.Errors.Get("starter"), Small: true}
	for _, st := range policies.Starters {
		if have[strings.ToLower(st.Title)] {
			continue
		}
		hint := st.Category + " · " + cycleLabel(st.Cycle) + " · approved by " + strings.ToLower(st.Level.Label())
		if st.Statutory {
			hint = "Statutory · " + hint
		}
		view.Starters.Options = append(view.Starters.Options, templates.Option{Value: st.Key, Label: st.Title, Hint: hint, Checked: slices.Contains(chosen, st.Key)})
	}
	status := http.StatusOK
	if err != nil {
		status = http.StatusUnprocessableEntity
	}
	s.render(w, r, status, templates.PolicyStarterPage(view))
}

// approvalSettings shows the school's approval rule.
func (s *Server) approvalSettings(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	rule, err := s.policies.SchoolRule(r.Context(), v.school.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	notice := ""
	if r.URL.Query().Get("saved") != "" {
		notice = "Saved"
	}
	s.approvalSettingsPage(w, r, rule.Kind, strconv.Itoa(rule.Count), strconv.Itoa(rule.WindowDays), notice, nil)
}

// approvalSettingsSave saves the school's approval rule.
func (s *Server) approvalSettingsSave(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	kind, count, window := r.PostFormValue("rule"), strings.TrimSpace(r.PostFormValue("count")), strings.TrimSpace(r.PostFormValue("window"))
	c, errC := strconv.Atoi(count)
	wd, errW := strconv.Atoi(window)
	if errC != nil {
		c = -1
		if kind != "count" {
			c = 2
		}
	}
	if errW != nil {
		wd = -1
	}
	err := s.policies.SaveSchoolRule(r.Context(), v.school.ID, v.account.Actor(clientIP(r)), policies.Rule{Kind: kind, Count: c, WindowDays: wd})
	if err != nil {
		if apperr.CodeOf(err) == apperr.Invalid {
			s.approvalSettingsPage(w, r, kind, count, window, "", err)
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/policies/approval-settings?saved=1", http.StatusSeeOther)
}

func (s *Server) approvalSettingsPage(w http.ResponseWriter, r *http.Request, kind, count, window, notice string, err error) {
	view := templates.PolicyApprovalSettingsView{Layout: s.lifecycleLayout(r, "How revisions are approved"), Count: count, Window: window, Notice: notice, Errors: viewErrors(err)}
	view.Layout.HasErrors = err != nil
	view.Rule = templates.ChoiceProps{ID: "rule", Name: "rule", Legend: "A revision is approved when", Error: view.Errors.Get("rule"), Small: true, Options: []templates.Option{
		{Value: "majority", Label: "A majority of its approvers approve it", Checked: kind == "majority"},
		{Value: "count", Label: "A number of approvers approve it", Hint: "If fewer people are asked, all of them must approve.", Checked: kind == "count"},
	}}
	status := http.StatusOK
	if err != nil {
		status = http.StatusUnprocessableEntity
	}
	s.render(w, r, status, templates.PolicyApprovalSettingsPage(view))
}
