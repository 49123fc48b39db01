package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // the server's profiles, on its control address
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"signoff/internal/auth"
	"signoff/internal/database"
	"signoff/internal/signkey"
	"signoff/internal/web"
)

// The server runs in a child process (this binary again, with -serve), so
// that its memory is measured on its own: the load generator's clients,
// latencies and the generated data's garbage live in the parent. The
// child serves Signoff on one loopback address and, on another, its
// control handlers: net/http/pprof, its memory, the password hashing's
// load and a CPU profile started and stopped by the parent.

// sessionKeys are the bench's fixed session keys.
var sessionKeys = [][]byte{[]byte("0123456789abcdef0123456789abcdef"), []byte("abcdef0123456789abcdef0123456789")}

// serverMemory is what the child reports about its memory. PeakRSS is
// the kernel's peak resident size (VmHWM) since the child started; the
// window fields cover the time since the last window was opened (the
// parent opens one before each step).
type serverMemory struct {
	RSS, PeakRSS        int64  // bytes
	MemoryLimit         int64  // the Go runtime's soft limit (math.MaxInt64: none)
	HeapPeak            uint64 // Go heap in use, sampled every 2 ms, garbage included
	Window              string // the step the window was opened for
	WindowRSS           int64  // peak resident size in the window (VmHWM since it opened)
	WindowHeapBase      uint64 // heap in use when the window opened (after a GC)
	WindowHeapPeak      uint64 // heap in use, peak in the window
	WindowLivePeak      uint64 // live heap after a GC, peak in the window
	WindowStartedUnixMs int64
}

// child is the server process's own memory watch.
type child struct {
	mu        sync.Mutex
	peakRSS   int64 // VmHWM folded in before each reset
	window    string
	winStart  time.Time
	heapBase  uint64
	heapPeak  atomic.Uint64
	winHeap   atomic.Uint64
	winLive   atomic.Uint64
	canReset  bool
	profiling *os.File
}

// serveChild is the child's main: serve Signoff on the database url until
// SIGTERM.
func serveChild(dbURL string) int {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// The soft memory limit cmd/signoff serve sets by default (unless
	// GOMEMLIMIT, which the runtime has applied, says otherwise).
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(web.DefaultMemoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	db, err := database.Open(ctx, dbURL)
	if err != nil {
		log.Error("bench server: database", "err", err)
		return 1
	}
	defer db.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Error("bench server: listen", "err", err)
		return 1
	}
	ctl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Error("bench server: listen", "err", err)
		return 1
	}
	// Signed copies are signed as a server signs them (PAdES, no time stamp).
	key, err := signkey.Generate("Signoff bench installation", time.Now())
	if err != nil {
		log.Error("bench server: key", "err", err)
		return 1
	}
	base := "http://" + ln.Addr().String()
	site := web.New(db, web.Config{SessionKeys: sessionKeys, BaseURL: base, Log: log, PDFSigner: &signkey.PDFSigner{Key: key}})
	srv := &http.Server{Handler: site.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	c := &child{}
	c.canReset = resetPeak()
	go c.sample(ctx)
	mux := http.NewServeMux()
	mux.Handle("/debug/pprof/", http.DefaultServeMux) // net/http/pprof's handlers
	mux.HandleFunc("GET /bench/memory", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, c.memory()) })
	mux.HandleFunc("POST /bench/memory/window", func(w http.ResponseWriter, r *http.Request) {
		c.open(r.FormValue("step"))
		writeJSON(w, c.memory())
	})
	mux.HandleFunc("GET /bench/hashing", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, auth.PasswordHashing()) })
	mux.HandleFunc("GET /bench/pagecache", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, site.PageCacheStats()) })
	mux.HandleFunc("POST /bench/cpuprofile/start", func(w http.ResponseWriter, r *http.Request) {
		if err := c.startProfile(r.FormValue("file")); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("POST /bench/cpuprofile/stop", func(w http.ResponseWriter, r *http.Request) {
		if err := c.stopProfile(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	go func() { _ = http.Serve(ctl, mux) }()
	// The parent reads this line to find the two addresses.
	fmt.Printf("bench server %s %s\n", base, "http://"+ctl.Addr().String())
	<-ctx.Done()
	_ = c.stopProfile()
	return 0
}

// resetPeak resets the process's VmHWM (writing 5 to clear_refs, Linux
// 4.0 and later); false when the kernel refuses.
func resetPeak() bool { return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil }

// sample reads the heap every 2 ms through runtime/metrics (which, unlike
// ReadMemStats, does not stop the world).
func (c *child) sample(ctx context.Context) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}, {Name: "/gc/heap/live:bytes"}}
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		metrics.Read(s)
		inuse := s[0].Value.Uint64() + s[1].Value.Uint64()
		storeMax(&c.heapPeak, inuse)
		storeMax(&c.winHeap, inuse)
		storeMax(&c.winLive, s[2].Value.Uint64())
	}
}

