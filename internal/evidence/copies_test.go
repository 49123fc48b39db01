package evidence_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/database/dbtest"
	"signoff/internal/demo"
	"signoff/internal/evidence"
	"signoff/internal/pdf"
	"signoff/internal/signkey"
)

// TestRenderAll: the copies come in the order asked for, each the copy of
// its own record and verifying, a reference that cannot be loaded in its
// place with its error, and the first error the caller returns stops it.
func TestRenderAll(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	rows, err := f.db.Pool.Query(ctx, `SELECT reference FROM signatures WHERE school_id = $1 AND version_id IS NOT NULL ORDER BY reference DESC LIMIT 7`, f.school)
	if err != nil {
		t.Fatal(err)
	}
	refs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(refs) < 5 {
		t.Fatalf("the demo's signatures: %d %v", len(refs), err)
	}
	missing := 3
	refs = append(refs[:missing], append([]string{"SG-0000-0000-0000"}, refs[missing:]...)...)
	var got []string
	err = f.st.RenderAll(ctx, f.school, refs, func(rec evidence.Record, data []byte, err error) error {
		i := len(got)
		got = append(got, pdf.ReferenceOf(data))
		if i == missing {
			if apperr.CodeOf(err) != apperr.NotFound || data != nil {
				t.Errorf("copy %d (no such record): %v, %d bytes", i, err, len(data))
			}
			return nil
		}
		if err != nil || rec.Reference != refs[i] || got[i] != refs[i] {
			t.Errorf("copy %d: want %s, got record %s, a PDF naming %q, %v", i, refs[i], rec.Reference, got[i], err)
			return nil
		}
		if res, err := f.st.VerifyPDF(ctx, data); err != nil || !res.Verified() || res.Reference != refs[i] {
			t.Errorf("copy %d does not verify: %v %+v", i, err, res)
		}
		return nil
	})
	if err != nil || len(got) != len(refs) {
		t.Fatalf("%d of %d copies, %v", len(got), len(refs), err)
	}
	stop := errors.New("the client went away")
	calls := 0
	err = f.st.RenderAll(ctx, f.school, refs, func(evidence.Record, []byte, error) error {
		calls++
		if calls == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 2 {
		t.Fatalf("stopped after %d copies: %v", calls, err)
	}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if err := f.st.RenderAll(gone, f.school, refs, func(evidence.Record, []byte, error) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("with the request gone: %v", err)
	}
}

// TestIssueOnceUnderRace: several first downloads of one copy at once each
// render and sign their own (different) file, but all get the one stored
// first, which is the one whose hash is recorded; later downloads are it.
func TestIssueOnceUnderRace(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.st.Signer = &signkey.PDFSigner{Key: newKey(t, "Signoff race")}
	ctx := context.Background()
	ref, id := f.firstStaffSignature()
	rec, err := f.st.Load(ctx, f.school, ref)
	if err != nil {
		t.Fatal(err)
	}
	const n = 4
	got := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var err error
			if got[i], err = f.st.Issue(ctx, rec); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	later, err := f.st.Issue(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if !bytes.Equal(got[i], later) || len(later) == 0 {
			t.Fatalf("download %d: %d bytes, not the stored copy (%d bytes)", i, len(got[i]), len(later))
		}
	}
	sum := sha256.Sum256(later)
	if files, hashes := f.id(`SELECT count(*) FROM signed_copy_files WHERE signature_id = $1`, id),
		f.id(`SELECT count(*) FROM signed_copies WHERE signature_id = $1 AND sha256 = $2`, id, hex.EncodeToString(sum[:])); files != 1 || hashes != 1 {
		t.Fatalf("stored files %d, hash of the stored copy recorded %d times", files, hashes)
	}
	if c := signkey.CheckPDF(later); !c.Valid {
		t.Fatalf("the stored copy: %+v", c)
	}
}

// BenchmarkIssueFirstDownload is the first download of a member of staff's
// signed copy as the server makes it: the record loaded, the copy
// rendered, signed (a generated key, no time stamp) and stored. Before
// each round the stored copy of that record is removed, as the database's
// owner (the application cannot delete stored copies).
func BenchmarkIssueFirstDownload(b *testing.B) {
	db, owner := dbtest.NewWithOwner(b)
	ctx := context.Background()
	if _, err := demo.Load(ctx, db); err != nil {
		b.Fatal(err)
	}
	if _, err := audit.Link(ctx, db); err != nil {
		b.Fatal(err)
	}
	k, err := signkey.Generate("Signoff bench", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	st := evidence.NewStore(db, baseURL+"/")
	st.Signer = &signkey.PDFSigner{Key: k}
	rows, err := db.Pool.Query(ctx, `SELECT reference FROM signatures WHERE version_id IS NOT NULL ORDER BY id`)
	if err != nil {
		b.Fatal(err)
	}
	refs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(refs) == 0 {
		b.Fatalf("the demo's signatures: %d %v", len(refs), err)
	}
	var size int
	pages := regexp.MustCompile(`/Type /Page\b`)
	var npages int
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		ref := refs[i%len(refs)]
		if _, err := owner.Pool.Exec(ctx, `DELETE FROM signed_copy_files WHERE signature_id = (SELECT id FROM signatures WHERE reference = $1)`, ref); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		rec, err := st.Load(ctx, 0, ref)
		if err != nil {
			b.Fatal(err)
		}
		data, err := st.Issue(ctx, rec)
		if err != nil {
			b.Fatal(err)
		}
		size, npages = len(data), len(pages.FindAll(data, -1))
	}
	b.ReportMetric(float64(size), "bytes/pdf")
	b.ReportMetric(float64(npages), "pages")
}

// TestStoredCopyKeptAsItIs: a stored copy's bytes are kept as they are
// (migration 0021: storage EXTERNAL, not offered to pglz first, which
// went through every PDF and gave up), and read back the same.
func TestStoredCopyKeptAsItIs(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	if s := f.text(`SELECT attstorage::text FROM pg_attribute WHERE attrelid = 'signed_copy_files'::regclass AND attname = 'pdf'`); s != "e" {
		t.Fatalf("signed_copy_files.pdf has storage %q, want e (EXTERNAL)", s)
	}
	ref, id := f.firstStaffSignature()
	rec, err := f.st.Load(ctx, f.school, ref)
	if err != nil {
		t.Fatal(err)
	}
	issued, err := f.st.Issue(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	var stored []byte
	var size, length int64
	if err := f.db.Pool.QueryRow(ctx, `SELECT pdf, pg_column_size(pdf), octet_length(pdf) FROM signed_copy_files WHERE signature_id = $1`, id).
		Scan(&stored, &size, &length); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stored, issued) || size < length {
		t.Fatalf("stored %d bytes in %d (of %d): not the issued copy as it is", len(stored), size, length)
	}
}
