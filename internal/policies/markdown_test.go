package policies_test

import (
	"strings"
	"testing"

	"signoff/internal/policies"
)

func TestRenderIsSafeAndShiftsHeadings(t *testing.T) {
	html := policies.RenderHTML("# Title\n\n## Part\n\nSome **bold** text <script>alert(1)</script> and [a link](javascript:alert(1)).\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
	for _, bad := range []string{"<script", "javascript:", "onerror"} {
		if strings.Contains(html, bad) {
			t.Errorf("rendered HTML holds %q:\n%s", bad, html)
		}
	}
	for _, want := range []string{"<h2>Title</h2>", "<h3>Part</h3>", "<strong>bold</strong>", `<div class="app-table-wrapper"`, "<table>"} {
		if !strings.Contains(html, want) {
			t.Errorf("rendered HTML lacks %q:\n%s", want, html)
		}
	}
}

func TestRenderBodyDropsARepeatedTitle(t *testing.T) {
	md := "# IT Acceptable-Use Policy\n\nText.\n"
	if html := policies.RenderBody(md, "IT acceptable use policy"); strings.Contains(html, "<h2>") {
		t.Errorf("the repeated title was kept: %s", html)
	}
	if html := policies.RenderBody(md, "Another policy"); !strings.Contains(html, "<h2>IT Acceptable-Use Policy</h2>") {
		t.Errorf("a different first heading was dropped: %s", html)
	}
}

func TestNormaliseAndHash(t *testing.T) {
	a := policies.NormaliseText("\r\nLine one\r\nLine two  \r\n\r\n")
	if a != "Line one\nLine two  \n" {
		t.Fatalf("normalised: %q", a)
	}
	if policies.Hash(a) != policies.Hash(policies.NormaliseText("Line one\nLine two  \n")) {
		t.Fatal("the same text hashes differently")
	}
	if len(policies.Hash(a)) != 64 {
		t.Fatal("hash is not hex SHA-256")
	}
}

func TestRenderBodySkipsNoHeadingLevel(t *testing.T) {
	// The title is dropped: its sections (##) become h2 under the page's h1.
	html := policies.RenderBody("# Safeguarding\n\n## 1. Scope\n\n### 1.1 Who\n\nText.\n", "Safeguarding")
	for _, want := range []string{"<h2>1. Scope</h2>", "<h3>1.1 Who</h3>"} {
		if !strings.Contains(html, want) {
			t.Errorf("lacks %q: %s", want, html)
		}
	}
	// A text whose headings start at ### still starts at h2.
	if html := policies.RenderBody("### Part\n\nText.\n", "Other"); !strings.Contains(html, "<h2>Part</h2>") {
		t.Errorf("deep first heading: %s", html)
	}
}
