package letters

import (
	"fmt"
	"io"
	"signoff/internal/pdf"
	"signoff/internal/pdf/fonts"
	"strconv"
	"strings"
	"unicode/utf8"

	"codeberg.org/go-pdf/fpdf"

	"signoff/internal/schooltime"
)

// ---------------------------------------------------------------------------
// Fonts

const (
	famSans = fonts.Sans
	famMono = fonts.Mono
)

// ---------------------------------------------------------------------------
// Layout (millimetres unless noted)

const (
	marginX          = 20.0
	marginTop        = 15.0
	bottomMargin     = 16.0 // content ends this far above the page's bottom edge
	footerFromBottom = 11.0

	bodySize = 11.0 // pt
	bodyLine = 5.2
	paraGap  = 3.0
	ptToMM   = 25.4 / 72
	monoAdv  = 0.6 // Go Mono advance width, in em

	// The QR symbol (without its quiet zone) is at least this wide.
	qrMinSize = 42.0
	qrMaxSize = 56.0
	qrQuiet   = 4 // modules of quiet zone the QR specification asks for
)

var (
	colText    = [3]int{33, 33, 33}
	colAccent  = [3]int{20, 55, 100}
	colMuted   = [3]int{95, 95, 95}
	colRule    = [3]int{195, 195, 195}
	colTint    = [3]int{234, 240, 247}
	colTableHd = [3]int{242, 244, 247}
	colQR      = [3]int{0, 0, 0}
)

// ---------------------------------------------------------------------------
// Renderer

type renderer struct {
	pdf   *fpdf.Fpdf
	b     *Batch
	l     *Letter
	fonts *pdf.Fonts
	pageW float64
	pageH float64
}

func render(w io.Writer, b *Batch) error {
	// Make every QR code first: a link that cannot be encoded is the
	// caller's error, reported before any layout work.
	codes := make([][][]bool, len(b.Letters))
	for i, l := range b.Letters {
		// No quiet zone: the layout keeps it clear itself.
		bits, err := pdf.QRModules(l.Link, pdf.QRHigh, 0)
		if err != nil {
			return fmt.Errorf("letters: letter %d (%s): making QR code: %w", i+1, l.ParentName, err)
		}
		codes[i] = bits
	}

	p := fpdf.New("P", "mm", "A4", "")
	fs, err := pdf.NewFonts(p)
	if err != nil {
		return err
	}
	r := &renderer{pdf: p, b: b, fonts: fs}
	r.pageW, r.pageH = p.GetPageSize()

	families := "family"
	if len(b.Letters) != 1 {
		families = "families"
	}
	pdf.SetProperties(p, pdf.Properties{Date: b.Date, Title: "Letters to families", Author: b.SchoolName,
		Subject: fmt.Sprintf("Family link letters to %d %s, %s", len(b.Letters), families, schooltime.Date(b.Date))})
	p.SetMargins(marginX, marginTop, marginX)
	p.SetAutoPageBreak(false, 0) // pages are broken by the layout below
	p.SetCellMargin(0)

	for i := range b.Letters {
		r.letter(&b.Letters[i], codes[i])
		if err := p.Error(); err != nil {
			return fmt.Errorf("letters: rendering letter %d: %w", i+1, err)
		}
	}
	if err := p.Output(w); err != nil {
		return fmt.Errorf("letters: writing PDF: %w", err)
	}
	return nil
}

func (r *renderer) setTextColor(c [3]int) { r.pdf.SetTextColor(c[0], c[1], c[2]) }
func (r *renderer) setDrawColor(c [3]int) { r.pdf.SetDrawColor(c[0], c[1], c[2]) }
func (r *renderer) setFillColor(c [3]int) { r.pdf.SetFillColor(c[0], c[1], c[2]) }

func (r *renderer) contentWidth() float64 { return r.pageW - 2*marginX }
func (r *renderer) bottom() float64       { return r.pageH - bottomMargin }

