// Package policies holds a school's policies and their versions: a policy
// is a titled document with a review cycle; a version is one text of it,
// hashed, moving from draft to published and then superseded. A published
// version's text never changes (the database refuses it too).
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
	"signoff/internal/limits"
)

// Status is where a version is in its life.
type Status string

// The statuses.
const (
	Draft            Status = "draft"
	AwaitingApproval Status = "awaiting_approval"
	Approved         Status = "approved"
	Published        Status = "published"
	Superseded       Status = "superseded"
)

// Label is the status as shown to people.
func (s Status) Label() string {
	switch s {
	case Draft:
		return "Draft"
	case AwaitingApproval:
		return "Awaiting approval"
	case Approved:
		return "Approved"
	case Published:
		return "Published"
	case Superseded:
		return "Superseded"
	}
	return string(s)
}

// Policy is a titled document with a history of versions.
type Policy struct {
	ID               int64
	SchoolID         int64
	Title            string
	Category         string
	ReviewCycleYears int
	CreatedAt        time.Time
	// The lifecycle (see lifecycle.go).
	OwnerAccountID int64
	OwnerName      string
	Statutory      bool
	ApprovalLevel  ApprovalLevel
	NextReviewOn   *time.Time // a date (midnight UTC); nil until first published
}

// Version is one text of a policy.
type Version struct {
	ID          int64
	SchoolID    int64
	PolicyID    int64
	Number      int
	Body        string // Markdown
	SHA256      string
	Status      Status
	Major       bool
	CreatedAt   time.Time
	PublishedAt *time.Time
	// Approval (see lifecycle.go).
	CreatedBy       int64
	AuthorName      string
	ChangeNote      string
	Round           int
	SubmittedAt     *time.Time
	ApprovedAt      *time.Time
	ApprovedOn      *time.Time // the date of the decision (a meeting's date)
	ApprovedByBody  string
	ApprovalMeeting string
	MinuteRef       string
	ApprovalMethod  string // "approvers", "meeting" or ""
}

// Limits on what a policy holds.
const (
	MaxTitle = limits.Title
	MaxBody  = limits.Body
)

// Draft is what an admin writes to start a policy or a new version.
type DraftInput struct {
	Title            string
	Category         string
	ReviewCycleYears int
	Body             string
}

// Validate tidies and checks the input.
func (in *DraftInput) Validate() error {
	var v apperr.Validation
	in.Title = strings.TrimSpace(in.Title)
	in.Category = strings.TrimSpace(in.Category)
	v.Check(in.Title != "", "title", "Enter the policy's title")
	v.Check(utf8.RuneCountInString(in.Title) <= MaxTitle, "title", fmt.Sprintf("The title must be %d characters or fewer", MaxTitle))
	v.Check(in.ReviewCycleYears >= 1 && in.ReviewCycleYears <= 3, "review_cycle_years", "Choose how often the policy is reviewed: every 1, 2 or 3 years")
	v.Check(strings.TrimSpace(in.Body) != "", "body", "Enter the policy's text")
	v.MaxLen("body", in.Body, MaxBody, "policy's text")
	v.Check(utf8.ValidString(in.Body), "body", "The text has characters that are not valid UTF-8; paste it again as plain text")
	v.MaxLen("category", in.Category, limits.Category, "category")
	return v.Err()
}

// Store reads and writes policies.
type Store struct{ db *database.DB }

// NewStore returns a Store.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

// CreateDraft creates a policy with version 1 as a draft.
func (s *Store) CreateDraft(ctx context.Context, schoolID int64, actor audit.Actor, in DraftInput) (Policy, Version, error) {
	if err := in.Validate(); err != nil {
		return Policy{}, Version{}, err
	}
	var p Policy
	var v Version
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		p, v, err = CreateDraftTx(ctx, tx, s.db.Now(), schoolID, actor, in)
		return err
	})
	return p, v, err
}

