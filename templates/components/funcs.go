// Package components holds what several pages share: the layout, the
// GOV.UK form parts with a Props struct, tables, charts and the policy
// diff. Pages (package templates, one level up) import it; it imports no
// page. Components show what they are given; they never query.
package components

import (
	"html"
	"strconv"
	"strings"
)

// Pluralise is n with one or many: "1 form", "3 forms".
func Pluralise(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// Itoa is strconv.Itoa, short for templates.
func Itoa(n int) string { return strconv.Itoa(n) }

// PluralWord picks one or many by n, without the number ("has"/"have").
func PluralWord(n int, one, many string) string {
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
