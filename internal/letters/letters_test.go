package letters_test

import (
	"bytes"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"

	"signoff/internal/i18n"
	"signoff/internal/letters"
	"signoff/internal/pdf/pdftest"
)

func sampleBatch() letters.Batch {
	expires := time.Date(2027, 1, 31, 23, 0, 0, 0, time.UTC)
	const host = "https://signoff.example.sch.uk"
	return letters.Batch{
		SchoolName: "Hollybrook Primary School",
		Date:       time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC),
		Letters: []letters.Letter{
			{
				ParentName: "Mrs Samira Walsh",
				Children: []letters.Child{
					{Name: "Zoë Walsh", Class: "Year 3 Oak", Forms: []string{"Home-school agreement", "Photo consent"}},
					{Name: "Siobhán Walsh", Class: "Reception Acorn", Forms: []string{"Photo consent"}},
				},
				Link:      host + "/f/ABCD-EFGH-JKMN-PQRS",
				Code:      "ABCD-EFGH-JKMN-PQRS",
				CodeURL:   host + "/family/code",
				ExpiresOn: expires,
			},
			{
				ParentName: "Mr Tomasz Nowak",
				Children: []letters.Child{
					{Name: "Łucja Nowak", Class: "Year 5 Willow", Forms: []string{"Home-school agreement", "Photo consent", "Trip consent: Science Museum"}},
				},
				Link:      host + "/f/TUVW-XYZ2-3456-789A",
				Code:      "TUVW-XYZ2-3456-789A",
				CodeURL:   host + "/family/code",
				ExpiresOn: expires,
			},
			{
				ParentName: "Ms Adaeze Okafor-Brown",
				Children: []letters.Child{
					{Name: "Chidi Okafor-Brown", Class: "Year 6 Beech", Forms: []string{"Home-school agreement"}},
					{Name: "Amara Okafor-Brown", Class: "Year 4 Elm", Forms: []string{"Home-school agreement", "Photo consent"}},
					{Name: "Renée Okafor-Brown", Class: "Year 1 Hazel", Forms: []string{"Photo consent", "Home-school agreement"}},
				},
				Link:      host + "/f/BCDF-GHJK-LMNP-QRST",
				Code:      "BCDF-GHJK-LMNP-QRST",
				CodeURL:   host + "/family/code",
				ExpiresOn: expires,
			},
		},
	}
}

func render(t *testing.T, b letters.Batch) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := letters.Write(&buf, b); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes()
}

