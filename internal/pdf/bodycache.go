package pdf

import (
	"sync"

	"github.com/yuin/goldmark/ast"

	"signoff/internal/markdown"
)

// A published policy's text never changes, and every signed copy of it
// prints it: its parsed tree (a tenth of a render) is kept, bounded, for
// the next copy. The renderer only reads the tree and its source, so
// copies rendering at once share them.

type parsedBody struct {
	src []byte
	doc ast.Node
}

// bodiesMax bounds the Markdown source kept (the trees are a few times
// larger); past it, the cache starts again.
const bodiesMax = 2 << 20

var bodies = struct {
	sync.Mutex
	m     map[string]parsedBody
	bytes int
}{m: map[string]parsedBody{}}

// parseBody is body's source and tree, from the cache or parsed (as the
// web view reads it, so the PDF prints the same text).
func parseBody(body string) ([]byte, ast.Node) {
	bodies.Lock()
	p, ok := bodies.m[body]
	bodies.Unlock()
	if ok {
		return p.src, p.doc
	}
	src := []byte(body)
	doc := markdown.Parse(src)
	if len(body) <= bodiesMax {
		bodies.Lock()
		if bodies.bytes+len(body) > bodiesMax {
			clear(bodies.m)
			bodies.bytes = 0
		}
		if _, ok := bodies.m[body]; !ok {
			bodies.m[body] = parsedBody{src: src, doc: doc}
			bodies.bytes += len(body)
		}
		bodies.Unlock()
	}
	return src, doc
}
