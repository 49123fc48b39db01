package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"signoff/internal/apperr"
	"signoff/internal/auth"
	"signoff/internal/policies"
	"signoff/internal/schooltime"
	"signoff/templates"
	"signoff/templates/components"
)

// The policy's page (GET /policies/{id}) for governors, heads and the
// office: its details and status, the open revision with its changes
// marked, approval, publishing, reviews and history. Its forms post to
// the actions in policy_approval.go and policy_publish.go, which show
// the page again with their errors.

// showForm is what was typed into one of the page's forms, shown again
// with its errors.
type showForm struct {
	err                                error
	notice                             string
	comment, decision                  string
	day, month, year                   string
	body, meeting, minuteRef, note     string
	reviewDay, reviewMonth, reviewYear string
}

// doneNotices are the page's notices after each action (?done=...).
var doneNotices = map[string]string{
	"saved":     "Draft saved",
	"submitted": "Sent for approval: the approvers have been emailed",
	"approved":  "Your decision has been recorded",
	"rejected":  "Your comments have been sent: the revision is a draft again",
	"meeting":   "The board's approval has been recorded",
	"published": "Published: everyone who signs it has been emailed",
	"reviewed":  "The review has been recorded and the next review date moved on",
	"discarded": "The draft has been discarded",
	"settings":  "The policy's details have been saved",
}

// policyShow shows a policy's page.
func (s *Server) policyShow(w http.ResponseWriter, r *http.Request) {
	s.showPage(w, r, &showForm{notice: doneNotices[r.URL.Query().Get("done")]})
}

func (s *Server) showPage(w http.ResponseWriter, r *http.Request, f *showForm) {
	v := viewerOf(r)
	ctx := r.Context()
	id, err := idParam(r, "policyID")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg, err := s.policies.Page(ctx, v.school.ID, id, v.account.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := pg.Policy
	ids := strconv.FormatInt(id, 10)
	isAdmin := v.account.Has(auth.Admin)
	view := templates.PolicyShowView{
		Layout: s.lifecycleLayout(r, p.Title), Title: p.Title, ID: ids, Notice: f.notice, Errors: viewErrors(f.err),
		IsAdmin: isAdmin, CanRevise: isAdmin || v.account.Has(auth.Head),
		SettingsHref: "/policies/" + ids + "/settings", RuleText: pg.Rule.Describe(),
		Comment: f.comment, MeetingBody: f.body, MeetingName: f.meeting, MinuteRef: f.minuteRef,
		ReviewBody: f.body, ReviewMeeting: f.meeting, ReviewMinute: f.minuteRef, ReviewNote: f.note,
		Status: pg.Status.Label(), StatusClass: statusClass(pg.Status),
	}
	if f.err != nil {
		view.Layout.HasErrors = true
		if len(view.Errors) == 0 {
			view.Message = apperr.MessageOf(f.err)
		}
	}
	related := "–"
	if len(pg.Related) > 0 {
		related = strings.Join(pg.Related, ", ")
	}
	view.Summary = []components.SummaryRow{
		{Key: "Owner", Value: orDash(p.OwnerName)},
		{Key: "Category", Value: orDash(p.Category)},
		{Key: "Statutory", Value: map[bool]string{true: "Yes", false: "No"}[p.Statutory]},
		{Key: "Approved by", Value: p.ApprovalLevel.Label()},
		{Key: "Reviewed", Value: cycleLabel(p.ReviewCycleYears)},
		{Key: "Next review", Value: date(p.NextReviewOn)},
		{Key: "Related policies", Value: related},
	}
	if current := pg.Current; current != nil {
		view.Summary = append(view.Summary, components.SummaryRow{Key: "Current version", Value: versionLabel(current.Number, current.PublishedAt)},
			components.SummaryRow{Key: "Approval", Value: approvalLine(*current)})
		view.CurrentHTML = s.publishedHTML(*current, p.Title)
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
			view.Summary = append(view.Summary, components.SummaryRow{Key: "Who signs", Value: audienceLabel(form.AudienceRoles)})
		}
	}
	if pg.Open != nil {
		openRevision(&view, pg, f, r.URL.Query().Get("whole") == "1")
	}
	view.Review = components.DateProps{ID: "review_date", Name: "review_date", Legend: "Date of the review", Hint: "For example, 23 3 2026",
		Error: view.Errors.Get("review_date"), Day: f.reviewDay, Month: f.reviewMonth, Year: f.reviewYear}
	view.History = historyRows(id, pg.History)
	view.Versions = versionOptions(pg.Versions)
	if len(pg.Versions) > 1 {
		view.From, view.To = strconv.Itoa(pg.Versions[1].Number), strconv.Itoa(pg.Versions[0].Number)
	}
	s.render(w, r, formStatus(f.err), templates.PolicyShowPage(view))
}

