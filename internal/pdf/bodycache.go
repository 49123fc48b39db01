package pdf

import (
	"sync"

	"github.com/yuin/goldmark/ast"

	"signoff/internal/markdown"
)

// A published policy's text never changes, and every signed copy of it
// prints it: its parsed tree (a tenth of a render) is kept, bounded, for
// the next copy. The renderer only reads the tree and its source, so
// copies rendering at once share them. The bound counts the text and the
// tree (heldBytes), not the text alone: the tree is most of it.

type parsedBody struct {
	src []byte
	doc ast.Node
}

// bodiesMax bounds what the cache holds, as heldBytes counts it; past it,
// the cache starts again.
const bodiesMax = 8 << 20

// nodeBytes is about what one node of a parsed tree takes on the heap
// (goldmark's node structs, their line segments and attributes): 173-194
// bytes a node, measured on policy texts, lists and long paragraphs
// (TestBodyCacheCountsWhatItHolds holds the estimate to the heap).
const nodeBytes = 192

// heldBytes is about what the cache holds for a body: the text twice (the
// map's key and the source the tree points into) and the tree, about 12
// times the text for ordinary prose and more for short list items.
func heldBytes(src []byte, doc ast.Node) int {
	nodes := 0
	_ = ast.Walk(doc, func(_ ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			nodes++
		}
		return ast.WalkContinue, nil
	})
	return 2*len(src) + nodes*nodeBytes
}

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
	if held := heldBytes(src, doc); held <= bodiesMax {
		bodies.Lock()
		if bodies.bytes+held > bodiesMax {
			clear(bodies.m)
			bodies.bytes = 0
		}
		if _, ok := bodies.m[body]; !ok {
			bodies.m[body] = parsedBody{src: src, doc: doc}
			bodies.bytes += held
		}
		bodies.Unlock()
	}
	return src, doc
}
