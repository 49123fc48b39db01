// Command bench is `make bench`: it starts a private PostgreSQL cluster
// (default durability settings), generates a trust of 20 schools with
// benchdata, serves Signoff on 127.0.0.1, and runs the steps (a list: each
// file of this package adds its own with register) at concurrency 1 and
// 50; for a ratio, a static file from the same server and a bare
// single-row INSERT through pgx are measured in the same run. Every loop
// is bounded; it stops by itself. With -out it rewrites the figures
// section of BENCHMARKS.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/signal"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"signoff/internal/database"
	"signoff/internal/tracking/benchdata"
)

// concurrency is the "many at once" level of every step.
const concurrency = 50

var hold bool

func main() {
	out := flag.String("out", "", "rewrite the figures in this file (BENCHMARKS.md) between the markers")
	scale := flag.Float64("scale", 1, "request counts multiplier (0.1 for a quick look)")
	only := flag.String("only", "", "run only the steps whose name matches this regular expression (and the baselines)")
	flag.BoolVar(&hold, "hold", false, "after generating, print the server's and the database's addresses and wait (for EXPLAIN and profiles) until interrupted")
	serve := flag.String("serve", "", "(the bench's own server process) serve Signoff on this database URL")
	flag.Parse()
	if *serve != "" {
		os.Exit(serveChild(*serve))
	}
	if err := run(*out, *scale, *only); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// A step is one part of the benchmark. Steps run in order of their
// order field (baselines 0–99, dashboards 100–199, signing 200–299,
// signed copies 300–399); within one order, in the order registered.
// run measures with b.measure (concurrency 1 then 50) or b.measureAt, and
// may add notes with b.note.
type step struct {
	order int
	name  string
	run   func(ctx context.Context, b *bench) error
}

var steps []step

// register adds a step; call it from an init function in the step's file.
func register(s step) { steps = append(steps, s) }

// bench is what every step shares: the database, the server, the data
// generated and the sessions, and the rows measured so far.
type bench struct {
	db        *database.DB
	base      string  // http://127.0.0.1:port
	server    *server // the server process (server.go)
	data      benchdata.Result
	transport *http.Transport
	scale     float64
	// admins holds one signed-in office session per school (every school
	// of data.SchoolIDs, the large school and the ZIP school).
	admins map[int64]*http.Client
	anon   *http.Client
	// busy counts sign-ins answered 503 (and tried again).
	busy atomic.Int64

	mu    sync.Mutex
	rows  []row
	notes []string
	// steps' memory: the server's peak resident size in each step, in
	// the order run (memory.go).
	stepPeaks []stepPeak
	// current is the step running (rows are tagged with it).
	current string
	// what the goals need besides the rows (memory.go).
	serverPeak int64
	flood      flood
}

// row is one line of the figures: a step at concurrency 1 and 50.
type row struct {
	name     string
	step     string // the step that measured it
	one, all result // all: at concurrency 50 (n == 0: not measured)
	baseline bool
}

type result struct {
	n     int
	errs  int
	total time.Duration
	lat   []time.Duration
}

func (r result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	s := slices.Clone(r.lat)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*p)]
}

