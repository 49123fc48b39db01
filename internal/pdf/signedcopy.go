// Package pdf renders the "signed copy" of a policy signature as a PDF.
//
// The signed copy is meant to stand up as evidence: it reproduces the full
// policy text exactly as signed (rendered from its Markdown source), followed
// by a boxed signature record with the statement the signer agreed to, who
// signed, when (in UK time), the SHA-256 of the version text and the
// signature reference. Every page carries a footer identifying the school,
// policy, version and reference.
//
// Output is deterministic for the same input: the creation and modification
// dates are the signing time and internal catalogues are sorted.
package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"signoff/internal/i18n"
	"signoff/internal/markdown"
	"signoff/internal/pdf/fonts"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // Europe/London must resolve even without system zoneinfo.
	"unicode"
	"unicode/utf8"

	"codeberg.org/go-pdf/fpdf"
	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
	"golang.org/x/text/unicode/norm"
)

// SignedCopy is everything printed on a signed copy.
type SignedCopy struct {
	SchoolName string
	// SchoolLogo, when set, is the school's logo as a plain PNG, printed
	// above its name.
	SchoolLogo     []byte
	PolicyTitle    string
	VersionNumber  int
	VersionDate    time.Time // when the version was published (UTC)
	BodyMarkdown   string    // the full policy text as signed, Markdown
	Statement      string    // the acknowledgement the signer ticked
	SignerName     string
	SignerRole     string // e.g. "Teacher"
	TypedSignature string // the full name typed as a signature
	SignedAt       time.Time
	SHA256         string // hex SHA-256 of the version text
	Reference      string // signature reference, e.g. "SG-7Q2K-9XHM"

	// Certificate, when set, adds a final page recording how the
	// signature was given (see certificate.go).
	Certificate *Certificate

	// Lang, for a parent's copy, is the language they signed in: the
	// copy's dates are written in it. The zero value, and a right-to-left
	// language (the copy's fonts cannot draw it), write them in English.
	Lang i18n.Lang
}

// dateTime is t in the copy's language and UK time.
func (c *SignedCopy) dateTime(t time.Time) string {
	if c.Lang.Code == "" || c.Lang.Code == i18n.English.Code || c.Lang.RTL {
		return formatDateTime(t)
	}
	return c.Lang.DateTime(t)
}

// date is t's UK date in the copy's language.
func (c *SignedCopy) date(t time.Time) string {
	if c.Lang.Code == "" || c.Lang.Code == i18n.English.Code || c.Lang.RTL {
		return formatDate(t)
	}
	return c.Lang.Date(t)
}

// WriteSignedCopy writes the PDF to w.
//
// The document is rendered completely in memory first, so nothing is written
// to w if rendering fails.
func WriteSignedCopy(w io.Writer, c SignedCopy) (err error) {
	if w == nil {
		return errors.New("pdf: nil writer")
	}
	if err := validate(&c); err != nil {
		return err
	}
	defer func() {
		// fpdf reports most problems through its error state, but a bug or
		// unexpected input must not take the whole server down.
		if p := recover(); p != nil {
			err = fmt.Errorf("pdf: rendering signed copy panicked: %v", p)
		}
	}()

	defer turn()()
	var buf bytes.Buffer
	if err := render(&buf, &c); err != nil {
		return err
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("pdf: writing signed copy: %w", err)
	}
	return nil
}

func validate(c *SignedCopy) error {
	var missing []string
	if strings.TrimSpace(c.SchoolName) == "" {
		missing = append(missing, "SchoolName")
	}
	if strings.TrimSpace(c.PolicyTitle) == "" {
		missing = append(missing, "PolicyTitle")
	}
	if strings.TrimSpace(c.SignerName) == "" {
		missing = append(missing, "SignerName")
	}
	if strings.TrimSpace(c.SHA256) == "" {
		missing = append(missing, "SHA256")
	}
	if c.SignedAt.IsZero() {
		missing = append(missing, "SignedAt")
	}
	if len(missing) > 0 {
		return fmt.Errorf("pdf: signed copy is missing required field(s): %s", strings.Join(missing, ", "))
	}
	c.SHA256 = strings.ToLower(strings.TrimSpace(c.SHA256))
	if len(c.SHA256) != 64 || strings.Trim(c.SHA256, "0123456789abcdef") != "" {
		return fmt.Errorf("pdf: SHA256 must be 64 hexadecimal characters, got %q", c.SHA256)
	}
	return nil
}

// ---------------------------------------------------------------------------
// Time formatting

var (
	londonOnce sync.Once
	london     *time.Location
)

// londonLocation returns Europe/London, or UTC if the zone database is
// unavailable (it should not be: time/tzdata is embedded).
func londonLocation() *time.Location {
	londonOnce.Do(func() {
		loc, err := time.LoadLocation("Europe/London")
		if err != nil {
			loc = time.UTC
		}
		london = loc
	})
	return london
}

// formatDateTime prints t in UK time, e.g. "30 November 2026 at 14:05 (GMT)".
func formatDateTime(t time.Time) string {
	loc := londonLocation()
	if loc == time.UTC {
		return t.UTC().Format("2 January 2006 at 15:04 (UTC)")
	}
	return t.In(loc).Format("2 January 2006 at 15:04 (MST)")
}

