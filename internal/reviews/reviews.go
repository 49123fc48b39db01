// Package reviews runs the policy review scheduler and publishes review
// dates: the daily job that flags policies due for review soon or
// overdue and emails their owner once when a policy enters each state,
// the private calendar feeds (iCalendar) governors subscribe to, and the
// list behind `signoff reviews`.
//
// The job is River's periodic "review_scan" (ScanArgs, worked by Worker):
// the leader among the running servers enqueues it hourly; a row in
// job_runs per day, inserted in the same transaction as the work, makes
// the work happen once per day however often the job runs (a second run
// waits on that row's unique key, then skips), and one alert row per
// policy, state and review date makes an email go once.
package reviews

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"signoff/internal/audit"
	"signoff/internal/database"
	"signoff/internal/mail"
	"signoff/internal/policies"
	"signoff/internal/signing"
)

// Job is the scheduler's name in job_runs.
const Job = "policy_reviews"

// Scheduler flags reviews that are due.
type Scheduler struct {
	DB      *database.DB
	Log     *slog.Logger
	BaseURL string // the site's address, for links in emails
}

// ScanArgs is the periodic job that runs the day's review scan.
type ScanArgs struct{}

// Kind names the job.
func (ScanArgs) Kind() string { return "review_scan" }

// Worker runs ScanArgs jobs: Scheduler.RunOnce.
type Worker struct {
	river.WorkerDefaults[ScanArgs]
	Scheduler *Scheduler
}

// Work does today's run unless it has been done.
func (w *Worker) Work(ctx context.Context, _ *river.Job[ScanArgs]) error {
	res, err := w.Scheduler.RunOnce(ctx)
	if err != nil {
		return err
	}
	if !res.Skipped {
		log := w.Scheduler.Log
		if log == nil {
			log = slog.Default()
		}
		log.Info("review scan ran", "day", res.Day.Format(time.DateOnly), "due_soon", res.DueSoon, "overdue", res.Overdue, "emails", res.Emails)
	}
	return nil
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
		if _, err := signing.NotifyPending(ctx, s.DB, s.BaseURL); err != nil {
			return res, err
		}
	}
	return res, nil
}

type recipient struct{ name, email string }

func (s *Scheduler) flagTx(ctx context.Context, tx pgx.Tx, now, day time.Time, res *Result) error {
	due, err := policies.DueForReview(ctx, tx, day, 0)
	if err != nil {
		return err
	}
	for _, f := range due {
		state := string(f.Status) // "due_soon" or "overdue", as the alerts hold it
		tag, err := tx.Exec(ctx, `INSERT INTO policy_review_alerts (school_id, policy_id, state, next_review_on, flagged_on, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, f.SchoolID, f.PolicyID, state, f.NextReviewOn, day, now)
		if err != nil {
			return fmt.Errorf("reviews: flag: %w", err)
		}
		if tag.RowsAffected() == 0 {
			continue // this state was entered before: the owner has been told
		}
		if state == "overdue" {
			res.Overdue++
		} else {
			res.DueSoon++
		}
		to, err := ownersTx(ctx, tx, f.SchoolID, f.PolicyID)
		if err != nil {
			return err
		}
		date := f.NextReviewOn.Format("2 January 2006")
		subject := "Review due by " + date + ": " + f.Title
		lead := fmt.Sprintf("The %s is due for review by %s.", f.Title, date)
		if state == "overdue" {
			subject = "Review overdue: " + f.Title
			lead = fmt.Sprintf("The %s was due for review by %s and has not been reviewed.", f.Title, date)
		}
		for _, r := range to {
			text := fmt.Sprintf("Dear %s,\n\n%s\n\nStart a revision, or record that it was reviewed with no changes:\n%s/policies/%d\n\nYou are receiving this because you own this policy at %s.\n",
				r.name, lead, s.BaseURL, f.PolicyID, f.School)
			_, queued, err := mail.Enqueue(ctx, tx, now, mail.Message{SchoolID: f.SchoolID, To: r.email, ToName: r.name, Subject: subject, Text: text,
				Kind: "policy_review", DedupeKey: fmt.Sprintf("school:%d:policy:%d:review:%s:%s:%s", f.SchoolID, f.PolicyID, f.NextReviewOn.Format(time.DateOnly), state, r.email)})
			if err != nil {
				return err
			}
			if queued {
				res.Emails++
			}
		}
		if err := audit.Record(ctx, tx, audit.Entry{SchoolID: f.SchoolID, At: now, Actor: audit.System("review scheduler"), Action: "policy.review_" + state,
			Subject: fmt.Sprintf("policy %d", f.PolicyID), Detail: map[string]string{"next_review_on": f.NextReviewOn.Format(time.DateOnly), "emails": fmt.Sprint(len(to))}}); err != nil {
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
