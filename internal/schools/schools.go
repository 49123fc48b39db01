// Package schools holds the tenants: schools, each optionally in a trust.
package schools

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/database"
)

// School is a tenant.
type School struct {
	ID     int64
	Slug   string
	Name   string
	Colour string // "#1d70b8"
	// FamilyLinkDays is how long a parent's family link works.
	FamilyLinkDays int
}

var (
	slugRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}$`)
	colourRE = regexp.MustCompile(`^#[0-9a-f]{6}$`)
)

// Validate checks the school's fields.
func (s *School) Validate() error {
	var v apperr.Validation
	s.Name = strings.TrimSpace(s.Name)
	s.Colour = strings.ToLower(strings.TrimSpace(s.Colour))
	if s.Colour == "" {
		s.Colour = "#1d70b8"
	}
	v.Check(s.Name != "", "name", "Enter the school's name")
	v.Check(slugRE.MatchString(s.Slug), "slug", "The short name must be 2 to 63 lower-case letters, digits or hyphens")
	v.Check(colourRE.MatchString(s.Colour), "colour", "Enter the colour as # and six letters or digits, like #1d70b8")
	if s.FamilyLinkDays == 0 {
		s.FamilyLinkDays = 90
	}
	v.Check(s.FamilyLinkDays >= 1 && s.FamilyLinkDays <= 400, "family_link_days", "Family links must last between 1 and 400 days")
	return v.Err()
}

// Store reads and writes schools.
type Store struct{ db *database.DB }

// NewStore returns a Store.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

// CreateTx inserts s inside tx and sets its ID.
func CreateTx(ctx context.Context, tx pgx.Tx, s *School) error {
	if err := s.Validate(); err != nil {
		return err
	}
	err := tx.QueryRow(ctx, `INSERT INTO schools (slug, name, colour, family_link_days) VALUES ($1, $2, $3, $4) RETURNING id`,
		s.Slug, s.Name, s.Colour, s.FamilyLinkDays).Scan(&s.ID)
	if database.IsUniqueViolation(err, "") {
		return &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "slug", Message: "A school with that short name already exists"}}}
	}
	if err != nil {
		return fmt.Errorf("schools: create: %w", err)
	}
	return nil
}

// Get returns the school with id.
func (s *Store) Get(ctx context.Context, id int64) (School, error) {
	return s.one(ctx, `WHERE id = $1`, id)
}

// BySlug returns the school with slug.
func (s *Store) BySlug(ctx context.Context, slug string) (School, error) {
	return s.one(ctx, `WHERE slug = $1`, slug)
}

func (s *Store) one(ctx context.Context, where string, arg any) (School, error) {
	var sc School
	err := s.db.Pool.QueryRow(ctx, `SELECT id, slug, name, colour, family_link_days FROM schools `+where, arg).
		Scan(&sc.ID, &sc.Slug, &sc.Name, &sc.Colour, &sc.FamilyLinkDays)
	if errors.Is(err, pgx.ErrNoRows) {
		return School{}, apperr.New(apperr.NotFound, "There is no such school")
	}
	if err != nil {
		return School{}, fmt.Errorf("schools: get: %w", err)
	}
	return sc, nil
}

// List returns every school, by name.
func (s *Store) List(ctx context.Context) ([]School, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT id, slug, name, colour, family_link_days FROM schools ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("schools: list: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (School, error) {
		var sc School
		return sc, r.Scan(&sc.ID, &sc.Slug, &sc.Name, &sc.Colour, &sc.FamilyLinkDays)
	})
	if err != nil {
		return nil, fmt.Errorf("schools: list: %w", err)
	}
	return out, nil
}

// Update saves a school's name, colour and family-link period.
func (s *Store) Update(ctx context.Context, sc School, actor audit.Actor) error {
	if err := sc.Validate(); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		var old School
		err := tx.QueryRow(ctx, `SELECT name, colour, family_link_days FROM schools WHERE id = $1 FOR UPDATE`, sc.ID).
			Scan(&old.Name, &old.Colour, &old.FamilyLinkDays)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "There is no such school")
		}
		if err != nil {
			return fmt.Errorf("schools: update: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE schools SET name = $2, colour = $3, family_link_days = $4 WHERE id = $1`,
			sc.ID, sc.Name, sc.Colour, sc.FamilyLinkDays); err != nil {
			return fmt.Errorf("schools: update: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: sc.ID, At: s.db.Now(), Actor: actor, Action: "school.settings_changed",
			Subject: "school " + sc.Slug, Detail: map[string]string{
				"name": old.Name + " → " + sc.Name, "colour": old.Colour + " → " + sc.Colour,
				"family_link_days": fmt.Sprintf("%d → %d", old.FamilyLinkDays, sc.FamilyLinkDays)}})
	})
}
