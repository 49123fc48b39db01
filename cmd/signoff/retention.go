package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"signoff/internal/audit"
	"signoff/internal/database"
	"signoff/internal/retention"
	"signoff/internal/schools"
	"signoff/internal/schooltime"
)

// retentionCommand is `signoff retention [--at YYYY-MM-DD] [--apply]
// [--school SLUG]`: for each school (or the one named) it prints what a
// retention run would erase or remove on that day (today by default),
// kind by kind; with --apply (today only) it does it, reports and audits.
func retentionCommand(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("retention", flag.ContinueOnError)
	fs.SetOutput(stderr)
	at := fs.String("at", "", "the day to look at, as YYYY-MM-DD (default today)")
	apply := fs.Bool("apply", false, "erase and remove what is due (only for today)")
	slug := fs.String("school", "", "only this school (its short name)")
	usage := "usage: signoff retention [--at YYYY-MM-DD] [--apply] [--school SLUG]"
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	var day time.Time
	if *at != "" {
		d, err := time.ParseInLocation(time.DateOnly, *at, schooltime.London)
		if err != nil {
			fmt.Fprintln(stderr, "signoff retention: --at must be a date like 2032-09-01")
			return 2
		}
		day = d.Add(24*time.Hour - time.Second) // the end of that day
	}
	return withDatabase(ctx, cfg, log, func(db *database.DB) error {
		if _, err := db.Migrate(ctx); err != nil {
			return err
		}
		now := db.Now()
		when := now
		if !day.IsZero() && schooltime.Date(day) != schooltime.Date(now) {
			when = day
		}
		if *apply && when.After(now) {
			return fmt.Errorf("--apply erases only what is due by today; leave out --at (or give today) to apply")
		}
		var list []schools.School
		if *slug != "" {
			sc, err := pickSchool(ctx, db, *slug)
			if err != nil {
				return err
			}
			list = []schools.School{sc}
		} else {
			all, err := schools.NewStore(db).List(ctx)
			if err != nil {
				return err
			}
			list = all
		}
		st := retention.NewStore(db)
		for _, sc := range list {
			var counts map[retention.Kind]int
			verb := "would erase or remove"
			if *apply {
				rep, err := st.Apply(ctx, sc.ID, when, retention.FromCommand, audit.System("signoff retention"))
				if err != nil {
					return err
				}
				counts, verb = rep.Counts, "erased or removed"
			} else {
				plan, err := st.Preview(ctx, sc.ID, when)
				if err != nil {
					return err
				}
				counts = plan.Counts
			}
			total := 0
			for _, n := range counts {
				total += n
			}
			fmt.Fprintf(stdout, "%s, %s: %s %d records\n", sc.Name, schooltime.Date(when), verb, total)
			for _, rule := range retention.Rules {
				if n := counts[rule.Kind]; n > 0 {
					fmt.Fprintf(stdout, "  %s: %d\n", rule.Label, n)
				}
			}
		}
		if !*apply {
			fmt.Fprintln(stdout, "Nothing has been changed; add --apply to do it.")
		}
		return nil
	})
}
