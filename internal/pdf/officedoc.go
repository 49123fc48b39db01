package pdf

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

// officeDoc is the frame of a document the office prints for the governors
// (the approval pack, the compliance report): its properties, the footer on
// every page and the heading on the first.
type officeDoc struct {
	what     string // "approval pack": in errors and the keywords
	school   string
	policy   string // the policy's title, when the document is about one
	produced time.Time
	title    string // the document's title property
	subject  string // the document's subject property
	// footer is the footer's text before " · Page n of N".
	footer func(r *renderer) string
	// top (bold, muted), heading (large) and sub (muted) open the first page.
	top, heading, sub string
}

// writeOfficeDoc renders d's frame, then body, and writes the PDF to w
// (rendered in memory first, one rendering slot held throughout).
func writeOfficeDoc(w io.Writer, d officeDoc, body func(r *renderer)) (err error) {
	if err := loadFaces(); err != nil {
		return err
	}
	defer turn()()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("pdf: rendering %s panicked: %v", d.what, p)
		}
	}()
	p := fpdf.New("P", "mm", "A4", "")
	r := &renderer{pdf: p, c: &SignedCopy{SchoolName: d.school, PolicyTitle: d.policy}, fonts: fontsFor(p)}
	p.AliasNbPages("{nb}")
	SetProperties(p, Properties{Date: d.produced, Title: d.title, Author: clean(d.school), Subject: d.subject, Keywords: d.what})
	p.SetMargins(pageMarginX, pageMarginTop, pageMarginX)
	p.SetAutoPageBreak(true, pageBreakGap)
	p.SetCellMargin(0)
	r.left, r.right = pageMarginX, pageMarginX
	r.useFont(famSans, "", bodySize)
	p.SetFooterFunc(func() {
		r.useFont(famSans, "", smallSize)
		_, h := p.GetPageSize()
		r.setTextColor(colMuted)
		p.SetXY(pageMarginX, h+footerY)
		p.CellFormat(r.contentWidth(), 4, d.footer(r)+" · Page "+strconv.Itoa(p.PageNo())+" of {nb}", "", 0, "C", false, 0, "")
	})
	p.AddPage()
	width := r.contentWidth()

	r.useFont(famSans, "B", 10.5)
	r.setTextColor(colMuted)
	p.SetXY(pageMarginX, pageMarginTop)
	r.wrapLines(r.printable(clean(d.top), famSans, "B"), width, 5)
	r.useFont(famSans, "B", 20)
	r.setTextColor(colHeading)
	r.wrapLines(r.printable(clean(d.heading), famSans, "B"), width, 9)
	r.useFont(famSans, "", 10)
	r.setTextColor(colMuted)
	r.wrapLines(d.sub, width, 5)
	y := p.GetY() + 3
	r.setDrawColor(colAccent)
	p.SetLineWidth(0.5)
	p.Line(pageMarginX, y, pageMarginX+width, y)
	p.SetLineWidth(0.2)
	p.SetY(y + 5)

	body(r)

	if err := p.Error(); err != nil {
		return fmt.Errorf("pdf: rendering %s: %w", d.what, err)
	}
	var buf bytes.Buffer
	if err := p.Output(&buf); err != nil {
		return fmt.Errorf("pdf: writing %s: %w", d.what, err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// Properties are a document's own properties (its PDF Info).
type Properties struct {
	Date                             time.Time // made and last changed
	Title, Author, Subject, Keywords string    // Keywords may be empty
}

// SetProperties sets pr on p with what every Signoff PDF shares: sorted
// catalogues and compression (the same input gives the same bytes),
// British English, and Signoff as creator and producer.
func SetProperties(p *fpdf.Fpdf, pr Properties) {
	p.SetCatalogSort(true)
	p.SetCreationDate(pr.Date.UTC())
	p.SetModificationDate(pr.Date.UTC())
	p.SetCompression(true)
	p.SetLang("en-GB")
	p.SetTitle(pr.Title, true)
	p.SetAuthor(pr.Author, true)
	p.SetSubject(pr.Subject, true)
	p.SetCreator("Signoff", true)
	p.SetProducer("Signoff", true)
	if pr.Keywords != "" {
		p.SetKeywords(pr.Keywords, true)
	}
}
