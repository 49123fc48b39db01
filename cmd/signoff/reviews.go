package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"signoff/internal/database"
	"signoff/internal/policies"
)

// reviewsCommand is `signoff reviews [--at YYYY-MM-DD]`: it prints each
// policy due for review soon or overdue on that day (today in London by
// default), one line each: school, title, next review date, status.
func reviewsCommand(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("reviews", flag.ContinueOnError)
	fs.SetOutput(stderr)
	at := fs.String("at", "", "the day to look at, as YYYY-MM-DD (default today)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: signoff reviews [--at YYYY-MM-DD]")
		return 2
	}
	var day time.Time
	if *at != "" {
		d, err := time.Parse(time.DateOnly, *at)
		if err != nil {
			fmt.Fprintln(stderr, "signoff reviews: --at must be a date like 2026-09-01")
			return 2
		}
		day = d
	}
	return withDatabase(ctx, cfg, log, func(db *database.DB) error {
		if _, err := db.Migrate(ctx); err != nil {
			return err
		}
		if day.IsZero() {
			day = policies.Today(db.Now())
		}
		due, err := policies.DueForReview(ctx, db.Pool, day, 0)
		if err != nil {
			return err
		}
		for _, d := range due {
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", d.School, d.Title, d.NextReviewOn.Format(time.DateOnly), d.Status.Label())
		}
		return nil
	})
}
