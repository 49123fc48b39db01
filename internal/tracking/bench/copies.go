package main

import (
	"context"
	"fmt"
	"io"
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
		// The copies of the five-page staff policy (benchdata's long text).
		crows, err := b.db.Pool.Query(ctx, `SELECT s.school_id, s.reference FROM signatures s JOIN policies p ON p.id = (SELECT f.policy_id FROM forms f WHERE f.id = s.form_id)
			WHERE s.school_id = ANY ($1) AND p.title = $2 ORDER BY s.id LIMIT 2000`, b.data.SchoolIDs, benchdata.LongPolicyTitle)
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
		b.measureOnce("Signed-copy PDF GET /signatures/{ref}/copy.pdf (5-page staff policy), first download (render, sign, store)", min(1000, len(copies)), get1)
		b.measure("Signed-copy PDF GET /signatures/{ref}/copy.pdf, later downloads (stored)", 1000, get1)
		return nil
	}})
	register(step{order: 310, name: "ZIP of signed copies", run: func(ctx context.Context, b *bench) error {
		// The server opened a memory window for this step (after a GC):
		// its heap is sampled every 2 ms in the server process.
		zipStart := time.Now()
		res, err := b.admins[b.data.BigSchoolID].Get(fmt.Sprintf("%s/admin/tracking/forms/%d/copies.zip", b.base, b.data.BigFormID))
		if err != nil {
			return err
		}
		size, err := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		zipTime := time.Since(zipStart)
		if err != nil || res.StatusCode != 200 {
			return fmt.Errorf("zip: %d %v", res.StatusCode, err)
		}
		n := benchdata.Trust.BigFormSigned
		m, err := b.server.memory()
		if err != nil {
			return err
		}
		b.note(fmt.Sprintf("ZIP of the signed copies of one form: %d copies, %.1f MB, in %s (%.0f PDFs/s); the server's Go heap in use: %.1f MB before, peak %.1f MB while streaming (garbage included); live heap after GC peaked at %.1f MB; the server's peak resident size while streaming: %.1f MB.",
			n, float64(size)/1e6, zipTime.Round(time.Millisecond), float64(n)/zipTime.Seconds(),
			float64(m.WindowHeapBase)/1e6, float64(m.WindowHeapPeak)/1e6, float64(m.WindowLivePeak)/1e6, float64(m.WindowRSS)/1e6))
		return nil
	}})
}
