package database_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"signoff/internal/database"
	"signoff/internal/database/dbtest"
)

// InTxBatch: first's statements, fn and the statements fn queues in last
// run in one transaction (BEGIN sent with first's, COMMIT with last's),
// committed when all succeed; when fn, one of first's or one of last's
// statements fails nothing is kept (not even last's statements before the
// one that failed) and fn does not run after a failed first; an error of
// one of last's callbacks, which run after the COMMIT, leaves it
// committed; the connection goes back to the pool every time.
func TestInTxBatch(t *testing.T) {
	_, db := dbtest.NewWithOwner(t)
	ctx := context.Background()
	if _, err := db.Pool.Exec(ctx, `CREATE TABLE batch_test (n int)`); err != nil {
		t.Fatal(err)
	}
	count := func() (n int) {
		t.Helper()
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM batch_test`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	var firstTx, fnTx, lastTx int64
	err := db.InTxBatch(ctx, func(r *database.Reads) {
		r.Exec(`INSERT INTO batch_test VALUES (1)`)
		r.Row(`SELECT txid_current()`, nil, func(r pgx.Row) error { return r.Scan(&firstTx) })
	}, func(tx pgx.Tx, last *pgx.Batch) error {
		if err := tx.QueryRow(ctx, `SELECT txid_current()`).Scan(&fnTx); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO batch_test VALUES (2)`)
		last.Queue(`INSERT INTO batch_test VALUES (5)`)
		last.Queue(`SELECT txid_current()`).QueryRow(func(r pgx.Row) error { return r.Scan(&lastTx) })
		return err
	})
	if err != nil || firstTx == 0 || firstTx != fnTx || firstTx != lastTx || count() != 3 {
		t.Fatalf("committed: err %v, transactions %d, %d and %d, %d rows; want one transaction, 3 rows", err, firstTx, fnTx, lastTx, count())
	}

	err = db.InTxBatch(ctx, func(r *database.Reads) { r.Exec(`INSERT INTO batch_test VALUES (6)`) },
		func(tx pgx.Tx, last *pgx.Batch) error {
			last.Queue(`INSERT INTO batch_test VALUES (7)`)
			last.Queue(`SELECT 1 / 0`)
			return nil
		})
	if err == nil || count() != 3 {
		t.Fatalf("last failing: err %v, %d rows; want an error and 3 rows", err, count())
	}

	refused := errors.New("refused")
	err = db.InTxBatch(ctx, func(r *database.Reads) { r.Exec(`INSERT INTO batch_test VALUES (3)`) },
		func(tx pgx.Tx, _ *pgx.Batch) error { return refused })
	if !errors.Is(err, refused) || count() != 3 {
		t.Fatalf("fn failing: err %v, %d rows; want its error and 3 rows", err, count())
	}

	ran := false
	err = db.InTxBatch(ctx, func(r *database.Reads) {
		r.Exec(`INSERT INTO batch_test VALUES (4)`)
		r.Exec(`SELECT 1 / 0`)
	}, func(tx pgx.Tx, _ *pgx.Batch) error { ran = true; return nil })
	if err == nil || ran || count() != 3 {
		t.Fatalf("first failing: err %v, fn ran %v, %d rows; want an error, fn not run, 3 rows", err, ran, count())
	}
	// A callback of last runs once the COMMIT is back: its error is
	// InTxBatch's, but the statements that succeeded are committed.
	late := errors.New("late")
	err = db.InTxBatch(ctx, func(r *database.Reads) {}, func(tx pgx.Tx, last *pgx.Batch) error {
		last.Queue(`INSERT INTO batch_test VALUES (8)`).Exec(func(pgconn.CommandTag) error { return late })
		return nil
	})
	if !errors.Is(err, late) || count() != 4 {
		t.Fatalf("last's callback failing: err %v, %d rows; want its error and 4 rows (committed)", err, count())
	}
	if n := db.Pool.Stat().AcquiredConns(); n != 0 {
		t.Fatalf("%d connections still acquired", n)
	}
}
