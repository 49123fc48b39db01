package main

import (
	"strings"
	"testing"
	"time"
)

// res is a result of n requests, each taking d, over total.
func res(n int, d, total time.Duration) result {
	r := result{n: n, total: total, lat: make([]time.Duration, n)}
	for i := range r.lat {
		r.lat[i] = d
	}
	return r
}

func TestGoalsJudgeEachGoalFromTheRows(t *testing.T) {
	ms := time.Millisecond
	b := &bench{
		rows: []row{
			{name: staticName, one: res(20, ms/10, 2*ms), all: res(1000, ms, 100*ms)}, // 10,000/s
			{name: insertName, one: res(20, ms/5, 4*ms), all: res(1000, ms, 200*ms)},  // 5,000/s
			{step: dashboardsStep, name: "School dashboard, large school", one: res(20, 3*ms, 60*ms), all: res(500, 40*ms, time.Second)},
			{step: dashboardsStep, name: "Dashboard of a parents' form, large school", one: res(20, 7*ms, 140*ms), all: res(500, 30*ms, time.Second)},
			{step: signingStep, name: "Staff signature POST /forms/{id}", one: res(20, 4*ms, 80*ms), all: res(3000, 90*ms, time.Second)}, // 3,000/s: 60 %
			{step: copiesStep, name: "Signed-copy PDF, first download (render, sign, store)", one: res(20, 11*ms, 220*ms), all: res(100, 400*ms, time.Second)},
			{step: pagesStep, name: "Staff home GET /", one: res(20, ms, 20*ms), all: res(2000, 20*ms, time.Second)},        // 20 %
			{step: pagesStep, name: "Family page GET /family", one: res(20, ms, 20*ms), all: res(1000, 40*ms, time.Second)}, // 10 %
		},
		serverPeak: 180e6,
		stepPeaks:  []stepPeak{{step: signingStep, rss: 180e6}, {step: zipStep, rss: 160e6, heapPeak: 90e6}},
		flood:      flood{done: true, busy: 140, retryAfter: true, peakHashes: 2, bound: 2, rss: 170e6},
	}
	got := map[string]goal{}
	for _, g := range b.goals() {
		got[strings.SplitN(g.what, " ", 3)[0]+" "+strings.SplitN(g.what, " ", 3)[1]] = g
	}
	for key, want := range map[string]bool{
		"every dashboard,": false, // the parents' form: 7 ms at c=1
		"the same,":        true,  // every p99 under 50 ms
		"signature POST":   true,
		"signed-copy PDF":  true,
		"every everyday":   false, // the family page: 10 %
		"the server's":     true,
		"50 sign-ins":      true,
		"a ZIP":            false, // 160 MB
		"make bench":       true,
	} {
		g, ok := got[key]
		if !ok {
			t.Errorf("no goal %q in %v", key, got)
			continue
		}
		if g.met != want {
			t.Errorf("%s: met %v, want %v", g, g.met, want)
		}
	}
	if g := got["every dashboard,"]; !strings.Contains(g.figure, "1 of 2 under") || !strings.Contains(g.figure, "parents' form") {
		t.Errorf("the dashboards' figure names the slowest: %s", g)
	}
	if g := got["every everyday"]; !strings.Contains(g.figure, "Family page") || !strings.Contains(g.figure, "10.0 %") {
		t.Errorf("the pages' figure names the lowest: %s", g)
	}
	lines := b.goalLines()
	if !strings.Contains(lines, "Goals met in this run: 6 of 9.") || strings.Count(lines, "\n- goal: ")+1 != 9 {
		t.Errorf("goal lines:\n%s", lines)
	}

	// A row with errors does not meet its goal; a goal with no row is
	// "not measured".
	b.rows[2].all.errs = 1
	b.rows = append(b.rows[:4], b.rows[5:]...) // no signature row
	for _, g := range b.goals() {
		if strings.HasPrefix(g.what, "signature POST") && (g.met || g.figure != "not measured") {
			t.Errorf("without a row: %s", g)
		}
		if strings.HasPrefix(g.what, "the same,") && g.met {
			t.Errorf("a row with errors at c=50, yet: %s", g)
		}
	}
}
