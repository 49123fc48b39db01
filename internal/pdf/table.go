package pdf

import (
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	east "github.com/yuin/goldmark/extension/ast"
)

// GFM tables are drawn as real tables: bordered cells, a bold header row on
// a grey fill that is repeated at the top of every page the table continues
// on, column widths that follow the content, text wrapped inside its cell
// and aligned as the Markdown says. Rows never cross the bottom margin: a
// row that does not fit moves to the next page, and only a row taller than
// a whole page is split between pages.

const (
	tableSize    = 9.5 // pt
	minTableSize = 7.0 // pt, for tables too wide for their words
	tableLine    = 4.6
	cellPadX     = 1.8
	cellPadY     = 1.3
	maxMinWord   = 40.0 // a column's minimum width never grows beyond this for one long word
	eps          = 1e-6
)

var (
	colTableHead   = [3]int{232, 234, 237}
	colTableZebra  = [3]int{246, 247, 249}
	colTableBorder = [3]int{175, 178, 184}
)

// run is a piece of inline text in one style, captured from the AST.
type run struct {
	text          string
	family, style string // style: "", "B", "I" or "BI"
	size          float64
	color         [3]int
	link          string
	strike        bool
	br            bool // a hard line break (no text)
}

// frag is text in one style on one line of a cell.
type frag struct {
	*run // style only; text is in frag.text
	text string
	w    float64
}

type cellLine struct {
	frags []frag
	w     float64
}

// item is a word (possibly in several styles), a space or a line break.
type item struct {
	kind  int
	frags []frag
	w     float64
}

const (
	itemWord = iota
	itemSpace
	itemBreak
)

type tableCell struct {
	runs  []run
	items []item
	align east.Alignment
	lines []cellLine
	// natural is the width of the cell on one line, longest its widest word.
	natural, longest float64
}

type tableRow struct {
	cells  []*tableCell
	header bool
	zebra  bool
	lines  int     // lines in the tallest cell
	lineH  float64 // line height in this table
}

func (row *tableRow) height(from int) float64 {
	return float64(max(row.lines-from, 0))*row.lineH + 2*cellPadY
}

func (r *renderer) table(t *east.Table) {
	r.gap(paraGap + 0.5)
	r.startBlock()
	p := r.pdf

	// The rows and their cells.
	var nodes [][]*east.TableCell
	var rows []*tableRow
	cols, body := 0, 0
	for n := t.FirstChild(); n != nil; n = n.NextSibling() {
		row := &tableRow{}
		switch n.(type) {
		case *east.TableHeader:
			row.header = true
		case *east.TableRow:
			row.zebra = body%2 == 1
			body++
		default:
			continue
		}
		var cells []*east.TableCell
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			if tc, ok := c.(*east.TableCell); ok {
				cells = append(cells, tc)
			}
		}
		cols = max(cols, len(cells))
		nodes = append(nodes, cells)
		rows = append(rows, row)
	}
	if cols == 0 {
		return
	}

	// Capture the cells' text and size the columns. A table too wide for
	// its words is set in smaller type, down to a limit, if that lets the
	// words fit; if nothing does, it keeps the normal size and words break.
	avail := pageMarginX + r.contentWidth() - r.left
	layout := func(size float64) (widths []float64, fits bool) {
		for i, row := range rows {
			row.lineH = tableLine * size / tableSize
			row.cells = row.cells[:0]
			for _, tc := range nodes[i] {
				row.cells = append(row.cells, r.captureCell(tc, row.header, size))
			}
			for len(row.cells) < cols {
				align := east.AlignNone
				if j := len(row.cells); j < len(t.Alignments) {
					align = t.Alignments[j]
				}
				row.cells = append(row.cells, &tableCell{align: align})
			}
		}
		return r.columnWidths(rows, cols, avail)
	}
	widths, fits := layout(tableSize)
	for size := tableSize - 0.5; !fits && size >= minTableSize; size -= 0.5 {
		widths, fits = layout(size)
	}
	if !fits {
		widths, _ = layout(tableSize)
	}

	// Wrap every cell to its column.
	for _, row := range rows {
		row.lines = 1
		for i, c := range row.cells {
			c.lines = r.layoutItems(c.items, widths[i]-2*cellPadX)
			row.lines = max(row.lines, len(c.lines))
		}
	}

	var header *tableRow
	if len(rows) > 0 && rows[0].header {
		header = rows[0]
	}
	_, ph := p.GetPageSize()
	bottom := ph - pageBreakGap
	x0 := r.left
	y := p.GetY()
	// Repeat the header on later pages unless it is absurdly tall.
	repeat := header != nil && header.height(0) <= (bottom-pageMarginTop)/3

	newPage := func() {
		p.AddPage()
		y = p.GetY()
		if repeat {
			r.drawRow(header, widths, x0, y, 0, header.lines)
			y += header.height(0)
		}
	}

	// Keep the header with the start of the first body row.
	if header != nil && len(rows) > 1 {
		need := header.height(0) + min(rows[1].height(0), 3*rows[1].lineH+2*cellPadY)
		if y+need > bottom+eps && y > pageMarginTop+eps {
			p.AddPage()
			y = p.GetY()
		}
	}

	for _, row := range rows {
		from := 0
		for from < row.lines {
			h := row.height(from)
			room := bottom - y
			if h <= room+eps {
				r.drawRow(row, widths, x0, y, from, row.lines)
				y += h
				break
			}
			fresh := bottom - pageMarginTop
			if repeat && !row.header {
				fresh -= header.height(0)
			}
			if from == 0 && h <= fresh+eps {
				// Fits on a page of its own: move it there whole.
				newPage()
				continue
			}
			// Taller than a page: print what fits here, continue overleaf.
			k := int(math.Floor((room - 2*cellPadY + eps) / row.lineH))
			if k >= 1 && (k >= 2 || from > 0 || y <= pageMarginTop+eps) {
				r.drawRow(row, widths, x0, y, from, from+k)
				from += k
			}
			if row.header {
				p.AddPage()
				y = p.GetY()
			} else {
				newPage()
			}
		}
	}

	p.SetY(y)
	p.SetX(r.left)
	r.open = false
	r.gap(paraGap + 0.5)
}