// formatDate prints the UK calendar date of t, e.g. "1 September 2026".
func formatDate(t time.Time) string {
	return t.In(londonLocation()).Format("2 January 2006")
}

// ---------------------------------------------------------------------------
// Fonts

const (
	famSans = fonts.Sans
	famMono = fonts.Mono
)

type fontFace = fonts.Face

var (
	facesOnce sync.Once
	facesErr  error
	faces     map[string]*fontFace // key: family+style
)

func loadFaces() error {
	facesOnce.Do(func() { faces, facesErr = fonts.Load() })
	return facesErr
}

// rendering bounds how many documents render at once in the process: one
// per CPU Go uses. Rendering is CPU work that allocates about 7 MB a
// document, so fifty downloads at once would hold fifty times that for no
// gain in speed; the rest wait their turn.
var rendering = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))

// turn waits for a rendering slot; call the function it returns when done.
func turn() func() {
	rendering <- struct{}{}
	return func() { <-rendering }
}

// ---------------------------------------------------------------------------
// Layout constants (millimetres unless noted)

const (
	pageMarginX   = 20.0
	pageMarginTop = 18.0
	pageBreakGap  = 20.0 // bottom margin used for automatic page breaks
	footerY       = -12.0

	bodySize   = 10.5 // pt
	bodyLine   = 5.3
	smallSize  = 8.0 // pt
	monoScale  = 0.9 // inline code relative to surrounding text
	codeSize   = 9.0 // pt, code blocks
	codeLine   = 4.5
	paraGap    = 2.8
	listIndent = 7.0
	quoteInset = 6.0
	ptToMM     = 25.4 / 72
)

var (
	colText    = [3]int{33, 33, 33}
	colHeading = [3]int{20, 40, 75}
	colMuted   = [3]int{100, 100, 100}
	colLink    = [3]int{20, 70, 160}
	colCode    = [3]int{120, 30, 60}
	colRule    = [3]int{190, 190, 190}
	colAccent  = [3]int{20, 40, 75}
	colBoxFill = [3]int{236, 240, 246}
	colWhite   = [3]int{255, 255, 255}
	colQR      = [3]int{0, 0, 0}
)

// ---------------------------------------------------------------------------
// Renderer

type inlineStyle struct {
	bold, italic, mono bool
	strike             bool   // GFM ~~strikethrough~~
	link               string // destination when inside a link
	color              [3]int
}

type renderer struct {
	pdf   *fpdf.Fpdf
	c     *SignedCopy
	src   []byte
	fonts *Fonts

	// Flow state.
	left    float64 // current left edge of the text flow
	right   float64 // right page margin (constant)
	pending float64 // vertical space requested before the next block
	size    float64 // current block font size (pt)
	line    float64 // current block line height
	style   inlineStyle
	base    inlineStyle // style at the start of the current block
	listDep int
	open    bool // text has been written on the current line
	noGap   bool // the next block starts flush (after the title block)

	// footerPrefix is the footer's text before the page number, worked
	// out on the first page (footerSet).
	footerPrefix string
	footerSet    bool

	// capture, when non-nil, collects inline text as styled runs instead
	// of printing it (used to lay out table cells).
	capture *[]run
}

func render(w io.Writer, c *SignedCopy) error {
	if err := loadFaces(); err != nil {
		return err
	}
	p := fpdf.New("P", "mm", "A4", "")
	r := &renderer{pdf: p, c: c, fonts: fontsFor(p)}

	// AliasNbPages must be set before fonts are added: fpdf then keeps the
	// digits in every font subset so the page total can be substituted.
	p.AliasNbPages("{nb}")
	signed := c.dateTime(c.SignedAt)
	kw := "signed copy; SHA-256 " + c.SHA256
	if ref := clean(c.Reference); ref != "" {
		kw = "signed copy; reference " + ref + "; SHA-256 " + c.SHA256
	}
	SetProperties(p, Properties{Date: c.SignedAt, Title: clean(c.PolicyTitle) + " — signed copy", Author: clean(c.SchoolName),
		Subject: "Signed by " + clean(c.SignerName) + " on " + signed, Keywords: kw})

	p.SetMargins(pageMarginX, pageMarginTop, pageMarginX)
	p.SetAutoPageBreak(true, pageBreakGap)
	p.SetCellMargin(0)
	r.right = pageMarginX
	r.left = pageMarginX
	r.useFont(famSans, "", bodySize) // the footer needs it
	p.SetFooterFunc(r.footer)

	p.AddPage()
	r.titleBlock()
	if err := r.body(); err != nil {
		return err
	}
	r.signatureBox()
	if c.Certificate != nil {
		if err := r.certificate(); err != nil {
			return err
		}
	}

	if err := p.Error(); err != nil {
		return fmt.Errorf("pdf: rendering signed copy: %w", err)
	}
	if err := p.Output(w); err != nil {
		return fmt.Errorf("pdf: writing signed copy: %w", err)
	}
	return nil
}

func (r *renderer) useFont(family, style string, size float64) {
	r.fonts.Use(family, style, size)
}

