package audit_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/audit"
	"signoff/internal/database/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestChainVerifiesAndFindsTampering(t *testing.T) {
	t.Parallel()
	db, owner := dbtest.NewWithOwner(t)
	ctx := context.Background()
	var schools [2]int64
	for i, slug := range []string{"one", "two"} {
		if err := db.Pool.QueryRow(ctx, `INSERT INTO schools (slug, name) VALUES ($1, $1) RETURNING id`, slug).Scan(&schools[i]); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 11, 30, 10, 0, 0, 123456789, time.UTC)
	for i := range 6 {
		err := db.InTx(ctx, func(tx pgx.Tx) error {
			return audit.Record(ctx, tx, audit.Entry{SchoolID: schools[i%2], At: at.Add(time.Duration(i) * time.Minute),
				Actor: audit.Actor{Name: "Zoë O'Brien", IP: "203.0.113.1"}, Action: "policy.published", Subject: "policy 1",
				Detail: map[string]string{"version": "1", "note": `quotes " and | bars`}})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	broken, checked, err := audit.Verify(ctx, db)
	if err != nil || broken != nil || checked != 6 {
		t.Fatalf("intact chain: broken=%+v checked=%d err=%v", broken, checked, err)
	}
	entries, err := audit.List(ctx, db, schools[0], 10)
	if err != nil || len(entries) != 3 {
		t.Fatalf("list: %d %v", len(entries), err)
	}

	// Tamper as the database's superuser would: lift the trigger, change one detail.
	victim := entries[1].ID
	if _, err := owner.Pool.Exec(ctx, `ALTER TABLE audit_log DISABLE TRIGGER audit_log_immutable;
		UPDATE audit_log SET detail = '{"version": "2", "note": "x"}' WHERE id = `+itoa(victim)+`;
		ALTER TABLE audit_log ENABLE TRIGGER audit_log_immutable;`); err != nil {
		t.Fatal(err)
	}
	broken, _, err = audit.Verify(ctx, db)
	if err != nil || broken == nil || broken.ID != victim {
		t.Fatalf("changed entry %d: got %+v %v", victim, broken, err)
	}
}

func TestChainFindsARemovedEntry(t *testing.T) {
	t.Parallel()
	db, owner := dbtest.NewWithOwner(t)
	ctx := context.Background()
	var school int64
	_ = db.Pool.QueryRow(ctx, `INSERT INTO schools (slug, name) VALUES ('one', 'One') RETURNING id`).Scan(&school)
	for i := range 3 {
		if err := db.InTx(ctx, func(tx pgx.Tx) error {
			return audit.Record(ctx, tx, audit.Entry{SchoolID: school, At: time.Now(), Actor: audit.System("test"),
				Action: "signature.created", Subject: "signature " + itoa(int64(i))})
		}); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := audit.List(ctx, db, school, 10)
	middle := entries[1].ID
	if _, err := owner.Pool.Exec(ctx, `ALTER TABLE audit_log DISABLE TRIGGER audit_log_immutable;
		DELETE FROM audit_log WHERE id = `+itoa(middle)+`;
		ALTER TABLE audit_log ENABLE TRIGGER audit_log_immutable;`); err != nil {
		t.Fatal(err)
	}
	broken, _, err := audit.Verify(ctx, db)
	if err != nil || broken == nil || broken.ID != entries[0].ID {
		t.Fatalf("removed entry %d: got %+v %v (want the entry after it, %d)", middle, broken, err, entries[0].ID)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