// captureCell collects a cell's inline content as styled runs and breaks it
// into words and spaces.
func (r *renderer) captureCell(tc *east.TableCell, header bool, size float64) *tableCell {
	var runs []run
	savedStyle, savedSize := r.style, r.size
	r.capture = &runs
	r.size = size
	r.style = r.base
	if header {
		r.style.bold = true
		r.style.color = colText
	}
	r.inlines(tc)
	r.capture = nil
	r.style, r.size = savedStyle, savedSize

	c := &tableCell{runs: runs, align: tc.Alignment}
	c.items = r.splitItems(c.runs)
	line := 0.0
	for _, it := range c.items {
		switch it.kind {
		case itemBreak:
			line = 0
		case itemWord:
			c.longest = max(c.longest, it.w)
			line += it.w
		case itemSpace:
			line += it.w
		}
		c.natural = max(c.natural, line)
	}
	return c
}

// measure returns the width of s in the run's font.
func (r *renderer) measure(ru *run, s string) float64 {
	r.useFont(ru.family, ru.style, ru.size)
	return r.pdf.GetStringWidth(s)
}

// splitItems turns runs into words, spaces and breaks. Consecutive spaces
// collapse into one, as in the HTML view; a word may span several runs
// ("**bold**text" is one word).
func (r *renderer) splitItems(runs []run) []item {
	var items []item
	var word *item
	endWord := func() {
		if word != nil {
			items = append(items, *word)
			word = nil
		}
	}
	for i := range runs {
		ru := &runs[i]
		if ru.br {
			endWord()
			items = append(items, item{kind: itemBreak})
			continue
		}
		s := ru.text
		for s != "" {
			ch, _ := utf8.DecodeRuneInString(s)
			space := unicode.IsSpace(ch)
			n := strings.IndexFunc(s, func(c rune) bool { return unicode.IsSpace(c) != space })
			if n < 0 {
				n = len(s)
			}
			piece := s[:n]
			s = s[n:]
			if space {
				endWord()
				if len(items) > 0 && items[len(items)-1].kind == itemSpace {
					continue
				}
				w := r.measure(ru, " ")
				items = append(items, item{kind: itemSpace, frags: []frag{{run: ru, text: " ", w: w}}, w: w})
				continue
			}
			if word == nil {
				word = &item{kind: itemWord}
			}
			w := r.measure(ru, piece)
			word.frags = append(word.frags, frag{run: ru, text: piece, w: w})
			word.w += w
		}
	}
	endWord()
	return items
}

// layoutItems wraps items to width, breaking words that are longer than a
// whole line between characters. A cell always has at least one line.
func (r *renderer) layoutItems(items []item, width float64) []cellLine {
	var lines []cellLine
	var cur cellLine
	var space *item
	push := func() {
		// Merge neighbouring fragments in the same style.
		var merged []frag
		for _, f := range cur.frags {
			if n := len(merged); n > 0 && merged[n-1].run.sameStyle(f.run) {
				merged[n-1].text += f.text
				merged[n-1].w += f.w
				continue
			}
			merged = append(merged, f)
		}
		cur.frags = merged
		lines = append(lines, cur)
		cur = cellLine{}
	}
	for i := range items {
		it := &items[i]
		switch it.kind {
		case itemBreak:
			push()
			space = nil
			continue
		case itemSpace:
			space = it
			continue
		}
		sp := 0.0
		if space != nil && len(cur.frags) > 0 {
			sp = space.w
		}
		switch {
		case cur.w+sp+it.w <= width+eps:
			if sp > 0 {
				cur.frags = append(cur.frags, space.frags...)
				cur.w += sp
			}
		case it.w <= width+eps:
			push()
		default:
			// Too long for any line: break it between characters, starting
			// on the current line if a useful part fits there.
			if len(cur.frags) > 0 {
				if width-cur.w-sp < width/4 {
					push()
				} else if sp > 0 {
					cur.frags = append(cur.frags, space.frags...)
					cur.w += sp
				}
			}
			for _, f := range it.frags {
				start := 0
				w := 0.0
				for j, ch := range f.text {
					cw := r.measure(f.run, string(ch))
					if cur.w+w+cw > width+eps && (cur.w > 0 || j > start) {
						if j > start {
							cur.frags = append(cur.frags, frag{run: f.run, text: f.text[start:j], w: w})
							cur.w += w
						}
						push()
						start, w = j, 0
					}
					w += cw
				}
				if start < len(f.text) {
					cur.frags = append(cur.frags, frag{run: f.run, text: f.text[start:], w: w})
					cur.w += w
				}
			}
			space = nil
			continue
		}
		cur.frags = append(cur.frags, it.frags...)
		cur.w += it.w
		space = nil
	}
	if len(cur.frags) > 0 || len(lines) == 0 {
		push()
	}
	return lines
}

