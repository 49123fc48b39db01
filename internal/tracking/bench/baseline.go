package main

import (
	"context"

	"signoff/web/static"
)

// The baselines every other step is compared with, in the same run.
const (
	staticName = "Static file (app.css)"
	insertName = "Bare single-row INSERT through pgx"
)

func init() {
	register(step{order: 0, name: staticName, run: func(ctx context.Context, b *bench) error {
		b.measure(staticName, 20000, func(int) error { return get(b.anon, b.base+static.Path("app.css")) })
		return nil
	}})
	register(step{order: 1, name: insertName, run: func(ctx context.Context, b *bench) error {
		if _, err := b.db.Pool.Exec(ctx, `CREATE TABLE bench_insert (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text NOT NULL, at timestamptz NOT NULL)`); err != nil {
			return err
		}
		b.measure(insertName, 10000, func(int) error {
			_, err := b.db.Pool.Exec(ctx, `INSERT INTO bench_insert (v, at) VALUES ($1, now())`, "x")
			return err
		})
		return nil
	}})
}