func (r *renderer) setTextColor(c [3]int) { r.pdf.SetTextColor(c[0], c[1], c[2]) }
func (r *renderer) setDrawColor(c [3]int) { r.pdf.SetDrawColor(c[0], c[1], c[2]) }
func (r *renderer) setFillColor(c [3]int) { r.pdf.SetFillColor(c[0], c[1], c[2]) }

// clean normalises text for printing: NFC (so "e" + combining diaeresis
// becomes "ë"), control characters removed, newlines and tabs as spaces.
func clean(s string) string {
	s = norm.NFC.String(s)
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t' || r == '\r':
			return ' '
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
}

func (r *renderer) printable(s, family, style string) string {
	return r.fonts.Printable(s, family, style)
}

// ---------------------------------------------------------------------------
// Page furniture

func (r *renderer) titleBlock() {
	p := r.pdf
	c := r.c
	width := r.contentWidth()

	r.useFont(famSans, "B", 9)
	r.setTextColor(colAccent)
	label := "SIGNED COPY"
	lw := p.GetStringWidth(label)
	p.SetXY(pageMarginX+width-lw, pageMarginTop)
	p.CellFormat(lw, 5, label, "", 0, "R", false, 0, "")

	top := pageMarginTop
	if h := r.logo(c.SchoolLogo, pageMarginX, top, 45, 14); h > 0 {
		top += h + 2
	}
	r.useFont(famSans, "B", 10.5)
	r.setTextColor(colMuted)
	p.SetXY(pageMarginX, top)
	r.wrapLines(r.printable(clean(c.SchoolName), famSans, "B"), width-lw-5, 5)

	p.SetY(p.GetY() + 1.5)
	r.useFont(famSans, "B", 20)
	r.setTextColor(colHeading)
	r.wrapLines(r.printable(clean(c.PolicyTitle), famSans, "B"), width, 8.5)

	p.SetY(p.GetY() + 1)
	r.useFont(famSans, "", 10)
	r.setTextColor(colMuted)
	r.wrapLines(r.versionLine(), width, 5)

	y := p.GetY() + 3
	r.setDrawColor(colAccent)
	p.SetLineWidth(0.5)
	p.Line(pageMarginX, y, pageMarginX+width, y)
	p.SetLineWidth(0.2)
	p.SetY(y + 6)
	r.noGap = true
}

func (r *renderer) versionLine() string {
	s := "Version " + strconv.Itoa(r.c.VersionNumber)
	if !r.c.VersionDate.IsZero() {
		s += ", published " + r.c.date(r.c.VersionDate)
	}
	return s
}

// wrapLines prints s with the current font, wrapped to width, one cell per
// line starting at the current x. Long words are broken.
func (r *renderer) wrapLines(s string, width, lineH float64) {
	x := r.pdf.GetX()
	for _, ln := range r.pdf.SplitText(s, width) {
		r.pdf.SetX(x)
		r.pdf.CellFormat(width, lineH, ln, "", 1, "L", false, 0, "")
	}
}

func (r *renderer) contentWidth() float64 {
	w, _ := r.pdf.GetPageSize()
	return w - 2*pageMarginX
}

// footerParts returns the footer text before "Page X of Y", shortening the
// school name and policy title if needed so the footer stays on one line.
// It is worked out once per document (with the footer's font set), in
// time linear in the texts' length (less a logarithm): every page's
// footer reuses it.
func (r *renderer) footerParts() (prefix string) {
	if r.footerSet {
		return r.footerPrefix
	}
	c := r.c
	school := r.printable(clean(c.SchoolName), famSans, "")
	title := r.printable(clean(c.PolicyTitle), famSans, "")
	ver := " v" + strconv.Itoa(c.VersionNumber)
	ref := ""
	if s := r.printable(clean(c.Reference), famSans, ""); s != "" {
		ref = " · Ref " + s
	}
	build := func() string { return school + " · " + title + ver + ref + " · " }
	width := r.pdf.GetStringWidth
	max := r.contentWidth() - width("Page 999 of 999")
	if width(build()) > max {
		// Share the room left between school and title: the shorter
		// keeps its length when it fits in half, the longer is cut.
		avail := max - width(" · "+ver+ref+" · ")
		ws, wt := width(school), width(title)
		switch half := avail / 2; {
		case ws <= half:
			title = r.fit(title, avail-ws)
		case wt <= half:
			school = r.fit(school, avail-wt)
		default:
			school, title = r.fit(school, half), r.fit(title, half)
		}
	}
	r.footerPrefix, r.footerSet = build(), true
	return r.footerPrefix
}

