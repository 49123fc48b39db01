package policies

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"unicode"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark/ast"

	"signoff/internal/markdown"
)

var (
	// sanitiser allows the usual document elements and nothing that runs
	// or styles: no scripts, no event handlers, no inline styles.
	sanitiser = func() *bluemonday.Policy {
		p := bluemonday.UGCPolicy()
		p.RequireNoFollowOnLinks(true)
		p.AddTargetBlankToFullyQualifiedLinks(false)
		return p
	}()
	tableOpen  = regexp.MustCompile(`<table>`)
	tableClose = regexp.MustCompile(`</table>`)
)

// RenderHTML turns policy Markdown into sanitised HTML, safe to put in a
// page as it is. Tables are wrapped so they scroll on a narrow phone.
func RenderHTML(body string) string { return RenderBody(body, "") }

// RenderBody is RenderHTML for a page whose own heading is the policy's
// title: a first heading that only repeats the title is left out.
func RenderBody(body, title string) string {
	var buf bytes.Buffer
	src := []byte(body)
	doc := markdown.Parse(src)
	if h, ok := doc.FirstChild().(*ast.Heading); ok && title != "" && h.Level == 1 && sameWords(markdown.Text(h, src), title) {
		doc.RemoveChild(doc, h)
	}
	// The page has its own h1 (the policy's title): the text's top level of
	// headings becomes h2 and the rest follow, so that no level is skipped
	// and the outline stays right for screen readers.
	top := 7
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if h, ok := n.(*ast.Heading); ok && entering {
			top = min(top, h.Level)
		}
		return ast.WalkContinue, nil
	})
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if h, ok := n.(*ast.Heading); ok && entering {
			h.Level = min(6, h.Level-top+2)
		}
		return ast.WalkContinue, nil
	})
	if err := markdown.RenderHTML(&buf, src, doc); err != nil {
		// goldmark does not fail on text input; show the text escaped if it ever does.
		return "<pre>" + bluemonday.StrictPolicy().Sanitize(body) + "</pre>"
	}
	out := sanitiser.Sanitize(buf.String())
	out = tableOpen.ReplaceAllString(out, `<div class="app-table-wrapper" role="region" aria-label="Table" tabindex="0"><table>`)
	return tableClose.ReplaceAllString(out, `</table></div>`)
}

// NormaliseText gives a policy text one form before it is hashed: Unix
// line ends, no blank lines at either end, one final newline. (Trailing
// spaces stay: in Markdown two of them make a line break.)
func NormaliseText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Trim(s, "\n") + "\n"
}

// Hash is the hex SHA-256 of the text's UTF-8 bytes.
func Hash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// sameWords compares two titles ignoring case, spaces and punctuation.
func sameWords(a, b string) bool {
	fold := func(s string) string {
		var out strings.Builder
		for _, r := range strings.ToLower(s) {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				out.WriteRune(r)
			}
		}
		return out.String()
	}
	return fold(a) == fold(b)
}
