package web

import (
	"strings"
	"testing"
	"time"

	"signoff/internal/policies"
)

// A published version's HTML is rendered once and then served from the
// cache; a draft's is rendered afresh each time (its text still changes).
func TestPublishedTextRenderedOnce(t *testing.T) {
	s := &Server{texts: newTextCache()}
	now := time.Now()
	published := policies.Version{ID: 7, Body: "# Rules\n\nLock your screen.\n", PublishedAt: &now}
	first := s.publishedHTML(published, "Rules")
	if !strings.Contains(first, "Lock your screen.") || strings.Contains(first, "<h1") {
		t.Fatalf("rendered: %s", first)
	}
	// Served from the cache: what is kept for the version is what comes back.
	s.texts.Add(textKey{7, "Rules"}, "<p>kept</p>")
	if got := s.publishedHTML(published, "Rules"); got != "<p>kept</p>" {
		t.Fatalf("second render of a published version: %s", got)
	}
	// Under another title it is another rendering (the title's heading is left out).
	if got := s.publishedHTML(published, "Other"); !strings.Contains(got, "<h2") {
		t.Fatalf("under another title: %s", got)
	}
	draft := policies.Version{ID: 8, Body: "First draft"}
	_ = s.publishedHTML(draft, "")
	draft.Body = "Second draft"
	if got := s.publishedHTML(draft, ""); !strings.Contains(got, "Second draft") {
		t.Fatalf("draft after an edit: %s", got)
	}
	if s.texts.Len() != 2 {
		t.Fatalf("cache holds %d texts, want the published version's two renderings only", s.texts.Len())
	}
}