// fit returns s, or its longest beginning (at least 8 characters) with
// "…" that is at most w wide in the current font: a binary search, so
// O(n log n) for n characters.
func (r *renderer) fit(s string, w float64) string {
	if r.pdf.GetStringWidth(s) <= w {
		return s
	}
	rs := []rune(s)
	cut := func(k int) string { return strings.TrimSpace(string(rs[:k])) + "…" }
	lo, hi := min(8, len(rs)), len(rs)-1 // cut(lo) is the shortest allowed
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if r.pdf.GetStringWidth(cut(mid)) <= w {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	if lo <= 0 {
		return s
	}
	return cut(lo)
}

func (r *renderer) footer() {
	p := r.pdf
	r.useFont(famSans, "", smallSize)
	prefix := r.footerParts()
	width := r.contentWidth()
	_, h := p.GetPageSize()
	y := h + footerY
	r.setDrawColor(colRule)
	p.SetLineWidth(0.2)
	p.Line(pageMarginX, y-1.5, pageMarginX+width, y-1.5)
	r.setTextColor(colMuted)
	p.SetXY(pageMarginX, y)
	p.CellFormat(width, 4, prefix+"Page "+strconv.Itoa(p.PageNo())+" of {nb}", "", 0, "C", false, 0, "")
}

// ---------------------------------------------------------------------------
// Markdown body

func (r *renderer) body() error {
	src, doc := parseBody(r.c.BodyMarkdown) // bodycache.go
	r.src = src
	r.base = inlineStyle{color: colText}
	r.blocks(doc)
	r.flushNewline()
	if err := r.pdf.Error(); err != nil {
		return fmt.Errorf("pdf: rendering policy text: %w", err)
	}
	return nil
}

// gap requests vertical space before the next block; consecutive requests
// collapse to the largest.
func (r *renderer) gap(mm float64) {
	if mm > r.pending {
		r.pending = mm
	}
}

// startBlock applies pending space, unless at the top of a page.
func (r *renderer) startBlock() {
	p := r.pdf
	r.flushNewline()
	if r.pending > 0 && p.GetY() > pageMarginTop+0.01 && !r.noGap {
		p.SetY(p.GetY() + r.pending)
	}
	r.pending = 0
	r.noGap = false
	p.SetX(r.left)
}

// flushNewline ends a partly written line.
func (r *renderer) flushNewline() {
	if r.open {
		r.newline(r.line)
	}
}

// newline moves to the start of the next line of the current flow.
func (r *renderer) newline(h float64) {
	r.pdf.Ln(h)
	r.pdf.SetX(r.left)
	r.open = false
}

// ensureSpace starts a new page unless h millimetres fit on this one.
func (r *renderer) ensureSpace(h float64) {
	_, ph := r.pdf.GetPageSize()
	if r.pdf.GetY()+h > ph-pageBreakGap {
		r.pdf.AddPage()
		r.pdf.SetX(r.left)
	}
}

func (r *renderer) setLeft(x float64) {
	r.left = x
	r.pdf.SetLeftMargin(x)
}

func (r *renderer) blocks(parent ast.Node) {
	for n := parent.FirstChild(); n != nil; n = n.NextSibling() {
		r.block(n)
	}
}

func (r *renderer) block(n ast.Node) {
	switch n := n.(type) {
	case *ast.Heading:
		r.heading(n)
	case *ast.Paragraph:
		r.paragraph(n, paraGap)
	case *ast.TextBlock:
		// Tight list item text: items are spaced by the list itself.
		r.paragraph(n, 0.8)
	case *ast.List:
		r.list(n)
	case *ast.Blockquote:
		r.blockquote(n)
	case *ast.ThematicBreak:
		r.thematicBreak()
	case *ast.CodeBlock:
		r.codeBlock(n)
	case *ast.FencedCodeBlock:
		r.codeBlock(n)
	case *ast.HTMLBlock:
		r.codeBlock(n)
	case *ast.LinkReferenceDefinition:
		// Not printed, as in HTML.
	case *east.Table:
		r.table(n)
	default:
		if n.Type() == ast.TypeInline {
			r.paragraph(n, paraGap)
			return
		}
		if n.HasChildren() {
			r.blocks(n)
		} else if n.Lines().Len() > 0 {
			r.codeBlock(n)
		}
	}
}

var headingSizes = []float64{0, 17, 14, 12, 11, 10.5, 10.5}

func (r *renderer) heading(n *ast.Heading) {
	lvl := min(max(n.Level, 1), 6)
	size := headingSizes[lvl]
	before := []float64{0, 7, 6, 4.5, 4, 3.5, 3.5}[lvl]
	after := []float64{0, 3, 2.5, 1.8, 1.5, 1.2, 1.2}[lvl]
	r.gap(before)
	r.startBlock()
	line := size * ptToMM * 1.3
	// Keep the heading with at least two lines of what follows.
	r.ensureSpace(line + 2*bodyLine + after)
	style := "B"
	if lvl >= 5 {
		style = "BI"
	}
	r.size, r.line = size, line
	r.style = inlineStyle{bold: true, italic: style == "BI", color: colHeading}
	r.inlines(n)
	r.flushNewline()
	r.gap(after)
	if lvl <= 2 {
		// A light rule under top-level headings.
		y := r.pdf.GetY() + 0.8
		r.setDrawColor(colRule)
		r.pdf.SetLineWidth(0.2)
		r.pdf.Line(r.left, y, pageMarginX+r.contentWidth(), y)
		r.gap(after + 1)
	}
}

func (r *renderer) paragraph(n ast.Node, after float64) {
	r.startBlock()
	r.size, r.line = bodySize, bodyLine
	r.style = r.base
	if n.Type() == ast.TypeInline {
		r.inline(n)
	} else {
		r.inlines(n)
	}
	r.flushNewline()
	r.gap(after)
}

func (r *renderer) list(l *ast.List) {
	r.startBlock()
	oldLeft := r.left
	r.listDep++
	defer func() {
		r.listDep--
		r.setLeft(oldLeft)
		r.pdf.SetX(oldLeft)
	}()
	num := l.Start
	bullets := []string{"•", "◦", "▪"}
	markerW := 5.5
	if l.IsOrdered() {
		last := num + l.ChildCount() - 1
		r.useFont(famSans, "", bodySize)
		markerW = max(5.5, r.pdf.GetStringWidth(strconv.Itoa(last)+".")+2)
	}
	content := oldLeft + max(listIndent, markerW+1.5)
	first := true
	for it := l.FirstChild(); it != nil; it = it.NextSibling() {
		if !first {
			if l.IsTight {
				r.gap(0.8)
			} else {
				r.gap(paraGap)
			}
		}
		first = false
		r.setLeft(oldLeft)
		r.startBlock()
		// Marker and the item's first line must share a page.
		r.ensureSpace(bodyLine)
		var marker string
		if l.IsOrdered() {
			marker = strconv.Itoa(num) + string(l.Marker)
			num++
		} else {
			marker = bullets[(r.listDep-1)%len(bullets)]
		}
		r.useFont(famSans, "", bodySize)
		r.setTextColor(colText)
		y := r.pdf.GetY()
		r.pdf.SetXY(content-markerW-1.5, y)
		r.pdf.CellFormat(markerW, bodyLine, marker, "", 0, "R", false, 0, "")
		r.setLeft(content)
		r.pdf.SetXY(content, y)
		r.pending = 0
		if it.HasChildren() {
			r.blocks(it)
		} else {
			r.line = bodyLine
			r.newline(bodyLine)
		}
		r.flushNewline()
		// Nested blocks may have requested a trailing gap larger than the
		// item spacing; the next item decides.
		r.pending = 0
	}
	r.setLeft(oldLeft)
	r.pending = 0
	r.gap(paraGap)
}

func (r *renderer) blockquote(n *ast.Blockquote) {
	r.startBlock()
	oldLeft := r.left
	oldBase := r.base
	startPage, startY := r.pdf.PageNo(), r.pdf.GetY()
	r.setLeft(oldLeft + quoteInset)
	r.pdf.SetX(r.left)
	r.base = inlineStyle{color: [3]int{75, 75, 75}}
	r.pending = 0
	r.blocks(n)
	r.flushNewline()
	r.pending = 0
	endPage, endY := r.pdf.PageNo(), r.pdf.GetY()
	r.base = oldBase
	r.setLeft(oldLeft)
	r.pdf.SetX(oldLeft)
	r.sideBar(oldLeft+1.2, startPage, startY, endPage, endY, 0.9, [3]int{170, 185, 210})
	r.gap(paraGap)
}

// sideBar draws a vertical bar from (startPage, y0) to (endPage, y1),
// continuing across page breaks.
func (r *renderer) sideBar(x float64, startPage int, y0 float64, endPage int, y1 float64, lw float64, col [3]int) {
	p := r.pdf
	_, ph := p.GetPageSize()
	bottom := ph - pageBreakGap
	for pg := startPage; pg <= endPage; pg++ {
		top, end := pageMarginTop, bottom
		if pg == startPage {
			top = y0
		}
		if pg == endPage {
			end = y1
		}
		if end-top < 0.5 {
			continue
		}
		p.SetPage(pg)
		r.setDrawColor(col)
		p.SetLineWidth(lw)
		p.Line(x, top+0.3, x, end-0.3)
	}
	p.SetPage(endPage)
	// Restore drawing state explicitly on the current page.
	p.SetLineWidth(0.2)
	r.setDrawColor(colRule)
}

func (r *renderer) thematicBreak() {
	r.gap(3)
	r.startBlock()
	r.ensureSpace(3)
	y := r.pdf.GetY() + 1
	r.setDrawColor(colRule)
	r.pdf.SetLineWidth(0.3)
	r.pdf.Line(r.left, y, pageMarginX+r.contentWidth(), y)
	r.pdf.SetLineWidth(0.2)
	r.pdf.SetY(y + 1)
	r.pdf.SetX(r.left)
	r.gap(4)
}

// codeBlock prints the block's raw lines in a monospace font, preserving
// spacing and wrapping long lines.
func (r *renderer) codeBlock(n ast.Node) {
	r.gap(paraGap)
	r.startBlock()
	oldLeft := r.left
	r.setLeft(oldLeft + 4)
	r.pdf.SetX(r.left)
	startPage, startY := r.pdf.PageNo(), r.pdf.GetY()
	r.useFont(famMono, "", codeSize)
	r.setTextColor([3]int{40, 40, 40})
	r.line = codeLine
	lines := n.Lines()
	count := lines.Len()
	for i := range count {
		seg := lines.At(i)
		ln := strings.TrimRight(string(seg.Value(r.src)), "\r\n")
		ln = expandTabs(ln)
		ln = r.printable(ln, famMono, "")
		r.pdf.SetX(r.left)
		if ln != "" {
			r.writeChunks(codeLine, ln, "")
		}
		r.newline(codeLine)
	}
	if hb, ok := n.(*ast.HTMLBlock); ok && hb.HasClosure() {
		ln := strings.TrimRight(string(hb.ClosureLine.Value(r.src)), "\r\n")
		ln = r.printable(expandTabs(ln), famMono, "")
		r.pdf.SetX(r.left)
		r.writeChunks(codeLine, ln, "")
		r.newline(codeLine)
	}
	endPage, endY := r.pdf.PageNo(), r.pdf.GetY()
	r.setLeft(oldLeft)
	r.pdf.SetX(oldLeft)
	r.sideBar(oldLeft+1, startPage, startY, endPage, endY, 0.6, [3]int{200, 200, 200})
	r.gap(paraGap)
}

func expandTabs(s string) string {
	if !strings.Contains(s, "\t") {
		return s
	}
	var b strings.Builder
	col := 0
	for _, ch := range s {
		if ch == '\t' {
			n := 4 - col%4
			b.WriteString(strings.Repeat(" ", n))
			col += n
			continue
		}
		b.WriteRune(ch)
		col++
	}
	return b.String()
}

// ---------------------------------------------------------------------------
// Inline content

func (r *renderer) inlines(parent ast.Node) {
	for n := parent.FirstChild(); n != nil; n = n.NextSibling() {
		r.inline(n)
	}
}

func (r *renderer) inline(n ast.Node) {
	switch n := n.(type) {
	case *ast.Text:
		v := n.Segment.Value(r.src)
		if !n.IsRaw() {
			v = markdown.Unescape(v)
		}
		r.text(string(v))
		switch {
		case n.HardLineBreak():
			r.hardBreak()
		case n.SoftLineBreak():
			r.text(" ")
		}
	case *ast.String:
		v := n.Value
		if !n.IsRaw() && !n.IsCode() {
			v = markdown.Unescape(v)
		}
		r.text(string(v))
	case *ast.Emphasis:
		saved := r.style
		if n.Level >= 2 {
			r.style.bold = true
		} else {
			r.style.italic = true
		}
		r.inlines(n)
		r.style = saved
	case *ast.CodeSpan:
		saved := r.style
		r.style.mono = true
		if r.style.link == "" {
			r.style.color = colCode
		}
		var b strings.Builder
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			if t, ok := c.(*ast.Text); ok {
				v := t.Segment.Value(r.src)
				if bytes.HasSuffix(v, []byte("\n")) {
					v = append(v[:len(v)-1:len(v)-1], ' ')
				}
				b.Write(v)
			} else if s, ok := c.(*ast.String); ok {
				b.Write(s.Value)
			}
		}
		r.text(b.String())
		r.style = saved
	case *east.Strikethrough:
		saved := r.style
		r.style.strike = true
		r.inlines(n)
		r.style = saved
	case *ast.Link:
		r.link(n)
	case *ast.AutoLink:
		label := string(n.Label(r.src))
		saved := r.style
		r.style.link = string(n.URL(r.src))
		r.style.color = colLink
		r.text(label)
		r.style = saved
	case *ast.Image:
		saved := r.style
		r.style.italic = true
		r.style.color = colMuted
		r.text("[Image: ")
		r.inlines(n)
		r.text("]")
		if d := strings.TrimSpace(string(n.Destination)); d != "" {
			r.text(" (" + d + ")")
		}
		r.style = saved
	case *ast.RawHTML:
		// Printed literally: the signed copy shows exactly what was signed.
		var b strings.Builder
		for i := 0; i < n.Segments.Len(); i++ {
			seg := n.Segments.At(i)
			b.Write(seg.Value(r.src))
		}
		saved := r.style
		r.style.mono = true
		r.style.color = colMuted
		r.text(b.String())
		r.style = saved
	default:
		r.inlines(n)
	}
}

