package database

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"signoff/migrations"
)

// migrationLock is the advisory lock key held while migrating, so that two
// servers starting together do not race.
const migrationLock = 0x5167_6e6f_6666 // "Sgnoff"

// Migration is one numbered SQL file.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations lists the embedded migrations in order.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrations.Files, ".")
	if err != nil {
		return nil, fmt.Errorf("database: read migrations: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("database: migration %q is not named NNNN_name.sql", name)
		}
		body, err := fs.ReadFile(migrations.Files, name)
		if err != nil {
			return nil, fmt.Errorf("database: read migration %s: %w", name, err)
		}
		out = append(out, Migration{Version: v, Name: name, SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("database: two migrations numbered %d", out[i].Version)
		}
	}
	return out, nil
}

// Migrate applies every migration not yet applied, each in its own
// transaction, while holding a session advisory lock: first River's own
// (the job queue's tables, see internal/jobs), then Signoff's. applied
// counts Signoff's.
func (db *DB) Migrate(ctx context.Context) (applied int, err error) {
	all, err := Migrations()
	if err != nil {
		return 0, err
	}
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("database: migrate: acquire: %w", err)
	}
	defer conn.Release()
	// Migrations (and waiting for another migrator) may take longer than
	// the statement timeout that bounds ordinary work.
	if _, err := conn.Exec(ctx, `SET statement_timeout = 0`); err != nil {
		return 0, fmt.Errorf("database: migrate: %w", err)
	}
	defer func() { _, _ = conn.Exec(context.WithoutCancel(ctx), `RESET statement_timeout`) }()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrationLock)); err != nil {
		return 0, fmt.Errorf("database: migrate: lock: %w", err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrationLock))
	}()
	if n, err := migrateRiver(ctx, db, conn.Conn()); err != nil {
		return 0, err
	} else if n > 0 {
		slog.Info("River migrations applied", "count", n)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return 0, fmt.Errorf("database: migrate: create schema_migrations: %w", err)
	}
	done := map[int]bool{}
	rows, err := conn.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return 0, fmt.Errorf("database: migrate: read applied: %w", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return 0, fmt.Errorf("database: migrate: read applied: %w", err)
	}
	for _, v := range versions {
		done[v] = true
	}
	for _, m := range all {
		if done[m.Version] {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("database: migrate %s: %w", m.Name, err)
		}
		slog.Debug("migration applied", "name", m.Name)
		applied++
	}
	return applied, nil
}

// migrateRiver applies River's migrations (its river_job, river_leader,
// river_queue, ... tables) on conn, each in its own transaction (one of
// them adds an enum value that a later statement uses).
func migrateRiver(ctx context.Context, db *DB, conn *pgx.Conn) (int, error) {
	m, err := rivermigrate.New(riverpgxv5.New(db.Pool), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return 0, fmt.Errorf("database: river migrations: %w", err)
	}
	n := 0
	for {
		var step int
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			res, err := m.MigrateTx(ctx, tx, rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{MaxSteps: 1})
			if err != nil {
				return err
			}
			step = len(res.Versions)
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("database: river migrations: %w", err)
		}
		if step == 0 {
			return n, nil
		}
		n += step
	}
}

// RiverVersion is the newest River schema version this build applies (the
// test harness names its template database after it).
func RiverVersion() int {
	m, err := rivermigrate.New(riverpgxv5.New(nil), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return 0
	}
	all := m.AllVersions()
	if len(all) == 0 {
		return 0
	}
	return all[len(all)-1].Version
}