// openRevision fills in the page's part about the open revision.
func openRevision(view *templates.PolicyShowView, pg policies.Page, f *showForm, whole bool) {
	open := pg.Open
	ids := view.ID
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
	view.CanPublish = view.IsAdmin && policies.CheckPublishable(*open) == nil
	if pg.Current != nil {
		view.Diff = diffView(policies.CompareDocuments(pg.Current.Body, open.Body), whole, "/policies/"+ids,
			"Version "+view.OpenNumber+" with its changes marked", 3)
		view.PackHref = "/policies/" + ids + "/approval-pack.pdf"
	} else {
		view.DraftHTML = policies.RenderBody(open.Body, pg.Policy.Title)
	}
	for _, a := range pg.Approvers {
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
		view.Approvers = append(view.Approvers, row)
	}
	for _, d := range pg.Rejections {
		view.Rejections = append(view.Rejections, templates.PolicyApproverRow{Name: d.Name, Comment: d.Comment, When: schooltime.Date(d.DecidedAt)})
	}
	view.CanDecide = pg.CanDecide
	if view.IsAwaiting && !view.CanDecide {
		view.DecideReason = "You are not one of this revision's approvers, or you have given your decision."
		if pg.WroteIt {
			view.DecideReason = "You wrote this revision, so the other approvers decide."
		}
	}
	view.Decision = components.ChoiceProps{ID: "decision", Name: "decision", Legend: "Do you approve version " + view.OpenNumber + "?",
		Error: view.Errors.Get("decision"), Options: []components.Option{
			{Value: "approve", Label: "Yes, I approve it", Checked: f.decision == "approve"},
			{Value: "reject", Label: "No, it needs changes", Checked: f.decision == "reject"},
		}}
	view.Meeting = components.DateProps{ID: "date", Name: "date", Legend: "Date of the meeting", Hint: "For example, 23 3 2026",
		Error: view.Errors.Get("date"), Day: f.day, Month: f.month, Year: f.year}
	if view.IsDraft && view.CanRevise {
		asked := map[auth.Role]string{auth.Governor: "governor", auth.Head: "headteacher"}[policies.ApproverRole(pg.Policy.ApprovalLevel)]
		view.Named = components.ChoiceProps{ID: "named", Name: "named", Legend: "Anyone else to approve it? (optional)", Small: true,
			Hint: "Every " + asked + " is asked already. Name others, such as a committee's co-opted member or the designated safeguarding lead."}
		for _, pp := range pg.Nameable {
			view.Named.Options = append(view.Named.Options, components.Option{Value: strconv.FormatInt(pp.AccountID, 10), Label: pp.Name})
		}
	}
}

// historyRows are the history's lines as the page shows them.
func historyRows(policyID int64, entries []policies.HistoryEntry) []templates.PolicyHistoryRow {
	var out []templates.PolicyHistoryRow
	for _, e := range entries {
		if ver := e.Version; ver != nil {
			row := templates.PolicyHistoryRow{What: fmt.Sprintf("Version %d %s", ver.Number, strings.ToLower(ver.Status.Label())), Date: schooltime.Date(ver.CreatedAt)}
			if ver.PublishedAt != nil {
				row.Date = schooltime.Date(*ver.PublishedAt)
				row.What = fmt.Sprintf("Version %d published", ver.Number)
			}
			row.Who = "major change"
			if !ver.Major {
				row.Who = "minor change"
			}
			if ver.Number == 1 {
				row.Who = "first version"
			}
			if ver.AuthorName != "" {
				row.Who += ", written by " + ver.AuthorName
			}
			if ver.ApprovalMethod != "" {
				row.Who += ". " + approvalLine(*ver)
			}
			row.Detail = ver.ChangeNote
			row.SHA256 = ver.SHA256
			if e.ComparedTo > 0 {
				row.Href = fmt.Sprintf("/policies/%d/compare?from=%d&to=%d", policyID, e.ComparedTo, ver.Number)
				row.HrefTxt = fmt.Sprintf("Changes from version %d", e.ComparedTo)
			}
			out = append(out, row)
			continue
		}
		rv := e.Review
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
		out = append(out, templates.PolicyHistoryRow{Date: rv.ReviewedOn.Format("2 January 2006"), What: "Reviewed with no changes", Who: who,
			Detail: strings.TrimSpace(rv.Note + "\nNext review by " + rv.NextReviewOn.Format("2 January 2006"))})
	}
	return out
}

// versionOptions are a policy's versions for the compare form's lists.
func versionOptions(versions []policies.Version) []components.Option {
	var out []components.Option
	for _, ver := range versions {
		out = append(out, components.Option{Value: strconv.Itoa(ver.Number), Label: fmt.Sprintf("Version %d (%s)", ver.Number, strings.ToLower(ver.Status.Label()))})
	}
	return out
}
