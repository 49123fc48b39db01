package mail

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/database"
	"signoff/internal/jobs"
)

// SendArgs is the job that sends one outbox message ("mail_send", on the
// mail queue). It is unique per message while it waits, runs or retries,
// so enqueuing it again (the sweep, a retry) never makes a second job.
type SendArgs struct {
	OutboxID int64 `json:"outbox_id"`
}

// Kind names the job.
func (SendArgs) Kind() string { return "mail_send" }

// InsertOpts puts every SendArgs job on the mail queue, unique per
// message among the jobs not yet finished.
func (SendArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       jobs.QueueMail,
		MaxAttempts: MaxAttempts,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
			rivertype.JobStateRetryable, rivertype.JobStateScheduled,
		}},
	}
}

// SendWorker works SendArgs jobs with a Sender.
type SendWorker struct {
	river.WorkerDefaults[SendArgs]
	Sender *Sender
}

// Work delivers the message. When the per-minute limit is reached the job
// is snoozed to the next minute (not counted as an attempt).
func (w *SendWorker) Work(ctx context.Context, job *river.Job[SendArgs]) error {
	_, err := w.Sender.Deliver(ctx, job.Args.OutboxID, job.Attempt, job.MaxAttempts)
	var paced *PacedError
	if errors.As(err, &paced) {
		return river.JobSnooze(paced.Wait)
	}
	return err
}

// NextRetry follows Backoff: 1, 2, 4, ... minutes, at most an hour.
func (w *SendWorker) NextRetry(job *river.Job[SendArgs]) time.Time {
	return time.Now().Add(Backoff(job.Attempt))
}

// Timeout bounds one attempt (each SMTP step has its own 30 s limit).
func (w *SendWorker) Timeout(*river.Job[SendArgs]) time.Duration { return 5 * time.Minute }

// SweepArgs is the periodic job ("mail_sweep") that gives every waiting
// message a send job if it has none (messages queued while no SMTP server
// was configured, or from before the job queue), and forgets old
// per-minute counters.
type SweepArgs struct{}

// Kind names the job.
func (SweepArgs) Kind() string { return "mail_sweep" }

// SweepWorker works SweepArgs jobs.
type SweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	Sender *Sender
}

// Work enqueues send jobs for up to 1000 due messages that have none.
func (w *SweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	n, err := w.Sender.Sweep(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		w.Sender.log.Info("mail sweep queued messages", "count", n)
	}
	return nil
}

// Sweep enqueues a send job for each due waiting message (up to 1000)
// that has no unfinished one, and deletes per-minute counters older than a
// day. Without an SMTP server it only deletes counters.
func (s *Sender) Sweep(ctx context.Context) (int, error) {
	n := 0
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM mail_pace WHERE minute < $1`, s.db.Now().Add(-24*time.Hour)); err != nil {
			return fmt.Errorf("mail: sweep counters: %w", err)
		}
		if !s.cfg.Enabled() {
			return nil
		}
		rows, err := tx.Query(ctx, `SELECT o.id FROM outbox o
			WHERE o.sent_at IS NULL AND o.failed_at IS NULL AND o.next_attempt_at <= $1
			  AND NOT EXISTS (SELECT 1 FROM river_job j WHERE j.kind = 'mail_send'
			      AND j.state IN ('available', 'pending', 'running', 'retryable', 'scheduled')
			      AND j.args @> jsonb_build_object('outbox_id', o.id))
			ORDER BY o.next_attempt_at, o.id LIMIT 1000`, s.db.Now())
		if err != nil {
			return fmt.Errorf("mail: sweep: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("mail: sweep: %w", err)
		}
		for _, id := range ids {
			if err := jobs.InsertTx(ctx, tx, SendArgs{OutboxID: id}, nil); err != nil {
				return err
			}
		}
		n = len(ids)
		return nil
	})
	return n, err
}

// Retry gives a failed message of the school another round of attempts:
// it is waiting again and its send job is queued, in one transaction
// with the audit entry. A message that is not failed is apperr.Conflict;
// another school's (or a missing) one is apperr.NotFound.
func Retry(ctx context.Context, db *database.DB, schoolID, id int64, actor audit.Actor) error {
	return db.InTx(ctx, func(tx pgx.Tx) error {
		var failed bool
		err := tx.QueryRow(ctx, `SELECT failed_at IS NOT NULL AND sent_at IS NULL FROM outbox WHERE id = $1 AND school_id = $2 FOR UPDATE`, id, schoolID).Scan(&failed)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "There is no such message.")
		}
		if err != nil {
			return fmt.Errorf("mail: retry: %w", err)
		}
		if !failed {
			return apperr.New(apperr.Conflict, "Only a message that failed can be tried again.")
		}
		now := db.Now()
		if _, err := tx.Exec(ctx, `UPDATE outbox SET failed_at = NULL, next_attempt_at = $2 WHERE id = $1`, id, now); err != nil {
			return fmt.Errorf("mail: retry: %w", err)
		}
		if err := jobs.InsertTx(ctx, tx, SendArgs{OutboxID: id}, nil); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: actor, Action: "mail.retry", Subject: fmt.Sprintf("outbox %d", id)})
	})
}
