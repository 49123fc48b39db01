package pdf

import "signoff/internal/markdown"

// ShareFonts turns the sharing of parsed fonts between documents on or
// off (fontshare.go), and says whether it is in use.
func ShareFonts(on bool) (inUse bool) {
	shareFonts = on
	shareOnce.Do(prepareShared)
	return on && shared != nil
}

// HeldBytes is what the body cache counts against its bound for body.
func HeldBytes(body string) int {
	src := []byte(body)
	return heldBytes(src, markdown.Parse(src))
}

// BodiesHeld is what the body cache counts it holds now, and its bound.
func BodiesHeld() (held, bound int) {
	bodies.Lock()
	defer bodies.Unlock()
	return bodies.bytes, bodiesMax
}

// ParseBody parses body through the cache.
func ParseBody(body string) { parseBody(body) }
