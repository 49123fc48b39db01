// Package jobs is Signoff's background work, on River
// (github.com/riverqueue/river with its pgx v5 driver): a job queue kept
// in PostgreSQL, with retries and back-off, unique jobs, scheduled jobs,
// and periodic jobs that the elected leader among all running servers
// enqueues once.
//
// # Enqueuing work (domain code)
//
// A job is a JSON-encodable args struct with a Kind method. Insert it in
// the transaction of the change that causes it, so that a rolled-back
// change enqueues nothing and a committed one is never forgotten:
//
//	err := db.InTx(ctx, func(tx pgx.Tx) error {
//		// ... the change ...
//		return jobs.InsertTx(ctx, tx, mail.SendArgs{OutboxID: id}, nil)
//	})
//
// InsertTx needs no running client: any package may call it.
//
// # Registering workers and periodic jobs
//
// Every worker and every periodic job of the installation is listed in
// one place, internal/background (background.Register). To add one:
//
//	jobs.Add(reg, &cleanup.Worker{DB: d.DB})               // a worker for CleanupArgs
//	reg.Every("cleanup", time.Hour, cleanup.CleanupArgs{}) // and, if periodic, its schedule
//
// Every runs the job once per interval across all servers (the leader
// enqueues it, unique by period), and once soon after the cluster starts.
// A periodic job must still be safe to run twice (River's delivery is at
// least once): record "done for this day/hour" in the job's own
// transaction when twice would matter.
//
// The queues are QueueDefault (general work) and QueueMail (one job per
// outgoing email). Start starts a Client that works both; Stop waits for
// running jobs to finish.
//
// River's own tables (river_job, river_leader, river_queue, ...) are
// created and upgraded by database.Migrate, under the same lock as
// Signoff's migrations, on the migrating (owner) connection. A server
// that connects as a less privileged role needs SELECT, INSERT, UPDATE and
// DELETE on them, and USAGE on their sequences.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"signoff/internal/database"
)

// The queues.
const (
	QueueDefault = river.QueueDefault // reviews, reminders, clean-ups, anchors
	QueueMail    = "mail"             // one job per outgoing email
)

// Registry collects the workers and periodic jobs a Client runs.
type Registry struct {
	workers  *river.Workers
	periodic []*river.PeriodicJob
	ids      map[string]bool
}

// NewRegistry returns an empty Registry.
func NewRegistry() *Registry {
	return &Registry{workers: river.NewWorkers(), ids: map[string]bool{}}
}

// Add registers w as the worker of its args' kind. It panics when the kind
// is registered twice (a programming error).
func Add[T river.JobArgs](r *Registry, w river.Worker[T]) {
	river.AddWorker(r.workers, w)
}

// Every makes args a periodic job: enqueued every interval by the leader
// among the running servers (and once soon after a leader is elected),
// unique per interval so that a change of leader does not enqueue it
// twice in one interval. id names the schedule; it panics on a repeated
// id.
func (r *Registry) Every(id string, interval time.Duration, args river.JobArgs) {
	r.Periodic(id, river.PeriodicInterval(interval), func() (river.JobArgs, *river.InsertOpts) {
		return args, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: interval}}
	})
}

// Periodic adds a periodic job with any schedule (a river.PeriodicSchedule:
// Next(t) returns the next run after t) and constructor.
func (r *Registry) Periodic(id string, schedule river.PeriodicSchedule, construct river.PeriodicJobConstructor) {
	if r.ids[id] {
		panic("jobs: periodic job " + id + " added twice")
	}
	r.ids[id] = true
	r.periodic = append(r.periodic, river.NewPeriodicJob(schedule, construct, &river.PeriodicJobOpts{ID: id, RunOnStart: true}))
}