func (r *renderer) link(n *ast.Link) {
	dest := string(n.Destination)
	saved := r.style
	r.style.link = dest
	r.style.color = colLink
	r.inlines(n)
	r.style = saved
	label := markdown.Text(n, r.src)
	d := strings.TrimSpace(dest)
	d = strings.TrimPrefix(d, "mailto:")
	if d == "" || d == label || strings.TrimSuffix(d, "/") == strings.TrimSuffix(label, "/") {
		return
	}
	if strings.HasPrefix(d, "#") {
		return // in-document anchor: nothing useful to print
	}
	saved = r.style
	r.style.bold = false
	r.style.mono = false
	r.style.color = colMuted
	r.text(" (" + d + ")")
	r.style = saved
}

func (r *renderer) hardBreak() {
	if r.capture != nil {
		*r.capture = append(*r.capture, run{br: true})
		return
	}
	r.newline(r.line)
}

// text writes a run of inline text in the current style with fpdf's flowing
// Write, so runs in different styles wrap together.
func (r *renderer) text(s string) {
	if s == "" {
		return
	}
	st := r.style
	family, style := famSans, ""
	size := r.size
	if st.mono {
		family = famMono
		size = r.size * monoScale
	} else {
		if st.bold {
			style += "B"
		}
		if st.italic {
			style += "I"
		}
	}
	s = r.printable(s, family, style)
	if r.capture != nil {
		*r.capture = append(*r.capture, run{text: s, family: family, style: style,
			size: size, color: st.color, link: st.link, strike: st.strike})
		return
	}
	r.useFont(family, style, size)
	if deco := decoration(st.link, st.strike); deco != "" {
		// Underline links; strike out deleted text.
		r.pdf.SetFont(family, style+deco, size)
	}
	r.setTextColor(st.color)
	r.writeChunks(r.line, s, st.link)
}

