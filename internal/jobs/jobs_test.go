package jobs_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"signoff/internal/database/dbtest"
	"signoff/internal/jobs"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

type echoArgs struct {
	N int `json:"n"`
}

func (echoArgs) Kind() string { return "test_echo" }

type echoWorker struct {
	river.WorkerDefaults[echoArgs]
	sum  atomic.Int64
	runs atomic.Int64
}

func (w *echoWorker) Work(ctx context.Context, j *river.Job[echoArgs]) error {
	w.runs.Add(1)
	if j.Args.N < 0 && j.Attempt == 1 {
		return errors.New("negative numbers fail the first time")
	}
	w.sum.Add(int64(j.Args.N))
	return nil
}

// A job inserted in a rolled-back transaction never exists; one inserted
// in a committed transaction is worked once, and a failing one is retried.
func TestInsertTxFollowsTheTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.New(t)
	rollback := errors.New("roll back")
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		if err := jobs.InsertTx(ctx, tx, echoArgs{N: 1000}, nil); err != nil {
			return err
		}
		return rollback
	})
	if !errors.Is(err, rollback) {
		t.Fatal(err)
	}
	for _, n := range []int{2, 3, -5} {
		if err := db.InTx(ctx, func(tx pgx.Tx) error { return jobs.InsertTx(ctx, tx, echoArgs{N: n}, nil) }); err != nil {
			t.Fatal(err)
		}
	}
	counts, err := jobs.Counts(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) != 1 || counts[0].Kind != "test_echo" || counts[0].State != "available" || counts[0].N != 3 {
		t.Fatalf("before the client starts: %+v, want 3 available test_echo jobs", counts)
	}

	w := &echoWorker{}
	reg := jobs.NewRegistry()
	jobs.Add(reg, w)
	c, err := jobs.New(db, reg, jobs.Options{PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	events, cancel := c.River().Subscribe(river.EventKindJobCompleted)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// The failed attempt is retried after River's back-off (1 s for the
	// first retry); wait for the first two to complete, then bring the
	// third forward.
	for done := 0; done < 2; {
		select {
		case <-events:
			done++
		case <-time.After(15 * time.Second):
			t.Fatal("jobs not worked")
		}
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE river_job SET scheduled_at = now(), state = 'available' WHERE state = 'retryable'`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-events:
	case <-time.After(15 * time.Second):
		t.Fatal("the failed job was not retried")
	}
	stopCtx, stop := context.WithTimeout(ctx, 10*time.Second)
	defer stop()
	if err := c.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	if w.sum.Load() != 0 || w.runs.Load() != 4 {
		t.Fatalf("sum %d over %d runs, want 0 (2+3-5, never the rolled-back 1000) over 4 runs (one retry)", w.sum.Load(), w.runs.Load())
	}
	list, err := jobs.List(ctx, db, []string{"completed"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].LastError != "negative numbers fail the first time" {
		t.Fatalf("completed jobs: %+v", list)
	}
}

func TestRegistryRejectsTwoSchedulesWithOneID(t *testing.T) {
	t.Parallel()
	reg := jobs.NewRegistry()
	reg.Every("x", time.Hour, echoArgs{})
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a repeated periodic job id")
		}
	}()
	reg.Every("x", time.Minute, echoArgs{})
}
