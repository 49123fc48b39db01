package pdf

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Report is the compliance report for a governors' meeting.
type Report struct {
	SchoolName string
	Produced   time.Time
	// Sections are the kinds of form, each with its own figures: the
	// staff's policies and agreements, then the parents' forms. Their
	// figures are never added together.
	Sections []ReportSection
	// Reviews are the policies due for review; ReviewsKnown false means
	// the school records no review dates yet (the section says so).
	Reviews      []ReportReview
	ReviewsKnown bool
	// Anchor is the audit log's newest anchor, one line a field (empty
	// for none): the governors keep the report, so it holds the anchor
	// outside Signoff.
	Anchor []string
}

// ReportSection is one kind of form: its headline figures and each form.
type ReportSection struct {
	Title     string // "Staff policies and agreements"
	Done      string // what a form's audience does: "signed", "returned"
	Unit      string // what is counted: "signatures", "children's forms"
	FormsDone int    // forms everyone asked has answered
	Audience  int
	Signed    int
	Withdrawn int
	Forms     []ReportForm
}

// ReportForm is one form's figures.
type ReportForm struct {
	Title    string
	Version  int
	Due      string // "" or "1 October 2026"
	Audience int
	Signed   int
	// Withdrawn consents (0 for acknowledgements).
	Withdrawn int
}

// ReportReview is a policy due (or overdue) for review.
type ReportReview struct {
	Title string
	Due   string
	Late  bool
}

// WriteComplianceReport writes the report as a PDF to w: per form the
// figures and a bar of the share signed, the policies due for review, and
// the date and time it was produced. Rendered in memory first.
func WriteComplianceReport(w io.Writer, rep Report) (err error) {
	if w == nil {
		return errors.New("pdf: nil writer")
	}
	if strings.TrimSpace(rep.SchoolName) == "" || rep.Produced.IsZero() {
		return errors.New("pdf: compliance report needs a school name and the time produced")
	}
	return writeOfficeDoc(w, officeDoc{
		what:     "compliance report",
		school:   rep.SchoolName,
		produced: rep.Produced,
		title:    "Compliance report — " + clean(rep.SchoolName),
		subject:  "Signatures and reviews, produced " + formatDateTime(rep.Produced),
		footer: func(r *renderer) string {
			return r.printable(clean(rep.SchoolName), famSans, "") + " · Compliance report · produced " + formatDateTime(rep.Produced)
		},
		top:     rep.SchoolName,
		heading: "Compliance report",
		sub:     "Produced " + formatDateTime(rep.Produced) + " for the governing board",
	}, func(r *renderer) { r.complianceReport(rep) })
}

// complianceReport is the report's body, below the heading.
func (r *renderer) complianceReport(rep Report) {
	p := r.pdf
	width := r.contentWidth()
	if len(rep.Sections) == 0 {
		r.useFont(famSans, "", 10.5)
		r.setTextColor(colText)
		r.wrapLines("No forms are open for signature.", width, 5.3)
		p.SetY(p.GetY() + 4)
	}
	for _, sec := range rep.Sections {
		r.reportSection(sec)
	}
	r.sectionHeading("Policies due for review")
	r.useFont(famSans, "", 10.5)
	r.setTextColor(colText)
	switch {
	case !rep.ReviewsKnown:
		r.wrapLines("Review dates are not recorded in Signoff yet.", width, 5.3)
	case len(rep.Reviews) == 0:
		r.wrapLines("No policy is due for review soon or overdue.", width, 5.3)
	default:
		for _, rv := range rep.Reviews {
			r.ensureSpace(5.3)
			line := clean(rv.Title) + " — review due " + rv.Due
			if rv.Late {
				line += " (overdue)"
			}
			p.SetX(pageMarginX)
			r.wrapLines(r.printable(line, famSans, ""), width, 5.3)
		}
	}
	p.SetY(p.GetY() + 4)
	r.sectionHeading("Anchor of the audit log")
	r.useFont(famSans, "", 10.5)
	r.setTextColor(colText)
	if len(rep.Anchor) == 0 {
		r.wrapLines("The audit log has not been anchored yet.", width, 5.3)
	} else {
		r.wrapLines("The newest entry of the school's audit log when this report was made, signed by Signoff. Keep this page: "+
			"signoff audit verify compares the log with it, so a log cut short or rewritten later is found.", width, 5.3)
		r.useFont(famMono, "", 8.5)
		for _, line := range rep.Anchor {
			r.ensureSpace(4.5)
			p.SetX(pageMarginX)
			r.wrapLines(r.printable(clean(line), famMono, ""), width, 4.5)
		}
	}
}

