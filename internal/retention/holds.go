package retention

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/database"
)

// Hold is a legal hold on a person: while it stands, nothing about them
// is erased or removed, whatever its period.
type Hold struct {
	PersonID   int64
	PersonName string
	Reason     string
	PlacedAt   time.Time
	PlacedBy   string
}

// MaxReason is the longest reason a hold may give.
const MaxReason = 500

// PlaceHold puts a hold on person personID of the school, with a reason.
func (s *Store) PlaceHold(ctx context.Context, schoolID, personID int64, reason string, actor audit.Actor) error {
	reason = strings.TrimSpace(reason)
	var v apperr.Validation
	v.Check(reason != "", "reason", "Say why the records are held, for example the claim or request it is for")
	v.Check(len([]rune(reason)) <= MaxReason, "reason", fmt.Sprintf("The reason must be %d characters or fewer", MaxReason))
	if err := v.Err(); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM people WHERE school_id = $1 AND id = $2)`, schoolID, personID).Scan(&exists); err != nil {
			return fmt.Errorf("retention: hold: %w", err)
		}
		if !exists {
			return apperr.New(apperr.NotFound, "There is no such person")
		}
		now := s.db.Now()
		tag, err := tx.Exec(ctx, `INSERT INTO legal_holds (school_id, person_id, reason, placed_at, placed_by)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (person_id) WHERE lifted_at IS NULL DO NOTHING`,
			schoolID, personID, reason, now, database.NullID(actor.AccountID))
		if err != nil {
			return fmt.Errorf("retention: hold: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return apperr.New(apperr.Conflict, "This person's records are already held")
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: actor, Action: "retention.hold_placed",
			Subject: "person " + strconv.FormatInt(personID, 10), Detail: map[string]string{"reason": reason}})
	})
}

// LiftHold ends the hold on a person.
func (s *Store) LiftHold(ctx context.Context, schoolID, personID int64, actor audit.Actor) error {
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		now := s.db.Now()
		tag, err := tx.Exec(ctx, `UPDATE legal_holds SET lifted_at = $3, lifted_by = $4
			WHERE school_id = $1 AND person_id = $2 AND lifted_at IS NULL`, schoolID, personID, now, database.NullID(actor.AccountID))
		if err != nil {
			return fmt.Errorf("retention: lift hold: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return apperr.New(apperr.Conflict, "This person's records are not held")
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: actor, Action: "retention.hold_lifted",
			Subject: "person " + strconv.FormatInt(personID, 10)})
	})
}

// HoldOn returns the hold on a person, or nil.
func (s *Store) HoldOn(ctx context.Context, schoolID, personID int64) (*Hold, error) {
	var h Hold
	err := s.db.Pool.QueryRow(ctx, `SELECT h.person_id, p.given_name || ' ' || p.family_name, h.reason, h.placed_at, coalesce(a.display_name, '')
		FROM legal_holds h JOIN people p ON p.id = h.person_id LEFT JOIN accounts a ON a.id = h.placed_by
		WHERE h.school_id = $1 AND h.person_id = $2 AND h.lifted_at IS NULL`, schoolID, personID).
		Scan(&h.PersonID, &h.PersonName, &h.Reason, &h.PlacedAt, &h.PlacedBy)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("retention: hold: %w", err)
	}
	return &h, nil
}

// Holds lists a school's standing holds.
func (s *Store) Holds(ctx context.Context, schoolID int64) ([]Hold, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT h.person_id, p.given_name || ' ' || p.family_name, h.reason, h.placed_at, coalesce(a.display_name, '')
		FROM legal_holds h JOIN people p ON p.id = h.person_id LEFT JOIN accounts a ON a.id = h.placed_by
		WHERE h.school_id = $1 AND h.lifted_at IS NULL ORDER BY h.placed_at`, schoolID)
	if err != nil {
		return nil, fmt.Errorf("retention: holds: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Hold, error) {
		var h Hold
		return h, r.Scan(&h.PersonID, &h.PersonName, &h.Reason, &h.PlacedAt, &h.PlacedBy)
	})
	if err != nil {
		return nil, fmt.Errorf("retention: holds: %w", err)
	}
	return out, nil
}

// AnonymisedAt returns when a person's names and contact details were
// erased, or nil.
func (s *Store) AnonymisedAt(ctx context.Context, schoolID, personID int64) (*time.Time, error) {
	var at *time.Time
	err := s.db.Pool.QueryRow(ctx, `SELECT anonymised_at FROM people WHERE school_id = $1 AND id = $2`, schoolID, personID).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "There is no such person")
	}
	if err != nil {
		return nil, fmt.Errorf("retention: anonymised: %w", err)
	}
	return at, nil
}