// ---------------------------------------------------------------------------
// Rich text: runs of text in different styles, wrapped together

type span struct {
	text   string
	family string // famSans when empty
	style  string
}

func sans(s string) span { return span{text: s, family: famSans} }
func bold(s string) span { return span{text: s, family: famSans, style: "B"} }

// withBold is a translated message with its %s verbs filled by bolds, in
// bold: "This link works until %s." and the date.
func withBold(msg string, bolds ...string) []span {
	var out []span
	for i, part := range strings.Split(msg, "%s") {
		if part != "" {
			out = append(out, sans(part))
		}
		if i < len(bolds) && i < strings.Count(msg, "%s") {
			out = append(out, bold(bolds[i]))
		}
	}
	return out
}
func mono(s string) span  { return span{text: s, family: famMono} }
func monoB(s string) span { return span{text: s, family: famMono, style: "B"} }

// piece is a run of one style inside a word, with its width.
type piece struct {
	span
	w float64
}

type word struct {
	pieces []piece
	w      float64
}

// words splits spans at spaces into words (a word may change style midway)
// and measures them at the given size.
func (r *renderer) words(spans []span, size float64) []word {
	var out []word
	var cur word
	flush := func() {
		if len(cur.pieces) > 0 {
			out = append(out, cur)
		}
		cur = word{}
	}
	for _, s := range spans {
		if s.family == "" {
			s.family = famSans
		}
		text := r.fonts.Printable(s.text, s.family, s.style)
		r.fonts.Use(s.family, s.style, size)
		for i, f := range strings.Split(text, " ") {
			if i > 0 {
				flush()
			}
			if f == "" {
				continue
			}
			w := r.pdf.GetStringWidth(f)
			cur.pieces = append(cur.pieces, piece{span{f, s.family, s.style}, w})
			cur.w += w
		}
	}
	flush()
	return out
}

// breakWord splits a word wider than width into parts that fit, preferring
// to break after a URL separator.
func (r *renderer) breakWord(w word, size, width float64) []word {
	if w.w <= width {
		return []word{w}
	}
	type ch struct {
		s     span
		r     string
		w     float64
		after bool // a break after this character reads naturally
	}
	var chars []ch
	for _, p := range w.pieces {
		r.fonts.Use(p.family, p.style, size)
		for _, c := range p.text {
			s := string(c)
			chars = append(chars, ch{s: p.span, r: s, w: r.pdf.GetStringWidth(s), after: strings.ContainsRune("/-.?&=_", c)})
		}
	}
	build := func(cs []ch) word {
		var out word
		for _, c := range cs {
			n := len(out.pieces)
			if n > 0 && out.pieces[n-1].family == c.s.family && out.pieces[n-1].style == c.s.style {
				out.pieces[n-1].text += c.r
				out.pieces[n-1].w += c.w
			} else {
				out.pieces = append(out.pieces, piece{span{c.r, c.s.family, c.s.style}, c.w})
			}
			out.w += c.w
		}
		return out
	}
	var parts []word
	for len(chars) > 0 {
		total, cut, soft := 0.0, 0, 0
		for cut < len(chars) && (cut == 0 || total+chars[cut].w <= width) {
			total += chars[cut].w
			if chars[cut].after {
				soft = cut + 1
			}
			cut++
		}
		if cut < len(chars) && soft > cut/2 {
			cut = soft
		}
		parts = append(parts, build(chars[:cut]))
		chars = chars[cut:]
	}
	return parts
}

