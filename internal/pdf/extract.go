package pdf

import (
	"bytes"
	"regexp"
	"unicode/utf16"
)

// referenceRE finds a signature reference, e.g. "SG-7Q2K-9XHM-4D1P".
var referenceRE = regexp.MustCompile(`SG(?:-[0-9A-HJKMNP-TV-Z]{4}){2,3}`)

// ReferenceOf finds the signature reference of a signed copy: in the
// document information's Keywords ("signed copy; reference SG-…"), where
// WriteSignedCopy puts it. It reads only that entry (the page text is
// compressed), so it is cheap and does not trust anything else in the file.
// It returns "" when there is none; whether the file matches the record is
// for the caller to check (see internal/evidence).
func ReferenceOf(data []byte) string {
	for _, key := range [][]byte{[]byte("/Keywords"), []byte("/Subject")} {
		i := bytes.LastIndex(data, key)
		if i < 0 {
			continue
		}
		s, ok := literalString(data[i+len(key):])
		if !ok {
			continue
		}
		if ref := referenceRE.FindString(s); ref != "" {
			return ref
		}
	}
	return ""
}

// literalString reads the PDF literal string "(…)" at the start of b
// (after white space), undoing escapes, and decodes UTF-16BE text that
// starts with a byte-order mark.
func literalString(b []byte) (string, bool) {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 || b[0] != '(' {
		return "", false
	}
	var out []byte
	depth := 0
	for i := 1; i < len(b) && i < 1<<16; i++ {
		c := b[i]
		switch c {
		case '\\':
			i++
			if i >= len(b) {
				return "", false
			}
			switch e := b[i]; e {
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case '\r', '\n':
				// line continuation
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for k := 0; k < 2 && i+1 < len(b) && b[i+1] >= '0' && b[i+1] <= '7'; k++ {
						i++
						v = v*8 + int(b[i]-'0')
					}
					out = append(out, byte(v))
				} else {
					out = append(out, e)
				}
			}
		case '(':
			depth++
			out = append(out, c)
		case ')':
			if depth == 0 {
				return decodeText(out), true
			}
			depth--
			out = append(out, c)
		default:
			out = append(out, c)
		}
	}
	return "", false
}

func decodeText(b []byte) string {
	if len(b) >= 2 && b[0] == 0xfe && b[1] == 0xff {
		b = b[2:]
		u := make([]uint16, 0, len(b)/2)
		for i := 0; i+1 < len(b); i += 2 {
			u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
		}
		return string(utf16.Decode(u))
	}
	return string(b)
}
