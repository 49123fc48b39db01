package web

import "testing"

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