// wrap lays spans out in lines no wider than width.
func (r *renderer) wrap(spans []span, size, width float64) [][]piece {
	r.fonts.Use(famSans, "", size)
	space := r.pdf.GetStringWidth(" ")
	var lines [][]piece
	var line []piece
	lw := 0.0
	for _, w0 := range r.words(spans, size) {
		for _, w := range r.breakWord(w0, size, width) {
			add := w.w
			if len(line) > 0 {
				add += space
			}
			if len(line) > 0 && lw+add > width {
				lines = append(lines, line)
				line, lw, add = nil, 0, w.w
			}
			if len(line) > 0 {
				line = append(line, piece{span{" ", famSans, ""}, space})
			}
			line = append(line, w.pieces...)
			lw += add
		}
	}
	if len(line) > 0 {
		lines = append(lines, line)
	}
	return lines
}

// drawLine prints one laid-out line at (x, y), merging runs of one style.
func (r *renderer) drawLine(line []piece, x, y, size, h float64, link string) {
	var merged []piece
	for _, p := range line {
		n := len(merged)
		if n > 0 && merged[n-1].family == p.family && (merged[n-1].style == p.style || p.text == " ") {
			merged[n-1].text += p.text
			merged[n-1].w += p.w
			continue
		}
		merged = append(merged, p)
	}
	for _, p := range merged {
		r.fonts.Use(p.family, p.style, size)
		r.pdf.SetXY(x, y)
		r.pdf.CellFormat(p.w, h, p.text, "", 0, "L", false, 0, link)
		x += p.w
	}
}

func lineWidth(line []piece) float64 {
	w := 0.0
	for _, p := range line {
		w += p.w
	}
	return w
}

// ---------------------------------------------------------------------------
// Page flow

// need starts a new page unless h millimetres fit below the current
// position. It reports whether it did.
func (r *renderer) need(h float64) bool {
	if r.pdf.GetY()+h <= r.bottom() {
		return false
	}
	r.footer(true)
	r.pdf.AddPage()
	r.header(false)
	return true
}

// para prints a paragraph of rich text across the content width, breaking
// pages between lines if it must (never leaving its first line alone at
// the bottom of a page).
func (r *renderer) para(spans []span, size, lineH, after float64, col [3]int) {
	width := r.contentWidth()
	lines := r.wrap(spans, size, width)
	r.need(float64(min(len(lines), 2)) * lineH)
	r.setTextColor(col)
	for i, ln := range lines {
		if i > 0 {
			r.need(lineH)
		}
		y := r.pdf.GetY()
		r.drawLine(ln, marginX, y, size, lineH, "")
		r.setTextColor(col)
		r.pdf.SetY(y + lineH)
	}
	r.pdf.SetY(r.pdf.GetY() + after)
}

// ---------------------------------------------------------------------------
// Page furniture

// header prints the school's name and the date (first page of a letter),
// or the school's name and whose letter continues.
func (r *renderer) header(first bool) {
	p := r.pdf
	width := r.contentWidth()
	const dateW = 52.0

	var right string
	if first {
		right = r.l.Lang.Date(r.b.Date)
	} else {
		right = r.l.Lang.T("continued")
	}
	r.fonts.Use(famSans, "", 10.5)
	r.setTextColor(colMuted)
	p.SetXY(marginX+width-dateW, marginTop+1)
	p.CellFormat(dateW, 6, r.fonts.Printable(right, famSans, ""), "", 0, "R", false, 0, "")

	r.setTextColor(colAccent)
	y := marginTop
	if h := r.logo(marginX, y, 50, 16); h > 0 {
		y += h + 3
	}
	lines := r.wrap([]span{bold(r.b.SchoolName)}, 17, width-dateW-4)
	for _, ln := range lines {
		r.drawLine(ln, marginX, y, 17, 7.5, "")
		y += 7.5
	}
	y += 2.5
	r.setDrawColor(colAccent)
	p.SetLineWidth(0.6)
	p.Line(marginX, y, marginX+width, y)
	p.SetLineWidth(0.2)
	p.SetY(y + 6)

	if first {
		r.para([]span{bold(r.l.Lang.T("Your children’s school forms"))}, 14, 7, 3, colAccent)
	} else {
		r.para([]span{sans(r.l.Lang.T("Letter to %s, continued from the previous page", r.l.ParentName))}, 10, 5, 4, colMuted)
	}
}

