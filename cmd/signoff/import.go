package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/database"
	"signoff/internal/mis"
	"signoff/internal/schools"
)

// importCommand is `signoff import [--dry-run] [--school SLUG] FILE...`:
// it reads MIS exports (staff, pupils, contacts; the kind of each is
// recognised from its headers) and applies them to the school, or with
// --dry-run only says what would change. When any row is bad it prints
// each as FILE:LINE: reason, imports nothing and exits 1.
func importCommand(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dryRun := fs.Bool("dry-run", false, "only show what would change")
	slug := fs.String("school", "", "the school's short name (needed when there is more than one school)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: signoff import [--dry-run] [--school SLUG] FILE...")
		fs.PrintDefaults()
	}
	// Flags may come before or after the files.
	var names []string
	for {
		if err := fs.Parse(args); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		names = append(names, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(names) == 0 {
		fs.Usage()
		return 2
	}
	files := make([]mis.File, 0, len(names))
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			fmt.Fprintln(stderr, "signoff import:", err)
			return 1
		}
		files = append(files, mis.File{Name: n, Data: data})
	}

	code := 0
	rc := withDatabase(ctx, cfg, log, func(db *database.DB) error {
		if _, err := db.Migrate(ctx); err != nil {
			return err
		}
		school, err := pickSchool(ctx, db, *slug)
		if err != nil {
			return err
		}
		store := mis.NewStore(db)
		var rep mis.Report
		if *dryRun {
			rep, err = store.Preview(ctx, school.ID, files)
		} else {
			rep, err = store.Apply(ctx, school.ID, audit.System("signoff import"), files)
		}
		if err != nil && apperr.CodeOf(err) != apperr.Invalid {
			return err
		}
		for _, f := range rep.Files {
			for _, h := range f.UnknownHeaders {
				fmt.Fprintf(stderr, "%s: the column %q was not recognised and is ignored\n", f.Name, h)
			}
		}
		for _, w := range rep.Warnings() {
			fmt.Fprintf(stderr, "warning: %s\n", w.Message)
		}
		if bad := rep.BadRows(); len(bad) > 0 {
			for _, b := range bad {
				fmt.Fprintln(stdout, b.String())
			}
			fmt.Fprintf(stderr, "signoff import: nothing was imported: %d %s to be corrected\n", len(bad), importPlural(len(bad), "row needs", "rows need"))
			code = 1
			return nil
		}
		if err != nil {
			return err
		}
		if *dryRun {
			fmt.Fprintf(stdout, "Dry run for %s: nothing has been changed.\n", school.Name)
		} else {
			fmt.Fprintf(stdout, "Imported into %s.\n", school.Name)
		}
		for _, f := range rep.Files {
			fmt.Fprintf(stdout, "%s (%s, %d rows): %s\n", f.Name, f.Kind, f.Rows, f.Counts)
		}
		fmt.Fprintln(stdout, rep.Summary())
		return nil
	})
	if rc != 0 {
		return rc
	}
	return code
}

// pickSchool returns the school with slug or, without one, the only
// school there is.
func pickSchool(ctx context.Context, db *database.DB, slug string) (schools.School, error) {
	store := schools.NewStore(db)
	if slug != "" {
		s, err := store.BySlug(ctx, slug)
		if apperr.CodeOf(err) == apperr.NotFound {
			return s, fmt.Errorf("there is no school with the short name %q", slug)
		}
		return s, err
	}
	all, err := store.List(ctx)
	if err != nil {
		return schools.School{}, err
	}
	switch len(all) {
	case 0:
		return schools.School{}, errors.New("there is no school in the database yet")
	case 1:
		return all[0], nil
	}
	slugs := make([]string, len(all))
	for i, s := range all {
		slugs[i] = s.Slug
	}
	return schools.School{}, fmt.Errorf("there are %d schools: choose one with --school (%s)", len(all), strings.Join(slugs, ", "))
}

func importPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
