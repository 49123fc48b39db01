package pdf

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"

	"codeberg.org/go-pdf/fpdf"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/text/unicode/norm"
)

// Fonts draws one document's text in the bundled fonts: a face is embedded
// the first time it is used (so unused styles cost nothing), and text is
// made printable in the face it will be drawn in. The signed copy, the
// approval pack, the reports and the parents' letters all draw through one.
type Fonts struct {
	pdf   *fpdf.Fpdf
	added map[string]bool
	buf   sfnt.Buffer
}

// NewFonts loads the bundled faces (once a process) for drawing on p.
func NewFonts(p *fpdf.Fpdf) (*Fonts, error) {
	if err := loadFaces(); err != nil {
		return nil, err
	}
	return fontsFor(p), nil
}

// fontsFor is NewFonts once the faces are loaded.
func fontsFor(p *fpdf.Fpdf) *Fonts { return &Fonts{pdf: p, added: map[string]bool{}} }

// Use selects a font, embedding it on first use.
func (f *Fonts) Use(family, style string, size float64) {
	key := family + style
	if !f.added[key] {
		face := faces[key]
		if addShared(f.pdf, face) { // parsed once a process (fontshare.go)
			f.added[key] = true
			f.pdf.SetFont(family, style, size)
			return
		}
		// fpdf's own way (tests compare with it): released fpdf writes
		// into the font bytes it is given while subsetting (v0.12.0,
		// getMetrics appends into a sub-slice); our copy subsets a copy of
		// them, but a private copy keeps this path the released module's.
		f.pdf.AddUTF8FontFromBytes(face.Family, face.Style, bytes.Clone(face.TTF))
		f.added[key] = true
	}
	f.pdf.SetFont(family, style, size)
}

// Printable replaces characters that the given font cannot draw. fpdf would
// otherwise print nothing (or, above U+FFFF, fail) for them. Tabs and line
// breaks become spaces, invisible formatting characters are dropped, and
// anything else becomes U+FFFD so that it is visibly not silently lost.
func (f *Fonts) Printable(s, family, style string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	face := faces[family+style]
	s = norm.NFC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, ch := range s {
		switch {
		case ch == '\t' || ch == '\n' || ch == '\r':
			b.WriteByte(' ')
			continue
		case ch < 0x20 || ch == 0x7f:
			continue
		case ch < 0x7f:
			b.WriteRune(ch)
			continue
		}
		if ch <= 0xFFFF {
			if gi, err := face.Parsed.GlyphIndex(&f.buf, ch); err == nil && gi != 0 {
				b.WriteRune(ch)
				continue
			}
		}
		if unicode.Is(unicode.Cf, ch) || unicode.Is(unicode.Mn, ch) || unicode.IsControl(ch) {
			continue
		}
		b.WriteRune(utf8.RuneError)
	}
	return b.String()
}
