package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"signoff/internal/tracking/benchdata"
)

// Memory: the server's peak resident size (the kernel's VmHWM of the
// server process, server.go) from its start, after the data's generation,
// to the last step, and each step's own peak; and a flood of sign-ins with
// no retry (how many the password hashing turns away with 503, and the
// most hashes that ran at once). The load generator is another process
// and is not counted, nor is PostgreSQL.

// stepPeak is the server's memory in one step.
type stepPeak struct {
	step     string
	rss      int64  // peak resident size in the step
	heapPeak uint64 // Go heap in use, peak in the step (garbage included)
}

// stepMemory records the server's peak in the step that just ran.
func (b *bench) stepMemory(name string) {
	m, err := b.server.memory()
	if err != nil || m.Window != name {
		return
	}
	b.mu.Lock()
	b.stepPeaks = append(b.stepPeaks, stepPeak{step: name, rss: m.WindowRSS, heapPeak: m.WindowHeapPeak})
	b.mu.Unlock()
}

func init() {
	register(step{order: 390, name: "sign-in flood", run: func(ctx context.Context, b *bench) error {
		emails := append([]string(nil), b.data.StaffEmails...)
		if len(emails) > 200 {
			emails = emails[:200]
		}
		var through, busy, other atomic.Int64
		var retryAfter atomic.Bool
		retryAfter.Store(true)
		before, err := b.server.memory()
		if err != nil {
			return err
		}
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
		took := time.Since(start)
		load, err := b.server.hashing()
		if err != nil {
			return err
		}
		after, err := b.server.memory()
		if err != nil {
			return err
		}
		b.flood = flood{done: true, busy: busy.Load(), retryAfter: retryAfter.Load(), peakHashes: load.Peak, bound: load.Running, rss: after.WindowRSS}
		b.note(fmt.Sprintf("Sign-in flood: %d sign-ins (%d in flight, no retry) in %s: %d signed in, %d answered 503 \"Signoff is busy\" (Retry-After on every one: %v), %d other; at most %d password hashes ran at once (bound: %d running, %d queued); the server's resident size %s before, peak %s during the flood. Sign-ins tried again after a 503 in the other steps: %d.",
			len(emails), concurrency, took.Round(time.Millisecond), through.Load(), busy.Load(), retryAfter.Load(), other.Load(),
			load.Peak, load.Running, load.Queued, mb(before.RSS), mb(after.WindowRSS), b.busy.Load()))
		if other.Load() > 0 {
			return fmt.Errorf("sign-in flood: %d answers neither 303 nor 503", other.Load())
		}
		return nil
	}})
	register(step{order: 399, name: "memory", run: func(ctx context.Context, b *bench) error {
		m, err := b.server.memory()
		if err != nil {
			return err
		}
		b.serverPeak = m.PeakRSS
		var parts []string
		b.mu.Lock()
		top := stepPeak{}
		for _, p := range b.stepPeaks {
			parts = append(parts, fmt.Sprintf("%s %s", p.step, mb(p.rss)))
			if p.rss > top.rss {
				top = p
			}
		}
		b.mu.Unlock()
		limit := "no soft memory limit"
		if m.MemoryLimit > 0 && m.MemoryLimit < math.MaxInt64 {
			limit = fmt.Sprintf("the Go runtime's soft memory limit at %d MiB", m.MemoryLimit>>20)
		}
		b.note(fmt.Sprintf("Memory: the server (a process of its own, without the load generator; PostgreSQL not counted; %s) peaked at %s resident from its start, after the data's generation, to the last step, the most in %q (Go heap in use there at most %s, garbage included); the Go heap in use peaked at %s overall (sampled every 2 ms). Each step's peak: %s.",
			limit, mb(m.PeakRSS), top.step, mb(top.heapPeak), mb(m.HeapPeak), strings.Join(parts, ", ")))
		return nil
	}})
}