// footer closes a page: who the letter is for, and whether it goes on.
func (r *renderer) footer(continues bool) {
	p := r.pdf
	width := r.contentWidth()
	y := r.pageH - footerFromBottom
	r.setDrawColor(colRule)
	p.SetLineWidth(0.2)
	p.Line(marginX, y-1.5, marginX+width, y-1.5)

	r.fonts.Use(famSans, "", 8.5)
	r.setTextColor(colMuted)
	right := ""
	if continues {
		right = r.l.Lang.T("Continued on the next page →")
	}
	right = r.fonts.Printable(right, famSans, "")
	rw := p.GetStringWidth(right)
	left := r.wrap([]span{sans(r.l.Lang.T("Private and confidential: for %s", r.l.ParentName))}, 8.5, width-rw-6)
	if len(left) > 0 {
		// One line only: a very long name is cut.
		r.drawLine(left[0], marginX, y, 8.5, 4, "")
	}
	if right != "" {
		r.fonts.Use(famSans, "B", 8.5)
		r.setTextColor(colAccent)
		p.SetXY(marginX+width-rw-2, y)
		p.CellFormat(rw+2, 4, right, "", 0, "R", false, 0, "")
	}
}

// ---------------------------------------------------------------------------
// The letter

func (r *renderer) letter(l *Letter, qr [][]bool) {
	r.l = l
	p := r.pdf
	p.AddPage()
	r.header(true)

	private := l.Lang.T("Please keep this letter private: the link and the code open your children’s forms.")
	if len(l.Children) == 1 {
		private = l.Lang.T("Please keep this letter private: the link and the code open your child’s forms.")
	}
	forms := 0
	for _, c := range l.Children {
		forms += len(c.Forms)
	}

	r.para([]span{sans(l.Lang.T("Dear %s,", l.ParentName))}, bodySize, bodyLine, paraGap, colText)
	r.para(withBold(l.Lang.T("We use a website called %s for school forms, such as the home-school agreement and photo consent. You can fill in the forms on your phone. You do not need a password."),
		"Signoff"), bodySize, bodyLine, paraGap, colText)

	switch {
	case len(l.Children) == 0:
	case forms == 0:
		r.para([]span{sans(l.Lang.T("There are no forms waiting for you at the moment. When the school sends a new form, you can open it in the same way."))},
			bodySize, bodyLine, paraGap, colText)
		r.childTable(l.Children)
	default:
		what := l.Lang.T("Please fill in these forms:")
		if forms == 1 {
			what = l.Lang.T("Please fill in this form:")
		}
		r.para([]span{sans(what)}, bodySize, bodyLine, 1.8, colText)
		r.childTable(l.Children)
	}

	r.pdf.SetY(r.pdf.GetY() + 3)
	y0 := p.GetY()
	h := r.howToBox(l, qr, y0, false)
	if r.need(h) {
		y0 = p.GetY()
	}
	r.howToBox(l, qr, y0, true)
	p.SetY(y0 + h + 5)

	keep := []span{}
	if !l.ExpiresOn.IsZero() {
		keep = append(withBold(l.Lang.T("This link works until %s."), l.Lang.Date(l.ExpiresOn)), sans(" "))
	}
	keep = append(keep, sans(private))
	r.para(keep, bodySize, bodyLine, paraGap, colText)
	r.para([]span{sans(l.Lang.T("If you need this letter in another language or format, or have no phone or internet, please contact the school office."))},
		bodySize, bodyLine, paraGap+1, colText)

	// The sign-off stays together.
	r.need(3 * bodyLine)
	r.para([]span{sans(l.Lang.T("Thank you for your help,"))}, bodySize, bodyLine, 2, colText)
	r.para([]span{bold(l.Lang.T("The school office"))}, bodySize, bodyLine, 0, colText)
	r.para([]span{sans(r.b.SchoolName)}, bodySize, bodyLine, 0, colMuted)

	r.footer(false)
}

