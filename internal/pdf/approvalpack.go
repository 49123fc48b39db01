package pdf

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"time"
)

// ApprovalPack is the governors' paper copy of a revision: the policy's
// details, the summary of changes, the changed sections marked, and room
// for the decision and the minute reference.
type ApprovalPack struct {
	SchoolName  string
	PolicyTitle string
	Version     int // the revision's number
	Produced    time.Time
	Details     [][2]string // label, value
	Summary     string      // "3 changes: in 2. Passwords, 5. Email, Appendix A"
	Words       string      // "12 words inserted, 3 words deleted."
	Blocks      []PackBlock
}

// PackBlock is one block of the marked document.
type PackBlock struct {
	Kind   string // "h", "p", "li", "row", "quote", "code", "gap", "change"
	Level  int    // a list item's depth
	Marker string // an ordered item's number
	Status string // "", "added", "removed", "modified"
	Runs   []PackRun
	Cells  [][]PackRun
	Text   string // a gap's or a change marker's words
}

// PackRun is a piece of text: Op "" unchanged, "ins" inserted, "del" deleted.
type PackRun struct {
	Op   string
	Text string
}

var (
	colIns = [3]int{0, 90, 48}
	colDel = [3]int{160, 40, 20}
)

// WriteApprovalPack writes the approval pack as a PDF to w. Inserted words
// are underlined and deleted ones struck through (and coloured, never by
// colour alone); wholly new or removed blocks start with NEW or REMOVED.
func WriteApprovalPack(w io.Writer, pk ApprovalPack) (err error) {
	if w == nil {
		return errors.New("pdf: nil writer")
	}
	if strings.TrimSpace(pk.SchoolName) == "" || strings.TrimSpace(pk.PolicyTitle) == "" || pk.Produced.IsZero() {
		return errors.New("pdf: approval pack needs a school name, a policy title and the time produced")
	}
	return writeOfficeDoc(w, officeDoc{
		what:     "approval pack",
		school:   pk.SchoolName,
		policy:   pk.PolicyTitle,
		produced: pk.Produced,
		title:    clean(pk.PolicyTitle) + " — version " + strconv.Itoa(pk.Version) + " for approval",
		subject:  "Governors' approval pack, produced " + formatDateTime(pk.Produced),
		footer: func(r *renderer) string {
			return shorten(r.printable(clean(pk.PolicyTitle), famSans, "")) + " · version " + strconv.Itoa(pk.Version) +
				" for approval · produced " + formatDateTime(pk.Produced)
		},
		top:     pk.SchoolName + " · Governors' approval pack",
		heading: pk.PolicyTitle,
		sub:     "Version " + strconv.Itoa(pk.Version) + ", for approval. Produced " + formatDateTime(pk.Produced),
	}, func(r *renderer) { r.approvalPack(pk) })
}

// approvalPack is the pack's body, below the heading.
func (r *renderer) approvalPack(pk ApprovalPack) {
	p := r.pdf
	width := r.contentWidth()
	r.sectionHeading("The policy")
	const labelW = 45.0
	for _, d := range pk.Details {
		r.useFont(famSans, "", 10.5)
		lines := p.SplitText(r.printable(clean(d[1]), famSans, ""), width-labelW)
		r.ensureSpace(float64(len(lines)) * 5.3)
		y := p.GetY()
		r.useFont(famSans, "B", 10.5)
		r.setTextColor(colText)
		p.SetXY(pageMarginX, y)
		p.CellFormat(labelW, 5.3, r.printable(clean(d[0]), famSans, "B"), "", 0, "L", false, 0, "")
		r.useFont(famSans, "", 10.5)
		for i, l := range lines {
			p.SetXY(pageMarginX+labelW, y+float64(i)*5.3)
			p.CellFormat(width-labelW, 5.3, l, "", 0, "L", false, 0, "")
		}
		p.SetY(y + float64(max(1, len(lines)))*5.3 + 1)
	}

	p.SetY(p.GetY() + 4)
	r.sectionHeading("Summary of changes")
	r.useFont(famSans, "B", 10.5)
	r.setTextColor(colText)
	p.SetX(pageMarginX)
	r.wrapLines(r.printable(clean(pk.Summary), famSans, "B"), width, 5.3)
	r.useFont(famSans, "", 10)
	if pk.Words != "" {
		p.SetX(pageMarginX)
		r.wrapLines(pk.Words, width, 5.3)
	}
	p.SetX(pageMarginX)
	r.wrapLines("How changes are marked: inserted words are underlined, deleted words are struck through; a paragraph that is wholly new begins NEW, one that is removed begins REMOVED. Only the changed sections are shown, with a little of the text around each change.", width, 5)

	p.SetY(p.GetY() + 4)
	r.sectionHeading("The changed sections")
	r.size, r.line = bodySize, bodyLine
	for _, b := range pk.Blocks {
		r.packBlock(b)
	}

	p.SetY(p.GetY() + 6)
	r.decisionBox()
}

