package pdf_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"signoff/internal/pdf"
	"signoff/internal/pdf/pdftest"
)

// longCopy is the sample signed copy with every free text n characters long.
func longCopy(n int) pdf.SignedCopy {
	c := sample()
	word := "Hollybrook "
	long := strings.Repeat(word, n/len(word)+1)[:n]
	c.SchoolName = long
	c.PolicyTitle = long
	c.SignerName = long
	c.TypedSignature = long
	return c
}

// BenchmarkSignedCopyLongText renders signed copies whose school name,
// title and names are 1k to 16k characters: the time per character must
// stay flat (layout linear in the text's length).
func BenchmarkSignedCopyLongText(b *testing.B) {
	for _, n := range []int{1 << 10, 4 << 10, 16 << 10} {
		b.Run(fmt.Sprintf("chars=%d", n), func(b *testing.B) {
			c := longCopy(n)
			for b.Loop() {
				var buf bytes.Buffer
				if err := pdf.WriteSignedCopy(&buf, c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestSignedCopyTimeIsLinear renders a copy with 2k and with 16k
// characters of school name (and title, and names): eight times the text
// may take at most about eight times as long (16× allowed, for noise),
// where it used to take sixty times as long.
func TestSignedCopyTimeIsLinear(t *testing.T) {
	t.Parallel()
	timeOf := func(n int) time.Duration {
		c := longCopy(n)
		best := time.Duration(1 << 62)
		for range 3 {
			start := time.Now()
			var buf bytes.Buffer
			if err := pdf.WriteSignedCopy(&buf, c); err != nil {
				t.Fatal(err)
			}
			best = min(best, time.Since(start))
		}
		return best
	}
	// Pages grow with the text too, not faster: a name taller than a page
	// used to get a page per line, printed below the page's end.
	pages := func(n int) int {
		var buf bytes.Buffer
		if err := pdf.WriteSignedCopy(&buf, longCopy(n)); err != nil {
			t.Fatal(err)
		}
		return bytes.Count(buf.Bytes(), []byte("/Type /Page\n")) + bytes.Count(buf.Bytes(), []byte("/Type /Page "))
	}
	if p2, p16 := pages(2<<10), pages(16<<10); p16 > 8*p2+2 {
		t.Errorf("2k characters make %d pages, 16k make %d", p2, p16)
	}
	small, large := timeOf(2<<10), timeOf(16<<10)
	t.Logf("2k characters: %v; 16k characters: %v", small, large)
	if large > 16*small+50*time.Millisecond {
		t.Fatalf("16k characters took %v, 2k took %v: layout is not linear in the text's length", large, small)
	}
}

// TestLongNamesStayOnThePage: every word of a copy with 4k-character
// names and title is inside the page's text area.
func TestLongNamesStayOnThePage(t *testing.T) {
	t.Parallel()
	path := pdftest.File(t, render(t, longCopy(4<<10)))
	if n := len(checkMargins(t, path)); n < 1000 {
		t.Fatalf("only %d words found", n)
	}
}