// childTable lists the children, their classes and the forms still to
// complete. A page break repeats the column headings.
func (r *renderer) childTable(children []Child) {
	p := r.pdf
	width := r.contentWidth()
	const (
		size   = 10.5
		lineH  = 4.8
		padX   = 2.5
		padY   = 1.6
		headH  = 7.0
		bullet = 4.0
	)
	colW := [3]float64{58, 38, width - 58 - 38}
	colX := [3]float64{marginX, marginX + colW[0], marginX + colW[0] + colW[1]}

	head := func() {
		y := p.GetY()
		r.setFillColor(colTableHd)
		p.Rect(marginX, y, width, headH, "F")
		r.fonts.Use(famSans, "B", 9)
		r.setTextColor(colMuted)
		for i, t := range []string{r.l.Lang.T("Child"), r.l.Lang.T("Class"), r.l.Lang.T("Still to complete")} {
			p.SetXY(colX[i]+padX, y)
			p.CellFormat(colW[i]-2*padX, headH, t, "", 0, "L", false, 0, "")
		}
		r.setDrawColor(colRule)
		p.SetLineWidth(0.3)
		p.Line(marginX, y+headH, marginX+width, y+headH)
		p.SetY(y + headH)
	}

	type formLine struct {
		line   []piece
		bullet bool
	}
	drawRow := func(left, class [][]piece, part []formLine, muted bool) {
		y := p.GetY()
		rows := max(len(left), len(class), len(part))
		h := float64(rows)*lineH + 2*padY
		r.setTextColor(colText)
		for i, ln := range left {
			r.drawLine(ln, colX[0]+padX, y+padY+float64(i)*lineH, size, lineH, "")
		}
		for i, ln := range class {
			r.drawLine(ln, colX[1]+padX, y+padY+float64(i)*lineH, size, lineH, "")
		}
		for i, f := range part {
			yy := y + padY + float64(i)*lineH
			x := colX[2] + padX
			if muted {
				r.setTextColor(colMuted)
				r.drawLine(f.line, x, yy, size, lineH, "")
				continue
			}
			if f.bullet {
				r.fonts.Use(famSans, "B", size)
				r.setTextColor(colAccent)
				p.SetXY(x, yy)
				p.CellFormat(bullet, lineH, "•", "", 0, "L", false, 0, "")
			}
			r.setTextColor(colText)
			r.drawLine(f.line, x+bullet, yy, size, lineH, "")
		}
		r.setDrawColor(colRule)
		p.SetLineWidth(0.2)
		p.Line(marginX, y+h, marginX+width, y+h)
		p.SetY(y + h)
	}
	r.need(headH + lineH + 2*padY)
	head()
	for _, c := range children {
		name := r.wrap([]span{bold(c.Name)}, size, colW[0]-2*padX)
		class := r.wrap([]span{sans(c.Class)}, size, colW[1]-2*padX)
		var fl []formLine
		for _, f := range c.Forms {
			for i, ln := range r.wrap([]span{sans(f)}, size, colW[2]-2*padX-bullet) {
				fl = append(fl, formLine{ln, i == 0})
			}
		}
		muted := len(fl) == 0
		if muted {
			fl = []formLine{{r.wrap([]span{sans(r.l.Lang.T("Nothing at the moment"))}, size, colW[2]-2*padX)[0], false}}
		}
		rows := max(len(name), len(class), len(fl))
		fresh := int((r.bottom() - marginTop - 45 - headH - 2*padY) / lineH) // lines on a new page
		if rows <= fresh {
			// The usual case: the row stays together.
			if r.need(float64(rows)*lineH + 2*padY) {
				head()
			}
			drawRow(name, class, fl, muted)
			continue
		}
		// A row taller than a page: its forms go on over the page, with
		// the child's name repeated.
		left := name
		for len(fl) > 0 {
			avail := int((r.bottom() - p.GetY() - 2*padY) / lineH)
			if avail < max(len(left), len(class), 1) {
				r.footer(true)
				p.AddPage()
				r.header(false)
				head()
				continue
			}
			n := min(len(fl), avail)
			drawRow(left, class, fl[:n], muted)
			fl = fl[n:]
			left = r.wrap([]span{bold(c.Name), sans(" (continued)")}, size, colW[0]-2*padX)
		}
	}
}

