package pdf_test

import (
	"bytes"
	"testing"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"signoff/internal/pdf"
)

// TestSharedFontsSameBytes: a document given the fonts parsed once a
// process (fontshare.go) is byte for byte the document fpdf makes when it
// parses them itself, with the page total (the signed copy) and without
// (a letter drawn on its own fpdf document); and the sharing is in use.
func TestSharedFontsSameBytes(t *testing.T) {
	docs := map[string]func(*testing.T) []byte{
		"signed copy":      func(t *testing.T) []byte { return render(t, sample()) },
		"long signed copy": func(t *testing.T) []byte { return render(t, longPolicy()) },
		"letter":           letter,
	}
	defer pdf.ShareFonts(true)
	for name, make := range docs {
		if !pdf.ShareFonts(true) {
			t.Fatal("the fonts are not shared between documents: fpdf's layout is not the one fontshare.go expects")
		}
		shared, again := make(t), make(t)
		pdf.ShareFonts(false)
		own := make(t)
		if !bytes.Equal(shared, own) || !bytes.Equal(shared, again) {
			t.Errorf("%s: %d bytes with the shared fonts, %d the second time, %d with fpdf parsing them: not the same bytes", name, len(shared), len(again), len(own))
		}
	}
}

// letter is a letter drawn on an fpdf document of its own in every
// style of the bundled fonts.
func letter(t *testing.T) []byte {
	p := fpdf.New("P", "mm", "A4", "")
	pdf.SetProperties(p, pdf.Properties{Date: time.Date(2026, 11, 30, 14, 5, 0, 0, time.UTC), Title: "A letter"})
	fs, err := pdf.NewFonts(p)
	if err != nil {
		t.Fatal(err)
	}
	p.AddPage()
	for _, st := range []string{"", "B", "I", "BI"} {
		fs.Use("gosans", st, 11)
		p.Cell(0, 6, fs.Printable("Dear Zoë Łukasz O'Brien — 12 3/4 “quoted” ☃", "gosans", st))
		p.Ln(7)
	}
	fs.Use("gomono", "", 9)
	p.Cell(0, 6, "SG-7Q2K-9XHM 0123456789")
	var buf bytes.Buffer
	if err := p.Output(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
