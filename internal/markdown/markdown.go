// Package markdown is the Markdown that policy text is written in: one
// dialect (GitHub-flavoured: tables, strikethrough and bare URLs) for the web
// view, the signed copy's PDF and the comparison of two versions, and the text
// a reader sees of a piece of it.
package markdown

import (
	"bytes"
	"io"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

var dialect = goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.Linkify))

// Parse reads policy text into goldmark's tree.
func Parse(src []byte) ast.Node {
	return dialect.Parser().Parse(text.NewReader(src))
}

// RenderHTML writes a parsed document as goldmark's HTML (not sanitised).
func RenderHTML(w io.Writer, src []byte, doc ast.Node) error {
	return dialect.Renderer().Render(w, src, doc)
}

// Text is the text a reader sees of n's inline content: backslash escapes
// and entity references applied (not inside code), line breaks as spaces,
// an autolink as its label, raw HTML left out; trimmed.
func Text(n ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch c := c.(type) {
		case *ast.Text:
			v := c.Segment.Value(src)
			if c.IsRaw() {
				v = bytes.TrimSuffix(v, []byte("\n"))
			} else {
				v = Unescape(v)
			}
			b.Write(v)
			if c.SoftLineBreak() || c.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			if c.IsRaw() || c.IsCode() {
				b.Write(c.Value)
			} else {
				b.Write(Unescape(c.Value))
			}
		case *ast.AutoLink:
			b.Write(c.Label(src))
			return ast.WalkSkipChildren, nil
		case *ast.RawHTML:
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return strings.TrimSpace(b.String())
}

// Unescape applies Markdown backslash escapes and HTML entity references to
// a piece of text, as goldmark's HTML writer does: an escaped character is
// itself (`\&amp;` reads "&amp;"), and a NUL becomes U+FFFD.
func Unescape(v []byte) []byte {
	if bytes.IndexByte(v, '\\') < 0 && bytes.IndexByte(v, '&') < 0 && bytes.IndexByte(v, 0) < 0 {
		return v
	}
	var out []byte
	start := 0
	flush := func(end int) {
		seg := v[start:end]
		if bytes.IndexByte(seg, '&') >= 0 {
			seg = util.ResolveEntityNames(util.ResolveNumericReferences(seg))
		}
		out = append(out, seg...)
	}
	for i := 0; i < len(v); i++ {
		switch {
		case v[i] == '\\' && i+1 < len(v) && util.IsPunct(v[i+1]):
			flush(i)
			out = append(out, v[i+1])
			i++
			start = i + 1
		case v[i] == 0:
			flush(i)
			out = append(out, "\uFFFD"...)
			start = i + 1
		}
	}
	flush(len(v))
	return out
}
