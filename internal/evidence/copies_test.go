package evidence_test

import (
	"context"
	"errors"
	"testing"

	"signoff/internal/apperr"
	"signoff/internal/evidence"
	"signoff/internal/pdf"
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
	var refs []string
	for rows.Next() {
		var ref string
		if err := rows.Scan(&ref); err != nil {
			t.Fatal(err)
		}
		refs = append(refs, ref)
	}
	if rows.Err() != nil || len(refs) < 5 {
		t.Fatalf("the demo's signatures: %d %v", len(refs), rows.Err())
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
