package markdown_test

import (
	"bytes"
	"testing"

	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"

	"signoff/internal/markdown"
)

// TestText checks the text a reader sees of a paragraph or heading, above all
// that an escaped ampersand stays what it says (`\&amp;` reads "&amp;", as in
// the web view) while an unescaped entity is resolved.
func TestText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`a \&amp; b &amp; c`, "a &amp; b & c"},
		{"# Caf&eacute; \\*x\\*", "Café *x*"},
		{"code `x &amp; \\&` here", `code x &amp; \& here`},
		{"one\ntwo\\\nthree  \nfour", "one two three four"},
		{"see <https://example.org/a> now", "see https://example.org/a now"},
		{"a <b>bold</b> c", "a bold c"},
		{"**strong** and _em_ and ~~gone~~", "strong and em and gone"},
		{"[label &copy;](https://example.org)", "label ©"},
		{"&#65;&#x42; \\\\ \\q", `AB \ \q`},
	} {
		src := []byte(c.in)
		doc := markdown.Parse(src)
		if got := markdown.Text(doc.FirstChild(), src); got != c.want {
			t.Errorf("Text(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTextOfTableCell(t *testing.T) {
	src := []byte("| A \\&amp; B | C |\n| --- | --- |\n| 1 | 2 |\n")
	doc := markdown.Parse(src)
	var cells []string
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if _, ok := n.(*east.TableCell); ok && entering {
			cells = append(cells, markdown.Text(n, src))
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	want := []string{"A &amp; B", "C", "1", "2"}
	if len(cells) != len(want) {
		t.Fatalf("cells = %q, want %q", cells, want)
	}
	for i := range want {
		if cells[i] != want[i] {
			t.Errorf("cell %d = %q, want %q", i, cells[i], want[i])
		}
	}
}

func TestUnescape(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain", "plain"},
		{`\&amp;`, "&amp;"},
		{`&amp;\&`, "&&"},
		{"a\x00b", "a\uFFFDb"},
		{`\a`, `\a`},
	} {
		if got := markdown.Unescape([]byte(c.in)); string(got) != c.want {
			t.Errorf("Unescape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestRenderHTMLSharesTheDialect(t *testing.T) {
	src := []byte("| a |\n| - |\n| b |\n\n~~x~~ https://example.org\n")
	var buf bytes.Buffer
	if err := markdown.RenderHTML(&buf, src, markdown.Parse(src)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<table>", "<del>x</del>", `<a href="https://example.org">`} {
		if !bytes.Contains(buf.Bytes(), []byte(want)) {
			t.Errorf("HTML lacks %s:\n%s", want, buf.String())
		}
	}
}
