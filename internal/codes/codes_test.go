package codes_test

import (
	"regexp"
	"testing"

	"signoff/internal/codes"
)

func TestNew(t *testing.T) {
	t.Parallel()
	shapes := map[string]*regexp.Regexp{
		"SG": regexp.MustCompile(`^SG-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$`),
		"":   regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$`),
	}
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		for prefix, n := range map[string]int{"SG": 12, "": 16} {
			c, err := codes.New(prefix, n)
			if err != nil {
				t.Fatal(err)
			}
			if !shapes[prefix].MatchString(c) {
				t.Fatalf("New(%q, %d) = %q", prefix, n, c)
			}
			if codes.Normalise(prefix, c, n) != c {
				t.Fatalf("a new code %q does not read back as itself", c)
			}
			if seen[c] {
				t.Fatalf("%q twice", c)
			}
			seen[c] = true
		}
	}
}

func TestNormalise(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		prefix string
		n      int
		in     string
		want   string
	}{
		// A family's or the set-up code: sixteen characters.
		{"", 16, "abcd efgh jkmn pqrs", "ABCD-EFGH-JKMN-PQRS"},
		{"", 16, "ABCDEFGHJKMNPQRS", "ABCD-EFGH-JKMN-PQRS"},
		{"", 16, " o0o0-i1l1-AAAA-BBBB\n", "0000-1111-AAAA-BBBB"},
		{"", 16, "too-short", "T00SH0RT"},
		// A signature's reference: SG and any length.
		{"SG", 0, "SG-7K2M-9XQ4-RT3P", "SG-7K2M-9XQ4-RT3P"},
		{"SG", 0, " sg 7k2m 9xq4 rt3p ", "SG-7K2M-9XQ4-RT3P"},
		{"SG", 0, "SG7K2M9XQ4RT3P", "SG-7K2M-9XQ4-RT3P"},
		{"SG", 0, "SG–OOIL—9XQ4–RT3P", "SG-0011-9XQ4-RT3P"},
		{"SG", 0, "not a reference at all", "N0TAREFERENCEATA11"},
	} {
		if got := codes.Normalise(c.prefix, c.in, c.n); got != c.want {
			t.Errorf("Normalise(%q, %q, %d) = %q, want %q", c.prefix, c.in, c.n, got, c.want)
		}
	}
}
