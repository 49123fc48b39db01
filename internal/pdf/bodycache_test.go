package pdf_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/yuin/goldmark/ast"

	"signoff/internal/markdown"
	"signoff/internal/pdf"
)

// The body cache's bound counts what it holds: for policy-like texts, a
// long paragraph and a long list, the estimate is within a third of the
// heap that the text's source and parsed tree take (the map's key is the
// caller's string, counted once more by the estimate). Counting the text
// alone, as the cache did, is under half of it.
func TestBodyCacheCountsWhatItHolds(t *testing.T) {
	for name, body := range map[string]string{
		"policy":    strings.Repeat(testBody, 20),
		"paragraph": strings.Repeat("Some plain words in a long paragraph. ", 2000),
		"list":      strings.Repeat("- item *em* **bold** [link](https://example.org)\n", 500),
	} {
		const n = 20
		keep := make([]ast.Node, n)
		srcs := make([][]byte, n)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := range keep {
			srcs[i] = []byte(body)
			keep[i] = markdown.Parse(srcs[i])
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap := float64(after.HeapAlloc-before.HeapAlloc)/n + float64(len(body)) // + the key
		runtime.KeepAlive(keep)
		runtime.KeepAlive(srcs)
		est := float64(pdf.HeldBytes(body))
		if est < heap*0.67 || est > heap*1.5 {
			t.Errorf("%s: estimated %0.f bytes held, the heap says %0.f", name, est, heap)
		}
	}
}

// However many texts are rendered, the cache holds no more than its bound.
func TestBodyCacheStaysBounded(t *testing.T) {
	_, bound := pdf.BodiesHeld()
	body := strings.Repeat(testBody, 10)
	per := pdf.HeldBytes(body)
	for i := 0; i < 3*bound/per; i++ {
		pdf.ParseBody(fmt.Sprintf("%s\n\nCopy %d.", body, i))
		if held, _ := pdf.BodiesHeld(); held > bound || held <= 0 {
			t.Fatalf("after %d texts the cache holds %d bytes, bound %d", i+1, held, bound)
		}
	}
	huge := strings.Repeat("- item\n", bound/100)
	pdf.ParseBody(huge)
	if held, _ := pdf.BodiesHeld(); held > bound {
		t.Fatalf("a text larger than the bound is held: %d bytes", held)
	}
}
