package pdf_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"signoff/internal/pdf"
	"signoff/internal/pdf/pdftest"
)

// The approval pack marks deleted words by striking them through (not by
// colour alone), keeps inside the margins, and leaves room for the decision.
func TestApprovalPackMarksChangesInShape(t *testing.T) {
	t.Parallel()
	pack := pdf.ApprovalPack{SchoolName: "Hollybrook Primary School", PolicyTitle: "IT acceptable use policy", Version: 2,
		Produced: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
		Details:  [][2]string{{"Owner", "Helen Ashcroft"}, {"Kind of change", "Major change"}},
		Summary:  "2 changes: in 2. Passwords, Appendix A", Words: "1 word inserted, 1 word deleted.",
		Blocks: []pdf.PackBlock{
			{Kind: "change", Text: "Change 1 of 2, in 2. Passwords"},
			{Kind: "h", Runs: []pdf.PackRun{{Text: "2. Passwords"}}},
			{Kind: "li", Status: "modified", Runs: []pdf.PackRun{{Text: "Use at least "}, {Op: "del", Text: "eight"}, {Op: "ins", Text: "twelve"}, {Text: " characters."}}},
			{Kind: "gap", Text: "(3 blocks of text not changed, not shown)"},
			{Kind: "change", Text: "Change 2 of 2, in Appendix A"},
			{Kind: "row", Status: "added", Cells: [][]pdf.PackRun{{{Op: "ins", Text: "Data protection officer"}}, {{Op: "ins", Text: "dpo@hollybrook.example.sch.uk"}}}},
		}}
	var buf bytes.Buffer
	if err := pdf.WriteApprovalPack(&buf, pack); err != nil {
		t.Fatal(err)
	}
	path := pdftest.File(t, buf.Bytes())
	text := pdftotext(t, path)
	for _, want := range []string{"Governors' approval pack", "2 changes: in 2. Passwords, Appendix A", "How changes are marked",
		"Change 1 of 2, in 2. Passwords", "NEW:", "Minute reference", "Chair's signature", "Approved with the amendments below"} {
		if !strings.Contains(text, want) {
			t.Errorf("the pack lacks %q:\n%s", want, text)
		}
	}
	ws := checkMargins(t, path)
	var eight, twelve *word
	for i := range ws {
		switch ws[i].text {
		case "eight":
			eight = &ws[i]
		case "twelve":
			twelve = &ws[i]
		}
	}
	if eight == nil || twelve == nil {
		t.Fatalf("the changed words are not in the pack:\n%s", text)
	}
	if !struckThrough(t, path, *eight) {
		t.Error("the deleted word is not struck through")
	}
	if struckThrough(t, path, *twelve) {
		t.Error("the inserted word is struck through")
	}
	if err := pdf.WriteApprovalPack(&buf, pdf.ApprovalPack{}); err == nil {
		t.Error("a pack with no school, title or time was written")
	}
}