// decoration returns the fpdf style letters for underlining links ("U") and
// striking out deleted text ("S").
func decoration(link string, strike bool) string {
	d := ""
	if link != "" {
		d += "U"
	}
	if strike {
		d += "S"
	}
	return d
}

// writeChunks feeds s to fpdf's Write in pieces of bounded length, split
// after spaces. The wrapping result is the same as one call, but fpdf's
// per-character rune conversion makes very long strings quadratic: in
// pieces of at most 32 runes its conversion is a stack buffer, not a heap
// slice per character (fpdf's Write from 23 % of a 5-page copy's render
// CPU to 7 %; the text and its line breaks unchanged).
func (r *renderer) writeChunks(h float64, s, link string) {
	const chunk = 32
	for s != "" {
		n := len(s)
		if utf8.RuneCountInString(s) > chunk {
			// Find the last space within the first chunk runes.
			cut, count := -1, 0
			for i, ch := range s {
				if count == chunk {
					break
				}
				if ch == ' ' {
					cut = i + 1
				}
				count++
			}
			if cut > 0 {
				n = cut
			} else if i := strings.IndexByte(s, ' '); i >= 0 {
				n = i + 1
			}
		}
		part := s[:n]
		s = s[n:]
		r.open = true
		if link != "" {
			r.pdf.WriteLinkString(h, part, link)
		} else {
			r.pdf.Write(h, part)
		}
	}
}

