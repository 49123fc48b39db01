// Package templates holds Signoff's pages: a layout, components with a
// Props struct, and one page per file with a flat view model. Templates
// show what they are given; they never query or read settings.
package templates

import (
	"html"
	"strconv"
	"strings"
)

func pluralise(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func itoa(n int) string { return strconv.Itoa(n) }

// pluralise2 picks one or many by n, without the number ("has"/"have").
func pluralise2(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// emailParts splits an address after its "@" and each "." so that it can
// wrap there: "a.b@c.org" → "a.", "b@", "c.", "org".
func emailParts(addr string) []string {
	var out []string
	start := 0
	for i, r := range addr {
		if r == '@' || r == '.' {
			out = append(out, addr[start:i+1])
			start = i + 1
		}
	}
	if start < len(addr) {
		out = append(out, addr[start:])
	}
	return out
}

// emailHTML is the address escaped, with <wbr> where it may wrap.
func emailHTML(addr string) string {
	parts := emailParts(addr)
	for i, p := range parts {
		parts[i] = html.EscapeString(p)
	}
	return strings.Join(parts, "<wbr>")
}

// Table cells carry their column's heading as data-label (app.css shows it
// before the value when a table stacks on a phone); these pick the heading
// where it is not a fixed text.

// at is the i-th heading, "" past the end.
func at(headings []string, i int) string {
	if i < 0 || i >= len(headings) {
		return ""
	}
	return headings[i]
}

// either is yes's heading when cond holds, no's otherwise.
func either(cond bool, yes, no string) string {
	if cond {
		return yes
	}
	return no
}

// firstLabel is the first sortable heading's label, "" for none.
func firstLabel(hs []SortHeader) string {
	if len(hs) == 0 {
		return ""
	}
	return hs[0].Label
}
