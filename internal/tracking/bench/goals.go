package main

import (
	"fmt"
	"strings"
	"time"
)

// The goals of issue 15, each judged from this run's figures: one line
// "goal: … — met / not met (figure)" per goal, printed and written above
// the table, so that one run shows which goals are met.

// Steps whose rows the goals judge (their names are the steps' own, in
// dashboards.go, pages.go, signing.go, copies.go).
const (
	dashboardsStep = "dashboards"
	pagesStep      = "everyday pages"
	signingStep    = "signing"
	copiesStep     = "signed copies"
	zipStep        = "ZIP of signed copies"
	floodStep      = "sign-in flood"
)

// flood is what the sign-in flood saw (memory.go).
type flood struct {
	done       bool
	busy       int64 // answered 503
	retryAfter bool  // every 503 had Retry-After
	peakHashes int   // most hashes at once
	bound      int   // hashes allowed at once
	rss        int64 // the server's peak resident size during the flood
}

// The limits of the goals.
const (
	dashboardService = 5 * time.Millisecond
	dashboardP99     = 50 * time.Millisecond
	signatureShare   = 0.5 // of the bare INSERT's throughput
	signatureP99     = 100 * time.Millisecond
	pdfService       = 12 * time.Millisecond
	pagesShare       = 0.15 // of the static file's throughput
	serverPeakLimit  = 200e6
	zipPeakLimit     = 150e6
)

type goal struct {
	what   string
	met    bool
	figure string
}

func (g goal) String() string {
	v := "not met"
	if g.met {
		v = "met"
	}
	return fmt.Sprintf("goal: %s — %s (%s)", g.what, v, g.figure)
}

// goals judges every goal from the rows and notes gathered.
func (b *bench) goals() []goal {
	b.mu.Lock()
	defer b.mu.Unlock()
	static, insert := baselines(b.rows)
	stepRows := map[string][]row{}
	for _, r := range b.rows {
		stepRows[r.step] = append(stepRows[r.step], r)
	}
	var out []goal

	// Dashboards, their lists and exports, and the trust view.
	dash := stepRows[dashboardsStep]
	out = append(out, worst(fmt.Sprintf("every dashboard, outstanding list and export (large school and trust, staff and parents' forms, trust view) under %s at concurrency 1", ms(dashboardService)),
		dash, func(r row) (time.Duration, bool) { return r.one.pct(0.5), r.one.n > 0 && r.one.errs == 0 }, dashboardService))
	out = append(out, worst(fmt.Sprintf("the same, p99 under %s at concurrency 50", ms(dashboardP99)),
		dash, func(r row) (time.Duration, bool) { return r.all.pct(0.99), r.all.n > 0 && r.all.errs == 0 }, dashboardP99))

	// Signature POST.
	sig := goal{what: fmt.Sprintf("signature POST at concurrency 50: at least %.0f %% of the bare INSERT's throughput, p99 under %s", 100*signatureShare, ms(signatureP99)), figure: "not measured"}
	for _, r := range stepRows[signingStep] {
		if strings.Contains(r.name, "signature POST") && r.all.n > 0 {
			share := 0.0
			if insert > 0 {
				share = r.all.rate() / insert
			}
			sig.met = share >= signatureShare && r.all.pct(0.99) < signatureP99 && r.all.errs == 0
			sig.figure = fmt.Sprintf("%.0f/s, %.1f %% of %.0f/s, p99 %s, %d errors", r.all.rate(), 100*share, insert, ms(r.all.pct(0.99)), r.all.errs)
		}
	}
	out = append(out, sig)

	// Signed-copy PDF, rendered (its first download).
	pdf := goal{what: fmt.Sprintf("signed-copy PDF (5-page staff copy, rendered) under %s at concurrency 1", ms(pdfService)), figure: "not measured"}
	for _, r := range stepRows[copiesStep] {
		if strings.Contains(r.name, "first download") && r.one.n > 0 {
			pdf.met = r.one.pct(0.5) < pdfService && r.one.errs == 0
			pdf.figure = fmt.Sprintf("p50 %s", ms(r.one.pct(0.5)))
		}
	}
	out = append(out, pdf)

	// Everyday pages.
	pages := goal{what: fmt.Sprintf("every everyday page at least %.0f %% of the static file's throughput at concurrency 50", 100*pagesShare), figure: "not measured"}
	if rows := stepRows[pagesStep]; len(rows) > 0 && static > 0 {
		low, ok := rows[0], true
		for _, r := range rows {
			if r.all.rate() < low.all.rate() {
				low = r
			}
			ok = ok && r.all.n > 0 && r.all.errs == 0 && r.all.rate() >= pagesShare*static
		}
		pages.met = ok
		pages.figure = fmt.Sprintf("lowest: %s, %.0f/s, %.1f %% of %.0f/s", low.name, low.all.rate(), 100*low.all.rate()/static, static)
	}
	out = append(out, pages)

	// Memory.
	peak := goal{what: fmt.Sprintf("the server's peak resident size under %s whatever arrives", mb(int64(serverPeakLimit))), figure: "not measured"}
	if b.serverPeak > 0 {
		top := stepPeak{}
		for _, p := range b.stepPeaks {
			if p.rss > top.rss {
				top = p
			}
		}
		peak.met = b.serverPeak < serverPeakLimit
		peak.figure = fmt.Sprintf("%s, the most in %q", mb(b.serverPeak), top.step)
	}
	out = append(out, peak)
	fl := goal{what: "50 sign-ins at once: password hashing bounded, the rest queued, 503 with Retry-After when the queue is full", figure: "not measured"}
	if b.flood.done {
		fl.met = b.flood.peakHashes <= b.flood.bound && b.flood.busy > 0 && b.flood.retryAfter && b.flood.rss < serverPeakLimit
		fl.figure = fmt.Sprintf("at most %d hashes at once (bound %d), %d answered 503, Retry-After on every one: %v, server's peak %s", b.flood.peakHashes, b.flood.bound, b.flood.busy, b.flood.retryAfter, mb(b.flood.rss))
	}
	out = append(out, fl)
	zip := goal{what: fmt.Sprintf("a ZIP of 1,000 signed copies under %s", mb(int64(zipPeakLimit))), figure: "not measured"}
	for _, p := range b.stepPeaks {
		if p.step == zipStep && p.rss > 0 {
			zip.met = p.rss < zipPeakLimit && !b.failed(zipStep)
			zip.figure = fmt.Sprintf("the server's peak resident size while streaming it %s, Go heap in use at most %s", mb(p.rss), mb(p.heapPeak))
			if b.failed(zipStep) {
				zip.figure += "; the step failed: see its note"
			}
		}
	}
	out = append(out, zip)

	// Coverage.
	var parents, large, both, all int
	for _, r := range b.rows {
		if r.baseline || r.name == staticName || r.name == insertName {
			continue
		}
		all++
		if r.one.n > 0 && r.all.n > 0 {
			both++
		}
		if strings.Contains(r.name, "parents' form") {
			parents++
		}
		if strings.Contains(r.name, "large school") {
			large++
		}
	}
	out = append(out, goal{what: "make bench covers parents' forms and the large school, each step at concurrency 1 and 50, with the ratios",
		met:    parents > 0 && large > 0 && both > 0 && static > 0 && insert > 0,
		figure: fmt.Sprintf("%d rows, %d at both concurrencies (the others are a flood at 50 only), %d of parents' forms, %d of the large school", all, both, parents, large)})
	return out
}

