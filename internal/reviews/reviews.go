// Package reviews runs the policy review scheduler and publishes review
// dates: the daily job that flags policies due for review soon or
// overdue and emails their owner once when a policy enters each state,
// the private calendar feeds (iCalendar) governors subscribe to, and the
// list behind `signoff reviews`.
//
// The job runs at start-up and then daily on every server; a row in
// job_runs per day, inserted under a PostgreSQL advisory lock in the same
// transaction as the work, makes it run exactly once per day across
// servers, and one alert row per policy, state and review date makes an
// email go once however often the job runs or restarts.
package reviews

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/audit"
	"signoff/internal/database"
	"signoff/internal/mail"
	"signoff/internal/policies"
)

// Job is the scheduler's name in job_runs.
const Job = "policy_reviews"

// lockKey is the advisory lock that serialises runs across servers.
const lockKey = 0x726576696577 // "review"

// Scheduler flags reviews that are due.
type Scheduler struct {
	DB      *database.DB
	Log     *slog.Logger
	BaseURL string // the site's address, for links in emails
	// Every is how often a server checks whether today's run is done
	// (default an hour); the run itself happens once a day.
	Every time.Duration
}

// Result says what one run did.
type Result struct {
	Day     time.Time
	Skipped bool // another server (or an earlier run) did today's run
	DueSoon int  // policies that became due soon today
	Overdue int  // policies that became overdue today
	Emails  int
}

// RunOnce does today's run (today is the London date of DB.Now()) unless
// it has been done.
func (s *Scheduler) RunOnce(ctx context.Context) (Result, error) {
	now := s.DB.Now()
	day := policies.Today(now)
	res := Result{Day: day}
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(lockKey)); err != nil {
			return fmt.Errorf("reviews: lock: %w", err)
		}
		tag, err := tx.Exec(ctx, `INSERT INTO job_runs (job, run_on, started_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, Job, day, now)
		if err != nil {
			return fmt.Errorf("reviews: claim run: %w", err)
		}
		if tag.RowsAffected() == 0 {
			res.Skipped = true
			return nil
		}
		if err := s.flagTx(ctx, tx, now, day, &res); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE job_runs SET detail = $3 WHERE job = $1 AND run_on = $2`, Job, day,
			fmt.Sprintf("due soon %d, overdue %d, emails %d", res.DueSoon, res.Overdue, res.Emails))
		return err
	})
	if err != nil {
		return Result{}, err
	}
	if !res.Skipped {
		// Tell the audience of revisions published while a server stopped
		// before it could (idempotent: one email per person per version).
		if _, err := policies.NotifyPending(ctx, s.DB, s.BaseURL); err != nil {
			return res, err
		}
	}
	return res, nil
}

type flagged struct {
	schoolID, policyID int64
	title, school      string
	next               time.Time
	state              string
	ownerName, email   string
	recipients         []recipient
}

type recipient struct{ name, email string }

