package web

import (
	"slices"
	"strconv"
	"strings"
)

// The page cache's one exception to "any commit rebuilds": the mark of a
// session's last use (see pagecache.go).

// marked notes that transaction xid only marked a session used (it
// changed nothing a page shows). At most 4096 are remembered: past that
// the list starts again (a page kept from before is then built again).
func (c *pageCache) marked(xid uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.marks) >= 4096 {
		clear(c.marks)
	}
	c.marks[xid] = true
}

// onlyMarks reports whether every transaction that finished between
// snapshot from and snapshot to is one of the sessions' marks: then the
// data is as it was, but for sessions' last use, which no kept page
// shows. A transaction finished in a snapshot when it is below its xmax
// and not in its xip; another server's marks, a subtransaction's id or
// any other write are not known, so the page is built again. (c.mu held.)
func (c *pageCache) onlyMarks(from, to string) bool {
	tmax, txip, ok := parseSnapshot(to)
	return ok && c.onlyMarksUntil(from, tmax, txip)
}

// onlyMarksUntil is onlyMarks with snapshot to already parsed (drop
// compares many kept pages with one snapshot). (c.mu held.)
func (c *pageCache) onlyMarksUntil(from string, tmax uint64, txip []uint64) bool {
	if len(c.marks) == 0 {
		return false
	}
	fmax, fxip, ok := parseSnapshot(from)
	if !ok || tmax < fmax || tmax-fmax > 256 {
		return false
	}
	finishedUnmarked := func(x uint64) bool { return !slices.Contains(txip, x) && !c.marks[x] }
	for _, x := range fxip {
		if finishedUnmarked(x) {
			return false
		}
	}
	for x := fmax; x < tmax; x++ {
		if finishedUnmarked(x) {
			return false
		}
	}
	return true
}

// parseSnapshot reads pg_current_snapshot()'s text, xmin:xmax:xip,...
// (xmin is not needed: everything below it is below xmax and not in xip).
func parseSnapshot(s string) (xmax uint64, xip []uint64, ok bool) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return 0, nil, false
	}
	xmax, err := strconv.ParseUint(parts[1], 10, 64)
	if err != nil {
		return 0, nil, false
	}
	if parts[2] != "" {
		for _, f := range strings.Split(parts[2], ",") {
			x, err := strconv.ParseUint(f, 10, 64)
			if err != nil {
				return 0, nil, false
			}
			xip = append(xip, x)
		}
	}
	return xmax, xip, true
}
