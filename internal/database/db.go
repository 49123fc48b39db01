// Package database owns the connection pool, the schema migrations, the
// transaction helper and the private PostgreSQL cluster that Signoff runs
// when no DATABASE_URL is given.
package database

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Querier runs statements: the pool, or a transaction. Code that reads
// the same way in and out of a transaction takes one.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// DB is the database handle that every store shares: the pool and the
// clock. Now is injectable so tests can move time.
type DB struct {
	Pool *pgxpool.Pool
	Now  func() time.Time
	// warm holds WarmWith's reads; a pointer, so that a copy of the DB
	// (another clock on the same pool) shares them. Nil unless Open made
	// the pool.
	warm *atomic.Pointer[func(*Reads)]
}

// DefaultMaxConns is the pool size when url does not set pool_max_conns:
// the web requests share it with the job queue (River holds one
// connection to listen for new jobs, and each running job uses one).
const DefaultMaxConns = 20

// Open connects to url, checks the connection and returns a DB whose clock
// is the wall clock in UTC. The pool holds at most DefaultMaxConns
// connections unless url says otherwise (?pool_max_conns=N).
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database: parse url: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	cfg.ConnConfig.RuntimeParams["application_name"] = "signoff"
	// No statement runs for ever, and no transaction is left open: work
	// whose request has gone is also cancelled through its context.
	for k, v := range map[string]string{"statement_timeout": "60s", "idle_in_transaction_session_timeout": "5min"} {
		if _, set := cfg.ConnConfig.RuntimeParams[k]; !set {
			cfg.ConnConfig.RuntimeParams[k] = v
		}
	}
	// pgx's statement cache (QueryExecModeCacheStatement, the default) is
	// kept: each statement is prepared once per connection and reused, not
	// parsed and planned from its text on every request. A URL may choose
	// another mode (default_query_exec_mode=exec, for a PgBouncer before
	// 1.21: docs/scaling.md).
	db := &DB{Now: func() time.Time { return time.Now().UTC() }, warm: new(atomic.Pointer[func(*Reads)])}
	cfg.AfterConnect = db.warmConn
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database: open pool: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database: connect: %w", err)
	}
	db.Pool = pool
	return db, nil
}

// WarmWith sets the reads that each connection the pool opens from now
// on runs once, before it serves anything (pgxpool's AfterConnect). A
// PostgreSQL backend's first run of a statement costs several times its
// later ones: it loads the catalogue entries of every table and index
// the statement touches, and plans it; pgx prepares it. A page built
// afresh on a connection that has never run its reads pays all of that
// (issue 15: a form's export, about 1 ms on a warm connection and 5 to
// 10 ms more on a fresh one; fifty first looks at once on fifty fresh
// connections took its p99 at concurrency 50 to 244 ms). queue queues
// the reads (with values that find nothing) into r. Their results are
// not looked at, but their scans must not fail (pgx forgets the
// statements a failed batch prepared); a warm-up that fails leaves the
// connection as it was. A DB whose pool Open did not make warms nothing.
func (db *DB) WarmWith(queue func(r *Reads)) {
	if db.warm != nil {
		db.warm.Store(&queue)
	}
}

// warmConn runs WarmWith's reads on a new connection.
func (db *DB) warmConn(ctx context.Context, c *pgx.Conn) error {
	if q := db.warm.Load(); q != nil { // db is Open's: warm is set
		var r Reads
		(*q)(&r)
		if r.b.Len() > 0 {
			_ = c.SendBatch(ctx, &r.b).Close()
		}
	}
	return nil
}

// Close closes the pool.
func (db *DB) Close() { db.Pool.Close() }

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.Pool.Ping(ctx); err != nil {
		return fmt.Errorf("database: ping: %w", err)
	}
	return nil
}

// InTx runs fn in one transaction: committed when fn returns nil, rolled
// back otherwise. Every state change in Signoff goes through here.
func (db *DB) InTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := db.Pool.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return fmt.Errorf("database: begin: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("database: commit: %w", err)
	}
	return nil
}

// InTxBatch is InTx for a transaction that starts by reading and ends by
// writing, in as few round trips as the work allows: BEGIN travels with
// the reads first queues (pgx's Batch.BeginTx), whose scans run before fn
// runs in the same transaction; the statements fn queues in last travel
// with the COMMIT, in one round trip (their results are read, in order,
// once it is back). So a transaction's row locks taken by its last
// statements are held only while PostgreSQL runs them and commits, not
// while the client reads their results and sends the COMMIT. If one of
// last's statements fails, PostgreSQL skips the rest of the round trip,
// the COMMIT included, and the transaction is rolled back. Committed when
// first's statements, fn and last's statements succeed, rolled back
// otherwise; the connection goes back to the pool either way. But last's
// callbacks run only once the COMMIT is back: an error one of them returns
// is InTxBatch's error, yet cannot undo a commit of statements that
// succeeded. A check that must roll the transaction back belongs in fn (on
// tx) or in SQL (a statement that fails), not in a callback of last.
func (db *DB) InTxBatch(ctx context.Context, first func(r *Reads), fn func(tx pgx.Tx, last *pgx.Batch) error) error {
	c, err := db.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("database: acquire: %w", err)
	}
	defer c.Release()
	var r Reads
	r.b.BeginTx(pgx.TxOptions{})
	first(&r)
	br := c.SendBatch(ctx, &r.b)
	tx := br.Tx()
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err := br.Close(); err != nil {
		return err
	}
	var last pgx.Batch
	if err := fn(tx, &last); err != nil {
		return err
	}
	last.Queue("COMMIT").Exec(func(ct pgconn.CommandTag) error {
		if ct.String() != "COMMIT" {
			return pgx.ErrTxCommitRollback
		}
		return nil
	})
	if err := tx.SendBatch(ctx, &last).Close(); err != nil {
		return err
	}
	// Committed: the connection is outside a transaction again, so
	// Release returns it to the pool (tx, which never saw its COMMIT, is
	// not used again).
	committed = true
	return nil
}

// IsUniqueViolation reports whether err is PostgreSQL's unique_violation,
// optionally on the named constraint or index.
func IsUniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		return false
	}
	return constraint == "" || pgErr.ConstraintName == constraint
}

// NullID is id as a nullable column value: nil for 0 (no account, no
// person), so that an optional foreign key is stored as NULL.
func NullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// LikeEscape makes s match itself literally inside a LIKE pattern (the
// default escape character is the backslash).
func LikeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