// reportSection is one kind of form: its heading, its headline figures
// and a line with a bar for each form.
func (r *renderer) reportSection(sec ReportSection) {
	p, width := r.pdf, r.contentWidth()
	r.sectionHeading(sec.Title)
	r.useFont(famSans, "", 10.5)
	r.setTextColor(colText)
	summary := fmt.Sprintf("%d of %d open forms are fully %s. Across them, %d of %d %s asked for have been given (%d%%).",
		sec.FormsDone, len(sec.Forms), sec.Done, sec.Signed, sec.Audience, sec.Unit, pct(sec.Signed, sec.Audience))
	if sec.Withdrawn > 0 {
		summary += fmt.Sprintf(" %d withdrawn.", sec.Withdrawn)
	}
	r.wrapLines(summary, width, 5.3)
	p.SetY(p.GetY() + 3)
	const barW = 60.0
	for _, f := range sec.Forms {
		outstanding := max(f.Audience-f.Signed-f.Withdrawn, 0)
		r.useFont(famSans, "B", 10.5)
		titleLines := p.SplitText(r.printable(clean(f.Title), famSans, "B"), width-barW-8)
		h := float64(len(titleLines))*5.2 + 5.2 + 5
		r.ensureSpace(h)
		y := p.GetY()
		r.setTextColor(colText)
		for i, l := range titleLines {
			p.SetXY(pageMarginX, y+float64(i)*5.2)
			p.CellFormat(width-barW-8, 5.2, l, "", 0, "L", false, 0, "")
		}
		r.useFont(famSans, "", 9)
		r.setTextColor(colMuted)
		detail := fmt.Sprintf("Version %d · %d signed, %d still to sign", f.Version, f.Signed, outstanding)
		if f.Withdrawn > 0 {
			detail += fmt.Sprintf(", %d withdrawn", f.Withdrawn)
		}
		if f.Due != "" {
			detail += " · due " + f.Due
		}
		p.SetXY(pageMarginX, y+float64(len(titleLines))*5.2)
		p.CellFormat(width-barW-8, 5.2, detail, "", 0, "L", false, 0, "")
		// The bar: the share signed, with the figure beside it.
		bx := pageMarginX + width - barW
		r.setFillColor(colBoxFill)
		p.Rect(bx, y+1, barW-14, 5, "F")
		share := pct(f.Signed, f.Audience)
		if share > 0 {
			r.setFillColor(colAccent)
			p.Rect(bx, y+1, (barW-14)*float64(share)/100, 5, "F")
		}
		r.useFont(famSans, "B", 10)
		r.setTextColor(colText)
		p.SetXY(bx+barW-13, y+1)
		p.CellFormat(13, 5, strconv.Itoa(share)+"%", "", 0, "R", false, 0, "")
		p.SetY(y + h)
	}
	p.SetY(p.GetY() + 4)
}

func (r *renderer) sectionHeading(s string) {
	r.ensureSpace(20)
	r.useFont(famSans, "B", 14)
	r.setTextColor(colHeading)
	r.pdf.SetX(pageMarginX)
	r.wrapLines(s, r.contentWidth(), 7)
	r.pdf.SetY(r.pdf.GetY() + 2)
}

func pct(n, of int) int {
	if of == 0 {
		return 100
	}
	return n * 100 / of
}