func storeMax(a *atomic.Uint64, v uint64) {
	for {
		old := a.Load()
		if v <= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}

// open starts a window: the peak so far is kept, the garbage collected
// and returned to the kernel (so the heap base is what is live) and the
// kernel's peak reset.
func (c *child) open(step string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.peakRSS = max(c.peakRSS, procKB("VmHWM")*1024)
	debug.FreeOSMemory() // a GC, and the freed pages back to the kernel: the window starts from what is live
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	if c.canReset {
		c.canReset = resetPeak()
	}
	c.window, c.winStart, c.heapBase = step, time.Now(), m.HeapInuse
	c.winHeap.Store(m.HeapInuse)
	c.winLive.Store(0)
}

func (c *child) memory() serverMemory {
	c.mu.Lock()
	defer c.mu.Unlock()
	hwm := procKB("VmHWM") * 1024
	m := serverMemory{RSS: procKB("VmRSS") * 1024, PeakRSS: max(c.peakRSS, hwm), HeapPeak: c.heapPeak.Load(), MemoryLimit: debug.SetMemoryLimit(-1),
		Window: c.window, WindowHeapBase: c.heapBase, WindowHeapPeak: c.winHeap.Load(), WindowLivePeak: c.winLive.Load()}
	if c.canReset {
		m.WindowRSS = hwm
	}
	if !c.winStart.IsZero() {
		m.WindowStartedUnixMs = c.winStart.UnixMilli()
	}
	return m
}

func (c *child) startProfile(file string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.profiling != nil {
		return fmt.Errorf("a CPU profile is already being written")
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return err
	}
	c.profiling = f
	return nil
}

func (c *child) stopProfile() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.profiling == nil {
		return nil
	}
	pprof.StopCPUProfile()
	err := c.profiling.Close()
	c.profiling = nil
	return err
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// procKB reads a size in kB from /proc/self/status (VmRSS, VmHWM); 0 when
// it cannot.
func procKB(field string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			var n int64
			_, _ = fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), &n)
			return n
		}
	}
	return 0
}

// server is the parent's handle on the child.
type server struct {
	cmd       *exec.Cmd
	base, ctl string
	http      *http.Client
}

// startServer starts the child on the database url and waits for its
// addresses. The child dies with the parent (Pdeathsig).
func startServer(ctx context.Context, dbURL string) (*server, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-serve", dbURL)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, http: &http.Client{Timeout: 30 * time.Second}}
	lines := bufio.NewScanner(out)
	got := make(chan error, 1)
	go func() {
		for lines.Scan() {
			if f := strings.Fields(lines.Text()); len(f) == 4 && f[0] == "bench" && f[1] == "server" {
				s.base, s.ctl = f[2], f[3]
				got <- nil
				break
			}
		}
		if s.base == "" {
			got <- fmt.Errorf("the server process ended before it listened")
		}
		// Anything the child prints later goes to our output.
		for lines.Scan() {
			fmt.Println(lines.Text())
		}
	}()
	select {
	case err = <-got:
	case <-time.After(time.Minute):
		err = fmt.Errorf("the server process did not listen within a minute")
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// stop ends the child (SIGTERM, then SIGKILL after 10 s).
func (s *server) stop() {
	if s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// call POSTs (form != nil) or GETs a control path and decodes the JSON
// answer into v (when v is not nil).
func (s *server) call(path string, form map[string]string, v any) error {
	var res *http.Response
	var err error
	if form != nil {
		q := make(map[string][]string, len(form))
		for k, x := range form {
			q[k] = []string{x}
		}
		res, err = s.http.PostForm(s.ctl+path, q)
	} else {
		res, err = s.http.Get(s.ctl + path)
	}
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		var sb strings.Builder
		_, _ = bufio.NewReader(res.Body).WriteTo(&sb)
		return fmt.Errorf("bench server %s: %d %s", path, res.StatusCode, strings.TrimSpace(sb.String()))
	}
	if v == nil {
		return nil
	}
	return json.NewDecoder(res.Body).Decode(v)
}

// memory is the server's memory now (its window: since the current step
// began).
func (s *server) memory() (serverMemory, error) {
	var m serverMemory
	err := s.call("/bench/memory", nil, &m)
	return m, err
}

// openWindow starts a memory window for a step (after a GC in the server).
func (s *server) openWindow(step string) (serverMemory, error) {
	var m serverMemory
	err := s.call("/bench/memory/window", map[string]string{"step": step}, &m)
	return m, err
}

// hashing is the server's password hashing bound and what it has seen.
func (s *server) hashing() (auth.HashingLoad, error) {
	var l auth.HashingLoad
	err := s.call("/bench/hashing", nil, &l)
	return l, err
}

// pageCache is the server's page cache's counts so far.
func (s *server) pageCache() (web.PageCacheStats, error) {
	var st web.PageCacheStats
	err := s.call("/bench/pagecache", nil, &st)
	return st, err
}

// profileCPU starts a CPU profile of the server into file; the returned
// function stops it.
func (s *server) profileCPU(file string) (stop func() error, err error) {
	if err := s.call("/bench/cpuprofile/start", map[string]string{"file": file}, nil); err != nil {
		return nil, err
	}
	return func() error { return s.call("/bench/cpuprofile/stop", map[string]string{}, nil) }, nil
}

// mb formats bytes as megabytes.
func mb[T int64 | uint64](n T) string { return fmt.Sprintf("%.0f MB", float64(n)/1e6) }
