// Command bench is `make bench`: it starts a private PostgreSQL cluster
// (default durability settings), generates a trust of 20 schools with
// benchdata, serves Signoff on 127.0.0.1, and measures, at concurrency 50:
// the dashboard and the outstanding list, a staff signature POST,
// signed-copy PDFs, the ZIP of 1,000 signed copies; and, for a ratio, a
// static file from the same server and a bare single-row INSERT loop
// through pgx. Every loop is bounded; it stops by itself. With -out it
// rewrites the figures section of BENCHMARKS.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"signoff/internal/database"
	"signoff/internal/tracking/benchdata"
	"signoff/internal/web"
	"signoff/web/static"
)

const concurrency = 50

func main() {
	out := flag.String("out", "", "rewrite the figures in this file (BENCHMARKS.md) between the markers")
	scale := flag.Float64("scale", 1, "request counts multiplier (0.1 for a quick look)")
	flag.Parse()
	if err := run(*out, *scale); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type result struct {
	name  string
	n     int
	errs  int
	total time.Duration
	lat   []time.Duration
	note  string
}

func (r result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	s := slices.Clone(r.lat)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p)
	return s[i]
}

func (r result) rate() float64 { return float64(r.n) / r.total.Seconds() }

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func run(outFile string, scale float64) error {
	ctx, cancel := context.WithTimeout(context.Background(), 9*time.Minute)
	defer cancel()
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
	fmt.Println("generating the trust…")
	data, err := benchdata.Generate(ctx, db, benchdata.Trust)
	if err != nil {
		return err
	}
	var pupils, parents, staff int
	_ = db.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE kind = 'pupil'), count(*) FILTER (WHERE kind = 'parent'), count(*) FILTER (WHERE kind = 'staff' AND school_id <> $1) FROM people`, data.BigSchoolID).Scan(&pupils, &parents, &staff)
	gen := fmt.Sprintf("%d schools, %d staff, %d pupils, %d parents and carers, %d forms, %d requests, %d signatures (plus a ZIP school: %d staff who all signed one form); generated in %s",
		len(data.SchoolIDs), staff, pupils, parents, len(data.SchoolIDs)*benchdata.Trust.FormsPerSchool, data.Requests-benchdata.Trust.BigFormSigned,
		data.Signatures-benchdata.Trust.BigFormSigned, benchdata.Trust.BigFormSigned, data.GeneratedIn.Round(time.Millisecond))
	fmt.Println(gen)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	keys := [][]byte{[]byte("0123456789abcdef0123456789abcdef"), []byte("abcdef0123456789abcdef0123456789")}
	srv := &http.Server{Handler: web.New(db, web.Config{SessionKeys: keys, BaseURL: base, Log: log}).Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	transport := &http.Transport{MaxIdleConnsPerHost: 200, MaxConnsPerHost: 200}

	signIn := func(email string) (*http.Client, error) {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Transport: transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := c.PostForm(base+"/sign-in", url.Values{"email": {email}, "password": {benchdata.Trust.Password}})
		if err != nil {
			return nil, err
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther {
			return nil, fmt.Errorf("sign in %s: %d", email, res.StatusCode)
		}
		return c, nil
	}
	n := func(x int) int { return max(int(float64(x)*scale), concurrency) }

	// Admin sessions, one per school.
	admins := map[int64]*http.Client{}
	for _, id := range append(slices.Clone(data.SchoolIDs), data.BigSchoolID) {
		c, err := signIn(data.AdminEmails[id])
		if err != nil {
			return err
		}
		admins[id] = c
	}
	var forms []struct{ school, form int64 }
	rows, err := db.Pool.Query(ctx, `SELECT school_id, id FROM forms WHERE school_id = ANY ($1) ORDER BY id`, data.SchoolIDs)
	if err != nil {
		return err
	}
	for rows.Next() {
		var f struct{ school, form int64 }
		_ = rows.Scan(&f.school, &f.form)
		forms = append(forms, f)
	}
	rows.Close()

	var results []result
	// Static file.
	anon := &http.Client{Transport: transport}
	results = append(results, load("Static file (app.css), 50 concurrent", n(20000), func(i int) error {
		return get(anon, base+static.Path("app.css"))
	}))
	// Dashboard: the school's page of every form, and one form's page.
	results = append(results, load("School dashboard GET /admin/tracking", n(2000), func(i int) error {
		id := data.SchoolIDs[i%len(data.SchoolIDs)]
		return get(admins[id], base+"/admin/tracking")
	}))
	results = append(results, load("Form dashboard + outstanding list GET /admin/tracking/forms/{id}", n(2000), func(i int) error {
		f := forms[(i*7)%len(forms)]
		return get(admins[f.school], fmt.Sprintf("%s/admin/tracking/forms/%d", base, f.form))
	}))
	results = append(results, load("Outstanding list, page 2 sorted by last reminder", n(2000), func(i int) error {
		f := forms[(i*13)%len(forms)]
		return get(admins[f.school], fmt.Sprintf("%s/admin/tracking/forms/%d?sort=reminded&page=2", base, f.form))
	}))
	trustAdmin := admins[data.SchoolIDs[0]]
	if _, err := db.Pool.Exec(ctx, `UPDATE accounts SET roles = roles || '{trust_admin}' WHERE email = $1`, data.AdminEmails[data.SchoolIDs[0]]); err != nil {
		return err
	}
	results = append(results, load("Trust view GET /trust (20 schools, 200 forms)", n(200), func(i int) error {
		return get(trustAdmin, base+"/trust")
	}))

	// Staff signature POSTs: sign in staff, then each signs a form they owe.
	type owed struct {
		email, name   string
		form, version int64
	}
	orows, err := db.Pool.Query(ctx, `SELECT p.email, p.given_name || ' ' || p.family_name, f.id, fc.version_id
		FROM forms f JOIN form_current fc ON fc.form_id = f.id
		JOIN people p ON p.school_id = f.school_id AND p.kind = 'staff' AND p.staff_role = ANY (f.audience_staff_roles)
		WHERE f.school_id = ANY ($1) AND p.account_id IS NOT NULL
		  AND NOT EXISTS (SELECT 1 FROM signatures s WHERE s.form_id = f.id AND s.person_id = p.id)
		  AND p.email <> ALL ($2)
		ORDER BY p.id, f.id`, data.SchoolIDs, adminList(data.AdminEmails))
	if err != nil {
		return err
	}
	var todo []owed
	for orows.Next() {
		var o owed
		_ = orows.Scan(&o.email, &o.name, &o.form, &o.version)
		todo = append(todo, o)
	}
	orows.Close()
	signers := map[string]*http.Client{}
	var byEmail []string
	for _, o := range todo {
		if _, ok := signers[o.email]; !ok && len(signers) < 300 {
			signers[o.email] = nil
			byEmail = append(byEmail, o.email)
		}
	}
	var mu sync.Mutex
	signInRes := load("Sign-in POST /sign-in (argon2id), 50 concurrent", len(byEmail), func(i int) error {
		c, err := signIn(byEmail[i])
		mu.Lock()
		signers[byEmail[i]] = c
		mu.Unlock()
		return err
	})
	results = append(results, signInRes)
	var posts []owed
	for _, o := range todo {
		if signers[o.email] != nil {
			posts = append(posts, o)
		}
	}
	posts = posts[:min(len(posts), n(2000))]
	// What one signature adds: rows per table and bytes on disk.
	growthTables := []string{"signatures", "audit_log", "signed_copies", "outbox", "river_job", "sessions"}
	snapshot := func() (map[string]int64, int64, error) {
		rows := map[string]int64{}
		for _, tbl := range growthTables {
			var n int64
			if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM `+tbl).Scan(&n); err != nil {
				return nil, 0, err
			}
			rows[tbl] = n
		}
		var size int64
		err := db.Pool.QueryRow(ctx, `SELECT sum(pg_total_relation_size(relid))::bigint FROM pg_stat_user_tables`).Scan(&size)
		return rows, size, err
	}
	rowsBefore, sizeBefore, err := snapshot()
	if err != nil {
		return err
	}
	refRE := regexp.MustCompile(`/signatures/(SG-[0-9A-Z-]+)`)
	var refs []string
	var refMu sync.Mutex
	results = append(results, load("Staff signature POST /forms/{id}", len(posts), func(i int) error {
		o := posts[i]
		res, err := signers[o.email].PostForm(fmt.Sprintf("%s/forms/%d", base, o.form), url.Values{"version_id": {fmt.Sprint(o.version)}, "agree": {"yes"}, "typed_name": {o.name}})
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther {
			return fmt.Errorf("sign: %d", res.StatusCode)
		}
		if m := refRE.FindStringSubmatch(res.Header.Get("Location")); m != nil {
			refMu.Lock()
			refs = append(refs, m[1])
			refMu.Unlock()
		}
		return nil
	}))

	rowsAfter, sizeAfter, err := snapshot()
	if err != nil {
		return err
	}
	growthNote := ""
	if made := rowsAfter["signatures"] - rowsBefore["signatures"]; made > 0 {
		var parts []string
		for _, tbl := range growthTables {
			parts = append(parts, fmt.Sprintf("%s %.2f", tbl, float64(rowsAfter[tbl]-rowsBefore[tbl])/float64(made)))
		}
		growthNote = fmt.Sprintf("%d signatures through the web added, per signature, rows: %s; and %.1f kB to the database's tables and indexes (WAL and signed-copy PDFs, which are rendered on demand and not stored, not counted)",
			made, strings.Join(parts, ", "), float64(sizeAfter-sizeBefore)/float64(made)/1024)
	}

	// Signed-copy PDFs, as the office downloads them.
	var copies []struct {
		school int64
		ref    string
	}
	crows, err := db.Pool.Query(ctx, `SELECT school_id, reference FROM signatures WHERE school_id = ANY ($1) ORDER BY id LIMIT 2000`, data.SchoolIDs)
	if err != nil {
		return err
	}
	for crows.Next() {
		var c struct {
			school int64
			ref    string
		}
		_ = crows.Scan(&c.school, &c.ref)
		copies = append(copies, c)
	}
	crows.Close()
	results = append(results, load("Signed-copy PDF GET /signatures/{ref}/copy.pdf", n(1000), func(i int) error {
		c := copies[i%len(copies)]
		return get(admins[c.school], base+"/signatures/"+c.ref+"/copy.pdf")
	}))

	// The ZIP of 1,000 signed copies, with the heap sampled while it streams.
	runtime.GC()
	var base0 runtime.MemStats
	runtime.ReadMemStats(&base0)
	var peak, peakLive atomic.Uint64
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
				metrics.Read(live)
				if v := live[0].Value.Uint64(); v > peakLive.Load() {
					peakLive.Store(v)
				}
			}
		}
	})
	zipStart := time.Now()
	res, err := admins[data.BigSchoolID].Get(fmt.Sprintf("%s/admin/tracking/forms/%d/copies.zip", base, data.BigFormID))
	if err != nil {
		return err
	}
	size, err := io.Copy(io.Discard, res.Body)
	res.Body.Close()
	zipTime := time.Since(zipStart)
	close(stop)
	wg.Wait()
	if err != nil || res.StatusCode != 200 {
		return fmt.Errorf("zip: %d %v", res.StatusCode, err)
	}
	zipNote := fmt.Sprintf("%d copies, %.1f MB, in %s (%.0f PDFs/s); Go heap in use: %.1f MB before, peak %.1f MB while streaming (garbage included); live heap after GC peaked at %.1f MB; the whole archive is %.1f MB",
		benchdata.Trust.BigFormSigned, float64(size)/1e6, zipTime.Round(time.Millisecond), float64(benchdata.Trust.BigFormSigned)/zipTime.Seconds(),
		float64(base0.HeapInuse)/1e6, float64(peak.Load())/1e6, float64(peakLive.Load())/1e6, float64(size)/1e6)
	fmt.Println("ZIP:", zipNote)

	// Bare single-row INSERT loops through pgx.
	if _, err := db.Pool.Exec(ctx, `CREATE TABLE bench_insert (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text NOT NULL, at timestamptz NOT NULL)`); err != nil {
		return err
	}
	results = append(results, load1("Bare single-row INSERT through pgx, one loop", n(5000), func(i int) error {
		_, err := db.Pool.Exec(ctx, `INSERT INTO bench_insert (v, at) VALUES ($1, now())`, "x")
		return err
	}))
	results = append(results, load("Bare single-row INSERT through pgx, 50 loops", n(10000), func(i int) error {
		_, err := db.Pool.Exec(ctx, `INSERT INTO bench_insert (v, at) VALUES ($1, now())`, "x")
		return err
	}))

	var b strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "Run %s on %s: %d CPU cores (GOMAXPROCS %d), %s, %s, PostgreSQL from the server's own cluster (default durability: fsync on, synchronous_commit on).\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), host, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), cpuModel())
	fmt.Fprintf(&b, "Data: %s.\n\n", gen)
	b.WriteString("| what | requests | errors | throughput | p50 | p99 |\n| --- | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range results {
		fmt.Fprintf(&b, "| %s | %d | %d | %.0f/s | %s | %s |\n", r.name, r.n, r.errs, r.rate(), ms(r.pct(0.5)), ms(r.pct(0.99)))
	}
	fmt.Fprintf(&b, "\nZIP of the signed copies of one form: %s.\n", zipNote)
	if growthNote != "" {
		fmt.Fprintf(&b, "\nGrowth: %s.\n", growthNote)
	}
	var static, post, ins result
	for _, r := range results {
		switch {
		case strings.HasPrefix(r.name, "Static"):
			static = r
		case strings.HasPrefix(r.name, "Staff signature"):
			post = r
		case strings.HasSuffix(r.name, "50 loops"):
			ins = r
		}
	}
	if static.n > 0 && post.n > 0 && ins.n > 0 {
		fmt.Fprintf(&b, "\nRatios: a signature POST runs at %.1f%% of the static file's throughput and %.1f%% of the bare INSERT's (50 concurrent each).\n",
			100*post.rate()/static.rate(), 100*post.rate()/ins.rate())
	}
	fmt.Print("\n" + b.String())
	if outFile != "" {
		return writeFigures(outFile, b.String())
	}
	return nil
}

func adminList(m map[int64]string) []string {
	var out []string
	for _, e := range m {
		out = append(out, e)
	}
	return out
}

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

// load runs fn n times with 50 workers and times each call.
func load(name string, n int, fn func(i int) error) result {
	return loadN(name, n, concurrency, fn)
}

func load1(name string, n int, fn func(i int) error) result { return loadN(name, n, 1, fn) }

func loadN(name string, n, workers int, fn func(i int) error) result {
	r := result{name: name, n: n, lat: make([]time.Duration, n)}
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
				if err := fn(i); err != nil {
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
	fmt.Printf("%-70s n=%-6d err=%-4d %8.0f/s  p50 %-9s p99 %s\n", name, n, r.errs, r.rate(), ms(r.pct(0.5)), ms(r.pct(0.99)))
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
