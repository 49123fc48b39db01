package web

import (
	"testing"
	"time"
)

// TestPageCacheBuildsOnce: two looks at one page at one snapshot, the
// second while the first builds it: one build, and the second is handed
// the first's page. A look at another snapshot builds its own, and one
// that waited for a page that was not kept builds its own too.
func TestPageCacheBuildsOnce(t *testing.T) {
	c := newPageCache(1 << 20)
	k := pageKey{target: "/admin/tracking"}
	p, b := c.lookup(t.Context(), k, "10:12:10")
	if p != nil || b == nil {
		t.Fatal("the first look did not build")
	}
	type got struct {
		p *keptPage
		b *building
	}
	waiter := make(chan got)
	go func() {
		p, b := c.lookup(t.Context(), k, "10:12:10")
		waiter <- got{p, b}
	}()
	time.Sleep(20 * time.Millisecond) // the second look is waiting
	// A look at a newer snapshot meanwhile builds its own page.
	if p, other := c.lookup(t.Context(), k, "12:12:"); p != nil || other == nil || other == b {
		t.Fatal("a look at another snapshot was given the building page")
	} else {
		c.finish(k, other, nil)
	}
	select {
	case g := <-waiter:
		t.Fatalf("the second look did not wait for the build: %+v", g)
	case <-time.After(20 * time.Millisecond):
	}
	built := &keptPage{snapshot: "10:12:10", body: []byte("figures"), size: 300}
	c.finish(k, b, built)
	if g := <-waiter; g.p != built || g.b != nil {
		t.Errorf("the look that waited got %+v, not the page built", g)
	}

	// A page that is not kept (a notice): the one waiting builds its own.
	k2 := pageKey{target: "/admin/tracking/forms/1"}
	_, b2 := c.lookup(t.Context(), k2, "10:12:10")
	go func() {
		p, b := c.lookup(t.Context(), k2, "10:12:10")
		waiter <- got{p, b}
	}()
	time.Sleep(20 * time.Millisecond)
	c.finish(k2, b2, nil)
	if g := <-waiter; g.p != nil || g.b != nil {
		t.Errorf("a look that waited for a page not kept: %+v, want its own build outside the cache", g)
	}
}