// howToBox draws (or, with draw false, only measures) the box that tells
// the parent how to open their forms: the QR code with instructions, the
// link written out, and the code. It returns the box's height.
func (r *renderer) howToBox(l *Letter, qr [][]bool, y0 float64, draw bool) float64 {
	p := r.pdf
	x0, width := marginX, r.contentWidth()
	const (
		pad   = 5.5
		bandH = 9.5
	)
	inner := width - 2*pad

	if draw {
		r.setFillColor(colTint)
		p.Rect(x0, y0, width, bandH, "F")
		r.fonts.Use(famSans, "B", 12.5)
		r.setTextColor(colAccent)
		p.SetXY(x0+pad, y0)
		p.CellFormat(inner, bandH, r.fonts.Printable(r.l.Lang.T("How to open your forms"), famSans, "B"), "", 0, "L", false, 0, "")
	}

	// QR code: at least qrMinSize wide, modules about a millimetre.
	n := float64(len(qr))
	size := min(max(qrMinSize, n*1.0), qrMaxSize)
	module := size / n
	quiet := qrQuiet * module
	qx := x0 + max(pad, quiet+1)
	qy := y0 + bandH + max(pad, quiet+1)
	if draw {
		r.drawQR(qr, qx, qy, module)
		p.LinkString(qx, qy, size, size, l.Link)
	}

	// Beside it, how to scan.
	cx := qx + size + max(9, quiet+2)
	cw := x0 + width - pad - cx
	type block struct {
		lines  [][]piece
		size   float64
		lineH  float64
		col    [3]int
		after  float64
		indent float64
		number string
	}
	blocks := []block{
		{lines: r.wrap([]span{bold(r.l.Lang.T("Scan with your phone’s camera"))}, 14, cw), size: 14, lineH: 7, col: colAccent, after: 3},
	}
	for i, s := range []string{r.l.Lang.T("Open the camera on your phone."), r.l.Lang.T("Point it at the square code."), r.l.Lang.T("Tap the link that appears.")} {
		blocks = append(blocks, block{lines: r.wrap([]span{sans(s)}, bodySize, cw-7), size: bodySize, lineH: bodyLine + 0.6,
			col: colText, after: 0.8, indent: 7, number: strconv.Itoa(i + 1)})
	}
	blocks = append(blocks, block{lines: r.wrap([]span{sans(r.l.Lang.T("You do not need to download an app."))}, 9.5, cw), size: 9.5, lineH: 4.6, col: colMuted, after: 0})
	blocks[len(blocks)-2].after = 3
	colH := 0.0
	for _, b := range blocks {
		colH += float64(len(b.lines))*b.lineH + b.after
	}
	y := qy + max(0, (size-colH)/2)
	for _, b := range blocks {
		if draw && b.number != "" {
			// A numbered disc.
			r.setFillColor(colAccent)
			p.Circle(cx+2.4, y+b.lineH/2, 2.4, "F")
			r.fonts.Use(famSans, "B", 9)
			p.SetTextColor(255, 255, 255)
			p.SetXY(cx, y+b.lineH/2-2.4)
			p.CellFormat(4.8, 4.8, b.number, "", 0, "C", false, 0, "")
		}
		for _, ln := range b.lines {
			if draw {
				r.setTextColor(b.col)
				r.drawLine(ln, cx+b.indent, y, b.size, b.lineH, "")
			}
			y += b.lineH
		}
		y += b.after
	}
	y = max(y, qy+size+quiet+1)

	// The link, written out as large as fits.
	if draw {
		r.setDrawColor(colRule)
		p.SetLineWidth(0.2)
		p.Line(x0+pad, y, x0+width-pad, y)
	}
	y += 4
	for _, ln := range r.wrap([]span{sans(r.l.Lang.T("Or type this link into your phone’s web browser:"))}, bodySize, inner) {
		if draw {
			r.setTextColor(colText)
			r.drawLine(ln, x0+pad, y, bodySize, bodyLine, "")
		}
		y += bodyLine
	}
	y += 1
	linkSize := fitMono(utf8.RuneCountInString(l.Link), inner, 11, 15)
	linkH := linkSize * ptToMM * 1.35
	for _, ln := range r.wrap([]span{mono(l.Link)}, linkSize, inner) {
		if draw {
			r.setTextColor(colAccent)
			r.drawLine(ln, x0+pad, y, linkSize, linkH, l.Link)
		}
		y += linkH
	}

	// The code, and where to type it.
	y += 4
	var label []span
	if l.CodeURL != "" {
		label = withBold(l.Lang.T("Or go to %s and type this code:"), l.CodeURL)
	} else {
		label = []span{sans(l.Lang.T("Or ask the school office to open your forms with this code:"))}
	}
	for _, ln := range r.wrap(label, bodySize, inner) {
		if draw {
			r.setTextColor(colText)
			r.drawLine(ln, x0+pad, y, bodySize, bodyLine, "")
		}
		y += bodyLine
	}
	y += 2
	const boxPadX, boxPadY = 5.0, 2.6
	codeSize := fitMono(utf8.RuneCountInString(l.Code), inner-2*boxPadX, 14, 22)
	codeH := codeSize * ptToMM * 1.2
	codeLines := r.wrap([]span{monoB(l.Code)}, codeSize, inner-2*boxPadX)
	cwMax := 0.0
	for _, ln := range codeLines {
		cwMax = max(cwMax, lineWidth(ln))
	}
	boxH := float64(len(codeLines))*codeH + 2*boxPadY
	if draw {
		r.setDrawColor(colAccent)
		r.setFillColor(colTint)
		p.SetLineWidth(0.4)
		p.RoundedRect(x0+pad, y, cwMax+2*boxPadX, boxH, 1.8, "1234", "FD")
		p.SetLineWidth(0.2)
		for i, ln := range codeLines {
			r.setTextColor(colAccent)
			r.drawLine(ln, x0+pad+boxPadX, y+boxPadY+float64(i)*codeH, codeSize, codeH, "")
		}
	}
	y += boxH + pad

	h := y - y0
	if draw {
		r.setDrawColor(colAccent)
		p.SetLineWidth(0.5)
		p.Rect(x0, y0, width, h, "D")
		p.SetLineWidth(0.2)
	}
	return h
}

// fitMono returns the largest size from lo to hi (pt) at which n characters
// of Go Mono fit in width, or lo if none does (the text then wraps).
func fitMono(n int, width, lo, hi float64) float64 {
	if n == 0 {
		return hi
	}
	s := width / (float64(n) * monoAdv * ptToMM)
	s = float64(int(s*4)) / 4 // quarter points, for stable output
	return min(max(s, lo), hi)
}

// drawQR fills the dark modules of a QR symbol whose top-left corner is at
// (x, y) (see pdf.DrawQR).
func (r *renderer) drawQR(bits [][]bool, x, y, module float64) {
	r.setFillColor(colQR)
	pdf.DrawQR(r.pdf, bits, x, y, module)
}

// logo draws the school's logo at x, y within maxW × maxH millimetres
// and returns the height it took (0 without one).
func (r *renderer) logo(x, y, maxW, maxH float64) float64 {
	return pdf.DrawLogo(r.pdf, r.b.SchoolLogo, x, y, maxW, maxH)
}
