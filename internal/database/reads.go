package database

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Reads are independent reads sent to PostgreSQL in one round trip (a
// pgx batch: one implicit transaction, though under READ COMMITTED each
// statement still reads its own snapshot, so they need not agree). A
// page that needs several things which depend only on the request queues
// one read for each, then sends them together, instead of waiting for
// each in turn. Each read's scan runs in the order queued, so a later
// scan may look at what an earlier one filled in.
type Reads struct{ b pgx.Batch }

// Row queues a statement that returns one row, read by scan (which gets
// pgx.ErrNoRows to turn into its own error when there is none).
func (r *Reads) Row(sql string, args []any, scan func(pgx.Row) error) {
	r.b.Queue(sql, args...).QueryRow(scan)
}

// Rows queues a statement whose rows are read by each (it must read them
// all, e.g. with pgx.CollectRows).
func (r *Reads) Rows(sql string, args []any, each func(pgx.Rows) error) {
	r.b.Queue(sql, args...).Query(each)
}

// Exec queues a statement whose result is not read (a SET LOCAL before the
// reads of InTxBatch).
func (r *Reads) Exec(sql string, args ...any) {
	r.b.Queue(sql, args...)
}

// GenericPlans queues, first, a setting that lasts until the batch's
// implicit transaction ends: its statements use their generic plan from
// the first run on each connection. PostgreSQL otherwise plans a prepared
// statement afresh for its first five runs on each connection, and for a
// page whose reads are all index lookups by school and person, planning
// costs ten times the reads (issue 15: a third of the family page's
// database time on a pool of fresh connections). Only for reads whose
// plan does not depend on the values, and queue it before them.
func (r *Reads) GenericPlans() {
	r.b.Queue(`SELECT set_config('plan_cache_mode', 'force_generic_plan', true)`)
}

// Send runs the queued reads and returns the first error (a scan's own
// error as it returned it).
func (db *DB) Send(ctx context.Context, r *Reads) error {
	if r.b.Len() == 0 {
		return nil
	}
	if err := db.Pool.SendBatch(ctx, &r.b).Close(); err != nil {
		return fmt.Errorf("database: reads: %w", err)
	}
	return nil
}

// One is a read of one row by scan, for Reads.Row or a QueryRow: no row
// is notFound (a domain error), any other error is wrapped with what.
func One(scan func(pgx.Row) error, notFound error, what string) func(pgx.Row) error {
	return func(row pgx.Row) error {
		err := scan(row)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound
		}
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
}