// worst judges a list of rows against one limit: met when every row is
// measured, without errors, and under it; the figure names the worst.
func worst(what string, rows []row, figure func(row) (time.Duration, bool), limit time.Duration) goal {
	g := goal{what: what, figure: "not measured"}
	if len(rows) == 0 {
		return g
	}
	var top row
	var topD time.Duration
	under := 0
	for _, r := range rows {
		d, ok := figure(r)
		if ok && d < limit {
			under++
		}
		if d >= topD {
			top, topD = r, d
		}
	}
	g.met = under == len(rows)
	g.figure = fmt.Sprintf("%d of %d under; the slowest: %s, %s", under, len(rows), top.name, ms(topD))
	return g
}

// failed reports whether a step failed (its note says so).
func (b *bench) failed(step string) bool {
	for _, n := range b.notes {
		if strings.HasPrefix(n, fmt.Sprintf("**Step %q failed:**", step)) {
			return true
		}
	}
	return false
}

// goalLines is the goals as printed and written: one line each, then how
// many are met.
func (b *bench) goalLines() string {
	gs := b.goals()
	var sb strings.Builder
	met := 0
	for _, g := range gs {
		fmt.Fprintf(&sb, "- %s\n", g)
		if g.met {
			met++
		}
	}
	fmt.Fprintf(&sb, "\nGoals met in this run: %d of %d.\n", met, len(gs))
	return sb.String()
}

// baselines is the throughput at concurrency 50 of the static file and
// of the bare INSERT (0 when not measured).
func baselines(rows []row) (static, insert float64) {
	for _, r := range rows {
		switch r.name {
		case staticName:
			static = r.all.rate()
		case insertName:
			insert = r.all.rate()
		}
	}
	return static, insert
}
