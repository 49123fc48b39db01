package pdf_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"signoff/internal/pdf"
	"signoff/internal/pdf/fonts"
	"signoff/internal/pdf/pdftest"

	"golang.org/x/image/font/gofont/gomono"
)

const testSHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

const testBody = `# Purpose

This policy sets out how **staff** and *pupils* use the school's IT systems, including ***very important*** rules and ` + "`inline code`" + `.

## Rules for staff

1. Keep passwords private.
2. Lock your screen when you leave it:
   - on laptops, press **Windows + L**;
   - on iPads, press the side button.
     - Nested deeper item with *emphasis*.
3. Report incidents to the [Data Protection Officer](mailto:dpo@example.org) at once.

- Unordered item one
- Unordered item two with a longer sentence that should wrap neatly onto a second line without overflowing the right margin of the page.

### Further reading

See https://www.example.org/policies/it-acceptable-use/very/long/path/that/keeps/going/and/going/without/any/spaces/at/all?query=parameters&and=more-parameters-here for the full guidance, or [the DfE guidance](https://www.gov.uk/government/publications/keeping-children-safe-in-education--2).

> Quoted guidance: pupils must never share personal information online.
> A second line of the quote.

---

Contact: Zoë O'Brien, Chloé Dubois, Łukasz Kowalski — “smart quotes” & entities &amp; escapes \*not italic\*.
Line one with a hard break  
line two after the break.

    indented code block
    	with a tab

` + "```" + `
fenced code block with a very long line that must wrap rather than run off the edge of the page because it is long
` + "```" + `
`

func sample() pdf.SignedCopy {
	return pdf.SignedCopy{
		SchoolName:     "Westbrook Primary School",
		PolicyTitle:    "IT Acceptable Use Policy",
		VersionNumber:  3,
		VersionDate:    time.Date(2026, 8, 31, 23, 30, 0, 0, time.UTC), // 1 September in London (BST)
		BodyMarkdown:   testBody,
		Statement:      "I have read and understood the IT acceptable use policy and will comply with it.",
		SignerName:     "Zoë O'Brien",
		SignerRole:     "Teacher",
		TypedSignature: "Zoë O'Brien",
		SignedAt:       time.Date(2026, 11, 30, 14, 5, 0, 0, time.UTC),
		SHA256:         testSHA,
		Reference:      "SG-7Q2K-9XHM",
	}
}

// requireTool fails (never skips) when a PDF tool used for verification is
// missing: CI installs them, and silently skipping would hide regressions.
func render(t testing.TB, c pdf.SignedCopy) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := pdf.WriteSignedCopy(&buf, c); err != nil {
		t.Fatalf("WriteSignedCopy: %v", err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) {
		t.Fatalf("output does not start with %%PDF-")
	}
	return buf.Bytes()
}

func pdftotext(t *testing.T, path string, args ...string) string {
	t.Helper()
	return pdftest.Run(t, "pdftotext", append(append([]string{}, args...), path, "-")...)
}

func TestSignedCopyText(t *testing.T) {
	path := pdftest.File(t, render(t, sample()))
	txt := pdftotext(t, path, "-enc", "UTF-8")
	// pdftotext may break lines anywhere; compare on collapsed whitespace.
	flat := strings.Join(strings.Fields(txt), " ")

	for _, want := range []string{
		"Westbrook Primary School",
		"IT Acceptable Use Policy",
		"Version 3, published 1 September 2026",
		"Zoë O'Brien",
		"Teacher",
		testSHA,
		"SG-7Q2K-9XHM",
		"30 November 2026 at 14:05 (GMT)",
		"I have read and understood the IT acceptable use policy and will comply with it.",
		"Rules for staff",          // heading
		"Further reading",          // level 3 heading
		"Keep passwords private.",  // numbered list item
		"on iPads, press the side", // nested list item
		"Nested deeper item with emphasis.",
		"Unordered item one",
		"Data Protection Officer",
		"(https://www.gov.uk/government/publications/",
		"Chloé Dubois, Łukasz Kowalski",
		"“smart quotes” & entities & escapes *not italic*.",
		"with a tab",
		"Page 1 of ",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("extracted text lacks %q\n---\n%s", want, txt)
		}
	}
	// The Markdown syntax itself must not leak into the output.
	for _, bad := range []string{"**", "# Purpose", "](", "&amp;"} {
		if strings.Contains(flat, bad) {
			t.Errorf("extracted text contains Markdown syntax %q", bad)
		}
	}
	// The hash is printed on one line, not wrapped.
	if !strings.Contains(txt, testSHA) {
		t.Errorf("SHA-256 is not on a single line")
	}

	n := pageCount(t, path)
	if n < 2 {
		t.Errorf("expected the sample to need at least 2 pages, got %d", n)
	}
	for i := 1; i <= n; i++ {
		pg := pdftotext(t, path, "-enc", "UTF-8", "-f", strconv.Itoa(i), "-l", strconv.Itoa(i))
		want := fmt.Sprintf("Westbrook Primary School · IT Acceptable Use Policy v3 · Ref SG-7Q2K-9XHM · Page %d of %d", i, n)
		if !strings.Contains(strings.Join(strings.Fields(pg), " "), want) {
			t.Errorf("page %d footer missing %q\n---\n%s", i, want, pg)
		}
	}
}

