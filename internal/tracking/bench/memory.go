package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"signoff/internal/auth"
	"signoff/internal/tracking/benchdata"
)

// Memory: the peak resident size of the process (the server, with the
// load generator in the same process) from the first step to the last,
// and a flood of sign-ins with no retry (how many the password hashing
// turns away with 503, and the most hashes that ran at once).
//
// The peak is the kernel's (VmHWM), reset once the trust is generated (and
// collected) so it covers the steps only; the Go heap in use is sampled
// every 5 ms.
type memWatch struct {
	stop     chan struct{}
	wg       sync.WaitGroup
	heapPeak atomic.Uint64
	reset    bool
}

var watch memWatch

func init() {
	register(step{order: 1, name: "memory: start watching", run: func(ctx context.Context, b *bench) error {
		// The trust's generation is garbage now; then writing 5 to
		// clear_refs resets the peak RSS (Linux 4.0 and later).
		debug.FreeOSMemory()
		watch.reset = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
		watch.stop = make(chan struct{})
		watch.wg.Go(func() {
			t := time.NewTicker(5 * time.Millisecond)
			defer t.Stop()
			var m runtime.MemStats
			for {
				select {
				case <-watch.stop:
					return
				case <-t.C:
					runtime.ReadMemStats(&m)
					if m.HeapInuse > watch.heapPeak.Load() {
						watch.heapPeak.Store(m.HeapInuse)
					}
				}
			}
		})
		return nil
	}})
	register(step{order: 390, name: "sign-in flood", run: func(ctx context.Context, b *bench) error {
		emails := append([]string(nil), b.data.StaffEmails...)
		if len(emails) > 200 {
			emails = emails[:200]
		}
		var through, busy, other atomic.Int64
		var retryAfter atomic.Bool
		retryAfter.Store(true)
		before := rssKB("VmRSS")
		start := time.Now()
		var next atomic.Int64
		var wg sync.WaitGroup
		for range concurrency {
			wg.Go(func() {
				for i := int(next.Add(1)) - 1; i < len(emails); i = int(next.Add(1)) - 1 {
					res, err := b.client().PostForm(b.base+"/sign-in", url.Values{"email": {emails[i]}, "password": {benchdata.Trust.Password}})
					if err != nil {
						other.Add(1)
						continue
					}
					res.Body.Close()
					switch res.StatusCode {
					case http.StatusSeeOther:
						through.Add(1)
					case http.StatusServiceUnavailable:
						busy.Add(1)
						if res.Header.Get("Retry-After") == "" {
							retryAfter.Store(false)
						}
					default:
						other.Add(1)
					}
				}
			})
		}
		wg.Wait()
		load := auth.PasswordHashing()
		b.note(fmt.Sprintf("Sign-in flood: %d sign-ins (%d in flight, no retry) in %s: %d signed in, %d answered 503 \"Signoff is busy\" (Retry-After on every one: %v), %d other; at most %d password hashes ran at once (bound: %d running, %d queued); resident size %.0f MB before. Sign-ins tried again after a 503 in the other steps: %d.",
			len(emails), concurrency, time.Since(start).Round(time.Millisecond), through.Load(), busy.Load(), retryAfter.Load(), other.Load(),
			load.Peak, load.Running, load.Queued, float64(before)/1024, b.busy.Load()))
		if other.Load() > 0 {
			return fmt.Errorf("sign-in flood: %d answers neither 303 nor 503", other.Load())
		}
		return nil
	}})
	register(step{order: 399, name: "memory", run: func(ctx context.Context, b *bench) error {
		if watch.stop == nil {
			return nil
		}
		close(watch.stop)
		watch.wg.Wait()
		what := "since the trust was generated"
		if !watch.reset {
			what = "since the process started (the kernel would not reset its peak)"
		}
		b.note(fmt.Sprintf("Memory: the process (server and load generator together) peaked at %.0f MB resident %s; the Go heap in use peaked at %.0f MB (sampled every 5 ms, garbage included). PostgreSQL is a separate process, not counted.",
			float64(rssKB("VmHWM"))/1024, what, float64(watch.heapPeak.Load())/1e6))
		return nil
	}})
}

// rssKB reads a size in kB from /proc/self/status (VmRSS, VmHWM); 0 when
// it cannot.
func rssKB(field string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