// CreateDraftTx is CreateDraft inside a caller's transaction.
func CreateDraftTx(ctx context.Context, tx pgx.Tx, now time.Time, schoolID int64, actor audit.Actor, in DraftInput) (Policy, Version, error) {
	if err := in.Validate(); err != nil {
		return Policy{}, Version{}, err
	}
	p := Policy{SchoolID: schoolID, Title: in.Title, Category: in.Category, ReviewCycleYears: in.ReviewCycleYears, CreatedAt: now}
	err := tx.QueryRow(ctx, `INSERT INTO policies (school_id, title, category, review_cycle_years, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		schoolID, p.Title, p.Category, p.ReviewCycleYears, database.NullID(actor.AccountID), now).Scan(&p.ID)
	if database.IsUniqueViolation(err, "policies_title") {
		return Policy{}, Version{}, &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "title", Message: "There is already a policy with this title"}}}
	}
	if err != nil {
		return Policy{}, Version{}, fmt.Errorf("policies: create: %w", err)
	}
	body := NormaliseText(in.Body)
	v := Version{SchoolID: schoolID, PolicyID: p.ID, Number: 1, Body: body, SHA256: Hash(body), Status: Draft, Major: true, CreatedAt: now}
	err = tx.QueryRow(ctx, `INSERT INTO policy_versions (school_id, policy_id, number, body_md, sha256, status, major, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, 'draft', true, $6, $7) RETURNING id`,
		schoolID, p.ID, v.Number, v.Body, v.SHA256, database.NullID(actor.AccountID), now).Scan(&v.ID)
	if err != nil {
		return Policy{}, Version{}, fmt.Errorf("policies: create version: %w", err)
	}
	err = audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: actor, Action: "policy.created",
		Subject: fmt.Sprintf("policy %d", p.ID), Detail: map[string]string{"title": p.Title, "version": "1", "sha256": v.SHA256}})
	return p, v, err
}

// CreateRevision starts a new draft version of a policy from body. A
// minor revision (typos, names) does not ask people to sign again when
// it is published; a major one does.
func (s *Store) CreateRevision(ctx context.Context, schoolID, policyID int64, actor audit.Actor, body string, major bool) (Version, error) {
	if strings.TrimSpace(body) == "" {
		return Version{}, &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "body", Message: "Enter the policy's text"}}}
	}
	now := s.db.Now()
	body = NormaliseText(body)
	v := Version{SchoolID: schoolID, PolicyID: policyID, Body: body, SHA256: Hash(body), Status: Draft, Major: major, CreatedAt: now}
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		var open int
		err := tx.QueryRow(ctx, `SELECT coalesce(max(number), 0), count(*) FILTER (WHERE status IN ('draft', 'awaiting_approval', 'approved'))
			FROM policy_versions WHERE school_id = $1 AND policy_id = $2`, schoolID, policyID).Scan(&v.Number, &open)
		if err != nil {
			return fmt.Errorf("policies: revision: %w", err)
		}
		if v.Number == 0 {
			return apperr.New(apperr.NotFound, "There is no such policy")
		}
		if open > 0 {
			return apperr.New(apperr.Conflict, "This policy already has a revision in progress; finish or discard it first")
		}
		v.Number++
		err = tx.QueryRow(ctx, `INSERT INTO policy_versions (school_id, policy_id, number, body_md, sha256, status, major, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, 'draft', $6, $7, $8) RETURNING id`,
			schoolID, policyID, v.Number, v.Body, v.SHA256, major, database.NullID(actor.AccountID), now).Scan(&v.ID)
		if err != nil {
			return fmt.Errorf("policies: revision: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: actor, Action: "policy.revision_started",
			Subject: fmt.Sprintf("policy %d", policyID), Detail: map[string]string{"version": fmt.Sprint(v.Number), "major": fmt.Sprint(major)}})
	})
	if err != nil {
		return Version{}, err
	}
	return v, nil
}

// PublishVersionTx publishes version versionID inside tx, superseding
// the version published before it, and returns it. It refuses a version
// that CheckPublishable refuses (a revision not yet approved), with the
// row locked, so no caller can publish around the approval rule. Callers
// (signing.Publish) attach the form that asks people to sign it and tell
// them, in the same transaction.
func PublishVersionTx(ctx context.Context, tx pgx.Tx, now time.Time, schoolID, versionID int64, actor audit.Actor) (Version, error) {
	v, err := versionTx(ctx, tx, schoolID, versionID, true)
	if err != nil {
		return Version{}, err
	}
	if err := CheckPublishable(v); err != nil {
		return Version{}, err
	}
	if _, err := tx.Exec(ctx, `UPDATE policy_versions SET status = 'superseded' WHERE policy_id = $1 AND status = 'published'`, v.PolicyID); err != nil {
		return Version{}, fmt.Errorf("policies: supersede: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE policy_versions SET status = 'published', published_at = $2, published_by = $3 WHERE id = $1`,
		v.ID, now, database.NullID(actor.AccountID)); err != nil {
		return Version{}, fmt.Errorf("policies: publish: %w", err)
	}
	v.Status = Published
	v.PublishedAt = &now
	if err := recordPublishedTx(ctx, tx, now, v, actor); err != nil {
		return Version{}, err
	}
	err = audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: actor, Action: "policy.published",
		Subject: fmt.Sprintf("policy %d", v.PolicyID), Detail: map[string]string{"version": fmt.Sprint(v.Number), "sha256": v.SHA256}})
	return v, err
}