// Options tune a Client. The zero value is the production setting.
type Options struct {
	// Log receives River's own log lines (at warning and above unless the
	// logger's level says otherwise). nil: slog.Default().
	Log *slog.Logger
	// Workers is how many jobs of the default queue one server runs at
	// once; 0: 4.
	Workers int
	// MailWorkers is how many emails one server sends at once; 0: 2.
	MailWorkers int
	// PollOnly makes River poll for new jobs instead of listening for
	// PostgreSQL notifications (for PgBouncer in transaction mode, where
	// LISTEN does not work).
	PollOnly bool
	// PollInterval is how often a server looks for new jobs when it hears
	// no notification (0: River's default, one second).
	PollInterval time.Duration
	// JobTimeout bounds one run of a job (0: 5 minutes).
	JobTimeout time.Duration
	// RescueAfter is how long a job may stay running before it is taken to
	// belong to a server that died and is run again (0: 15 minutes; more
	// than JobTimeout).
	RescueAfter time.Duration
	// ID names this server among the cluster's (0: River picks one from
	// the host name and time).
	ID string
}

// Client runs the registered workers and periodic jobs on one server.
type Client struct {
	river *river.Client[pgx.Tx]
}

// New makes a Client on db for reg (it does not start it).
func New(db *database.DB, reg *Registry, o Options) (*Client, error) {
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	workers, mailWorkers := o.Workers, o.MailWorkers
	if workers <= 0 {
		workers = 4
	}
	if mailWorkers <= 0 {
		mailWorkers = 2
	}
	timeout := o.JobTimeout
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	rescue := o.RescueAfter
	if rescue <= 0 {
		rescue = 15 * time.Minute
	}
	if rescue <= timeout {
		return nil, errors.New("jobs: RescueAfter must be longer than JobTimeout")
	}
	cfg := &river.Config{
		ID:                   o.ID,
		Logger:               log.With("component", "jobs"),
		Workers:              reg.workers,
		PeriodicJobs:         reg.periodic,
		Queues:               map[string]river.QueueConfig{QueueDefault: {MaxWorkers: workers}, QueueMail: {MaxWorkers: mailWorkers}},
		PollOnly:             o.PollOnly,
		FetchPollInterval:    o.PollInterval,
		JobTimeout:           timeout,
		RescueStuckJobsAfter: rescue,
		// Keep finished jobs a week for `signoff jobs` and the operator's
		// view; failed ones a month.
		CompletedJobRetentionPeriod: 7 * 24 * time.Hour,
		DiscardedJobRetentionPeriod: 30 * 24 * time.Hour,
	}
	if o.PollInterval > 0 && o.PollInterval < time.Second {
		cfg.FetchCooldown = o.PollInterval / 2
	}
	c, err := river.NewClient(riverpgxv5.New(db.Pool), cfg)
	if err != nil {
		return nil, fmt.Errorf("jobs: client: %w", err)
	}
	return &Client{river: c}, nil
}

// Start starts working jobs; it returns at once.
func (c *Client) Start(ctx context.Context) error {
	if err := c.river.Start(ctx); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	return nil
}

// Stop stops fetching new jobs and waits for running ones to finish, or
// for ctx to end (then running jobs are cancelled and will be rescued).
func (c *Client) Stop(ctx context.Context) error {
	err := c.river.Stop(ctx)
	if err != nil && ctx.Err() != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = c.river.StopAndCancel(sctx)
	}
	return err
}

// River is the underlying River client (for the operator's UI and tests).
func (c *Client) River() *river.Client[pgx.Tx] { return c.river }

// inserter is an insert-only River client: it has no pool and starts
// nothing, and InsertTx works on the caller's transaction.
var inserter = sync.OnceValues(func() (*river.Client[pgx.Tx], error) {
	return river.NewClient(riverpgxv5.New(nil), &river.Config{})
})

// InsertTx enqueues args inside tx: the job exists when tx commits and
// not if it rolls back. opts may be nil. A unique job that is already
// queued is not enqueued again (and that is not an error).
func InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	_, err := InsertTxResult(ctx, tx, args, opts)
	return err
}

// InsertTxResult is InsertTx returning River's result (the job row, and
// whether a unique job already existed).
func InsertTxResult(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	c, err := inserter()
	if err != nil {
		return nil, fmt.Errorf("jobs: inserter: %w", err)
	}
	res, err := c.InsertTx(ctx, tx, args, opts)
	if err != nil {
		return nil, fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	return res, nil
}