// ---------------------------------------------------------------------------
// Signature box

type sigRow struct {
	label        string
	value        string
	family, font string
	oneLine      bool // shrunk to fit one line (a hash, a reference)
	size         float64
	line         float64
	lines        []string
}

func (r *renderer) signatureBox() {
	p := r.pdf
	c := r.c
	r.setLeft(pageMarginX)
	r.pending = 0
	r.flushNewline()

	const (
		pad    = 5.0
		labelW = 44.0
		headH  = 10.0
	)
	width := r.contentWidth()
	inner := width - 2*pad
	valueW := inner - labelW

	// Statement block.
	stmt := r.printable(clean(c.Statement), famSans, "")
	var stmtLines []string
	const stmtSize, stmtLine, tickW = 10.5, 5.2, 7.0
	if strings.TrimSpace(stmt) != "" {
		r.useFont(famSans, "", stmtSize)
		stmtLines = p.SplitText(strings.TrimSpace(stmt), inner-tickW)
	}

	rows := []*sigRow{
		{label: "Signed by", value: clean(c.SignerName), family: famSans, font: "B", size: 10.5, line: 5.2},
	}
	if s := strings.TrimSpace(clean(c.SignerRole)); s != "" {
		rows = append(rows, &sigRow{label: "Role", value: s, family: famSans, size: 10.5, line: 5.2})
	}
	if s := strings.TrimSpace(clean(c.TypedSignature)); s != "" {
		// Bold at 14 pt, not bold italic: a face embedded for one name
		// was about a fifth of a 5-page copy's render (3.6 MB of garbage).
		rows = append(rows, &sigRow{label: "Typed signature", value: s, family: famSans, font: "B", size: 14, line: 7})
	}
	// The hash and the reference are in the body's face, shrunk to one
	// line: a copy embeds the monospace face only when its policy has code
	// (a face fewer is about 15 % of a 5-page copy's render and 4 MB of its
	// garbage; the reference's alphabet has no I, L, O or U to confuse).
	rows = append(rows,
		&sigRow{label: "Signed on", value: c.dateTime(c.SignedAt), family: famSans, size: 10.5, line: 5.2},
		&sigRow{label: "Policy version", value: clean(c.PolicyTitle) + ", " + strings.ToLower(r.versionLine()[:1]) + r.versionLine()[1:], family: famSans, size: 10.5, line: 5.2},
		&sigRow{label: "SHA-256 of version text", value: c.SHA256, family: famSans, size: 8.5, line: 5.2, oneLine: true},
	)
	if s := strings.TrimSpace(clean(c.Reference)); s != "" {
		rows = append(rows, &sigRow{label: "Reference", value: s, family: famSans, size: 10.5, line: 5.2, oneLine: true})
	}

	rowGap := 1.6
	bodyH := 0.0
	r.useFont(famSans, "", 8.5)
	for _, row := range rows {
		row.value = r.printable(row.value, row.family, row.font)
		r.useFont(row.family, row.font, row.size)
		if row.oneLine {
			// The hash must stay on one line: shrink until it fits.
			for row.size > 5 && p.GetStringWidth(row.value) > valueW {
				row.size -= 0.25
				r.useFont(row.family, row.font, row.size)
			}
		}
		row.lines = p.SplitText(row.value, valueW)
		if len(row.lines) == 0 {
			row.lines = []string{""}
		}
		r.useFont(famSans, "", 8.5)
		labelLines := p.SplitText(row.label, labelW-2)
		h := max(float64(len(row.lines))*row.line, (row.line-4.2)/2+float64(len(labelLines))*4.2)
		bodyH += h + rowGap
	}
	stmtH := 0.0
	if len(stmtLines) > 0 {
		stmtH = 4.5 + float64(len(stmtLines))*stmtLine + 4
	}
	total := headH + pad + stmtH + bodyH + pad - rowGap

	r.gap(8)
	r.startBlock()
	_, ph := p.GetPageSize()
	bottom := ph - pageBreakGap
	// Keep the record together on one page. Only an absurdly long statement
	// could make it taller than a page; it is then printed unboxed, flowing.
	boxed := total <= bottom-pageMarginTop
	if boxed {
		r.ensureSpace(total)
	}
	x0, y0 := pageMarginX, p.GetY()
	next := func(y, h float64) float64 {
		if !boxed && y+h > bottom {
			p.AddPage()
			return pageMarginTop
		}
		return y
	}

	if boxed {
		r.setFillColor(colBoxFill)
		r.setDrawColor(colAccent)
		p.SetLineWidth(0.5)
		p.Rect(x0, y0, width, headH, "F")
		p.Rect(x0, y0, width, total, "D")
		p.SetLineWidth(0.2)
		p.Line(x0, y0+headH, x0+width, y0+headH)
	} else {
		r.setDrawColor(colAccent)
		p.SetLineWidth(0.5)
		p.Line(x0, y0, x0+width, y0)
		p.SetLineWidth(0.2)
	}
	r.useFont(famSans, "B", 13)
	r.setTextColor(colAccent)
	p.SetXY(x0+pad, y0)
	p.CellFormat(inner/2, headH, "Signature", "", 0, "L", false, 0, "")
	r.useFont(famSans, "", 8.5)
	r.setTextColor(colMuted)
	p.SetXY(x0+pad+inner/2, y0)
	p.CellFormat(inner/2, headH, "Electronically signed in Signoff", "", 0, "R", false, 0, "")
	y := y0 + headH + pad

	if len(stmtLines) > 0 {
		r.useFont(famSans, "", 8.5)
		r.setTextColor(colMuted)
		p.SetXY(x0+pad, y)
		p.CellFormat(inner, 4.5, "Statement agreed to", "", 0, "L", false, 0, "")
		y += 4.5
		r.checkbox(x0+pad, y+0.6)
		r.useFont(famSans, "", stmtSize)
		r.setTextColor(colText)
		for _, ln := range stmtLines {
			y = next(y, stmtLine)
			p.SetXY(x0+pad+tickW, y)
			p.CellFormat(inner-tickW, stmtLine, ln, "", 0, "L", false, 0, "")
			y += stmtLine
		}
		y += 1.5
		r.setDrawColor(colRule)
		p.Line(x0+pad, y, x0+width-pad, y)
		y += 2.5
	}

	for _, row := range rows {
		r.useFont(famSans, "", 8.5)
		labelLines := p.SplitText(row.label, labelW-2)
		y = next(y, max(float64(len(row.lines))*row.line, (row.line-4.2)/2+float64(len(labelLines))*4.2))
		r.setTextColor(colMuted)
		ly := y + (row.line-4.2)/2
		for _, l := range labelLines {
			p.SetXY(x0+pad, ly)
			p.CellFormat(labelW-2, 4.2, l, "", 0, "L", false, 0, "")
			ly += 4.2
		}
		r.useFont(row.family, row.font, row.size)
		r.setTextColor(colText)
		vy := y
		for _, l := range row.lines {
			// A row taller than a page (only an absurdly long name) flows
			// on to the next page line by line.
			if nv := next(vy, row.line); nv != vy {
				vy, ly = nv, nv
			}
			p.SetXY(x0+pad+labelW, vy)
			p.CellFormat(valueW, row.line, l, "", 0, "L", false, 0, "")
			vy += row.line
		}
		y = max(vy, ly) + rowGap
	}
	if boxed {
		y = y0 + total
	}
	p.SetXY(pageMarginX, y+2)
}

// checkbox draws a ticked box with its top-left corner at (x, y).
func (r *renderer) checkbox(x, y float64) {
	p := r.pdf
	const s = 3.8
	r.setDrawColor(colAccent)
	p.SetLineWidth(0.3)
	p.Rect(x, y, s, s, "D")
	p.SetLineWidth(0.5)
	p.SetLineCapStyle("round")
	p.Line(x+0.8, y+2.0, x+1.6, y+3.0)
	p.Line(x+1.6, y+3.0, x+3.1, y+0.8)
	p.SetLineCapStyle("butt")
	p.SetLineWidth(0.2)
}

// shorten drops s's last character and adds "…" (once).
func shorten(s string) string {
	s = strings.TrimSuffix(s, "…")
	rs := []rune(strings.TrimSpace(s))
	if len(rs) <= 1 {
		return s
	}
	return strings.TrimSpace(string(rs[:len(rs)-1])) + "…"
}
