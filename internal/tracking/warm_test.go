package tracking_test

import (
	"context"
	"testing"

	"signoff/internal/database/dbtest"
	"signoff/internal/tracking"
)

// TestWarmReadsPrepareTheExport: a connection opened after
// DB.WarmWith(Store.WarmReads) has a form's export's statements (its
// title and its outstanding list) prepared with their generic plans, and
// an export on it is the same as on any other.
func TestWarmReadsPrepareTheExport(t *testing.T) {
	db := dbtest.New(t)
	ctx := context.Background()
	st := tracking.NewStore(db)
	db.WarmWith(st.WarmReads)
	db.Pool.Reset()
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_prepared_statements
		WHERE generic_plans = 1 AND (statement LIKE 'SELECT f.title FROM forms f%' OR statement LIKE 'WITH lf AS%')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	conn.Release()
	if n != 2 {
		t.Fatalf("%d of the export's two statements prepared with a generic plan on a new connection", n)
	}
}
