package web

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"signoff/internal/i18n"
	"signoff/internal/schooltime"
)

// The page cache keeps the bytes of the pages whose routes ask for it
// (s.snapshotCache in the route table: the dashboards, their lists and
// exports, the trust view), and serves them again only while PostgreSQL's
// snapshot is the one they were built after. It never trusts a time:
//
//   - Every request's session is read with pg_current_snapshot() in the
//     same statement (auth.Store.Session), before anything the page shows
//     is read. A page is built from reads that each see at least the
//     commits that snapshot sees, and kept under it.
//   - The snapshot (xmin:xmax:xip) changes with every commit or abort of
//     a transaction that wrote (xmax is the latest completed transaction
//     plus one; a finished one leaves xip), and never comes back: xmax
//     only grows and, while it stands, xip only shrinks.
//   - So when a later request's snapshot equals the kept page's, nothing
//     has committed since the page's first read: every read it made saw
//     exactly that data, and building it again now would give the same
//     bytes. Any other snapshot rebuilds it. The office sends a reminder
//     (a commit) and looks again: the page is built afresh.
//   - One commit is known to change no page: a session's mark of its last
//     use (auth.Store.Marked). A page stands across snapshots between which
//     only such marks finished (onlyMarks).
//
// The other things the bytes depend on are in the key: the session (its
// account, school and roles are read at the same snapshot), the address
// with its query, the language cookie and London's date (the pages print
// dates, never a time of day relative to now). A page is kept only when
// it is a 200 that sets no cookie and its handler did not say otherwise
// (dontKeep: a notice, a form's errors). The route's access check runs
// before (the wrapper is the route's handler, inside guard), and the
// handler's ownership checks are part of the page kept for that session:
// a hit is served only to the session that was allowed to build it.
// A page to be kept is held back until it is in the cache, so a client
// that has received the page finds it kept at its next look.

// DefaultPageCacheBytes is the page cache's size when Config leaves it 0.
const DefaultPageCacheBytes = 16 << 20

// pageKey is everything a kept page's bytes depend on but the snapshot.
type pageKey struct {
	session [32]byte // SHA-256 of the session's token (auth.SessionInfo.TokenHash)
	target  string   // path and query
	lang    string   // the language cookie
	day     string   // today in London
}

// keptPage is a page's response as its handler wrote it.
type keptPage struct {
	snapshot string
	header   http.Header // the headers the handler set
	body     []byte
	size     int64
}

// pageCache is a least-recently-used set of kept pages, bounded by
// their bytes.
type pageCache struct {
	max int64

	mu       sync.Mutex
	pages    *simplelru.LRU[pageKey, *keptPage]
	bytes    int64
	building map[pageKey]*building
	marks    map[uint64]bool // transactions that only marked a session used (auth.Store.Marked)
	latest   string          // the newest snapshot a request brought (drop)

	hits, misses atomic.Uint64
}

// building is a page being built: requests for the same page at the same
// snapshot wait for it rather than build it again.
type building struct {
	snapshot string
	done     chan struct{}
	page     *keptPage // nil when the page was not kept
}

// newPageCache holds up to max bytes of pages; nil (no cache) for max <= 0.
func newPageCache(max int64) *pageCache {
	if max <= 0 {
		return nil
	}
	c := &pageCache{max: max, building: map[pageKey]*building{}, marks: map[uint64]bool{}}
	// The count is bounded by the bytes (every page is more than 256 bytes
	// with its key); the callback keeps the byte count when it evicts.
	c.pages, _ = simplelru.NewLRU(int(max/256)+1, func(_ pageKey, p *keptPage) { c.bytes -= p.size })
	return c
}

// PageCacheStats are the page cache's counts since the server started.
type PageCacheStats struct {
	Hits, Misses uint64
	Bytes        int64 // kept now
	Pages        int
}