func (r *renderer) packBlock(b PackBlock) {
	p := r.pdf
	width := r.contentWidth()
	p.SetX(pageMarginX)
	switch b.Kind {
	case "change":
		r.ensureSpace(14)
		p.SetY(p.GetY() + 2)
		r.useFont(famSans, "B", 9)
		r.setTextColor(colMuted)
		p.SetX(pageMarginX)
		r.wrapLines(r.printable(clean(b.Text), famSans, "B"), width, 4.5)
		p.SetY(p.GetY() + 1)
		return
	case "gap":
		r.useFont(famSans, "I", 9)
		r.setTextColor(colMuted)
		r.wrapLines(r.printable(clean(b.Text), famSans, "I"), width, 4.5)
		p.SetY(p.GetY() + 1.5)
		return
	}
	size, line, bold := bodySize, bodyLine, false
	left := pageMarginX
	prefix := ""
	switch b.Kind {
	case "h":
		size, line, bold = 13, 6.5, true
		r.ensureSpace(16)
		p.SetY(p.GetY() + 2)
	case "li":
		left += listIndent * float64(1+min(b.Level, 3))
		prefix = "•  "
		if b.Marker != "" {
			prefix = b.Marker + "  "
		}
	case "quote":
		left += quoteInset
	}
	r.setLeft(left)
	p.SetX(left)
	switch b.Status {
	case "added":
		r.packText("NEW: ", "", true, size, line)
	case "removed":
		r.packText("REMOVED: ", "", true, size, line)
	}
	if prefix != "" {
		r.packText(prefix, "", false, size, line)
	}
	runs := func(rs []PackRun, bold bool) {
		for i, ru := range rs {
			// A deletion and the insertion that replaces it are set apart.
			if i > 0 && rs[i-1].Op == "del" && ru.Op == "ins" && !strings.HasSuffix(rs[i-1].Text, " ") {
				r.packText(" ", "", bold, size, line)
			}
			r.packText(ru.Text, ru.Op, bold, size, line)
		}
	}
	if b.Kind == "row" {
		for i, c := range b.Cells {
			if i > 0 {
				r.packText("  |  ", "", false, size, line)
			}
			runs(c, false)
		}
	} else {
		runs(b.Runs, bold)
	}
	p.Ln(line)
	r.setLeft(pageMarginX)
	p.SetX(pageMarginX)
	p.SetY(p.GetY() + paraGap/2)
}

// packText writes text flowing on the current line: inserted underlined,
// deleted struck through.
func (r *renderer) packText(s, op string, bold bool, size, line float64) {
	if s == "" {
		return
	}
	style := ""
	if bold {
		style = "B"
	}
	s = r.printable(clean(s), famSans, style)
	r.useFont(famSans, style, size)
	switch op {
	case "ins":
		r.pdf.SetFont(famSans, style+"U", size)
		r.setTextColor(colIns)
	case "del":
		r.pdf.SetFont(famSans, style+"S", size)
		r.setTextColor(colDel)
	default:
		r.setTextColor(colText)
	}
	r.writeChunks(line, s, "")
}

// decisionBox leaves room for the board's decision, the meeting and the
// minute reference, to be filled in by hand.
func (r *renderer) decisionBox() {
	p := r.pdf
	width := r.contentWidth()
	const h = 92.0
	r.ensureSpace(h + 12)
	r.sectionHeading("The decision")
	y0 := p.GetY()
	r.setDrawColor(colAccent)
	p.SetLineWidth(0.4)
	p.Rect(pageMarginX, y0, width, h, "D")
	p.SetLineWidth(0.2)
	x := pageMarginX + 5
	y := y0 + 6
	r.useFont(famSans, "", 10.5)
	r.setTextColor(colText)
	for _, choice := range []string{"Approved", "Approved with the amendments below", "Not approved: changes needed (below)"} {
		r.setDrawColor(colAccent)
		p.SetLineWidth(0.3)
		p.Rect(x, y-3.2, 3.8, 3.8, "D") // an empty box to tick
		p.SetLineWidth(0.2)
		p.SetXY(x+7, y-4)
		p.CellFormat(width-20, 5.3, choice, "", 0, "L", false, 0, "")
		y += 7
	}
	r.setDrawColor(colRule)
	field := func(label string, w float64) {
		r.useFont(famSans, "B", 10)
		r.setTextColor(colText)
		p.SetXY(x, y-4)
		p.CellFormat(42, 5.3, label, "", 0, "L", false, 0, "")
		p.Line(x+42, y+1, x+42+w, y+1)
		y += 9
	}
	y += 2
	field("Meeting", width-52)
	field("Date", 50)
	field("Minute reference", 50)
	field("Chair's signature", width-52)
	r.useFont(famSans, "B", 10)
	p.SetXY(x, y-4)
	p.CellFormat(42, 5.3, "Amendments or comments", "", 0, "L", false, 0, "")
	y += 4
	for i := 0; i < 3; i++ {
		p.Line(x, y+1, pageMarginX+width-5, y+1)
		y += 7
	}
	p.SetY(y0 + h + 2)
}
