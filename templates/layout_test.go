package templates_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// pageTempl matches a templ that renders a whole page (its name ends in Page).
var pageTempl = regexp.MustCompile(`(?m)^templ (\w+Page)\(`)

// The folder reads like the site map (issue 10): every page file here is
// named like the handler file in internal/web that renders it, and the
// components package holds no page.
func TestEveryPageFileHasItsHandlerFile(t *testing.T) {
	pages, err := filepath.Glob("*.templ")
	if err != nil || len(pages) < 40 {
		t.Fatalf("found %d page files (%v); the test runs in templates/", len(pages), err)
	}
	for _, p := range pages {
		base := strings.TrimSuffix(p, ".templ")
		if _, err := os.Stat(filepath.Join("..", "internal", "web", base+".go")); err != nil {
			t.Errorf("templates/%s has no handler file internal/web/%s.go: name the page like its handler", p, base)
		}
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !pageTempl.Match(src) {
			t.Errorf("templates/%s renders no page (no templ ...Page): a part of pages belongs in templates/components", p)
		}
	}
}

func TestComponentsHoldNoPage(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("components", "*.templ"))
	if err != nil || len(files) < 5 {
		t.Fatalf("found %d component files (%v)", len(files), err)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := pageTempl.FindSubmatch(src); m != nil {
			t.Errorf("%s defines the page %s: pages live in templates/, named like their handler", f, m[1])
		}
		if strings.HasPrefix(filepath.Base(f), "components_") {
			t.Errorf("%s: files in components/ drop the components_ prefix", f)
		}
	}
}
