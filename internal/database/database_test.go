package database_test

import (
	"context"
	"testing"

	"signoff/internal/database"
	"signoff/internal/database/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestMigrateFromEmptyIsIdempotent(t *testing.T) {
	url := dbtest.NewURL(t)
	ctx := context.Background()
	db, err := database.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The cloned template is migrated already: migrating again applies nothing.
	n, err := db.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("second migrate applied %d migrations, want 0", n)
	}
	// From empty: drop everything and migrate up again.
	if _, err := db.Pool.Exec(ctx, `DROP SCHEMA public CASCADE; CREATE SCHEMA public;`); err != nil {
		t.Fatal(err)
	}
	migs, _ := database.Migrations()
	n, err = db.Migrate(ctx)
	if err != nil {
		t.Fatalf("migrate from empty: %v", err)
	}
	if n != len(migs) {
		t.Fatalf("applied %d, want %d", n, len(migs))
	}
	var tables int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'
		AND tablename IN ('schools','people','accounts','policies','policy_versions','forms','signatures','audit_log','river_job')`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 9 {
		t.Fatalf("found %d of the 9 core tables (River's river_job among them)", tables)
	}
}

func TestConcurrentMigrateDoesNotRace(t *testing.T) {
	url := dbtest.NewURL(t)
	ctx := context.Background()
	db, err := database.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Pool.Exec(ctx, `DROP SCHEMA public CASCADE; CREATE SCHEMA public;`); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	total := make(chan int, 4)
	for range 4 {
		go func() {
			other, err := database.Open(ctx, url)
			if err != nil {
				errs <- err
				total <- 0
				return
			}
			defer other.Close()
			n, err := other.Migrate(ctx)
			errs <- err
			total <- n
		}()
	}
	sum := 0
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent migrate: %v", err)
		}
		sum += <-total
	}
	migs, _ := database.Migrations()
	if sum != len(migs) {
		t.Fatalf("the four migrators applied %d migrations in all, want %d (each once)", sum, len(migs))
	}
}
