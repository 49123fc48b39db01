package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"signoff/internal/backup"
	"signoff/internal/database"
)

// backupPlace finds the database (DATABASE_URL, or the private cluster,
// started for the command when it is not running) and the PostgreSQL
// binaries for pg_dump and pg_restore. done stops a cluster it started.
func backupPlace(ctx context.Context, cfg config, log *slog.Logger) (backup.Place, func(), error) {
	p := backup.Place{DataDir: cfg.DataDir, Skip: []string{"postgres"}}
	bin, err := database.FindServerBinaries()
	if err != nil {
		return p, nil, err
	}
	p.BinDir = bin
	if cfg.DatabaseURL != "" {
		// As the tables' owner when there is one to use: a restore creates them.
		p.URL = cfg.DatabaseURL
		if cfg.MigrateURL != "" {
			p.URL = cfg.MigrateURL
		}
		return p, func() {}, nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return p, nil, fmt.Errorf("data folder: %w", err)
	}
	cluster, err := database.NewCluster(filepath.Join(cfg.DataDir, "postgres"), log)
	if err != nil {
		return p, nil, err
	}
	started, err := cluster.Start(ctx)
	if err != nil {
		return p, nil, err
	}
	done := func() {
		if started {
			if err := cluster.Stop(context.Background()); err != nil {
				log.Error("stopping PostgreSQL", "err", err)
			}
		}
	}
	if err := cluster.EnsureDatabase(ctx, "signoff"); err != nil {
		done()
		return p, nil, err
	}
	p.BinDir = cluster.BinDir
	p.URL = cluster.URL("signoff") // the cluster's superuser, which owns the tables

	return p, done, nil
}

// backupCommand is `signoff backup FILE`.
func backupCommand(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 || args[0] == "" || args[0][0] == '-' {
		fmt.Fprintln(stderr, "usage: signoff backup FILE   (one archive of the database and the data folder's files)")
		return 2
	}
	p, done, err := backupPlace(ctx, cfg, log)
	if err != nil {
		log.Error("backup", "err", err)
		return 1
	}
	defer done()
	m, err := backup.Write(ctx, p, args[0], backup.Options{Version: version})
	if err != nil {
		fmt.Fprintln(stderr, "signoff backup:", err)
		return 1
	}
	fmt.Fprintf(stdout, "backed up the database (%d bytes) and %d file(s) from %s to %s\n", m.Database.Size, len(m.Files), cfg.DataDir, args[0])
	return 0
}

// restoreCommand is `signoff restore FILE`.
func restoreCommand(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 || args[0] == "" || args[0][0] == '-' {
		fmt.Fprintln(stderr, "usage: signoff restore FILE   (into an empty data folder and an empty database)")
		return 2
	}
	// Check the archive before starting anything (a cluster is created for
	// an empty data folder).
	if _, err := backup.Read(args[0]); err != nil {
		fmt.Fprintln(stderr, "signoff restore:", err)
		return 1
	}
	p, done, err := backupPlace(ctx, cfg, log)
	if err != nil {
		log.Error("restore", "err", err)
		return 1
	}
	defer done()
	m, err := backup.Restore(ctx, p, args[0])
	if err != nil {
		fmt.Fprintln(stderr, "signoff restore:", err)
		return 1
	}
	fmt.Fprintf(stdout, "restored the backup of %s (Signoff %s): the database and %d file(s) into %s\n",
		m.Created.Format("2006-01-02 15:04 MST"), m.SignoffVersion, len(m.Files), cfg.DataDir)
	fmt.Fprintln(stdout, "Start Signoff as usual (signoff serve); it applies any newer migrations at start-up.")
	return 0
}
