package docimport_test

import (
	"archive/zip"
	"bytes"
	"strings"
	"testing"

	"signoff/internal/docimport"
)

const w = `xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"`

func docx(t *testing.T, body string) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	files := map[string]string{
		"[Content_Types].xml": `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
		"word/document.xml":   `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document ` + w + `><w:body>` + body + `</w:body></w:document>`,
		"word/styles.xml": `<?xml version="1.0"?><w:styles ` + w + `>
			<w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/></w:style>
			<w:style w:type="paragraph" w:styleId="Kop2"><w:name w:val="heading 2"/></w:style>
			<w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/></w:style></w:styles>`,
		"word/numbering.xml": `<?xml version="1.0"?><w:numbering ` + w + `>
			<w:abstractNum w:abstractNumId="0"><w:lvl w:ilvl="0"><w:numFmt w:val="bullet"/></w:lvl></w:abstractNum>
			<w:abstractNum w:abstractNumId="1"><w:lvl w:ilvl="0"><w:numFmt w:val="decimal"/></w:lvl></w:abstractNum>
			<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>
			<w:num w:numId="2"><w:abstractNumId w:val="1"/></w:num></w:numbering>`,
	}
	for name, content := range files {
		f, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = f.Write([]byte(content))
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func para(style, text string) string {
	p := `<w:p>`
	if style != "" {
		p += `<w:pPr><w:pStyle w:val="` + style + `"/></w:pPr>`
	}
	return p + `<w:r><w:t xml:space="preserve">` + text + `</w:t></w:r></w:p>`
}

func listItem(numID, text string) string {
	return `<w:p><w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="` + numID + `"/></w:numPr></w:pPr><w:r><w:t>` + text + `</w:t></w:r></w:p>`
}

func TestDocxKeepsHeadingsListsAndEmphasis(t *testing.T) {
	t.Parallel()
	body := para("Title", "IT usage policy") +
		para("Heading1", "1. Purpose") +
		`<w:p><w:r><w:t xml:space="preserve">Staff </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>must</w:t></w:r><w:r><w:t xml:space="preserve"> lock screens, </w:t></w:r>` +
		`<w:r><w:rPr><w:i/></w:rPr><w:t>always</w:t></w:r><w:r><w:rPr><w:b w:val="0"/></w:rPr><w:t xml:space="preserve"> &amp; report 5*3.</w:t></w:r></w:p>` +
		para("Kop2", "Rules") +
		listItem("1", "Use strong passwords") + listItem("1", "No USB sticks") +
		listItem("2", "Report it") + listItem("2", "Write it down") +
		`<w:tbl><w:tr><w:tc>` + para("", "Who") + `</w:tc><w:tc>` + para("", "What") + `</w:tc></w:tr>` +
		`<w:tr><w:tc>` + para("", "Head") + `</w:tc><w:tc>` + para("", "Approves") + `</w:tc></w:tr></w:tbl>` +
		para("", "The end.")
	md, err := docimport.ToMarkdown("Policy.DOCX", docx(t, body))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# IT usage policy\n",
		"# 1. Purpose\n",
		"Staff **must** lock screens, *always* & report 5\\*3.\n",
		"## Rules\n",
		"- Use strong passwords\n- No USB sticks\n",
		"1. Report it\n2. Write it down\n",
		"| Who | What |\n| --- | --- |\n| Head | Approves |\n",
		"The end.\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestTextAndMarkdownAndRefusals(t *testing.T) {
	t.Parallel()
	md, err := docimport.ToMarkdown("policy.txt", []byte("\xef\xbb\xbfPurpose\r\n\r\n• Lock screens\r\n• Report loss\r\n1) First\r\n# not a heading\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Purpose\n", "- Lock screens\n- Report loss\n", "1. First\n", `\# not a heading`} {
		if !strings.Contains(md, want) {
			t.Errorf("text import lacks %q:\n%q", want, md)
		}
	}
	if md, _ := docimport.ToMarkdown("p.md", []byte("# Title\r\n\r\nText\r\n")); md != "# Title\n\nText\n" {
		t.Errorf("markdown import: %q", md)
	}
	if md, _ := docimport.ToMarkdown("p.txt", []byte("Caf\xe9 policy")); !strings.Contains(md, "Café policy") {
		t.Errorf("Windows-1252: %q", md)
	}
	if _, err := docimport.ToMarkdown("p.pdf", []byte("%PDF")); err != docimport.ErrUnsupported {
		t.Errorf("pdf: %v", err)
	}
	if _, err := docimport.ToMarkdown("p.docx", []byte("not a zip")); err == nil {
		t.Error("a broken docx was accepted")
	}
}
