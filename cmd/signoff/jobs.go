package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"signoff/internal/database"
	"signoff/internal/jobs"
)

// jobsCommand is `signoff jobs [--all] [--limit N]`: counts of River's jobs
// by kind and state, then the jobs queued, running and failed (newest
// first), with the last error of each failed attempt.
func jobsCommand(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("jobs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	all := fs.Bool("all", false, "list finished (completed) jobs too")
	limit := fs.Int("limit", 50, "list at most this many jobs")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || *limit < 1 || *limit > 10000 {
		fmt.Fprintln(stderr, "usage: signoff jobs [--all] [--limit N (1 to 10000)]")
		return 2
	}
	return withDatabase(ctx, cfg, log, func(db *database.DB) error {
		counts, err := jobs.Counts(ctx, db)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KIND\tSTATE\tJOBS")
		for _, c := range counts {
			fmt.Fprintf(tw, "%s\t%s\t%d\n", c.Kind, c.State, c.N)
		}
		if len(counts) == 0 {
			fmt.Fprintln(tw, "(no jobs)\t\t")
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		states := append(append(append([]string{}, jobs.StatesQueued...), jobs.StatesRunning...), jobs.StatesFailed...)
		if *all {
			states = append(states, "completed")
		}
		list, err := jobs.List(ctx, db, states, *limit)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout)
		tw = tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tKIND\tSTATE\tATTEMPT\tSCHEDULED (UTC)\tARGS\tLAST ERROR")
		for _, j := range list {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d/%d\t%s\t%s\t%s\n", j.ID, j.Kind, j.State, j.Attempt, j.MaxAttempts,
				j.ScheduledAt.UTC().Format(time.DateTime), j.Args, oneLine(j.LastError, 120))
		}
		if len(list) == 0 {
			fmt.Fprintln(tw, "(nothing queued, running or failed)")
		}
		return tw.Flush()
	})
}

// oneLine is s on one line, cut to at most n bytes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
