// Package templates holds Signoff's pages, one per file named like its
// handler in internal/web (policy_show.go ↔ policy_show.templ), each with
// its flat view model. What several pages share is in templates/components.
// Templates show what they are given; they never query or read settings.
package templates

// Table cells carry their column's heading as data-label (app.css shows it
// before the value when a table stacks on a phone); components.Table writes
// it for each cell. A table still written out by hand picks it with at.

// at is the i-th heading, "" past the end.
func at(headings []string, i int) string {
	if i < 0 || i >= len(headings) {
		return ""
	}
	return headings[i]
}
