package policies_test

import (
	"strings"
	"testing"

	"golang.org/x/net/html"

	"signoff/internal/policies"
)

var markdownSeeds = []string{
	"# Title\n\n## Part\n\nSome **bold** and _italic_ text, ~~struck~~, `code`.\n",
	"* one\n  * nested\n* two\n\n1. first\n2. second\n",
	"| a | b |\n|---|---|\n| 1 | 2 |\n| only one |\n",
	"<script>alert(1)</script><img src=x onerror=alert(1)>[x](javascript:alert(1))",
	"> quote\n>> deeper\n\n---\n\n```go\nfunc main() {}\n```\n",
	"Zoë O'Brien — العربية — 日本語 — \u200f\u202e reversed",
	strings.Repeat("[", 500) + strings.Repeat("*", 500),
	"www.example.org and https://example.org/a?b=c",
}

// FuzzRenderHTML renders arbitrary Markdown to HTML: it must never panic
// and what comes out, read as a browser reads it, must never carry a
// script, a frame, a style, an event handler or a javascript: link.
func FuzzRenderHTML(f *testing.F) {
	for _, s := range markdownSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, md string) {
		out := policies.RenderBody(md, "Title")
		z := html.NewTokenizer(strings.NewReader(out))
		for {
			tt := z.Next()
			if tt == html.ErrorToken {
				return
			}
			if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
				continue
			}
			tok := z.Token()
			switch tok.Data {
			case "script", "iframe", "style", "object", "embed", "form":
				t.Fatalf("rendered HTML has a <%s>:\n%s", tok.Data, out)
			}
			for _, a := range tok.Attr {
				v := strings.ToLower(strings.Map(func(r rune) rune {
					if r <= ' ' {
						return -1
					}
					return r
				}, a.Val))
				if strings.HasPrefix(a.Key, "on") || a.Key == "style" ||
					((a.Key == "href" || a.Key == "src") && (strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "data:text"))) {
					t.Fatalf("rendered HTML has %s=%q:\n%s", a.Key, a.Val, out)
				}
			}
		}
	})
}
