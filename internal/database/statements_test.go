package database_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"signoff/internal/database"
	"signoff/internal/database/dbtest"
)

// The pool keeps pgx's statement cache: a statement run again on a
// connection is prepared once and reused (PostgreSQL lists it), not
// parsed and planned from its text each time. A URL may still choose
// another mode (default_query_exec_mode=exec, for an old PgBouncer).
func TestPoolCachesPreparedStatements(t *testing.T) {
	url := dbtest.AppURL(t, dbtest.NewURL(t))
	ctx := context.Background()
	db, err := database.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if mode := db.Pool.Config().ConnConfig.DefaultQueryExecMode; mode != pgx.QueryExecModeCacheStatement {
		t.Fatalf("query mode %v, want the statement cache", mode)
	}
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	const q = `SELECT count(*) FROM schools WHERE id > $1`
	for range 3 {
		var n int
		if err := conn.QueryRow(ctx, q, 0).Scan(&n); err != nil {
			t.Fatal(err)
		}
	}
	var prepared int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_prepared_statements WHERE statement = $1`, q).Scan(&prepared); err != nil {
		t.Fatal(err)
	}
	if prepared != 1 {
		t.Fatalf("%d prepared statements for the query run three times, want 1", prepared)
	}

	exec, err := database.Open(ctx, url+"&default_query_exec_mode=exec")
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Close()
	if mode := exec.Pool.Config().ConnConfig.DefaultQueryExecMode; mode != pgx.QueryExecModeExec {
		t.Fatalf("with default_query_exec_mode=exec: %v", mode)
	}
}

// Reads.GenericPlans makes the batch's statements use their generic plan
// from their first run on a connection (PostgreSQL counts it in
// pg_prepared_statements), and the setting ends with the batch: the
// connection goes back to the pool as it was.
func TestReadsGenericPlansLastOneBatch(t *testing.T) {
	ctx := context.Background()
	db := openPool(t, 1)
	const q = `SELECT count(*) FROM schools WHERE id > $1`
	var inBatch string
	var n int
	var r database.Reads
	r.GenericPlans()
	r.Row(q, []any{0}, func(row pgx.Row) error { return row.Scan(&n) })
	r.Row(`SELECT current_setting('plan_cache_mode')`, nil, func(row pgx.Row) error { return row.Scan(&inBatch) })
	if err := db.Send(ctx, &r); err != nil {
		t.Fatal(err)
	}
	var after string
	var generic, custom int64
	if err := db.Pool.QueryRow(ctx, `SELECT current_setting('plan_cache_mode'),
		(SELECT generic_plans FROM pg_prepared_statements WHERE statement = $1), (SELECT custom_plans FROM pg_prepared_statements WHERE statement = $1)`,
		q).Scan(&after, &generic, &custom); err != nil {
		t.Fatal(err)
	}
	if inBatch != "force_generic_plan" || after != "auto" || generic != 1 || custom != 0 {
		t.Fatalf("plan_cache_mode %q in the batch, %q after; the statement's plans: %d generic, %d custom; want force_generic_plan, auto, 1 generic, 0 custom",
			inBatch, after, generic, custom)
	}
}

// DB.WarmWith: every connection opened after it has run the reads once
// before it serves anything (their statements prepared, with their
// generic plan when the reads ask for it), and a warm-up that fails
// leaves a connection that works.
func TestWarmWithRunsOnEachNewConnection(t *testing.T) {
	ctx := context.Background()
	db := openPool(t, 2)
	var err error
	const q = `SELECT count(*) FROM schools WHERE id = $1`
	var fail atomic.Bool
	db.WarmWith(func(r *database.Reads) {
		if fail.Load() {
			r.Row(`SELECT 1/0`, nil, func(row pgx.Row) error { return row.Scan(new(int)) })
		}
		r.GenericPlans()
		r.Row(q, []any{0}, func(row pgx.Row) error { return row.Scan(new(int)) })
	})
	db.Pool.Reset() // the connection Open pinged with was opened before
	conns := make([]*pgxpool.Conn, 2)
	for i := range conns {
		if conns[i], err = db.Pool.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range conns {
		var generic int64
		if err := c.QueryRow(ctx, `SELECT coalesce((SELECT generic_plans FROM pg_prepared_statements WHERE statement = $1), -1)`, q).Scan(&generic); err != nil {
			t.Fatal(err)
		}
		if generic != 1 {
			t.Errorf("connection %d: the warm-up's statement has %d generic plans (-1: not prepared), want 1", i, generic)
		}
		c.Release()
	}
	fail.Store(true)
	db.Pool.Reset()
	var n int
	if err := db.Pool.QueryRow(ctx, q, 1).Scan(&n); err != nil || n != 0 {
		t.Fatalf("after a warm-up that failed: %d, %v", n, err)
	}
}

// openPool opens a fresh database as the application with a pool of at
// most conns connections, closed when the test ends.
func openPool(t *testing.T, conns int) *database.DB {
	t.Helper()
	db, err := database.Open(context.Background(), dbtest.AppURL(t, dbtest.NewURL(t))+"&pool_max_conns="+strconv.Itoa(conns))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}
