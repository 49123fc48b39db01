package mail

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/database"
)

// The states of an outbox message.
const (
	StatusWaiting = "waiting" // not sent yet: due, retrying after a failure, or no mail server configured
	StatusSent    = "sent"
	StatusFailed  = "failed" // gave up after MaxAttempts
)

// StatusAll is the Filter status that matches every message.
const StatusAll = "all"

// Entry is an outbox message as the office sees it.
type Entry struct {
	ID            int64
	SchoolID      int64
	To            string
	ToName        string
	Subject       string
	Text          string
	Kind          string
	CreatedAt     time.Time
	NextAttemptAt time.Time  // when a waiting message is next tried
	Attempts      int        // sends tried so far
	LastError     string     // the last failure's reason, kept after a later success
	SentAt        *time.Time // nil until sent
	FailedAt      *time.Time // nil unless given up
	Status        string     // StatusWaiting, StatusSent or StatusFailed
}

// Filter chooses outbox messages for List.
type Filter struct {
	Status string // "all" (or empty), "waiting", "sent" or "failed"
	Limit  int    // 1 to 500; 0: 50
	Offset int
}

// Store reads the outbox for the office's page.
type Store struct{ db *database.DB }

// NewStore returns a Store on db.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

const entryColumns = `id, coalesce(school_id, 0), to_address, to_name, subject, body_text, kind, created_at,
	next_attempt_at, attempts, last_error, sent_at, failed_at`

// List returns one school's messages matching f, newest first, and how
// many match in all.
func (s *Store) List(ctx context.Context, schoolID int64, f Filter) ([]Entry, int, error) {
	var cond string
	switch f.Status {
	case "", StatusAll:
		cond = "true"
	case StatusWaiting:
		cond = "sent_at IS NULL AND failed_at IS NULL"
	case StatusSent:
		cond = "sent_at IS NOT NULL"
	case StatusFailed:
		cond = "sent_at IS NULL AND failed_at IS NOT NULL"
	default:
		return nil, 0, &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "status", Message: "Choose all, waiting, sent or failed"}}}
	}
	limit := f.Limit
	if limit == 0 {
		limit = 50
	}
	if limit < 0 || limit > 500 || f.Offset < 0 {
		return nil, 0, apperr.New(apperr.Invalid, "limit must be 1 to 500 and offset not negative")
	}
	var total int
	if err := s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE school_id = $1 AND `+cond, schoolID).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("mail: count outbox: %w", err)
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT `+entryColumns+` FROM outbox WHERE school_id = $1 AND `+cond+`
		ORDER BY id DESC LIMIT $2 OFFSET $3`, schoolID, limit, f.Offset)
	if err != nil {
		return nil, 0, fmt.Errorf("mail: list outbox: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("mail: list outbox: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("mail: list outbox: %w", err)
	}
	return out, total, nil
}

// Get returns one of the school's messages; another school's message is
// apperr.NotFound, as is a missing one.
func (s *Store) Get(ctx context.Context, schoolID, id int64) (Entry, error) {
	row := s.db.Pool.QueryRow(ctx, `SELECT `+entryColumns+` FROM outbox WHERE school_id = $1 AND id = $2`, schoolID, id)
	e, err := scanEntry(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return Entry{}, apperr.New(apperr.NotFound, "There is no such message.")
	}
	if err != nil {
		return Entry{}, fmt.Errorf("mail: get outbox message: %w", err)
	}
	return e, nil
}

func scanEntry(row pgx.Row) (Entry, error) {
	var e Entry
	if err := row.Scan(&e.ID, &e.SchoolID, &e.To, &e.ToName, &e.Subject, &e.Text, &e.Kind, &e.CreatedAt,
		&e.NextAttemptAt, &e.Attempts, &e.LastError, &e.SentAt, &e.FailedAt); err != nil {
		return Entry{}, err
	}
	switch {
	case e.SentAt != nil:
		e.Status = StatusSent
	case e.FailedAt != nil:
		e.Status = StatusFailed
	default:
		e.Status = StatusWaiting
	}
	return e, nil
}
