package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/database"
	"signoff/internal/onboarding"
	"signoff/internal/schools"
)

// printErr writes a domain error as a person reads it: each field's
// message on its own line, else the message.
func printErr(w io.Writer, cmd string, err error) {
	fields := apperr.FieldsOf(err)
	if len(fields) == 0 {
		fmt.Fprintf(w, "%s: %s\n", cmd, apperr.MessageOf(err))
		return
	}
	for _, f := range fields {
		fmt.Fprintf(w, "%s: --%s: %s\n", cmd, flagOf(f.Field), f.Message)
	}
}

// flagOf names the command-line flag of a domain field.
func flagOf(field string) string {
	switch field {
	case "admin_email":
		return "admin-email"
	case "admin_name":
		return "admin-name"
	}
	return field
}

// runDomain opens the database (migrating it), runs fn and turns its
// error into an exit code: 1 for a refusal (printed plainly), 1 for a
// failure (logged).
func runDomain(ctx context.Context, cfg config, log *slog.Logger, cmd string, stderr io.Writer, fn func(*database.DB) error) int {
	db, _, closeAll, err := openDatabase(ctx, cfg, log, true, false)
	if err != nil {
		log.Error("database", "err", err)
		return 1
	}
	defer closeAll()
	if err := fn(db); err != nil {
		if apperr.CodeOf(err) != apperr.Internal {
			printErr(stderr, cmd, err)
		} else {
			log.Error("failed", "err", err)
		}
		return 1
	}
	return 0
}

// schoolCommand is `signoff school add --name NAME --admin-email EMAIL
// [--admin-name NAME] [--slug SLUG] [--trust SLUG]`.
func schoolCommand(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprintln(stderr, "usage: signoff school add --name NAME --admin-email EMAIL [--admin-name NAME] [--slug SLUG] [--trust SLUG]")
		return 2
	}
	fs := flag.NewFlagSet("school add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var n onboarding.NewSchool
	fs.StringVar(&n.Name, "name", "", "the school's name, e.g. \"Hollybrook Primary School\"")
	fs.StringVar(&n.AdminEmail, "admin-email", "", "the first administrator's email address")
	fs.StringVar(&n.AdminName, "admin-name", "", "the first administrator's name (default: from the email address)")
	fs.StringVar(&n.Slug, "slug", "", "the school's short name (default: made from the name)")
	fs.StringVar(&n.TrustSlug, "trust", "", "the short name of the trust the school belongs to")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "signoff school add: unexpected %q (put names with spaces in quotes)\n", fs.Arg(0))
		return 2
	}
	return runDomain(ctx, cfg, log, "signoff school add", stderr, func(db *database.DB) error {
		c, err := onboarding.NewStore(db).CreateSchool(ctx, n, audit.System("signoff school add"), nil)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, `Created %s (short name: %s).
Its first administrator is %s <%s>. Send them this set-up link, with which
they choose a password; it works once, for 7 days:

  %s/set-up/%s
`, c.School.Name, c.School.Slug, c.Account.DisplayName, c.Account.Email, cfg.BaseURL, url.PathEscape(c.SetUpToken))
		return nil
	})
}

// trustCommand is `signoff trust add --name NAME [--slug SLUG]` and
// `signoff trust admin --trust SLUG --email EMAIL [--name NAME]`.
func trustCommand(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout, stderr io.Writer) int {
	usage := func() int {
		fmt.Fprintln(stderr, `usage: signoff trust add --name NAME [--slug SLUG]
       signoff trust admin --trust SLUG --email EMAIL [--name NAME]`)
		return 2
	}
	if len(args) == 0 {
		return usage()
	}
	switch args[0] {
	case "add":
		fs := flag.NewFlagSet("trust add", flag.ContinueOnError)
		fs.SetOutput(stderr)
		var t schools.Trust
		fs.StringVar(&t.Name, "name", "", "the trust's name, e.g. \"Oakfield Learning Trust\"")
		fs.StringVar(&t.Slug, "slug", "", "the trust's short name (default: made from the name)")
		if err := fs.Parse(args[1:]); err != nil {
			return 2
		}
		if fs.NArg() > 0 {
			fmt.Fprintf(stderr, "signoff trust add: unexpected %q (put names with spaces in quotes)\n", fs.Arg(0))
			return 2
		}
		return runDomain(ctx, cfg, log, "signoff trust add", stderr, func(db *database.DB) error {
			if err := schools.NewStore(db).CreateTrust(ctx, &t, audit.System("signoff trust add")); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "Created the trust %s (short name: %s).\nAdd its schools with: signoff school add --trust %s --name NAME --admin-email EMAIL\nThen name its administrators with: signoff trust admin --trust %s --email EMAIL\n",
				t.Name, t.Slug, t.Slug, t.Slug)
			return nil
		})
	case "admin":
		fs := flag.NewFlagSet("trust admin", flag.ContinueOnError)
		fs.SetOutput(stderr)
		slug := fs.String("trust", "", "the trust's short name")
		email := fs.String("email", "", "the trust administrator's email address")
		name := fs.String("name", "", "their name, for a new account (default: from the email address)")
		if err := fs.Parse(args[1:]); err != nil {
			return 2
		}
		if *slug == "" || fs.NArg() > 0 {
			return usage()
		}
		return runDomain(ctx, cfg, log, "signoff trust admin", stderr, func(db *database.DB) error {
			t, err := schools.NewStore(db).TrustBySlug(ctx, *slug)
			if err != nil {
				return &apperr.Error{Code: apperr.NotFound, Message: "there is no trust with the short name " + *slug}
			}
			g, err := onboarding.NewStore(db).GrantTrustAdmin(ctx, t.ID, 0, *email, *name, audit.System("signoff trust admin"), nil)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s <%s> is now a trust administrator of %s.\n", g.Account.DisplayName, g.Account.Email, t.Name)
			if g.SetUpToken != "" {
				fmt.Fprintf(stdout, "Send them this set-up link, with which they choose a password; it works once, for 7 days:\n\n  %s/set-up/%s\n",
					cfg.BaseURL, url.PathEscape(g.SetUpToken))
			} else {
				fmt.Fprintf(stdout, "They sign in as usual at %s/sign-in\n", cfg.BaseURL)
			}
			return nil
		})
	}
	return usage()
}
