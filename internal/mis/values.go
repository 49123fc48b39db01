package mis

import (
	"fmt"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"
)

// upnLetters are the DfE check letters, indexed by value (no I, O or S).
const upnLetters = "ABCDEFGHJKLMNPQRTUVWXYZ"

// UPNCheckLetter returns the DfE check letter of a UPN's last twelve
// characters: each character in positions 2 to 13 is multiplied by its
// position (2 to 13) and the sum taken modulo 23 indexes upnLetters. The
// characters are digits, except that the last one of a temporary UPN is a
// letter, counted as its index in upnLetters. ok is false when rest is
// not twelve such characters.
func UPNCheckLetter(rest string) (letter byte, ok bool) {
	if len(rest) != 12 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 12; i++ {
		c := rest[i]
		var v int
		switch {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case i == 11 && strings.IndexByte(upnLetters, c) >= 0:
			v = strings.IndexByte(upnLetters, c)
		default:
			return 0, false
		}
		sum += v * (i + 2)
	}
	return upnLetters[sum%23], true
}

// checkUPN tidies a UPN (trimmed, upper case) and returns it with "" or
// the reason it is not a UPN.
func checkUPN(s string) (string, string) {
	u := strings.ToUpper(strings.TrimSpace(s))
	if u == "" {
		return u, "no UPN"
	}
	if utf8Len(u) != 13 {
		return u, fmt.Sprintf("malformed UPN %q: a UPN has 13 characters, a check letter then 12 digits", s)
	}
	want, ok := UPNCheckLetter(u[1:])
	if !ok || strings.IndexByte(upnLetters, u[0]) < 0 {
		return u, fmt.Sprintf("malformed UPN %q: a UPN is a check letter then 12 digits (a temporary UPN ends in a letter)", s)
	}
	if u[0] != want {
		return u, fmt.Sprintf("malformed UPN %s: its check letter does not match its digits, so a character is probably mistyped", u)
	}
	return u, ""
}

func utf8Len(s string) int { return len([]rune(s)) }

var (
	dmyRE = regexp.MustCompile(`^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$`)
	ymdRE = regexp.MustCompile(`^(\d{4})-(\d{1,2})-(\d{1,2})$`)
	// timeRE is a midnight time some spreadsheets add to a date.
	timeRE = regexp.MustCompile(`(?:[ T]00:00(?::00)?)$`)
)

// parseDate reads dd/mm/yyyy (also d/m/yyyy, with - or . too) and
// yyyy-mm-dd. ok is false for anything else or a day that does not exist.
func parseDate(s string) (time.Time, bool) {
	s = timeRE.ReplaceAllString(strings.TrimSpace(s), "")
	var y, m, d int
	if p := dmyRE.FindStringSubmatch(s); p != nil {
		d, _ = strconv.Atoi(p[1])
		m, _ = strconv.Atoi(p[2])
		y, _ = strconv.Atoi(p[3])
	} else if p := ymdRE.FindStringSubmatch(s); p != nil {
		y, _ = strconv.Atoi(p[1])
		m, _ = strconv.Atoi(p[2])
		d, _ = strconv.Atoi(p[3])
	} else {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if y < 1900 || y > 2199 || t.Day() != d || int(t.Month()) != m {
		return time.Time{}, false
	}
	return t, true
}

// parseYesNo reads a yes/no column; blank is no.
func parseYesNo(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yes", "y", "true", "t", "1", "x":
		return true, true
	case "no", "n", "false", "f", "0", "":
		return false, true
	}
	return false, false
}

// checkEmail tidies an address (trimmed, lower case) and reports whether
// it is in the right format, as people.Person.Validate checks it.
func checkEmail(s string) (string, bool) {
	e := strings.ToLower(strings.TrimSpace(s))
	a, err := mail.ParseAddress(e)
	return e, err == nil && a.Address == e
}

// nameKey folds a name for matching: Unicode NFC, lower case, single
// spaces. "Chloé  Brown" and "chloé brown" match; "Chloe" does not.
func nameKey(first, last string) string {
	f := strings.Join(strings.Fields(strings.ToLower(norm.NFC.String(first))), " ")
	l := strings.Join(strings.Fields(strings.ToLower(norm.NFC.String(last))), " ")
	return f + "\x00" + l
}

// mobileKey folds a phone number for matching: digits only, +44 as 0.
func mobileKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	if strings.HasPrefix(d, "44") && len(d) == 12 {
		d = "0" + d[2:]
	}
	return d
}

func sameDate(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}
