package policies

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/sergi/go-diff/diffmatchpatch"
	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"

	"signoff/internal/markdown"
)

// BlockKind is what a block of a rendered document is.
type BlockKind int

// The kinds of block a document diff holds.
const (
	Paragraph BlockKind = iota
	Heading
	ListItem
	TableRow
	Quote
	Code
)

// BlockStatus says how a block changed between two versions.
type BlockStatus int

// The statuses of a block.
const (
	Unchanged BlockStatus = iota
	Added                 // the whole block is new
	Removed               // the whole block is gone
	Modified              // words inside the block changed
)

// Run is a piece of a block's text that is the same, inserted or deleted.
type Run = Change

// DiffBlock is one block of the later version (or a removed block of the
// earlier one) with its changes marked.
type DiffBlock struct {
	Kind    BlockKind
	Level   int    // a heading's level (1–6) or a list item's depth (0 at the top)
	Marker  string // an ordered list item's number ("3."); "" for bullets
	Header  bool   // a table's header row
	Runs    []Run  // the text, for every kind but a table row
	Cells   [][]Run
	Status  BlockStatus
	Section int // index of its section in DocDiff.Sections
	Change  int // the change it belongs to, 1-based; 0 when unchanged
}

// DiffSection is the part of a document under one heading.
type DiffSection struct {
	Title   string // the heading's text; "Opening text" before the first heading
	Changes int    // how many changes it holds
}

// DocDiff is the marked changes between two versions of a policy, over the
// rendered document's blocks: headings, paragraphs, list items, table rows.
type DocDiff struct {
	Blocks   []DiffBlock
	Sections []DiffSection
	Changes  int // runs of changed blocks, numbered 1…Changes
	Added    int // words inserted
	Removed  int // words deleted
}

// Changed reports whether anything changed.
func (d DocDiff) Changed() bool { return d.Changes > 0 }

// ChangedSections are the titles of the sections holding changes, in order.
func (d DocDiff) ChangedSections() []string {
	var out []string
	for _, s := range d.Sections {
		if s.Changes > 0 {
			out = append(out, s.Title)
		}
	}
	return out
}

// Visible reports, for each block, whether it is shown when only the
// changes are: changed blocks, the headings of their sections and up to
// context unchanged blocks either side of a change.
func (d DocDiff) Visible(context int) []bool {
	show := make([]bool, len(d.Blocks))
	for i, b := range d.Blocks {
		if b.Status == Unchanged {
			continue
		}
		for j := max(0, i-context); j <= min(len(d.Blocks)-1, i+context); j++ {
			if d.Blocks[j].Section == b.Section {
				show[j] = true
			}
		}
	}
	// The heading of every section with a change.
	for i, b := range d.Blocks {
		if b.Kind == Heading && d.Sections[b.Section].Changes > 0 {
			show[i] = true
		}
	}
	return show
}

// docBlock is one block of one version, before comparing.
type docBlock struct {
	kind   BlockKind
	level  int
	marker string
	header bool
	text   string   // all but table rows
	cells  []string // table rows
}

func (b docBlock) key() string {
	k := strconv.Itoa(int(b.kind)) + "|" + strconv.Itoa(b.level) + "|" + b.marker + "|"
	if b.kind == TableRow {
		return k + strings.Join(b.cells, "\x1f")
	}
	return k + b.text
}

