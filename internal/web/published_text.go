package web

import (
	lru "github.com/hashicorp/golang-lru/v2"

	"signoff/internal/policies"
)

// publishedTexts is how many published versions' HTML one server keeps.
const publishedTexts = 200

// textKey is a rendered text: the version, and the title it is shown
// under (a first heading equal to the title is left out).
type textKey struct {
	version int64
	title   string
}

func newTextCache() *lru.Cache[textKey, string] {
	c, err := lru.New[textKey, string](publishedTexts)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return c
}

// publishedHTML is a version's text as HTML. A published version's text
// is frozen (a trigger refuses any change), so its HTML is rendered once
// and kept (the most recently shown publishedTexts of them); a draft's is
// rendered each time.
func (s *Server) publishedHTML(v policies.Version, title string) string {
	if v.PublishedAt == nil {
		return policies.RenderBody(v.Body, title)
	}
	key := textKey{v.ID, title}
	if html, ok := s.texts.Get(key); ok {
		return html
	}
	html := policies.RenderBody(v.Body, title)
	s.texts.Add(key, html)
	return html
}
