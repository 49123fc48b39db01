package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"

	"signoff/internal/tracking/benchdata"
)

// Signed copies: single PDFs as the office downloads them, and the ZIP of
// the 1,000 copies of one form with the heap sampled while it streams.
func init() {
	register(step{order: 300, name: "signed copies", run: func(ctx context.Context, b *bench) error {
		var copies []struct {
			school int64
			ref    string
		}
		crows, err := b.db.Pool.Query(ctx, `SELECT school_id, reference FROM signatures WHERE school_id = ANY ($1) ORDER BY id LIMIT 2000`, b.data.SchoolIDs)
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
		if err := crows.Err(); err != nil {
			return err
		}
		// The first download of each copy renders, signs and stores it;
		// every later one is the stored file (the same bytes, no write).
		get1 := func(i int) error {
			c := copies[i%len(copies)]
			return get(b.admins[c.school], b.base+"/signatures/"+c.ref+"/copy.pdf")
		}
		b.measure("Signed-copy PDF GET /signatures/{ref}/copy.pdf, first download (render, sign, store)", min(1000, len(copies)), get1)
		b.measure("Signed-copy PDF GET /signatures/{ref}/copy.pdf, later downloads (stored)", 1000, get1)
		return nil
	}})
	register(step{order: 310, name: "ZIP of signed copies", run: func(ctx context.Context, b *bench) error {
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
		res, err := b.admins[b.data.BigSchoolID].Get(fmt.Sprintf("%s/admin/tracking/forms/%d/copies.zip", b.base, b.data.BigFormID))
		if err != nil {
			close(stop)
			wg.Wait()
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
		n := benchdata.Trust.BigFormSigned
		b.note(fmt.Sprintf("ZIP of the signed copies of one form: %d copies, %.1f MB, in %s (%.0f PDFs/s); Go heap in use: %.1f MB before, peak %.1f MB while streaming (garbage included); live heap after GC peaked at %.1f MB.",
			n, float64(size)/1e6, zipTime.Round(time.Millisecond), float64(n)/zipTime.Seconds(),
			float64(base0.HeapInuse)/1e6, float64(peak.Load())/1e6, float64(peakLive.Load())/1e6))
		return nil
	}})
}
