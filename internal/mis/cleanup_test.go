package mis_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/database/dbtest"
	"signoff/internal/mis"
)

// TestUploadedFilesDoNotOutstayTheirUse: an applied import's files are
// deleted with the apply (its summary stays); the files of an upload
// never imported go after a day, and its page then says to upload again.
func TestUploadedFilesDoNotOutstayTheirUse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.New(t)
	s := newSchool(t, db, "uploads")
	store := mis.NewStore(db)
	files := func(id int64) int {
		var n int
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM import_files WHERE batch_id = $1`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	start := time.Date(2026, 9, 1, 9, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return start }

	applied, err := store.SaveBatch(ctx, s.ID, actor, sampleFiles(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.ApplyBatch(ctx, s.ID, applied, actor, true); err != nil {
		t.Fatal(err)
	}
	if n := files(applied); n != 0 {
		t.Fatalf("%d files kept after the import was applied", n)
	}
	b, err := store.Batch(ctx, s.ID, applied)
	if err != nil || b.AppliedAt == nil || b.Summary == "" {
		t.Fatalf("the applied import: %+v, %v", b, err)
	}

	left, err := store.SaveBatch(ctx, s.ID, actor, sampleFiles(t))
	if err != nil {
		t.Fatal(err)
	}
	clean := func(at time.Time) int64 {
		var n int64
		if err := db.InTx(ctx, func(tx pgx.Tx) error {
			var err error
			n, err = mis.CleanUpUploads(ctx, tx, at)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := clean(start.Add(23 * time.Hour)); n != 0 || files(left) != 3 {
		t.Fatalf("a day not yet past: %d deleted, %d kept", n, files(left))
	}
	if n := clean(start.Add(25 * time.Hour)); n != 3 || files(left) != 0 {
		t.Fatalf("a day past: %d deleted, %d kept", n, files(left))
	}
	if _, err := store.Batch(ctx, s.ID, left); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("the expired upload: %v, want not found with a message", err)
	}
}