// blocksOf parses policy Markdown into its blocks.
func blocksOf(body string) []docBlock {
	src := []byte(body)
	doc := markdown.Parse(src)
	var out []docBlock
	var visit func(n ast.Node, depth int, quote bool)
	walk := func(n ast.Node, depth int, quote bool) {
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			visit(c, depth, quote)
		}
	}
	visit = func(c ast.Node, depth int, quote bool) {
		switch c := c.(type) {
		case *ast.Heading:
			out = append(out, docBlock{kind: Heading, level: c.Level, text: markdown.Text(c, src)})
		case *ast.Paragraph, *ast.TextBlock:
			k := Paragraph
			if quote {
				k = Quote
			}
			out = append(out, docBlock{kind: k, text: markdown.Text(c, src)})
		case *ast.List:
			n := c.Start
			for it := c.FirstChild(); it != nil; it = it.NextSibling() {
				b := docBlock{kind: ListItem, level: depth}
				if c.IsOrdered() {
					b.marker = strconv.Itoa(n) + "."
					n++
				}
				var parts []string
				var nested []ast.Node
				for ic := it.FirstChild(); ic != nil; ic = ic.NextSibling() {
					switch ic.(type) {
					case *ast.Paragraph, *ast.TextBlock:
						parts = append(parts, markdown.Text(ic, src))
					default:
						nested = append(nested, ic)
					}
				}
				b.text = strings.Join(parts, " ")
				out = append(out, b)
				for _, nn := range nested {
					visit(nn, depth+1, quote)
				}
			}
		case *ast.Blockquote:
			walk(c, depth, true)
		case *ast.FencedCodeBlock, *ast.CodeBlock:
			var sb strings.Builder
			lines := c.Lines()
			for i := 0; i < lines.Len(); i++ {
				seg := lines.At(i)
				sb.Write(seg.Value(src))
			}
			out = append(out, docBlock{kind: Code, text: strings.TrimRight(sb.String(), "\n")})
		case *ast.HTMLBlock:
			var sb strings.Builder
			lines := c.Lines()
			for i := 0; i < lines.Len(); i++ {
				seg := lines.At(i)
				sb.Write(seg.Value(src))
			}
			out = append(out, docBlock{kind: Paragraph, text: strings.TrimSpace(sb.String())})
		case *east.Table:
			for row := c.FirstChild(); row != nil; row = row.NextSibling() {
				b := docBlock{kind: TableRow}
				_, b.header = row.(*east.TableHeader)
				for cell := row.FirstChild(); cell != nil; cell = cell.NextSibling() {
					b.cells = append(b.cells, markdown.Text(cell, src))
				}
				out = append(out, b)
			}
		case *ast.ThematicBreak:
			// nothing to read
		default:
			walk(c, depth, quote)
		}
	}
	walk(doc, 0, false)
	// Blank blocks say nothing.
	kept := out[:0]
	for _, b := range out {
		if b.kind != TableRow && strings.TrimSpace(b.text) == "" {
			continue
		}
		kept = append(kept, b)
	}
	return kept
}

// CompareDocuments marks the changes from old to new over the rendered
// blocks of both texts: blocks are matched first, then the words inside a
// block that changed. Each change is placed in the section (the nearest
// heading above it) it belongs to.
func CompareDocuments(old, new string) DocDiff {
	a, b := blocksOf(old), blocksOf(new)
	keys := func(bs []docBlock) []string {
		out := make([]string, len(bs))
		for i, bl := range bs {
			out[i] = bl.key()
		}
		return out
	}
	diffs, _ := diffKeys(keys(a), keys(b))

	var d DocDiff
	ia, ib := 0, 0
	var dels, inss []docBlock
	flush := func() {
		d.Blocks = append(d.Blocks, pairBlocks(dels, inss)...)
		dels, inss = nil, nil
	}
	for _, df := range diffs {
		n := len([]rune(df.Text))
		switch df.Type {
		case diffmatchpatch.DiffEqual:
			flush()
			for k := 0; k < n; k++ {
				d.Blocks = append(d.Blocks, sameBlock(b[ib+k]))
			}
			ia += n
			ib += n
		case diffmatchpatch.DiffDelete:
			dels = append(dels, a[ia:ia+n]...)
			ia += n
		case diffmatchpatch.DiffInsert:
			inss = append(inss, b[ib:ib+n]...)
			ib += n
		}
	}
	flush()
	d.number()
	return d
}

func sameBlock(b docBlock) DiffBlock {
	out := DiffBlock{Kind: b.kind, Level: b.level, Marker: b.marker, Header: b.header}
	if b.kind == TableRow {
		for _, c := range b.cells {
			out.Cells = append(out.Cells, []Run{{Op: Same, Text: c}})
		}
	} else {
		out.Runs = []Run{{Op: Same, Text: b.text}}
	}
	return out
}

func wholeBlock(b docBlock, st BlockStatus) DiffBlock {
	out := sameBlock(b)
	op := Inserted
	if st == Removed {
		op = Deleted
	}
	out.Status = st
	for i := range out.Runs {
		out.Runs[i].Op = op
	}
	for i := range out.Cells {
		for j := range out.Cells[i] {
			out.Cells[i][j].Op = op
		}
	}
	return out
}

