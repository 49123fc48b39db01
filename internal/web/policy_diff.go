package web

import (
	"fmt"
	"strconv"
	"strings"

	"signoff/internal/policies"
	"signoff/templates/components"
)

// diffContext is how many unchanged blocks are shown either side of a
// change when only the changes are shown.
const diffContext = 1

// diffView turns a document comparison into what the PolicyDiff component
// shows. whole shows every block; otherwise only the changed sections with
// a little context. pageHref is the page's own address (with its query,
// without "whole"); headingBase is the page heading level the document's
// headings sit under (a level-1 heading of the text becomes headingBase+1).
func diffView(d policies.DocDiff, whole bool, pageHref, label string, headingBase int) components.DiffView {
	v := components.DiffView{Changes: d.Changes, Whole: whole, Label: label}
	sep := "?"
	if strings.Contains(pageHref, "?") {
		sep = "&"
	}
	v.WholeHref = pageHref + sep + "whole=1#changes"
	v.ChangesHref = pageHref + "#changes"
	sections := d.ChangedSections()
	switch {
	case d.Changes == 0:
		v.Summary = "No changes."
	default:
		v.Summary = fmt.Sprintf("%s: in %s", pluralise(d.Changes, "change", "changes"), strings.Join(sections, ", "))
		v.Words = fmt.Sprintf("%s inserted, %s deleted.", pluralise(d.Added, "word", "words"), pluralise(d.Removed, "word", "words"))
	}
	// Each change: where it is, and the links between changes.
	navs := map[int]components.DiffChangeNav{}
	for _, b := range d.Blocks {
		if b.Change == 0 {
			continue
		}
		if _, ok := navs[b.Change]; ok {
			continue
		}
		n := components.DiffChangeNav{ID: "change-" + strconv.Itoa(b.Change), Section: d.Sections[b.Section].Title}
		n.Label = fmt.Sprintf("Change %d of %d, in %s", b.Change, d.Changes, n.Section)
		if b.Change > 1 {
			n.Prev = "#change-" + strconv.Itoa(b.Change-1)
		}
		if b.Change < d.Changes {
			n.Next = "#change-" + strconv.Itoa(b.Change+1)
		}
		navs[b.Change] = n
		v.Links = append(v.Links, components.NavItem{Label: fmt.Sprintf("In %s", n.Section), Href: "#" + n.ID})
	}

	// The document's headings sit one level under the page's: its top
	// level (a lone first level-1 heading is the title and sits there too)
	// becomes headingBase+1.
	minLevel, lone := 7, -1
	h1s := 0
	for i, b := range d.Blocks {
		if b.Kind == policies.Heading && b.Level == 1 {
			h1s++
			if lone < 0 {
				lone = i
			}
		}
	}
	if h1s != 1 || d.Blocks[lone].Section != 0 {
		lone = -1
	}
	for i, b := range d.Blocks {
		if b.Kind == policies.Heading && i != lone {
			minLevel = min(minLevel, b.Level)
		}
	}
	levelOf := func(i int, b policies.DiffBlock) int {
		if i == lone || minLevel == 7 {
			return min(6, headingBase+1)
		}
		return min(6, max(2, b.Level-minLevel+headingBase+1))
	}

	visible := d.Visible(diffContext)
	// A shown block's headings above it are shown too, so that no heading
	// level is skipped (a change in 2.1 shows 2 as well).
	type open struct{ i, level int }
	var stack []open
	for i, b := range d.Blocks {
		if b.Kind == policies.Heading {
			for len(stack) > 0 && stack[len(stack)-1].level >= b.Level {
				stack = stack[:len(stack)-1]
			}
			if visible[i] {
				for _, o := range stack {
					visible[o.i] = true
				}
			}
			stack = append(stack, open{i, b.Level})
			continue
		}
		if visible[i] {
			for _, o := range stack {
				visible[o.i] = true
			}
		}
	}
	var cur *components.DiffGroup
	hidden := 0
	started := map[int]bool{}
	push := func(kind string) {
		v.Groups = append(v.Groups, components.DiffGroup{Kind: kind})
		cur = &v.Groups[len(v.Groups)-1]
	}
	gap := func() {
		if hidden == 0 {
			return
		}
		push("block")
		cur.Blocks = append(cur.Blocks, components.DiffBlock{Kind: "gap", Text: fmt.Sprintf("(%s not changed, not shown)", pluralise(hidden, "block of text", "blocks of text"))})
		hidden = 0
		cur = nil
	}
	for i, b := range d.Blocks {
		if !whole && !visible[i] {
			hidden++
			continue
		}
		// The marker of a change goes before the group it starts in; a list
		// is split there so the marker sits just above its item.
		startsChange := b.Change > 0 && !started[b.Change]
		kind := "block"
		switch b.Kind {
		case policies.ListItem:
			kind = "list"
		case policies.TableRow:
			kind = "table"
		}
		if hidden > 0 && !whole {
			gap()
		}
		if cur == nil || cur.Kind != kind || kind == "block" || (startsChange && kind == "list") {
			push(kind)
		}
		if startsChange {
			started[b.Change] = true
			cur.Navs = append(cur.Navs, navs[b.Change])
		}
		blk := diffBlockOf(b)
		if b.Kind == policies.Heading {
			blk.Level = levelOf(i, b)
		}
		cur.Blocks = append(cur.Blocks, blk)
	}
	if hidden > 0 && len(v.Groups) > 0 {
		gap()
	}
	return v
}

func diffBlockOf(b policies.DiffBlock) components.DiffBlock {
	out := components.DiffBlock{Level: b.Level, Marker: b.Marker, Header: b.Header, Runs: diffRuns(b.Runs)}
	switch b.Kind {
	case policies.Heading:
		out.Kind = "h"
	case policies.ListItem:
		out.Kind = "li"
	case policies.TableRow:
		out.Kind = "row"
		for _, c := range b.Cells {
			out.Cells = append(out.Cells, diffRuns(c))
		}
	case policies.Quote:
		out.Kind = "quote"
	case policies.Code:
		out.Kind = "code"
	default:
		out.Kind = "p"
	}
	switch b.Status {
	case policies.Added:
		out.Status = "added"
	case policies.Removed:
		out.Status = "removed"
	case policies.Modified:
		out.Status = "modified"
	}
	return out
}

func diffRuns(rs []policies.Run) []components.DiffRun {
	out := make([]components.DiffRun, 0, len(rs))
	for _, r := range rs {
		op := ""
		switch r.Op {
		case policies.Inserted:
			op = "ins"
		case policies.Deleted:
			op = "del"
		}
		out = append(out, components.DiffRun{Op: op, Text: r.Text})
	}
	return out
}