func (a *run) sameStyle(b *run) bool {
	return a.family == b.family && a.style == b.style && a.size == b.size &&
		a.color == b.color && a.link == b.link && a.strike == b.strike
}

// columnWidths sizes columns like a browser's automatic table layout: at
// their natural width if the table fits. Otherwise columns that fit in a
// fair share of the width keep their natural width, and the others get their
// longest word (bounded) plus a share of the rest in proportion to how much
// more they would like.
func (r *renderer) columnWidths(rows []*tableRow, cols int, avail float64) (w []float64, fits bool) {
	maxW := make([]float64, cols)
	minW := make([]float64, cols)
	for _, row := range rows {
		for i, c := range row.cells {
			maxW[i] = max(maxW[i], c.natural+2*cellPadX)
			minW[i] = max(minW[i], min(c.longest, maxMinWord)+2*cellPadX)
		}
	}
	for i := range cols {
		// A little to spare so that natural widths never wrap.
		maxW[i] = max(maxW[i]+0.2, minW[i], 4*cellPadX)
		minW[i] = min(max(minW[i], 4*cellPadX), maxW[i])
	}
	w = make([]float64, cols)
	free := make([]int, cols)
	for i := range free {
		free[i] = i
	}
	room := avail
	for changed := true; changed && len(free) > 0; {
		changed = false
		share := room / float64(len(free))
		rest := free[:0:0]
		for _, i := range free {
			if maxW[i] <= share {
				w[i] = maxW[i]
				room -= maxW[i]
				changed = true
			} else {
				rest = append(rest, i)
			}
		}
		free = rest
	}
	if len(free) == 0 {
		return w, true
	}
	if !distribute(w, free, minW, maxW, room) {
		// Not even the longest words fit beside the narrow columns: share
		// the whole width out over all columns.
		all := make([]int, cols)
		for i := range all {
			all[i] = i
		}
		if !distribute(w, all, minW, maxW, avail) {
			sum := 0.0
			for i := range cols {
				sum += minW[i]
			}
			for i := range cols {
				w[i] = minW[i] * avail / sum
			}
			return w, false
		}
	}
	return w, true
}

// distribute sets w[i] for the columns in idx to their minimum width plus a
// share of what is left of room, in proportion to max-min. It reports false
// if the minimum widths do not fit.
func distribute(w []float64, idx []int, minW, maxW []float64, room float64) bool {
	sumMin, sumMax := 0.0, 0.0
	for _, i := range idx {
		sumMin += minW[i]
		sumMax += maxW[i]
	}
	if sumMin > room+eps {
		return false
	}
	f := 1.0
	if sumMax-sumMin > eps {
		f = min((room-sumMin)/(sumMax-sumMin), 1)
	}
	for _, i := range idx {
		w[i] = minW[i] + (maxW[i]-minW[i])*f
	}
	return true
}

// drawRow draws lines [from, to) of a row's cells at y.
func (r *renderer) drawRow(row *tableRow, widths []float64, x0, y float64, from, to int) {
	p := r.pdf
	h := float64(to-from)*row.lineH + 2*cellPadY
	p.SetLineWidth(0.2)
	r.setDrawColor(colTableBorder)
	x := x0
	for i, c := range row.cells {
		w := widths[i]
		style := "D"
		switch {
		case row.header:
			r.setFillColor(colTableHead)
			style = "FD"
		case row.zebra:
			r.setFillColor(colTableZebra)
			style = "FD"
		}
		p.Rect(x, y, w, h, style)
		ly := y + cellPadY
		for j := from; j < to && j < len(c.lines); j++ {
			ln := c.lines[j]
			lx := x + cellPadX
			switch c.align {
			case east.AlignRight:
				lx = x + w - cellPadX - ln.w
			case east.AlignCenter:
				lx = x + (w-ln.w)/2
			}
			for _, f := range ln.frags {
				r.useFont(f.family, f.style, f.size)
				if deco := decoration(f.link, f.strike); deco != "" {
					p.SetFont(f.family, f.style+deco, f.size)
				}
				r.setTextColor(f.color)
				p.SetXY(lx, ly)
				p.CellFormat(f.w, row.lineH, f.text, "", 0, "L", false, 0, f.link)
				lx += f.w
			}
			ly += row.lineH
		}
		x += w
	}
	r.setDrawColor(colRule)
}
