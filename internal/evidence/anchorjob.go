package evidence

import (
	"context"

	"github.com/riverqueue/river"
)

// AnchorArgs is the hourly job: anchor every school whose audit chain
// changed since its newest anchor, then retry pending time stamps.
type AnchorArgs struct{}

// Kind names the job.
func (AnchorArgs) Kind() string { return "audit_anchor" }

// AnchorRetryArgs retries the time stamps that are due (every few minutes).
type AnchorRetryArgs struct{}

// Kind names the job.
func (AnchorRetryArgs) Kind() string { return "audit_anchor_retry" }

// AnchorWorker works AnchorArgs.
type AnchorWorker struct {
	river.WorkerDefaults[AnchorArgs]
	Anchorer *Anchorer
}

// Work anchors the changed chains. Twice is harmless: the second finds
// nothing changed but its own anchoring.
func (w *AnchorWorker) Work(ctx context.Context, _ *river.Job[AnchorArgs]) error {
	n, err := w.Anchorer.AnchorAll(ctx)
	if err == nil && n > 0 && w.Anchorer.Log != nil {
		w.Anchorer.Log.Info("audit chains anchored", "schools", n)
	}
	return err
}

// AnchorRetryWorker works AnchorRetryArgs.
type AnchorRetryWorker struct {
	river.WorkerDefaults[AnchorRetryArgs]
	Anchorer *Anchorer
}

// Work asks the authority again for the anchors whose retry is due.
func (w *AnchorRetryWorker) Work(ctx context.Context, _ *river.Job[AnchorRetryArgs]) error {
	n, err := w.Anchorer.RetryPending(ctx)
	if err == nil && n > 0 && w.Anchorer.Log != nil {
		w.Anchorer.Log.Info("pending anchors time-stamped", "anchors", n)
	}
	return err
}