func (s *Scheduler) flagTx(ctx context.Context, tx pgx.Tx, now, day time.Time, res *Result) error {
	rows, err := tx.Query(ctx, `SELECT p.school_id, p.id, p.title, sc.name, p.next_review_on,
			CASE WHEN p.next_review_on < $1 THEN 'overdue' ELSE 'due_soon' END
		FROM policies p JOIN schools sc ON sc.id = p.school_id
		WHERE p.next_review_on IS NOT NULL AND p.next_review_on <= $1 + sc.review_window_days
		  AND EXISTS (SELECT 1 FROM policy_versions v WHERE v.policy_id = p.id AND v.status = 'published')
		ORDER BY p.school_id, p.next_review_on, p.id`, day)
	if err != nil {
		return fmt.Errorf("reviews: due policies: %w", err)
	}
	due, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (flagged, error) {
		var f flagged
		return f, r.Scan(&f.schoolID, &f.policyID, &f.title, &f.school, &f.next, &f.state)
	})
	if err != nil {
		return fmt.Errorf("reviews: due policies: %w", err)
	}
	for _, f := range due {
		tag, err := tx.Exec(ctx, `INSERT INTO policy_review_alerts (school_id, policy_id, state, next_review_on, flagged_on, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, f.schoolID, f.policyID, f.state, f.next, day, now)
		if err != nil {
			return fmt.Errorf("reviews: flag: %w", err)
		}
		if tag.RowsAffected() == 0 {
			continue // this state was entered before: the owner has been told
		}
		if f.state == "overdue" {
			res.Overdue++
		} else {
			res.DueSoon++
		}
		to, err := ownersTx(ctx, tx, f.schoolID, f.policyID)
		if err != nil {
			return err
		}
		date := f.next.Format("2 January 2006")
		subject := "Review due by " + date + ": " + f.title
		lead := fmt.Sprintf("The %s is due for review by %s.", f.title, date)
		if f.state == "overdue" {
			subject = "Review overdue: " + f.title
			lead = fmt.Sprintf("The %s was due for review by %s and has not been reviewed.", f.title, date)
		}
		for _, r := range to {
			text := fmt.Sprintf("Dear %s,\n\n%s\n\nStart a revision, or record that it was reviewed with no changes:\n%s/policies/%d\n\nYou are receiving this because you own this policy at %s.\n",
				r.name, lead, s.BaseURL, f.policyID, f.school)
			_, queued, err := mail.Enqueue(ctx, tx, now, mail.Message{SchoolID: f.schoolID, To: r.email, ToName: r.name, Subject: subject, Text: text,
				Kind: "policy_review", DedupeKey: fmt.Sprintf("school:%d:policy:%d:review:%s:%s:%s", f.schoolID, f.policyID, f.next.Format(time.DateOnly), f.state, r.email)})
			if err != nil {
				return err
			}
			if queued {
				res.Emails++
			}
		}
		if err := audit.Record(ctx, tx, audit.Entry{SchoolID: f.schoolID, At: now, Actor: audit.System("review scheduler"), Action: "policy.review_" + f.state,
			Subject: fmt.Sprintf("policy %d", f.policyID), Detail: map[string]string{"next_review_on": f.next.Format(time.DateOnly), "emails": fmt.Sprint(len(to))}}); err != nil {
			return err
		}
	}
	return nil
}

// ownersTx returns who hears about a policy's review: its owner, else the
// school's heads, else its administrators.
func ownersTx(ctx context.Context, tx pgx.Tx, schoolID, policyID int64) ([]recipient, error) {
	rows, err := tx.Query(ctx, `WITH owner AS (
			SELECT a.display_name, a.email, 1 AS rank FROM policies p JOIN accounts a ON a.id = p.owner_account_id
			WHERE p.id = $2 AND a.disabled_at IS NULL AND a.email IS NOT NULL
		), heads AS (
			SELECT display_name, email, 2 FROM accounts WHERE school_id = $1 AND 'head' = ANY (roles) AND disabled_at IS NULL AND email IS NOT NULL
		), admins AS (
			SELECT display_name, email, 3 FROM accounts WHERE school_id = $1 AND 'admin' = ANY (roles) AND disabled_at IS NULL AND email IS NOT NULL
		), everyone AS (SELECT * FROM owner UNION ALL SELECT * FROM heads UNION ALL SELECT * FROM admins)
		SELECT display_name, email FROM everyone WHERE rank = (SELECT min(rank) FROM everyone) ORDER BY email`, schoolID, policyID)
	if err != nil {
		return nil, fmt.Errorf("reviews: owners: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (recipient, error) {
		var x recipient
		return x, r.Scan(&x.name, &x.email)
	})
	if err != nil {
		return nil, fmt.Errorf("reviews: owners: %w", err)
	}
	return out, nil
}

// Run runs the job now and then every s.Every until ctx ends; a run that
// fails is logged and tried again at the next tick.
func (s *Scheduler) Run(ctx context.Context) {
	every := s.Every
	if every <= 0 {
		every = time.Hour
	}
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		res, err := s.RunOnce(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("review scheduler", "err", err)
		case err == nil && !res.Skipped:
			log.Info("review scheduler ran", "day", res.Day.Format(time.DateOnly), "due_soon", res.DueSoon, "overdue", res.Overdue, "emails", res.Emails)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Due is a policy due for review soon or overdue on a day.
type Due struct {
	School       string
	SchoolID     int64
	PolicyID     int64
	Title        string
	NextReviewOn time.Time
	Status       policies.ReviewStatus
}

// DueOn returns every school's published policies that are due soon or
// overdue on day, by school then date.
func DueOn(ctx context.Context, db *database.DB, day time.Time) ([]Due, error) {
	rows, err := db.Pool.Query(ctx, `SELECT sc.name, sc.id, p.id, p.title, p.next_review_on, sc.review_window_days
		FROM policies p JOIN schools sc ON sc.id = p.school_id
		WHERE p.next_review_on IS NOT NULL AND p.next_review_on <= $1::date + sc.review_window_days
		  AND EXISTS (SELECT 1 FROM policy_versions v WHERE v.policy_id = p.id AND v.status = 'published')
		ORDER BY lower(sc.name), p.next_review_on, lower(p.title)`, day)
	if err != nil {
		return nil, fmt.Errorf("reviews: due: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Due, error) {
		var d Due
		var window int
		err := r.Scan(&d.School, &d.SchoolID, &d.PolicyID, &d.Title, &d.NextReviewOn, &window)
		d.Status = policies.DateStatus(&d.NextReviewOn, day, window)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("reviews: due: %w", err)
	}
	return out, nil
}
