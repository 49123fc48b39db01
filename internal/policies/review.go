package policies

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/auth"
	"signoff/internal/database"
	"signoff/internal/schooltime"
)

// Reviews: the review date, the status it gives a policy (the one rule of
// what is due for review), the list of what is due and reviews recorded
// with no changes.

// Today is the date in London at t, as midnight UTC (how dates are held).
func Today(t time.Time) time.Time {
	l := t.In(schooltime.London)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
}

// NextReview is the date a review is next due after one on reviewed.
func NextReview(reviewed time.Time, cycleYears int) time.Time {
	return reviewed.AddDate(cycleYears, 0, 0)
}

// ReviewStatus is where a policy stands against its review date.
type ReviewStatus string

// The review statuses.
const (
	UpToDate   ReviewStatus = "up_to_date"
	DueSoon    ReviewStatus = "due_soon"
	Overdue    ReviewStatus = "overdue"
	InRevision ReviewStatus = "in_revision"
	NotYet     ReviewStatus = "not_published"
)

// Label is the status in words.
func (s ReviewStatus) Label() string {
	switch s {
	case UpToDate:
		return "Up to date"
	case DueSoon:
		return "Review due soon"
	case Overdue:
		return "Review overdue"
	case InRevision:
		return "In revision"
	case NotYet:
		return "Not published"
	}
	return string(s)
}

// DateStatus is the status from the dates alone: overdue after the review
// date, due soon within window days of it.
func DateStatus(next *time.Time, today time.Time, windowDays int) ReviewStatus {
	switch {
	case next == nil:
		return NotYet
	case next.Before(today):
		return Overdue
	case !next.After(today.AddDate(0, 0, windowDays)):
		return DueSoon
	}
	return UpToDate
}

// StatusOf is a policy's status: in revision while a new version is being
// written or approved, otherwise its DateStatus.
func StatusOf(next *time.Time, today time.Time, windowDays int, inRevision bool) ReviewStatus {
	if inRevision {
		return InRevision
	}
	return DateStatus(next, today, windowDays)
}

// Due is a published policy due for review soon or overdue on a day.
type Due struct {
	School       string
	SchoolID     int64
	PolicyID     int64
	Title        string
	NextReviewOn time.Time
	Status       ReviewStatus // DueSoon or Overdue
}

// DueForReview is the one list of policies due for review: the published
// policies of school schoolID (of every school when 0) whose DateStatus on
// day, under their school's window, is DueSoon or Overdue, by school, date
// and title. The review scheduler, `signoff reviews` and the governors'
// compliance report read it.
func DueForReview(ctx context.Context, q database.Querier, day time.Time, schoolID int64) ([]Due, error) {
	rows, err := q.Query(ctx, `SELECT sc.name, sc.id, p.id, p.title, p.next_review_on, sc.review_window_days
		FROM policies p JOIN schools sc ON sc.id = p.school_id
		WHERE p.next_review_on IS NOT NULL AND ($1 = 0 OR p.school_id = $1)
		  AND EXISTS (SELECT 1 FROM policy_versions v WHERE v.policy_id = p.id AND v.status = 'published')
		ORDER BY lower(sc.name), sc.id, p.next_review_on, lower(p.title), p.id`, schoolID)
	if err != nil {
		return nil, fmt.Errorf("policies: due for review: %w", err)
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Due, error) {
		var d Due
		var window int
		err := r.Scan(&d.School, &d.SchoolID, &d.PolicyID, &d.Title, &d.NextReviewOn, &window)
		d.Status = DateStatus(&d.NextReviewOn, day, window)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("policies: due for review: %w", err)
	}
	out := all[:0]
	for _, d := range all {
		if d.Status == DueSoon || d.Status == Overdue {
			out = append(out, d)
		}
	}
	return out, nil
}

// ReviewInput records a review that made no changes.
type ReviewInput struct {
	MeetingInput
	Note string
}

