package pdf_test

import (
	"bytes"
	"strings"
	"testing"

	"signoff/internal/pdf"
)

// FuzzSignedCopyMarkdown lays out arbitrary Markdown as a signed copy's
// text: it must never panic, and always give a PDF (every text is
// printable, whatever its characters and structure).
func FuzzSignedCopyMarkdown(f *testing.F) {
	for _, s := range []string{
		testBody,
		"# H\n\n* a\n  * b\n    * c\n\n1. x\n2. y\n",
		"| a | b | c |\n|---|:-:|--:|\n| 1 | **2** | ~~3~~ |\n| 4 |\n",
		"Zoë — العربية — 日本語 — 🙂 — \x01\x7f\u00ad",
		strings.Repeat("word ", 2000),
		strings.Repeat("x", 5000),
		"> q\n\n```\ncode\n```\n\n---\n\n<b>html</b>",
	} {
		f.Add(s, "Westbrook Primary School")
	}
	f.Fuzz(func(t *testing.T, body, school string) {
		if len(body) > 20_000 || len(school) > 2000 {
			return // large inputs are the benchmark's business
		}
		c := sample()
		c.BodyMarkdown = body
		if strings.TrimSpace(school) != "" {
			c.SchoolName = school
		}
		var buf bytes.Buffer
		if err := pdf.WriteSignedCopy(&buf, c); err != nil {
			t.Fatalf("WriteSignedCopy: %v", err)
		}
		if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) {
			t.Fatal("not a PDF")
		}
	})
}