// PageCacheStats reports the page cache's counts (zero when it is off).
func (s *Server) PageCacheStats() PageCacheStats {
	c := s.pages
	if c == nil {
		return PageCacheStats{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return PageCacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Bytes: c.bytes, Pages: c.pages.Len()}
}

// lookup returns the page kept under k at snapshot, or, when another
// request is building it at that snapshot, waits for that one and returns
// its page. Otherwise it returns the building this request is to do
// (nil when it waited for a page that was not kept: this request builds
// its own and keeps nothing); finish must then be called with it.
func (c *pageCache) lookup(ctx context.Context, k pageKey, snapshot string) (page *keptPage, build *building) {
	c.mu.Lock()
	if p, ok := c.pages.Get(k); ok && (p.snapshot == snapshot || c.onlyMarks(p.snapshot, snapshot)) {
		p.snapshot = snapshot
		c.mu.Unlock()
		return p, nil
	}
	if b, ok := c.building[k]; ok && b.snapshot == snapshot {
		c.mu.Unlock()
		select {
		case <-b.done:
			if b.page != nil {
				return b.page, nil
			}
		case <-ctx.Done():
		}
		return nil, nil // not kept (or no time to wait): build it for this request alone
	}
	// A building at another snapshot is left to finish on its own: only
	// the requests at its snapshot wait for it.
	b := &building{snapshot: snapshot, done: make(chan struct{})}
	c.building[k] = b
	c.mu.Unlock()
	return nil, b
}

// finish ends building b of k: p (nil when the page is not to be kept)
// is kept and handed to the requests waiting for b.
func (c *pageCache) finish(k pageKey, b *building, p *keptPage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.building[k] == b {
		delete(c.building, k)
	}
	if p != nil && p.size <= c.max/4 {
		if old, ok := c.pages.Peek(k); ok {
			c.bytes -= old.size // Add replaces it without the callback
		}
		c.pages.Add(k, p)
		c.bytes += p.size
		for c.bytes > c.max {
			c.pages.RemoveOldest()
		}
	}
	b.page = p
	close(b.done)
}

// drop is told the snapshot of each request to a cached page (the only
// requests that keep or serve pages, so the others pay nothing): when something
// other than sessions' marks has committed since the newest snapshot seen
// before, every kept page from before it can never be served again (the
// snapshot does not come back), so they are let go at once rather than
// held until the bound evicts them (a morning of signatures after the
// dashboards were read would otherwise keep them all).
func (c *pageCache) drop(snapshot string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	prev := c.latest
	if snapshot == prev {
		return
	}
	xmax, xip, ok := parseSnapshot(snapshot) // parsed once for every comparison below
	if pmax, _, pok := parseSnapshot(prev); !ok || (pok && xmax < pmax) {
		return // an older snapshot (a slow request): nothing to learn
	}
	c.latest = snapshot
	if c.pages.Len() == 0 || prev == "" || c.onlyMarksUntil(prev, xmax, xip) {
		return
	}
	for _, k := range c.pages.Keys() {
		if p, _ := c.pages.Peek(k); p.snapshot != snapshot && !c.onlyMarksUntil(p.snapshot, xmax, xip) {
			c.pages.Remove(k)
		}
	}
}

// snapshotCache serves h's pages from the page cache (see above). It is
// the handler of a GET route in the route table, so the route's access
// check has let the request in before it runs.
func (s *Server) snapshotCache(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, v := s.pages, viewerOf(r)
		snapshot := v.account.Session.Snapshot
		if c == nil || r.Method != http.MethodGet || !v.signedIn || snapshot == "" || v.token == "" {
			h(w, r)
			return
		}
		c.drop(snapshot)
		k := pageKey{session: v.account.Session.TokenHash, target: r.URL.RequestURI(), day: s.db.Now().In(schooltime.London).Format(time.DateOnly)}
		if lc, err := r.Cookie(i18n.CookieName); err == nil {
			k.lang = lc.Value
		}
		p, build := c.lookup(r.Context(), k, snapshot)
		if p != nil {
			c.hits.Add(1)
			p.write(w)
			return
		}
		c.misses.Add(1)
		if build == nil {
			h(w, r) // waited for a page that was not kept: this request's own
			return
		}
		before := w.Header().Clone()
		pw := &pageWriter{statusWriter: statusWriter{ResponseWriter: w}, keep: true, limit: int(c.max / 4)}
		kept := (*keptPage)(nil)
		defer func() { // also when h panics: the waiting requests go on
			c.finish(k, build, kept)
			_ = pw.release() // the page's bytes go out once it is kept (a client gone by now is no matter)
		}()
		h(pw, r.WithContext(context.WithValue(r.Context(), keepKey, pw)))
		if pw.keep && pw.status == http.StatusOK && w.Header().Get("Set-Cookie") == "" {
			kept = &keptPage{snapshot: snapshot, header: http.Header{}, body: bytes.Clone(pw.body.Bytes())} // its own size: the count is of bytes held
			for name, vals := range w.Header() {
				if !slices.Equal(before[name], vals) && name != "Content-Length" {
					kept.header[name] = slices.Clone(vals)
				}
			}
			kept.size = int64(len(kept.body) + len(k.target) + len(snapshot) + 256)
			for name, vals := range kept.header {
				for _, v := range vals {
					kept.size += int64(len(name) + len(v))
				}
			}
		}
	}
}

// write sends the kept page.
func (p *keptPage) write(w http.ResponseWriter) {
	h := w.Header()
	for name, vals := range p.header {
		h[name] = vals
	}
	h.Set("Content-Length", strconv.Itoa(len(p.body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(p.body)
}
