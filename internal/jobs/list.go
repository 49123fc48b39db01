package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/database"
)

// Job states, as River names them, grouped as an operator reads them.
var (
	// StatesQueued are jobs waiting to run: due now, later, or after a
	// failure.
	StatesQueued = []string{"available", "scheduled", "retryable", "pending"}
	// StatesRunning are jobs a server is working on.
	StatesRunning = []string{"running"}
	// StatesFailed are jobs River gave up on (discarded after their last
	// attempt) or that were cancelled.
	StatesFailed = []string{"discarded", "cancelled"}
)

// Row is one job as `signoff jobs` shows it.
type Row struct {
	ID          int64
	Kind        string
	Queue       string
	State       string
	Attempt     int
	MaxAttempts int
	ScheduledAt time.Time
	AttemptedAt *time.Time
	LastError   string // the last attempt's error, if it failed
	Args        string // the job's arguments, as JSON
}

// List returns up to limit jobs in the given states, newest first.
func List(ctx context.Context, db *database.DB, states []string, limit int) ([]Row, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id, kind, queue, state::text, attempt, max_attempts, scheduled_at, attempted_at,
			coalesce(errors[array_length(errors, 1)]->>'error', ''), args::text
		FROM river_job WHERE state::text = ANY($1) ORDER BY id DESC LIMIT $2`, states, limit)
	if err != nil {
		return nil, fmt.Errorf("jobs: list: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Row, error) {
		var j Row
		err := r.Scan(&j.ID, &j.Kind, &j.Queue, &j.State, &j.Attempt, &j.MaxAttempts, &j.ScheduledAt, &j.AttemptedAt, &j.LastError, &j.Args)
		return j, err
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: list: %w", err)
	}
	return out, nil
}

// Count is how many jobs of a kind are in a state.
type Count struct {
	Kind  string
	State string
	N     int64
}

// Counts returns how many jobs there are of each kind in each state (for
// `signoff jobs` and the metrics).
func Counts(ctx context.Context, db *database.DB) ([]Count, error) {
	rows, err := db.Pool.Query(ctx, `SELECT kind, state::text, count(*) FROM river_job GROUP BY kind, state ORDER BY kind, state`)
	if err != nil {
		return nil, fmt.Errorf("jobs: count: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Count, error) {
		var c Count
		err := r.Scan(&c.Kind, &c.State, &c.N)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: count: %w", err)
	}
	return out, nil
}
