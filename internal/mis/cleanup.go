package mis

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// uploadKept is how long uploaded files that were never imported are kept.
const uploadKept = 24 * time.Hour

// CleanUpUploads deletes the uploaded files (every pupil's and parent's
// details, as the MIS exported them) of imports never applied within a
// day. An applied import's files are deleted when it is applied. Run it
// on a schedule (once across servers).
func CleanUpUploads(ctx context.Context, tx pgx.Tx, now time.Time) (int64, error) {
	tag, err := tx.Exec(ctx, `DELETE FROM import_files f USING import_batches b
		WHERE b.id = f.batch_id AND b.applied_at IS NULL AND b.created_at <= $1`, now.Add(-uploadKept))
	if err != nil {
		return 0, fmt.Errorf("mis: clean up uploads: %w", err)
	}
	return tag.RowsAffected(), nil
}

// CleanUpArgs is the periodic job that runs CleanUpUploads.
type CleanUpArgs struct{}

// Kind names the job.
func (CleanUpArgs) Kind() string { return "mis_upload_cleanup" }

// CleanUpWorker runs CleanUpArgs jobs in one transaction; running it
// twice is harmless.
type CleanUpWorker struct {
	river.WorkerDefaults[CleanUpArgs]
	Store *Store
	Log   *slog.Logger
}

// Work deletes the files of uploads never imported.
func (w *CleanUpWorker) Work(ctx context.Context, _ *river.Job[CleanUpArgs]) error {
	var n int64
	err := w.Store.db.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		n, err = CleanUpUploads(ctx, tx, w.Store.db.Now())
		return err
	})
	if err != nil {
		return err
	}
	if n > 0 && w.Log != nil {
		w.Log.Info("deleted uploads never imported", "files", n)
	}
	return nil
}