// RecordNoChangeReview records that a policy was reviewed and kept as it
// is: who, when, the board's approval; the next review date moves on.
func (s *Store) RecordNoChangeReview(ctx context.Context, schoolID, policyID int64, actor audit.Actor, in ReviewInput) (time.Time, error) {
	now := s.db.Now()
	in.Note = strings.TrimSpace(in.Note)
	err := in.validate(Today(now))
	if utf8.RuneCountInString(in.Note) > 2000 {
		fields := append(apperr.FieldsOf(err), apperr.FieldError{Field: "note", Message: "The note must be 2,000 characters or fewer"})
		err = &apperr.Error{Code: apperr.Invalid, Fields: fields}
	}
	if err != nil {
		return time.Time{}, err
	}
	var next time.Time
	err = s.db.InTx(ctx, func(tx pgx.Tx) error {
		var cycle int
		var current *int64
		err := tx.QueryRow(ctx, `SELECT p.review_cycle_years, (SELECT id FROM policy_versions v WHERE v.policy_id = p.id AND v.status = 'published')
			FROM policies p WHERE p.school_id = $1 AND p.id = $2 FOR UPDATE`, schoolID, policyID).Scan(&cycle, &current)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "There is no such policy")
		}
		if err != nil {
			return fmt.Errorf("policies: review: %w", err)
		}
		if current == nil {
			return apperr.New(apperr.Conflict, "This policy has not been published yet, so there is nothing to review")
		}
		next = NextReview(*in.Date, cycle)
		if _, err := tx.Exec(ctx, `INSERT INTO policy_reviews (school_id, policy_id, version_id, outcome, reviewed_on, approved_by_body, meeting, minute_ref,
				note, next_review_on, recorded_by, recorded_at)
			VALUES ($1, $2, $3, 'no_changes', $4, $5, $6, $7, $8, $9, $10, $11)`,
			schoolID, policyID, *current, *in.Date, in.Body, in.Meeting, in.MinuteRef, in.Note, next, database.NullID(actor.AccountID), now); err != nil {
			return fmt.Errorf("policies: review: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE policies SET next_review_on = $2 WHERE id = $1`, policyID, next); err != nil {
			return fmt.Errorf("policies: review: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: actor, Action: "policy.reviewed",
			Subject: fmt.Sprintf("policy %d", policyID), Detail: map[string]string{"outcome": "no_changes", "date": in.Date.Format(time.DateOnly),
				"body": in.Body, "minute_ref": in.MinuteRef, "next_review_on": next.Format(time.DateOnly)}})
	})
	return next, err
}

// Review is one review of a policy.
type Review struct {
	ID             int64
	VersionNumber  int
	Outcome        string // "no_changes" or "new_version"
	ReviewedOn     time.Time
	ApprovedByBody string
	Meeting        string
	MinuteRef      string
	Note           string
	NextReviewOn   time.Time
	RecordedBy     string
}

// reviewsSQL reads a policy's reviews (school $1, policy $2), newest
// first, for its page (Page, which shows those that made no changes in
// its history); collectReviews reads the rows.
var reviewsSQL = `SELECT r.id, coalesce(v.number, 0), r.outcome, r.reviewed_on, r.approved_by_body, r.meeting, r.minute_ref, r.note,
		r.next_review_on, ` + auth.NameSQL("r.recorded_by") + `
	FROM policy_reviews r LEFT JOIN policy_versions v ON v.id = r.version_id
	WHERE r.school_id = $1 AND r.policy_id = $2 ORDER BY r.reviewed_on DESC, r.id DESC`

func collectReviews(rows pgx.Rows) ([]Review, error) {
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Review, error) {
		var x Review
		return x, r.Scan(&x.ID, &x.VersionNumber, &x.Outcome, &x.ReviewedOn, &x.ApprovedByBody, &x.Meeting, &x.MinuteRef, &x.Note, &x.NextReviewOn, &x.RecordedBy)
	})
	if err != nil {
		return nil, fmt.Errorf("policies: reviews: %w", err)
	}
	return out, nil
}