var versionColumns = `id, school_id, policy_id, number, body_md, sha256, status, major, created_at, published_at,
	coalesce(created_by, 0), ` + auth.NameSQL("policy_versions.created_by") + `,
	change_note, round, submitted_at, approved_at, approved_on, approved_by_body, approval_meeting, minute_ref, coalesce(approval_method, '')`

func scanVersion(r pgx.Row) (Version, error) {
	var v Version
	err := r.Scan(&v.ID, &v.SchoolID, &v.PolicyID, &v.Number, &v.Body, &v.SHA256, &v.Status, &v.Major, &v.CreatedAt, &v.PublishedAt,
		&v.CreatedBy, &v.AuthorName, &v.ChangeNote, &v.Round, &v.SubmittedAt, &v.ApprovedAt, &v.ApprovedOn, &v.ApprovedByBody,
		&v.ApprovalMeeting, &v.MinuteRef, &v.ApprovalMethod)
	return v, err
}

func versionTx(ctx context.Context, tx pgx.Tx, schoolID, versionID int64, forUpdate bool) (Version, error) {
	q := `SELECT ` + versionColumns + ` FROM policy_versions WHERE school_id = $1 AND id = $2`
	if forUpdate {
		q += ` FOR UPDATE`
	}
	v, err := scanVersion(tx.QueryRow(ctx, q, schoolID, versionID))
	if errors.Is(err, pgx.ErrNoRows) {
		return Version{}, apperr.New(apperr.NotFound, "There is no such policy version")
	}
	if err != nil {
		return Version{}, fmt.Errorf("policies: get version: %w", err)
	}
	return v, nil
}

// Get returns a policy of the school.
func (s *Store) Get(ctx context.Context, schoolID, id int64) (Policy, error) {
	var p Policy
	err := getInto(&p)(s.db.Pool.QueryRow(ctx, getSQL, schoolID, id))
	return p, err
}

var getSQL = `SELECT ` + policyColumns + ` FROM policies p WHERE p.school_id = $1 AND p.id = $2`

func getInto(p *Policy) func(pgx.Row) error {
	return database.One(func(row pgx.Row) error { return row.Scan(policyDest(p)...) },
		apperr.New(apperr.NotFound, "There is no such policy"), "policies: get")
}

// Version returns a version of a policy of the school.
func (s *Store) Version(ctx context.Context, schoolID, versionID int64) (Version, error) {
	var v Version
	err := versionInto(&v, nil)(s.db.Pool.QueryRow(ctx, `SELECT `+versionColumns+` FROM policy_versions WHERE school_id = $1 AND id = $2`, schoolID, versionID))
	return v, err
}

// QueueVersionOf queues, for a page that sends it with its other reads
// in one round trip, Version's read of the school's ($1) version whose id
// is the SQL expression id over args (the school first); found says
// whether there is one.
func QueueVersionOf(r *database.Reads, id string, args []any, dst *Version, found *bool) {
	r.Row(`SELECT `+versionColumns+` FROM policy_versions WHERE school_id = $1 AND id = (`+id+`)`, args, versionInto(dst, found))
}

// versionInto scans a version into dst; none is NotFound, or, with found,
// found false.
func versionInto(dst *Version, found *bool) func(pgx.Row) error {
	return func(row pgx.Row) error {
		v, err := scanVersion(row)
		if found != nil {
			*found = err == nil
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
		}
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "There is no such policy version")
		}
		if err != nil {
			return fmt.Errorf("policies: get version: %w", err)
		}
		*dst = v
		return nil
	}
}

// CurrentAndOpen picks from a policy's versions the published one and the
// open revision (a draft, awaiting approval or approved); either may be nil.
func CurrentAndOpen(versions []Version) (current, open *Version) {
	for i := range versions {
		switch versions[i].Status {
		case Published:
			current = &versions[i]
		case Draft, AwaitingApproval, Approved:
			open = &versions[i]
		}
	}
	return current, open
}

// Versions returns a policy's versions, newest first.
func (s *Store) Versions(ctx context.Context, schoolID, policyID int64) ([]Version, error) {
	rows, err := s.db.Pool.Query(ctx, versionsSQL, schoolID, policyID)
	if err != nil {
		return nil, fmt.Errorf("policies: versions: %w", err)
	}
	return collectVersions(rows)
}

var versionsSQL = `SELECT ` + versionColumns + ` FROM policy_versions
	WHERE school_id = $1 AND policy_id = $2 ORDER BY number DESC`

func collectVersions(rows pgx.Rows) ([]Version, error) {
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Version, error) { return scanVersion(r) })
	if err != nil {
		return nil, fmt.Errorf("policies: versions: %w", err)
	}
	return out, nil
}