func pageCount(t *testing.T, path string) int {
	t.Helper()
	bin := pdftest.Tool(t, "pdfinfo")
	out, err := exec.Command(bin, path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("pdfinfo printed no page count:\n%s", out)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

func TestSignedCopyMetadata(t *testing.T) {
	path := pdftest.File(t, render(t, sample()))
	bin := pdftest.Tool(t, "pdfinfo")
	out, err := exec.Command(bin, "-enc", "UTF-8", path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v\n%s", err, out)
	}
	info := string(out)
	for _, want := range []string{
		"Title:           IT Acceptable Use Policy — signed copy",
		"Author:          Westbrook Primary School",
		"Subject:         Signed by Zoë O'Brien on 30 November 2026 at 14:05 (GMT)",
		"Creator:         Signoff",
		"Page size:       595.28 x 841.89 pts (A4)",
	} {
		if !strings.Contains(info, want) {
			t.Errorf("pdfinfo lacks %q\n---\n%s", want, info)
		}
	}
}

func TestSignedCopyQPDFCheck(t *testing.T) {
	bin := pdftest.Tool(t, "qpdf")
	path := pdftest.File(t, render(t, sample()))
	out, err := exec.Command(bin, "--check", path).CombinedOutput()
	if err != nil {
		t.Fatalf("qpdf --check failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "No syntax or stream encoding errors found") {
		t.Errorf("unexpected qpdf --check output:\n%s", out)
	}
}

// TestSignedCopyStaysInsideMargins checks every word's bounding box, so long
// URLs and code lines must have been wrapped.
func TestSignedCopyStaysInsideMargins(t *testing.T) {
	path := pdftest.File(t, render(t, sample()))
	if n := len(checkMargins(t, path)); n < 100 {
		t.Fatalf("only %d words found in bbox output", n)
	}
}

// word is one word from pdftotext -bbox, in points from the top left.
type word struct {
	page                   int
	xMin, yMin, xMax, yMax float64
	text                   string
}

const pageW, pageH, marginX, marginBottom = 595.28, 841.89, 20 * 72 / 25.4, 20 * 72 / 25.4

// words returns every word of the PDF with its page and bounding box.
func words(t *testing.T, path string) []word {
	t.Helper()
	html := pdftotext(t, path, "-bbox", "-enc", "UTF-8")
	re := regexp.MustCompile(`<page |xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<`)
	var out []word
	page := 0
	for _, m := range re.FindAllStringSubmatch(html, -1) {
		if m[0] == "<page " {
			page++
			continue
		}
		w := word{page: page, text: m[5]}
		w.xMin, _ = strconv.ParseFloat(m[1], 64)
		w.yMin, _ = strconv.ParseFloat(m[2], 64)
		w.xMax, _ = strconv.ParseFloat(m[3], 64)
		w.yMax, _ = strconv.ParseFloat(m[4], 64)
		out = append(out, w)
	}
	return out
}

// checkMargins reports words outside the text area: beyond the side
// margins, or (apart from the footer) below the bottom margin.
func checkMargins(t *testing.T, path string) []word {
	t.Helper()
	ws := words(t, path)
	for _, w := range ws {
		footer := w.yMin > pageH-40
		if w.xMin < marginX-1 || w.xMax > pageW-marginX+1 || w.yMax > pageH-20 ||
			(!footer && w.yMax > pageH-marginBottom+1) {
			t.Errorf("page %d: word %q outside the text area: x %.1f–%.1f, y %.1f–%.1f", w.page, w.text, w.xMin, w.xMax, w.yMin, w.yMax)
		}
	}
	return ws
}

func TestSignedCopyDeterministic(t *testing.T) {
	a := render(t, sample())
	b := render(t, sample())
	if !bytes.Equal(a, b) {
		t.Fatal("two renderings of the same input differ")
	}
}

func TestConcurrentRendering(t *testing.T) {
	want := render(t, sample())
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			var buf bytes.Buffer
			if err := pdf.WriteSignedCopy(&buf, sample()); err != nil {
				errs <- err
				return
			}
			if !bytes.Equal(buf.Bytes(), want) {
				errs <- errors.New("concurrent rendering produced different output")
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestLondonTimeBST(t *testing.T) {
	c := sample()
	c.SignedAt = time.Date(2026, 6, 15, 8, 30, 0, 0, time.UTC)
	path := pdftest.File(t, render(t, c))
	flat := strings.Join(strings.Fields(pdftotext(t, path, "-enc", "UTF-8")), " ")
	if want := "15 June 2026 at 09:30 (BST)"; !strings.Contains(flat, want) {
		t.Errorf("extracted text lacks %q", want)
	}
}

func TestAwkwardInput(t *testing.T) {
	c := sample()
	// Decomposed ë (e + U+0308), an emoji outside the fonts, control and
	// zero-width characters, an empty body and very long names.
	c.SignerName = "Zoe\u0308 O’Brien \U0001F600\u200b\x07"
	c.TypedSignature = c.SignerName
	c.SchoolName = strings.Repeat("Saint Bartholomew-the-Great Church of England Academy ", 3)
	c.PolicyTitle = strings.Repeat("Supercalifragilisticexpialidocious", 6)
	c.BodyMarkdown = ""
	c.Reference = ""
	c.SHA256 = strings.ToUpper(testSHA)
	path := pdftest.File(t, render(t, c))
	flat := strings.Join(strings.Fields(pdftotext(t, path, "-enc", "UTF-8")), " ")
	for _, want := range []string{"Zoë O’Brien", testSHA} {
		if !strings.Contains(flat, want) {
			t.Errorf("extracted text lacks %q\n%s", want, flat)
		}
	}
}

func TestMissingRequiredFields(t *testing.T) {
	cases := map[string]func(*pdf.SignedCopy){
		"SchoolName":  func(c *pdf.SignedCopy) { c.SchoolName = "" },
		"PolicyTitle": func(c *pdf.SignedCopy) { c.PolicyTitle = "  " },
		"SignerName":  func(c *pdf.SignedCopy) { c.SignerName = "" },
		"SHA256":      func(c *pdf.SignedCopy) { c.SHA256 = "" },
		"SignedAt":    func(c *pdf.SignedCopy) { c.SignedAt = time.Time{} },
	}
	for field, mutate := range cases {
		t.Run(field, func(t *testing.T) {
			c := sample()
			mutate(&c)
			var buf bytes.Buffer
			err := pdf.WriteSignedCopy(&buf, c)
			if err == nil {
				t.Fatal("expected an error")
			}
			if !strings.HasPrefix(err.Error(), "pdf: ") || !strings.Contains(err.Error(), field) {
				t.Errorf("error %q should start with \"pdf: \" and name %s", err, field)
			}
			if buf.Len() != 0 {
				t.Errorf("%d bytes written despite the error", buf.Len())
			}
		})
	}
	t.Run("BadSHA256", func(t *testing.T) {
		c := sample()
		c.SHA256 = "not-a-hash"
		if err := pdf.WriteSignedCopy(&bytes.Buffer{}, c); err == nil || !strings.HasPrefix(err.Error(), "pdf: ") {
			t.Errorf("expected a pdf: error for a malformed hash, got %v", err)
		}
	})
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriterErrorIsWrapped(t *testing.T) {
	err := pdf.WriteSignedCopy(failWriter{}, sample())
	if err == nil || !strings.HasPrefix(err.Error(), "pdf: ") || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("want wrapped writer error, got %v", err)
	}
}

// TestWriteSample writes the sample to the path in SIGNOFF_PDF_SAMPLE, for
// looking at by eye (e.g. with pdftoppm -png -r 60).
func TestWriteSample(t *testing.T) {
	out := os.Getenv("SIGNOFF_PDF_SAMPLE")
	if out == "" {
		return
	}
	if err := os.WriteFile(out, render(t, longPolicy()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// longPolicy is a realistic policy of about three pages, with a table.
func longPolicy() pdf.SignedCopy {
	c := sample()
	var b strings.Builder
	b.WriteString(testBody)
	for i := 1; i <= 4; i++ {
		fmt.Fprintf(&b, "\n## Section %d: responsibilities\n\n", i)
		b.WriteString("All members of staff are responsible for using the school's systems **lawfully**, *safely* and in line with this policy. ")
		b.WriteString("Misuse may lead to disciplinary action and, where appropriate, referral to the police or the local authority designated officer.\n\n")
		b.WriteString("- Devices must be encrypted and protected with a strong passcode.\n")
		b.WriteString("- Personal data must only be stored on school-approved systems.\n")
		b.WriteString("  1. Cloud storage approved by the school.\n  2. Encrypted USB devices, where unavoidable.\n")
		b.WriteString("- Incidents must be reported within 24 hours.\n\n")
	}
	b.WriteString("\n" + tableBody)
	c.BodyMarkdown = b.String()
	return c
}

func BenchmarkWriteSignedCopy(b *testing.B) {
	c := longPolicy()
	var buf bytes.Buffer
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		buf.Reset()
		if err := pdf.WriteSignedCopy(&buf, c); err != nil {
			b.Fatal(err)
		}
	}
	// The process's CPU time (GC included) a render: on a busy machine
	// the wall-clock ns/op counts the time waiting for a CPU too.
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(buf.Len()), "bytes/pdf")
}

// cpuTime is the CPU time the process has used (user and system), in ns.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// TestFontsNotMutated guards against fpdf writing into the shared gofont
// byte slices (it does so while subsetting fonts with short hmtx tables;
// every document is given the faces' bytes themselves, fontshare.go, and
// our copy of fpdf subsets a copy of them): a signed copy and a letter
// drawn in every face, their subsets made (the cache emptied) and then
// cached, leave every face's bytes as they were.
func TestFontsNotMutated(t *testing.T) {
	faces, err := fonts.Load()
	if err != nil {
		t.Fatal(err)
	}
	before := map[string][32]byte{}
	for k, f := range faces {
		before[k] = sha256.Sum256(f.TTF)
	}
	gomonoBefore := sha256.Sum256(gomono.TTF)
	fpdf.SetCutFontsMax(fpdf.SetCutFontsMax(0))
	for range 2 {
		render(t, sample())
		letter(t)
	}
	for k, f := range faces {
		if sha256.Sum256(f.TTF) != before[k] {
			t.Errorf("rendering modified the bytes of %s", k)
		}
	}
	if sha256.Sum256(gomono.TTF) != gomonoBefore {
		t.Fatal("rendering modified gomono.TTF")
	}
}

const tableBody = `## Equipment on loan

Staff must return ~~all equipment~~ school laptops when they leave, and ~~deleted~~ kept words stay readable.

| Item | Conditions of loan | Value (£) |
|:-----|:-------------------|----------:|
| Laptop | Must be kept in the padded case provided, never left in a car overnight, and returned to the IT office for updates at the end of every term; loss must be reported the same day. | 1,249.00 |
| Visualiser | **Classroom** use only | 89.50 |
| Tablet | ~~Staff may take it home~~ Stays in school | 329.99 |
| Headset | Linkified https://www.example.org/headsets | 7.25 |

Text after the table.
`

// TestTables checks a GFM table: every cell's text is printed, the long cell
// wraps inside its column, the number column is right-aligned and nothing
// leaves the text area.
func TestTables(t *testing.T) {
	c := sample()
	c.BodyMarkdown = tableBody
	path := pdftest.File(t, render(t, c))
	flat := strings.Join(strings.Fields(pdftotext(t, path, "-enc", "UTF-8", "-raw")), " ")
	for _, want := range []string{
		"Equipment on loan", "Item", "Conditions of loan", "Value (£)",
		"Laptop", "Visualiser", "Classroom use only", "Tablet", "Headset",
		"Staff may take it home Stays in school",
		"https://www.example.org/headsets",
		"1,249.00", "89.50", "329.99", "7.25",
		"all equipment school laptops", "deleted kept words",
		"Text after the table.",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("extracted text lacks %q\n---\n%s", want, flat)
		}
	}
	// The long cell wraps inside its column: between the item column and
	// the number column, and above the next row, are exactly its words, on
	// several lines.
	ws := checkMargins(t, path)
	find := func(text string) word {
		t.Helper()
		for _, w := range ws {
			if w.text == text {
				return w
			}
		}
		t.Fatalf("word %q not found", text)
		return word{}
	}
	laptop, visualiser, price, value := find("Laptop"), find("Visualiser"), find("1,249.00"), find("(£)")
	long := "Must be kept in the padded case provided, never left in a car overnight, and returned to the IT office for updates at the end of every term; loss must be reported the same day."
	var got []string
	lines := map[float64]bool{}
	for _, w := range ws {
		if w.page == laptop.page && w.yMin >= laptop.yMin-1 && w.yMax < visualiser.yMin &&
			w.xMin > visualiser.xMax && w.xMax < price.xMin {
			got = append(got, w.text)
			lines[w.yMin] = true
		}
	}
	if strings.Join(got, " ") != long {
		t.Errorf("long cell holds %q, want %q", strings.Join(got, " "), long)
	}
	if len(lines) < 2 {
		t.Errorf("long cell printed on %d line(s), want it wrapped", len(lines))
	}
	// The number column is right-aligned (header included).
	for _, text := range []string{"1,249.00", "89.50", "329.99", "7.25"} {
		if w := find(text); math.Abs(w.xMax-value.xMax) > 0.6 {
			t.Errorf("%q ends at x %.1f, header at %.1f: not right-aligned", text, w.xMax, value.xMax)
		}
	}

	// Struck text has a line through it; the words next to it do not.
	for _, w := range ws {
		switch w.text {
		case "deleted", "equipment", "home":
			if !struckThrough(t, path, w) {
				t.Errorf("%q (page %d) has no line through it", w.text, w.page)
			}
		case "kept", "laptops", "Stays":
			if struckThrough(t, path, w) {
				t.Errorf("%q (page %d) is struck through", w.text, w.page)
			}
		}
	}
}

var (
	rasterMu sync.Mutex
	rasters  = map[string][]byte{}
)

// struckThrough reports whether a horizontal dark line crosses the middle
// of the word's box, looking at the page rendered by pdftoppm at 4 px/pt.
func struckThrough(t *testing.T, path string, w word) bool {
	t.Helper()
	const scale = 4
	key := path + "#" + strconv.Itoa(w.page)
	rasterMu.Lock()
	pgm, ok := rasters[key]
	rasterMu.Unlock()
	if !ok {
		bin := pdftest.Tool(t, "pdftoppm")
		pg := strconv.Itoa(w.page)
		out, err := exec.Command(bin, "-gray", "-r", strconv.Itoa(72*scale), "-f", pg, "-l", pg, path).Output()
		if err != nil {
			t.Fatalf("pdftoppm: %v", err)
		}
		pgm = out
		rasterMu.Lock()
		rasters[key] = pgm
		rasterMu.Unlock()
	}
	// Binary PGM: "P5\n<w> <h>\n<max>\n" then one byte per pixel.
	var width, height, maxv int
	var hdr int
	fields := 0
	for i := 2; i < len(pgm) && fields < 3; i++ {
		if pgm[i] >= '0' && pgm[i] <= '9' {
			j := i
			for j < len(pgm) && pgm[j] >= '0' && pgm[j] <= '9' {
				j++
			}
			v, _ := strconv.Atoi(string(pgm[i:j]))
			switch fields {
			case 0:
				width = v
			case 1:
				height = v
			case 2:
				maxv = v
			}
			fields++
			i = j
			hdr = j + 1
		}
	}
	if fields != 3 || maxv != 255 || len(pgm) < hdr+width*height {
		t.Fatalf("unexpected pdftoppm output")
	}
	px := pgm[hdr:]
	x0, x1 := int(w.xMin*scale)+2, int(w.xMax*scale)-2
	h := w.yMax - w.yMin
	for y := int((w.yMin + 0.3*h) * scale); y <= int((w.yMax-0.3*h)*scale); y++ {
		dark := 0
		for x := x0; x <= x1; x++ {
			if px[y*width+x] < 160 {
				dark++
			}
		}
		if dark >= (x1-x0+1)*95/100 {
			return true
		}
	}
	return false
}

// TestLongTableRepeatsHeader checks that a table running over several pages
// repeats its header row on each, loses no row and never crosses the bottom
// margin.
func TestLongTableRepeatsHeader(t *testing.T) {
	c := sample()
	var b strings.Builder
	b.WriteString("Intro.\n\n| Pupil reference | Equipment issued | Deposit |\n|---|:---:|---:|\n")
	for i := 1; i <= 80; i++ {
		fmt.Fprintf(&b, "| R%03d | Item %d issued in September with a note that is long enough to wrap onto a second line sometimes | %d.00 |\n", i, i, i*3)
	}
	b.WriteString("\nAfter the table.\n")
	c.BodyMarkdown = b.String()
	path := pdftest.File(t, render(t, c))
	checkMargins(t, path)

	n := pageCount(t, path)
	rowsSeen := map[string]int{}
	tablePages := 0
	for i := 1; i <= n; i++ {
		pg := pdftotext(t, path, "-enc", "UTF-8", "-f", strconv.Itoa(i), "-l", strconv.Itoa(i))
		rows := regexp.MustCompile(`\bR\d{3}\b`).FindAllString(pg, -1)
		for _, r := range rows {
			rowsSeen[r]++
		}
		if len(rows) == 0 {
			continue
		}
		tablePages++
		flat := strings.Join(strings.Fields(pg), " ")
		for _, h := range []string{"Pupil reference", "Equipment issued", "Deposit"} {
			if strings.Count(flat, h) != 1 {
				t.Errorf("page %d: header %q appears %d times, want once", i, h, strings.Count(flat, h))
			}
		}
	}
	if tablePages < 2 {
		t.Fatalf("table covers %d page(s), want it to span several", tablePages)
	}
	for i := 1; i <= 80; i++ {
		if r := fmt.Sprintf("R%03d", i); rowsSeen[r] != 1 {
			t.Errorf("row %s printed %d times", r, rowsSeen[r])
		}
	}
}

// TestTableRowTallerThanPage checks that a row too tall for any page is split
// between pages rather than running off the bottom, with nothing lost.
func TestTableRowTallerThanPage(t *testing.T) {
	c := sample()
	var cell strings.Builder
	for i := range 1500 {
		fmt.Fprintf(&cell, "w%04d ", i)
	}
	c.BodyMarkdown = "| A | B |\n|---|---|\n| short | " + cell.String() + "|\n| next | row |\n\n" +
		"| x |\n|---|\n| " + strings.Repeat("Unbreakable", 40) + " |\n"
	path := pdftest.File(t, render(t, c))
	ws := checkMargins(t, path)
	seen := map[string]bool{}
	for _, w := range ws {
		seen[w.text] = true
	}
	for i := range 1500 {
		if s := fmt.Sprintf("w%04d", i); !seen[s] {
			t.Fatalf("word %s missing", s)
		}
	}
	if !seen["next"] {
		t.Error("row after the tall row is missing")
	}
	flat := strings.Join(strings.Fields(pdftotext(t, path, "-enc", "UTF-8")), "")
	if !strings.Contains(flat, strings.Repeat("Unbreakable", 40)) {
		t.Error("long unbreakable cell text is incomplete")
	}
}
