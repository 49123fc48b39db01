package docimport_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"signoff/internal/docimport"
)

// FuzzToMarkdown converts arbitrary files (seeded with Word documents,
// Markdown and text in several encodings): it must never panic, and what
// it returns must be text PostgreSQL can store (valid UTF-8, no NUL).
func FuzzToMarkdown(f *testing.F) {
	t := &testing.T{}
	f.Add("p.docx", docx(t, para("Heading1", "Scope")+listItem("1", "One")+listItem("2", "Two")+
		`<w:p><w:r><w:rPr><w:b/></w:rPr><w:t>bold</w:t></w:r></w:p>`+
		`<w:tbl><w:tr><w:tc><w:p><w:r><w:t>cell</w:t></w:r></w:p></w:tc></w:tr></w:tbl>`))
	f.Add("p.md", []byte("# Title\n\n* one\n* two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"))
	f.Add("p.txt", []byte("• bullet\r\n1) numbered\r\n\tindented\r\n"))
	f.Add("p.txt", []byte("\xff\xfeh\x00i\x00"))
	f.Add("p.txt", []byte("nul\x00inside"))
	f.Add("p.md", []byte{0x93, 'q', 0x94})
	f.Add("p.docx", []byte("PK\x03\x04 not really a zip"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		md, err := docimport.ToMarkdown(name, data)
		if err != nil {
			return
		}
		if !utf8.ValidString(md) || strings.ContainsRune(md, 0) {
			t.Fatalf("ToMarkdown(%q) returned text that cannot be stored: %q", name, md)
		}
	})
}
