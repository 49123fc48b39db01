// Package codes makes and reads the codes people copy by hand: a
// signature's reference (SG-7Q2K-9XHM-4D1P), a family's letter code and
// the first-run set-up code. Each is random, in Crockford's base 32 (no
// I, L, O or U to misread), in groups of four joined by dashes.
package codes

import (
	"crypto/rand"
	"fmt"
	"strings"
	"unicode"
)

// Alphabet is Crockford's base 32.
const Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// New returns n random characters of Alphabet in groups of four, after
// prefix and a dash when prefix is not empty ("SG" → "SG-XXXX-…").
func New(prefix string, n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("codes: %w", err)
	}
	for i, c := range b {
		b[i] = Alphabet[int(c)%len(Alphabet)] // 32 divides 256: every character equally likely
	}
	return group(prefix, string(b)), nil
}

// Normalise reads a code as a person might type or copy it: any case,
// with or without spaces and dashes (en and em dashes too), O for 0 and I
// or L for 1, and regroups it. n is the code's length without prefix and
// dashes (0: any). Text that is not such a code (another length, or
// without the prefix) comes back upper case without spaces or dashes, so
// it matches nothing.
func Normalise(prefix string, s string, n int) string {
	s = strings.Map(func(r rune) rune {
		switch r = unicode.ToUpper(r); {
		case unicode.IsSpace(r), r == '-', r == '–', r == '—':
			return -1
		case r == 'O':
			return '0'
		case r == 'I', r == 'L':
			return '1'
		}
		return r
	}, s)
	body, ok := strings.CutPrefix(s, prefix)
	if !ok || n > 0 && len(body) != n {
		return s
	}
	return group(prefix, body)
}

func group(prefix, body string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for i, r := range body {
		if i%4 == 0 && (i > 0 || prefix != "") {
			b.WriteByte('-')
		}
		b.WriteRune(r)
	}
	return b.String()
}
