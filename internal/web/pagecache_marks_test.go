package web

import (
	"fmt"
	"strings"
	"testing"
)

// TestOnlyMarks: a kept page stands across snapshots between which only
// known session marks finished, and not across any other finished
// transaction (snapshots as pg_current_snapshot() writes them).
func TestOnlyMarks(t *testing.T) {
	c := newPageCache(1 << 20)
	for _, x := range []uint64{100, 102, 105, 106} {
		c.marked(x)
	}
	for _, tc := range []struct {
		from, to string
		want     bool
	}{
		{"100:105:100,102", "107:107:", true},        // 100, 102, 105 and 106 finished: all marks
		{"100:105:100,102,103", "103:107:103", true}, // 103 still runs
		{"100:105:100,102,103", "107:107:", false},   // 103 finished, not a mark
		{"100:105:100", "100:108:100", false},        // 107 finished, not a mark
		{"100:105:100,102", "100:105:100,102", true}, // nothing finished
		{"100:105:100", "99:104:", false},            // going back
		{"100:105:100", "100:9999:100", false},       // too far to look through
		{"100:105:x", "107:107:", false},             // not a snapshot
		{"100:105", "107:107:", false},               // not a snapshot
		{"101:101:", "101:102:", false},              // 101 finished, not a mark
		{"105:105:", "105:107:", true},               // 105, 106
	} {
		if got := c.onlyMarks(tc.from, tc.to); got != tc.want {
			t.Errorf("onlyMarks(%s, %s) = %v, want %v", tc.from, tc.to, got, tc.want)
		}
	}
	if (&pageCache{marks: map[uint64]bool{}}).onlyMarks("105:105:", "105:105:") {
		t.Error("with no marks known, nothing is taken as one")
	}
}

// TestPageCacheBound: pages added past the bound evict the least
// recently used; the bytes stay under it, and a page over a quarter of
// it is not kept.
func TestPageCacheBound(t *testing.T) {
	const bound = 100 << 10
	c := newPageCache(bound)
	page := func(n int) *keptPage {
		return &keptPage{snapshot: "1:1:", body: []byte(strings.Repeat("x", n)), size: int64(n + 300)}
	}
	for i := range 40 {
		k := pageKey{target: fmt.Sprint("/p", i)}
		_, b := c.lookup(t.Context(), k, "1:1:")
		c.finish(k, b, page(10<<10))
		if c.bytes > bound {
			t.Fatalf("after %d pages: %d bytes, over %d", i+1, c.bytes, bound)
		}
	}
	if n := c.pages.Len(); n != 9 {
		t.Errorf("%d pages of 10 kB kept in 100 kB, want 9", n)
	}
	if p, _ := c.lookup(t.Context(), pageKey{target: "/p39"}, "1:1:"); p == nil {
		t.Error("the latest page was evicted")
	}
	if p, b := c.lookup(t.Context(), pageKey{target: "/p0"}, "1:1:"); p != nil || b == nil {
		t.Error("the oldest page is still kept")
	}
	before := c.bytes
	k := pageKey{target: "/big"}
	_, b := c.lookup(t.Context(), k, "1:1:")
	c.finish(k, b, page(bound/4+1))
	if p, _ := c.pages.Peek(k); p != nil || c.bytes != before {
		t.Error("a page over a quarter of the bound was kept")
	}
}
