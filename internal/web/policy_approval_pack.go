package web

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"

	"signoff/internal/pdf"
	"signoff/internal/policies"
	"signoff/templates/components"
)

// policyApprovalPack sends the governors' approval pack of the policy's
// open revision as a PDF: its details, the summary of changes, the changed
// sections marked, and room for the decision and minute reference.
func (s *Server) policyApprovalPack(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	ctx := r.Context()
	p, ok := s.policyOf(w, r)
	if !ok {
		return
	}
	id := p.ID
	versions, err := s.policies.Versions(ctx, v.school.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	current, open := policies.CurrentAndOpen(versions)
	if open == nil {
		s.notFound(w, r)
		return
	}
	base, currentLabel := "", "None yet: this is the first version"
	if current != nil {
		base, currentLabel = current.Body, versionLabel(current.Number, current.PublishedAt)
	}
	kind := "Major change: everyone asked to sign will sign again"
	if !open.Major {
		kind = "Minor change: nobody is asked to sign again"
	}
	d := policies.CompareDocuments(base, open.Body)
	view := diffView(d, false, "", "", 0)
	pack := pdf.ApprovalPack{SchoolName: v.school.Name, PolicyTitle: p.Title, Version: open.Number, Produced: s.db.Now(),
		Summary: view.Summary, Words: view.Words,
		Details: [][2]string{
			{"Owner", orDash(p.OwnerName)},
			{"Category", orDash(p.Category)},
			{"Statutory", map[bool]string{true: "Yes", false: "No"}[p.Statutory]},
			{"Approved by", p.ApprovalLevel.Label()},
			{"Reviewed", cycleLabel(p.ReviewCycleYears)},
			{"Current version", currentLabel},
			{"This revision", "Version " + strconv.Itoa(open.Number) + ", " + open.Status.Label()},
			{"Kind of change", kind},
			{"Written by", orDash(open.AuthorName)},
		}}
	if open.ChangeNote != "" {
		pack.Details = append(pack.Details, [2]string{"What has changed", open.ChangeNote})
	}
	for _, g := range view.Groups {
		for _, n := range g.Navs {
			pack.Blocks = append(pack.Blocks, pdf.PackBlock{Kind: "change", Text: n.Label})
		}
		for _, b := range g.Blocks {
			pb := pdf.PackBlock{Kind: b.Kind, Level: b.Level, Marker: b.Marker, Status: b.Status, Text: b.Text, Runs: packRuns(b.Runs)}
			for _, c := range b.Cells {
				pb.Cells = append(pb.Cells, packRuns(c))
			}
			pack.Blocks = append(pack.Blocks, pb)
		}
	}
	var buf bytes.Buffer
	if err := pdf.WriteApprovalPack(&buf, pack); err != nil {
		s.fail(w, r, err)
		return
	}
	sendPDF(w, fmt.Sprintf("approval-pack-%d-v%d.pdf", p.ID, open.Number), buf.Bytes())
}

func packRuns(rs []components.DiffRun) []pdf.PackRun {
	out := make([]pdf.PackRun, 0, len(rs))
	for _, r := range rs {
		out = append(out, pdf.PackRun{Op: r.Op, Text: r.Text})
	}
	return out
}
