package web

import "testing"

func TestParseDate(t *testing.T) {
	for _, c := range []struct {
		day, month, year string
		want, msg        string
	}{
		{"", "", "", "", ""},
		{" 3 ", "10", "26", "2026-10-03", ""},
		{"29", "2", "2028", "2028-02-29", ""},
		{"29", "2", "2027", "", "The day must be a real date"},
		{"1", "13", "2027", "", "The day must be a real date"},
		{"1", "1", "3000", "", "The day must be a real date"},
		{"1", "", "2027", "", "The day must include a day, month and year, as numbers"},
		{"one", "1", "2027", "", "The day must include a day, month and year, as numbers"},
	} {
		got, msg := parseDate(c.day, c.month, c.year, "The day")
		s := ""
		if got != nil {
			s = got.Format("2006-01-02")
		}
		if s != c.want || msg != c.msg {
			t.Errorf("parseDate(%q, %q, %q) = %q, %q; want %q, %q", c.day, c.month, c.year, s, msg, c.want, c.msg)
		}
	}
}