// similar reports whether two blocks of the same kind are versions of one
// another (enough of their words are kept) rather than one replacing the other.
func similar(x, y docBlock) bool {
	if x.kind != y.kind || x.header != y.header || (x.kind == TableRow && len(x.cells) != len(y.cells)) {
		return false
	}
	if x.kind == Heading || x.kind == TableRow {
		return true // a renamed heading or an edited row stays in its place
	}
	c := Compare(x.text, y.text)
	same := 0
	for _, ch := range c.Changes {
		if ch.Op == Same {
			same += words(ch.Text)
		}
	}
	total := words(x.text) + words(y.text)
	return total == 0 || 2*same*10 >= total*4 // at least 40% of the words kept
}

// pairBlocks turns a run of removed and inserted blocks into blocks that
// were edited (matched in order, when similar) and blocks wholly removed or
// added, keeping the later version's order.
func pairBlocks(dels, inss []docBlock) []DiffBlock {
	var out []DiffBlock
	j := 0
	for _, x := range dels {
		match := -1
		for k := j; k < len(inss) && k < j+6; k++ {
			if similar(x, inss[k]) {
				match = k
				break
			}
		}
		if match < 0 {
			out = append(out, wholeBlock(x, Removed))
			continue
		}
		for ; j < match; j++ {
			out = append(out, wholeBlock(inss[j], Added))
		}
		out = append(out, editedBlock(x, inss[match]))
		j = match + 1
	}
	for ; j < len(inss); j++ {
		out = append(out, wholeBlock(inss[j], Added))
	}
	return out
}

func editedBlock(x, y docBlock) DiffBlock {
	out := DiffBlock{Kind: y.kind, Level: y.level, Marker: y.marker, Header: y.header, Status: Modified}
	if y.kind == TableRow {
		for i := range y.cells {
			out.Cells = append(out.Cells, Compare(x.cells[i], y.cells[i]).Changes)
		}
		return out
	}
	out.Runs = Compare(x.text, y.text).Changes
	if x.marker != y.marker && len(out.Runs) == 1 && out.Runs[0].Op == Same {
		out.Status = Unchanged // only renumbered
	}
	return out
}

// number gives every block its section, numbers the changes (a change is a
// run of changed blocks in one section) and counts the words.
func (d *DocDiff) number() {
	d.Sections = []DiffSection{{Title: "Opening text"}}
	prevChanged := false
	for i := range d.Blocks {
		b := &d.Blocks[i]
		if b.Kind == Heading && b.Status != Removed {
			d.Sections = append(d.Sections, DiffSection{Title: plainOf(b.Runs, false)})
			prevChanged = false
		} else if b.Kind == Heading {
			// A removed heading: its text names the section until the next.
			d.Sections = append(d.Sections, DiffSection{Title: plainOf(b.Runs, true)})
			prevChanged = false
		}
		b.Section = len(d.Sections) - 1
		if b.Status == Modified && unchangedRuns(b) {
			b.Status = Unchanged
		}
		if b.Status == Unchanged {
			prevChanged = false
			continue
		}
		if !prevChanged {
			d.Changes++
			d.Sections[b.Section].Changes++
		}
		prevChanged = true
		b.Change = d.Changes
		count := func(rs []Run) {
			for _, r := range rs {
				switch r.Op {
				case Inserted:
					d.Added += words(r.Text)
				case Deleted:
					d.Removed += words(r.Text)
				}
			}
		}
		count(b.Runs)
		for _, c := range b.Cells {
			count(c)
		}
	}
	// Drop the opening section when nothing comes before the first heading.
	if len(d.Sections) > 1 {
		used := false
		for _, b := range d.Blocks {
			if b.Section == 0 {
				used = true
				break
			}
		}
		if !used {
			d.Sections = d.Sections[1:]
			for i := range d.Blocks {
				d.Blocks[i].Section--
			}
		}
	}
}

func unchangedRuns(b *DiffBlock) bool {
	for _, r := range b.Runs {
		if r.Op != Same {
			return false
		}
	}
	for _, c := range b.Cells {
		for _, r := range c {
			if r.Op != Same {
				return false
			}
		}
	}
	return true
}

// plainOf is the later (or, with old, the earlier) text of some runs.
func plainOf(rs []Run, old bool) string {
	var sb strings.Builder
	for _, r := range rs {
		if r.Op == Same || (old && r.Op == Deleted) || (!old && r.Op == Inserted) {
			sb.WriteString(r.Text)
		}
	}
	return strings.TrimSpace(sb.String())
}

func words(s string) int {
	return len(strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }))
}
