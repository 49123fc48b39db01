package limits_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"signoff/internal/limits"
)

func TestClip(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"abcdef", 3, "abc"},
		// Characters, not bytes: never half a letter.
		{"Zoë Hartley", 3, "Zoë"},
		{strings.Repeat("é", 10), 4, "éééé"},
		{"", 0, ""},
		{"abc", 0, ""},
	} {
		got := limits.Clip(c.in, c.n)
		if got != c.want || !utf8.ValidString(got) {
			t.Errorf("Clip(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}