func (r result) rate() float64 {
	if r.total <= 0 {
		return 0
	}
	return float64(r.n) / r.total.Seconds()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// n scales a request count (never below the concurrency).
func (b *bench) n(x int) int { return max(int(float64(x)*b.scale), concurrency) }

// measure runs fn n/10 times one at a time (at least 20), then n times
// (scaled) with 50 in flight, and records both as one row. fn(i) gets
// distinct i across both counted runs; before the run at 50, one
// uncounted round of 50 in flight repeats the first requests (fn(0) to
// fn(49)), so that the server's 50 connections to PostgreSQL are open
// and have prepared the step's statements, as on a server that has been
// up a while: otherwise the first 50 requests, each on a connection
// PostgreSQL has just started, set the step's p99 (the school
// dashboard's 783 ms in the 16:42 run, the first step served on more
// than one connection). A step whose requests may not repeat (a
// signature, a copy's first download) uses measureOnce.
func (b *bench) measure(name string, n int, fn func(i int) error) {
	b.measureWarm(name, n, true, fn)
}

// measureOnce is measure without the warming round: fn(i) is called
// once for each i.
func (b *bench) measureOnce(name string, n int, fn func(i int) error) {
	b.measureWarm(name, n, false, fn)
}

func (b *bench) measureWarm(name string, n int, warm bool, fn func(i int) error) {
	n50 := b.n(n)
	n1 := max(n50/10, 20)
	one := loadN(name+" [c=1]", 0, n1, 1, fn)
	if warm {
		loadN(name+" [c=50, warming, not counted]", 0, concurrency, concurrency, fn)
	}
	all := loadN(name+" [c=50]", n1, n50, concurrency, fn)
	b.add(row{name: name, one: one, all: all})
}

// measureAt runs fn n times (not scaled) at one concurrency only.
func (b *bench) measureAt(name string, n, workers int, fn func(i int) error) {
	r := loadN(name, 0, n, workers, fn)
	if workers == 1 {
		b.add(row{name: name, one: r})
	} else {
		b.add(row{name: name, all: r})
	}
}

func (b *bench) add(r row) {
	b.mu.Lock()
	r.step = b.current
	b.rows = append(b.rows, r)
	b.mu.Unlock()
}

// note adds a paragraph under the table.
func (b *bench) note(s string) {
	fmt.Println(s)
	b.mu.Lock()
	b.notes = append(b.notes, s)
	b.mu.Unlock()
}

// client returns a client with its own cookie jar that does not follow
// redirects.
func (b *bench) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Transport: b.transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// signIn signs in with the bench password. A 503 (the password hashing
// is busy: its queue is full) is tried again after its Retry-After, as a
// browser's user would, and counted in b.busy: for up to a minute of
// tries (on a busy machine 50 at once keep the queue full for a while).
func (b *bench) signIn(email string) (*http.Client, error) {
	c := b.client()
	for try := 0; ; try++ {
		res, err := c.PostForm(b.base+"/sign-in", url.Values{"email": {email}, "password": {benchdata.Trust.Password}})
		if err != nil {
			return nil, err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusServiceUnavailable && try < 60 {
			b.busy.Add(1)
			wait, _ := strconv.Atoi(res.Header.Get("Retry-After"))
			time.Sleep(time.Duration(max(wait, 1)) * time.Second)
			continue
		}
		if res.StatusCode != http.StatusSeeOther {
			return nil, fmt.Errorf("sign in %s: %d", email, res.StatusCode)
		}
		return c, nil
	}
}

// get fetches u and reads the whole body; anything but 200 is an error.
func get(c *http.Client, u string) error {
	res, err := c.Get(u)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		return fmt.Errorf("GET %s: %d", u, res.StatusCode)
	}
	return nil
}

func run(outFile string, scale float64, only string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Minute)
	defer cancel()
	var onlyRE *regexp.Regexp
	if only != "" {
		re, err := regexp.Compile(only)
		if err != nil {
			return err
		}
		onlyRE = re
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	dir, err := os.MkdirTemp("", "signoff-bench-")
	if err != nil {
		return err
	}
	_ = os.Chmod(dir, 0o755)
	defer os.RemoveAll(dir)
	cluster, err := database.NewCluster(dir+"/pg", log)
	if err != nil {
		return err
	}
	cluster.Settings = map[string]string{"max_connections": "200", "shared_buffers": "256MB"}
	if _, err := cluster.Start(ctx); err != nil {
		return err
	}
	defer func() { _ = cluster.Stop(context.Background()) }()
	if err := cluster.EnsureDatabase(ctx, "signoff"); err != nil {
		return err
	}
	db, err := database.Open(ctx, cluster.URL("signoff")+"&pool_max_conns=60")
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	began := time.Now()
	fmt.Println("generating the trust…")
	data, err := benchdata.Generate(ctx, db, benchdata.Trust)
	if err != nil {
		return err
	}
	gen := data.Describe(benchdata.Trust)
	fmt.Println(gen)

	// The server is a process of its own (server.go), so that its memory
	// is measured without the load generator's. Its pool is the one a
	// server gets by default (database.DefaultMaxConns), as deployed.
	srv, err := startServer(ctx, cluster.URL("signoff"))
	if err != nil {
		return err
	}
	defer srv.stop()
	base := srv.base

	b := &bench{db: db, base: base, server: srv, data: data, scale: scale, admins: map[int64]*http.Client{},
		transport: &http.Transport{MaxIdleConnsPerHost: 200, MaxConnsPerHost: 200}}
	b.anon = &http.Client{Transport: b.transport}
	for id, email := range data.AdminEmails {
		c, err := b.signIn(email)
		if err != nil {
			return err
		}
		b.admins[id] = c
	}

	if hold {
		fmt.Printf("serving on %s (the server's profiles on %s/debug/pprof/); database %s; office of the large school: %s (password %s)\n",
			base, srv.ctl, cluster.URL("signoff"), data.AdminEmails[data.LargeID], benchdata.Trust.Password)
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		select {
		case <-sig:
		case <-ctx.Done():
		}
		return nil
	}
	var failed, times []string
	ready := time.Since(began) // the data, the server and the sessions
	slices.SortStableFunc(steps, func(x, y step) int { return x.order - y.order })
	for _, s := range steps {
		if onlyRE != nil && s.order >= 100 && !onlyRE.MatchString(s.name) {
			continue
		}
		fmt.Printf("— %s\n", s.name)
		b.current = s.name
		if _, err := srv.openWindow(s.name); err != nil {
			return err
		}
		stepStart := time.Now()
		err := s.run(ctx, b)
		b.stepMemory(s.name)
		took := time.Since(stepStart).Round(100 * time.Millisecond)
		times = append(times, fmt.Sprintf("%s %s", s.name, took))
		fmt.Printf("  (%s took %s)\n", s.name, took)
		if err != nil {
			// The other steps' figures still count: the failure is said
			// with them, and make bench fails at the end.
			fmt.Fprintf(os.Stderr, "bench: %s: %v\n", s.name, err)
			b.note(fmt.Sprintf("**Step %q failed:** %v.", s.name, err))
			failed = append(failed, s.name)
		}
	}

	b.note(fmt.Sprintf("Time: the run took %s from the start of the data's generation (%s of it before the first step: the data, the server, the offices' sign-ins); the steps: %s.",
		time.Since(began).Round(time.Second), ready.Round(time.Second), strings.Join(times, ", ")))
	report := b.report(gen)
	fmt.Print("\n" + report)
	if outFile != "" {
		if err := writeFigures(outFile, report); err != nil {
			return err
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("steps failed: %s", strings.Join(failed, ", "))
	}
	return nil
}

// report writes the figures: the machine, the data, one table row per
// step with its ratios to the baselines, then the notes.
func (b *bench) report(gen string) string {
	var sb strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&sb, "Run %s on %s: %d CPU cores (GOMAXPROCS %d), %s, %s, PostgreSQL from the server's own cluster (default durability: fsync on, synchronous_commit on).\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), host, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), cpuModel())
	fmt.Fprintf(&sb, "Data: %s.\n\n", gen)
	fmt.Fprintf(&sb, "Issue 15's goals, judged from this run's figures:\n\n%s\n", b.goalLines())
	static, insert := baselines(b.rows)
	ratio := func(x, of float64) string {
		if of == 0 || x == 0 {
			return "–"
		}
		return fmt.Sprintf("%.1f %%", 100*x/of)
	}
	opt := func(r result, f func(result) string) string {
		if r.n == 0 {
			return "–"
		}
		return f(r)
	}
	sb.WriteString("| what | c=1: p50 (service time) | c=50: requests | errors | throughput | p50 | p99 | vs static file | vs bare INSERT |\n")
	sb.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range b.rows {
		fmt.Fprintf(&sb, "| %s | %s | %s | %d | %s | %s | %s | %s | %s |\n", r.name,
			opt(r.one, func(x result) string { return ms(x.pct(0.5)) }),
			opt(r.all, func(x result) string { return fmt.Sprint(x.n) }),
			r.one.errs+r.all.errs,
			opt(r.all, func(x result) string { return fmt.Sprintf("%.0f/s", x.rate()) }),
			opt(r.all, func(x result) string { return ms(x.pct(0.5)) }),
			opt(r.all, func(x result) string { return ms(x.pct(0.99)) }),
			ratio(r.all.rate(), static), ratio(r.all.rate(), insert))
	}
	for _, n := range b.notes {
		fmt.Fprintf(&sb, "\n%s\n", n)
	}
	return sb.String()
}

// loadN runs fn for i in [from, from+n) with workers in flight and times
// each call.
func loadN(name string, from, n, workers int, fn func(i int) error) result {
	r := result{n: n, lat: make([]time.Duration, n)}
	var next atomic.Int64
	var errs atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				t := time.Now()
				if err := fn(from + i); err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
				r.lat[i] = time.Since(t)
			}
		})
	}
	wg.Wait()
	r.total = time.Since(start)
	r.errs = int(errs.Load())
	fmt.Printf("%-78s n=%-6d err=%-4d %8.0f/s  p50 %-9s p99 %s\n", name, n, r.errs, r.rate(), ms(r.pct(0.5)), ms(r.pct(0.99)))
	if e := firstErr.Load(); e != nil {
		fmt.Println("   first error:", e)
	}
	return r
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			if _, v, ok := strings.Cut(l, ":"); ok {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOARCH
}

const begin, end = "<!-- figures:begin -->", "<!-- figures:end -->"

// writeFigures replaces the text between the markers of file.
func writeFigures(file, figures string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		return fmt.Errorf("%s has no %s … %s markers", file, begin, end)
	}
	s = s[:i+len(begin)] + "\n" + figures + s[j:]
	return os.WriteFile(file, []byte(s), 0o644)
}
