// Package templates holds Signoff's pages, one per file named like its
// handler in internal/web (policy_show.go ↔ policy_show.templ), each with
// its flat view model. What several pages share is in templates/components.
// Templates show what they are given; they never query or read settings.
package templates

import "signoff/templates/components"

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
func firstLabel(hs []components.SortHeader) string {
	if len(hs) == 0 {
		return ""
	}
	return hs[0].Label
}
