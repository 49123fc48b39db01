// Package templates holds Signoff's pages: a layout, components with a
// Props struct, and one page per file with a flat view model. Templates
// show what they are given; they never query or read settings.
package templates

import "strconv"

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