func pageCount(t *testing.T, path string) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)`).FindStringSubmatch(pdftest.Run(t, "pdfinfo", path))
	if m == nil {
		t.Fatal("pdfinfo printed no page count")
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// pageText is the text of one page, with runs of white space collapsed so
// that wrapped sentences can be searched for.
func pageText(t *testing.T, path string, page int) string {
	t.Helper()
	n := strconv.Itoa(page)
	return strings.Join(strings.Fields(pdftest.Run(t, "pdftotext", "-f", n, "-l", n, "-enc", "UTF-8", path, "-")), " ")
}

func TestLettersText(t *testing.T) {
	b := sampleBatch()
	path := pdftest.File(t, render(t, b))

	if got := pageCount(t, path); got != len(b.Letters) {
		t.Fatalf("pages = %d, want %d (one per letter)", got, len(b.Letters))
	}
	pdftest.Run(t, "qpdf", "--check", path)

	for i, l := range b.Letters {
		text := pageText(t, path, i+1)
		want := []string{
			"Hollybrook Primary School",
			"30 November 2026",
			"Dear " + l.ParentName + ",",
			"home-school agreement and photo consent",
			"You can fill in the forms on your phone. You do not need a password.",
			"Scan with your phone’s camera",
			l.Link,
			"Or go to " + l.CodeURL + " and type this code: " + l.Code,
			"This link works until 31 January 2027.",
			"Please keep this letter private",
			"If you need this letter in another language or format, or have no phone or internet, please contact the school office.",
		}
		for _, c := range l.Children {
			want = append(want, c.Name, c.Class)
			want = append(want, c.Forms...)
		}
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("page %d (%s) does not contain %q; text:\n%s", i+1, l.ParentName, w, text)
			}
		}
		// Nothing from another family's letter is on this page.
		for j, o := range b.Letters {
			if j != i && (strings.Contains(text, o.ParentName) || strings.Contains(text, o.Code)) {
				t.Errorf("page %d (%s) mentions letter %d (%s)", i+1, l.ParentName, j+1, o.ParentName)
			}
		}
	}
}

func TestMetadata(t *testing.T) {
	b := sampleBatch()
	data := render(t, b)
	info := pdftest.Run(t, "pdfinfo", pdftest.File(t, data))
	for _, w := range []string{"Letters to families", "Hollybrook Primary School"} {
		if !strings.Contains(info, w) {
			t.Errorf("pdfinfo does not show %q:\n%s", w, info)
		}
	}
	// fpdf writes the creation date as UTC digits.
	if d := "/CreationDate (D:" + b.Date.UTC().Format("20060102150405") + ")"; !bytes.Contains(data, []byte(d)) {
		t.Errorf("PDF has no %s", d)
	}
}

// TestQRCodeScans renders the pages as a printer would and decodes each
// page's QR code: it must open that family's link.
func TestQRCodeScans(t *testing.T) {
	b := sampleBatch()
	path := pdftest.File(t, render(t, b))
	const dpi = 150
	prefix := filepath.Join(filepath.Dir(path), "page")
	pdftest.Run(t, "pdftoppm", "-r", strconv.Itoa(dpi), "-png", path, prefix)

	pngs, _ := filepath.Glob(prefix + "-*.png")
	if len(pngs) != len(b.Letters) {
		t.Fatalf("pdftoppm made %d images, want %d", len(pngs), len(b.Letters))
	}
	for i, l := range b.Letters {
		res := decodeQR(t, pngs[i])
		if got := res.GetText(); got != l.Link {
			t.Errorf("page %d QR code = %q, want %q", i+1, got, l.Link)
		}
		if ec := fmt.Sprint(res.GetResultMetadata()[gozxing.ResultMetadataType_ERROR_CORRECTION_LEVEL]); ec != "H" {
			t.Errorf("page %d QR error correction = %s, want H", i+1, ec)
		}
		// Result points are the centres of the finder patterns: bottom
		// left, top left, top right. The symbol is 7 modules wider than
		// the distance between the top two, so 34 mm between them means a
		// symbol of at least 40 mm at any module size above 0.86 mm.
		pts := res.GetResultPoints()
		if len(pts) < 3 {
			t.Fatalf("page %d: decoder returned %d finder points", i+1, len(pts))
		}
		dist := math.Hypot(pts[2].GetX()-pts[1].GetX(), pts[2].GetY()-pts[1].GetY()) * 25.4 / dpi
		if dist < 34 {
			t.Errorf("page %d: QR finder patterns are %.1f mm apart, want a symbol at least 40 mm wide", i+1, dist)
		}
	}
}

func decodeQR(t *testing.T, path string) *gozxing.Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gozxingqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("no QR code found in %s: %v", filepath.Base(path), err)
	}
	return res
}

func TestDeterministicAndConcurrent(t *testing.T) {
	b := sampleBatch()
	want := render(t, b)
	var wg sync.WaitGroup
	outs := make([][]byte, 6)
	errs := make([]error, len(outs))
	for i := range outs {
		wg.Go(func() {
			var buf bytes.Buffer
			errs[i] = letters.Write(&buf, sampleBatch())
			outs[i] = buf.Bytes()
		})
	}
	wg.Wait()
	for i := range outs {
		if errs[i] != nil {
			t.Fatalf("render %d: %v", i, errs[i])
		}
		if !bytes.Equal(outs[i], want) {
			t.Fatalf("render %d differs from the first (%d vs %d bytes)", i, len(outs[i]), len(want))
		}
	}
}

func TestLongLetterFlowsOntoSecondPage(t *testing.T) {
	b := sampleBatch()
	var kids []letters.Child
	for i := range 7 {
		kids = append(kids, letters.Child{
			Name:  fmt.Sprintf("Child %d Walsh", i+1),
			Class: "Year " + strconv.Itoa(i%6+1),
			Forms: []string{"Home-school agreement", "Photo consent", fmt.Sprintf("Trip consent %d", i+1)},
		})
	}
	b.Letters = []letters.Letter{b.Letters[0]}
	b.Letters[0].Children = kids
	path := pdftest.File(t, render(t, b))
	if n := pageCount(t, path); n != 2 {
		t.Fatalf("pages = %d, want 2", n)
	}
	pdftest.Run(t, "qpdf", "--check", path)
	p1, p2 := pageText(t, path, 1), pageText(t, path, 2)
	if !strings.Contains(p1, "Continued on the next page") {
		t.Errorf("page 1 does not say it continues:\n%s", p1)
	}
	for _, w := range []string{"Hollybrook Primary School", "continued", "Mrs Samira Walsh", "How to open your forms", "please contact the school office"} {
		if !strings.Contains(p2, w) {
			t.Errorf("page 2 does not contain %q:\n%s", w, p2)
		}
	}
	all := p1 + " " + p2
	// The QR code moved to page 2 with its box, and still scans.
	prefix := filepath.Join(filepath.Dir(path), "page")
	pdftest.Run(t, "pdftoppm", "-r", "150", "-f", "2", "-l", "2", "-png", path, prefix)
	pngs, _ := filepath.Glob(prefix + "-*.png")
	if len(pngs) != 1 {
		t.Fatalf("pdftoppm made %d images, want 1", len(pngs))
	}
	if got := decodeQR(t, pngs[0]).GetText(); got != b.Letters[0].Link {
		t.Errorf("page 2 QR code = %q, want %q", got, b.Letters[0].Link)
	}
	for _, c := range kids {
		for _, w := range append([]string{c.Name}, c.Forms...) {
			if !strings.Contains(all, w) {
				t.Errorf("letter does not contain %q", w)
			}
		}
	}
}

func TestHugeChildRowSplitsAcrossPages(t *testing.T) {
	b := sampleBatch()
	var forms []string
	for i := range 80 {
		forms = append(forms, fmt.Sprintf("Consent form number %d", i+1))
	}
	b.Letters = []letters.Letter{b.Letters[1]}
	b.Letters[0].Children[0].Forms = forms
	path := pdftest.File(t, render(t, b))
	n := pageCount(t, path)
	if n < 3 {
		t.Fatalf("pages = %d, want at least 3", n)
	}
	pdftest.Run(t, "qpdf", "--check", path)
	var all strings.Builder
	for p := 1; p <= n; p++ {
		all.WriteString(pageText(t, path, p) + " ")
	}
	for _, f := range forms {
		if !strings.Contains(all.String(), f+" ") {
			t.Errorf("letter does not list %q", f)
		}
	}
	if !strings.Contains(all.String(), "Łucja Nowak (continued)") {
		t.Error("the child's name is not repeated on the next page")
	}
}

func TestNoFormsAndUnusualText(t *testing.T) {
	b := sampleBatch()
	l := b.Letters[0]
	l.ParentName = "Mr Zoe\u0308 \u0001Smith" // combining diaeresis, control character
	l.Children = []letters.Child{{Name: "Ayşe 李 Smith", Class: "Nursery"}}
	l.CodeURL = ""
	l.ExpiresOn = time.Time{}
	b.Letters = []letters.Letter{l}
	path := pdftest.File(t, render(t, b))
	pdftest.Run(t, "qpdf", "--check", path)
	text := pageText(t, path, 1)
	for _, w := range []string{"Dear Mr Zoë Smith,", "Ayşe", "Nothing at the moment", "no forms waiting", "ask the school office", l.Code} {
		if !strings.Contains(text, w) {
			t.Errorf("page does not contain %q:\n%s", w, text)
		}
	}
	if strings.Contains(text, "works until") {
		t.Error("a letter without an expiry date says when it expires")
	}
}

func TestDatesInLondonTime(t *testing.T) {
	b := sampleBatch()
	b.Date = time.Date(2027, 6, 30, 23, 30, 0, 0, time.UTC)                 // 00:30 BST on 1 July
	b.Letters[0].ExpiresOn = time.Date(2027, 7, 31, 23, 30, 0, 0, time.UTC) // 00:30 BST on 1 August
	text := pageText(t, pdftest.File(t, render(t, b)), 1)
	for _, w := range []string{"1 July 2027", "This link works until 1 August 2027."} {
		if !strings.Contains(text, w) {
			t.Errorf("page does not contain %q:\n%s", w, text)
		}
	}
}

func TestValidation(t *testing.T) {
	tests := []struct {
		name   string
		change func(*letters.Batch)
		want   string
	}{
		{"no letters", func(b *letters.Batch) { b.Letters = nil }, "no letters"},
		{"no school", func(b *letters.Batch) { b.SchoolName = "  " }, "SchoolName"},
		{"no date", func(b *letters.Batch) { b.Date = time.Time{} }, "Date"},
		{"no parent", func(b *letters.Batch) { b.Letters[1].ParentName = "" }, "letter 2 is missing ParentName"},
		{"no link", func(b *letters.Batch) { b.Letters[0].Link = "" }, "missing Link"},
		{"no code", func(b *letters.Batch) { b.Letters[2].Code = " " }, "missing Code"},
		{"all missing", func(b *letters.Batch) { b.Letters[0] = letters.Letter{} }, "ParentName, Link, Code"},
		{"relative link", func(b *letters.Batch) { b.Letters[0].Link = "/f/ABCD" }, "not an http or https URL"},
		{"javascript link", func(b *letters.Batch) { b.Letters[0].Link = "javascript:alert(1)" }, "not an http or https URL"},
		{"long link", func(b *letters.Batch) { b.Letters[0].Link += "/" + strings.Repeat("a", 300) }, "longer than"},
		{"bad code URL", func(b *letters.Batch) { b.Letters[0].CodeURL = "signoff.example.sch.uk/family/code" }, "CodeURL"},
		{"child without name", func(b *letters.Batch) { b.Letters[0].Children[1].Name = "" }, "child 2 has no Name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := sampleBatch()
			tc.change(&b)
			var buf bytes.Buffer
			err := letters.Write(&buf, b)
			if err == nil {
				t.Fatal("Write accepted an invalid batch")
			}
			if !strings.HasPrefix(err.Error(), "letters: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q, want prefix %q and %q", err, "letters: ", tc.want)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes despite the error", buf.Len())
			}
		})
	}
	if err := letters.Write(nil, sampleBatch()); err == nil || !strings.HasPrefix(err.Error(), "letters: ") {
		t.Errorf("nil writer: error = %v", err)
	}
}

func TestWriteDoesNotModifyInput(t *testing.T) {
	b := sampleBatch()
	b.Letters[0].Children[0].Forms = append(b.Letters[0].Children[0].Forms, "  ")
	before := fmt.Sprintf("%#v", b)
	render(t, b)
	if after := fmt.Sprintf("%#v", b); after != before {
		t.Errorf("Write modified its input:\n%s\n%s", before, after)
	}
}

// TestLettersInTheParentsLanguage: a letter to a parent who uses Signoff
// in Polish is written in Polish, dates included; one in Arabic, which the
// letters' fonts cannot draw, is written in English.
func TestLettersInTheParentsLanguage(t *testing.T) {
	b := sampleBatch()
	b.Letters = b.Letters[:2]
	b.Letters[0].Lang = i18n.ByCode("pl")
	b.Letters[0].Children[0].Class = "Rok 3, klasa Oak"
	b.Letters[1].Lang = i18n.ByCode("ar")
	path := pdftest.File(t, render(t, b))
	pl := pageText(t, path, 1)
	for _, want := range []string{"30 listopada 2026", "Formularze szkolne Twoich dzieci", "Dzień dobry, Mrs Samira Walsh,",
		"używamy strony Signoff.", "Ten link działa do 31 stycznia 2027.", "Rok 3, klasa Oak", "Dziecko", "Klasa", "Do wypełnienia",
		"Zeskanuj aparatem telefonu", "Albo wejdź na https://signoff.example.sch.uk/family/code i wpisz ten kod: ABCD-EFGH-JKMN-PQRS",
		"Sekretariat szkoły"} {
		if !strings.Contains(pl, want) {
			t.Errorf("the Polish letter lacks %q:\n%s", want, pl)
		}
	}
	for _, english := range []string{"November", "January", "Dear ", "This link works", "Still to complete"} {
		if strings.Contains(pl, english) {
			t.Errorf("the Polish letter has %q in English:\n%s", english, pl)
		}
	}
	if ar := pageText(t, path, 2); !strings.Contains(ar, "This link works until 31 January 2027.") || !strings.Contains(ar, "30 November 2026") {
		t.Errorf("the Arabic parent's letter is not the English one:\n%s", ar)
	}
}
