package tracking_test

import (
	"context"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"

	"signoff/internal/database/dbtest"
	"signoff/internal/tracking"
	"signoff/internal/tracking/benchdata"
)

// TestWarmReadsPrepareTheExport: a connection opened after
// DB.WarmWith(Store.WarmReads) has a form's export's statement (its
// outstanding list, which carries the title) prepared with its generic
// plan: a form's export on it prepares nothing more.
func TestWarmReadsPrepareTheExport(t *testing.T) {
	db := dbtest.New(t)
	ctx := context.Background()
	res, err := benchdata.Generate(ctx, db, benchdata.Config{Schools: 1, StaffPerSchool: 4, PupilsPerSch: 4, ParentsPerSch: 6, FormsPerSchool: 1,
		ParentForms: 1, SignedShare: 0.3, Password: "warm-pw", Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	st := tracking.NewStore(db)
	forms, err := st.Forms(ctx, res.SchoolIDs)
	if err != nil || len(forms) == 0 {
		t.Fatalf("forms: %d, %v", len(forms), err)
	}
	db.WarmWith(st.WarmReads)
	db.Pool.Reset()
	// prepared is the new connection's (the pool's only one) process and
	// prepared statements, but this test's own.
	prepared := func() (uint32, []string) {
		t.Helper()
		conn, err := db.Pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Release()
		rows, _ := conn.Query(ctx, `SELECT statement FROM pg_prepared_statements
			WHERE statement NOT LIKE '%pg_prepared_statements%' ORDER BY statement`)
		all, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return conn.Conn().PgConn().PID(), all
	}
	pid, warmed := prepared()
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_prepared_statements
		WHERE generic_plans = 1 AND statement LIKE 'WITH lf AS%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d export statements prepared with a generic plan on a new connection, want 1", n)
	}
	if _, _, err := st.ExportForm(ctx, forms[0].SchoolID, forms[0].FormID, false); err != nil {
		t.Fatal(err)
	}
	again, after := prepared()
	if again != pid {
		t.Fatalf("the export ran on another connection (%d, then %d)", pid, again)
	}
	if !slices.Equal(after, warmed) {
		t.Errorf("a form's export on a warmed connection prepared statements the warm-up had not:\nwarmed %q\nafter  %q", warmed, after)
	}
}
