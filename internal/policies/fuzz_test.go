package policies_test

import (
	"strings"
	"testing"

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
// and what comes out must never carry a script, an event handler or a
// javascript: link.
func FuzzRenderHTML(f *testing.F) {
	for _, s := range markdownSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, md string) {
		html := strings.ToLower(policies.RenderBody(md, "Title"))
		for _, bad := range []string{"<script", "javascript:", " onerror=", " onload=", " onclick=", "<iframe", " style="} {
			if strings.Contains(html, bad) {
				t.Fatalf("rendered HTML holds %q:\n%s", bad, html)
			}
		}
	})
}
