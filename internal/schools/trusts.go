package schools

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/database"
)

// Trust groups schools; its administrators see across them.
type Trust struct {
	ID   int64
	Slug string
	Name string
}

// Validate tidies and checks the trust's fields; an empty slug is made
// from the name.
func (t *Trust) Validate() error {
	var v apperr.Validation
	t.Name = strings.TrimSpace(t.Name)
	t.Slug = strings.TrimSpace(t.Slug)
	switch {
	case t.Name == "":
		v.Add("name", "Enter the trust's name")
	case utf8.RuneCountInString(t.Name) > MaxName || strings.ContainsFunc(t.Name, unicode.IsControl):
		v.Add("name", fmt.Sprintf("The trust's name must be one line of %d characters or fewer", MaxName))
	}
	if t.Slug == "" && t.Name != "" {
		t.Slug = SlugFrom(t.Name)
	}
	v.Check(slugRE.MatchString(t.Slug), "slug", "The short name must be 2 to 63 lower-case letters, digits or hyphens, starting with a letter or digit")
	return v.Err()
}

// CreateTrust creates a trust, audited in the installation's own chain.
func (s *Store) CreateTrust(ctx context.Context, t *Trust, actor audit.Actor) error {
	if err := t.Validate(); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO trusts (slug, name) VALUES ($1, $2) RETURNING id`, t.Slug, t.Name).Scan(&t.ID)
		if database.IsUniqueViolation(err, "") {
			return &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "slug", Message: "A trust with the short name " + t.Slug + " already exists: choose another"}}}
		}
		if err != nil {
			return fmt.Errorf("schools: create trust: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{At: s.db.Now(), Actor: actor, Action: "trust.created",
			Subject: "trust " + t.Slug, Detail: map[string]string{"name": t.Name}})
	})
}

// TrustBySlug returns the trust with slug.
func (s *Store) TrustBySlug(ctx context.Context, slug string) (Trust, error) {
	return s.trust(ctx, `WHERE slug = $1`, slug)
}

// TrustByID returns the trust with id.
func (s *Store) TrustByID(ctx context.Context, id int64) (Trust, error) {
	return s.trust(ctx, `WHERE id = $1`, id)
}

func (s *Store) trust(ctx context.Context, where string, arg any) (Trust, error) {
	var t Trust
	err := s.db.Pool.QueryRow(ctx, `SELECT id, slug, name FROM trusts `+where, arg).Scan(&t.ID, &t.Slug, &t.Name)
	if errors.Is(err, pgx.ErrNoRows) {
		return Trust{}, apperr.New(apperr.NotFound, "There is no such trust")
	}
	if err != nil {
		return Trust{}, fmt.Errorf("schools: trust: %w", err)
	}
	return t, nil
}

// FreeSlugTx returns base, or base with -2, -3, ... added, whichever no
// school uses yet.
func FreeSlugTx(ctx context.Context, tx pgx.Tx, base string) (string, error) {
	for i := 1; i < 1000; i++ {
		slug := base
		if i > 1 {
			suffix := fmt.Sprintf("-%d", i)
			if len(base)+len(suffix) > 63 {
				base = strings.TrimRight(base[:63-len(suffix)], "-")
			}
			slug = base + suffix
		}
		var taken bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schools WHERE slug = $1)`, slug).Scan(&taken); err != nil {
			return "", fmt.Errorf("schools: free slug: %w", err)
		}
		if !taken {
			return slug, nil
		}
	}
	return "", apperr.New(apperr.Conflict, "Every short name like %s is taken: choose one with --slug", base)
}
