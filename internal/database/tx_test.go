package database_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"signoff/internal/database"
	"signoff/internal/database/dbtest"
)

// InTxBatch: first's statements and fn run in one transaction (BEGIN sent
// with first's), committed when both succeed; when fn or one of first's
// statements fails nothing is kept and fn does not run after a failed
// first; the connection goes back to the pool every time.
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

	var firstTx, fnTx int64
	err := db.InTxBatch(ctx, func(r *database.Reads) {
		r.Exec(`INSERT INTO batch_test VALUES (1)`)
		r.Row(`SELECT txid_current()`, nil, func(r pgx.Row) error { return r.Scan(&firstTx) })
	}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT txid_current()`).Scan(&fnTx); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO batch_test VALUES (2)`)
		return err
	})
	if err != nil || firstTx == 0 || firstTx != fnTx || count() != 2 {
		t.Fatalf("committed: err %v, transactions %d and %d, %d rows; want one transaction, 2 rows", err, firstTx, fnTx, count())
	}

	refused := errors.New("refused")
	err = db.InTxBatch(ctx, func(r *database.Reads) { r.Exec(`INSERT INTO batch_test VALUES (3)`) },
		func(tx pgx.Tx) error { return refused })
	if !errors.Is(err, refused) || count() != 2 {
		t.Fatalf("fn failing: err %v, %d rows; want its error and 2 rows", err, count())
	}

	ran := false
	err = db.InTxBatch(ctx, func(r *database.Reads) {
		r.Exec(`INSERT INTO batch_test VALUES (4)`)
		r.Exec(`SELECT 1 / 0`)
	}, func(tx pgx.Tx) error { ran = true; return nil })
	if err == nil || ran || count() != 2 {
		t.Fatalf("first failing: err %v, fn ran %v, %d rows; want an error, fn not run, 2 rows", err, ran, count())
	}
	if n := db.Pool.Stat().AcquiredConns(); n != 0 {
		t.Fatalf("%d connections still acquired", n)
	}
}
