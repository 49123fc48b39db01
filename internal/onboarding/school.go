// Package onboarding is how a real school starts: a school and its first
// administrator (from `signoff school add`, the first-run set-up page or
// a trust administrator), the first-run set-up code, the going-live
// checklist, staff invitations and a trust's administrators.
package onboarding

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/auth"
	"signoff/internal/database"
	"signoff/internal/people"
	"signoff/internal/schools"
)

// NewSchool is what it takes to start a school.
type NewSchool struct {
	Name      string
	Slug      string // "" to make one from the name
	TrustSlug string // "" for no trust (CLI)
	TrustID   int64  // or the trust by id (a trust administrator's page)
	// AdminName and AdminEmail are the first administrator's.
	AdminName  string
	AdminEmail string
	// AdminPassword, when set, is the administrator's password (the
	// first-run page); otherwise a set-up link is issued.
	AdminPassword, ConfirmPassword string
}

// Created is what CreateSchool made.
type Created struct {
	School  schools.School
	Account auth.Account
	// SetUpToken is the administrator's set-up link token ("" when a
	// password was given).
	SetUpToken string
}

// Deliver queues, inside the transaction that made it, the email that
// carries a new account's set-up link.
type Deliver func(ctx context.Context, tx pgx.Tx, sc schools.School, a auth.Account, token string) error

// Validate tidies and checks the fields that do not need the database.
func (n *NewSchool) Validate() error {
	var v apperr.Validation
	n.Name = strings.TrimSpace(n.Name)
	n.Slug = strings.ToLower(strings.TrimSpace(n.Slug))
	n.AdminName = strings.TrimSpace(n.AdminName)
	n.AdminEmail = strings.ToLower(strings.TrimSpace(n.AdminEmail))
	switch {
	case n.Name == "":
		v.Add("name", "Enter the school's name")
	case utf8.RuneCountInString(n.Name) > schools.MaxName || strings.ContainsFunc(n.Name, unicode.IsControl):
		v.Add("name", fmt.Sprintf("The school's name must be one line of %d characters or fewer", schools.MaxName))
	}
	v.Check(n.Slug == "" || schools.ValidSlug(n.Slug), "slug", "The short name must be 2 to 63 lower-case letters, digits or hyphens, starting with a letter or digit")
	if n.AdminName == "" && n.AdminEmail != "" {
		n.AdminName = nameFromEmail(n.AdminEmail)
	}
	switch {
	case n.AdminName == "":
		v.Add("admin_name", "Enter the administrator's name")
	case utf8.RuneCountInString(n.AdminName) > 200 || strings.ContainsFunc(n.AdminName, unicode.IsControl):
		v.Add("admin_name", "The administrator's name must be one line of 200 characters or fewer")
	}
	p := people.Person{Kind: people.Staff, StaffRole: people.Support, GivenName: "x", FamilyName: "x", Email: n.AdminEmail}
	if n.AdminEmail == "" {
		v.Add("admin_email", "Enter the administrator's email address")
	} else if err := p.Validate(); err != nil || len(n.AdminEmail) > 254 {
		v.Add("admin_email", "Enter the administrator's email address in the right format, like office@school.example.sch.uk")
	}
	if n.AdminPassword != "" || n.ConfirmPassword != "" {
		var pv apperr.Validation
		auth.CheckNewPassword(&pv, n.AdminEmail, n.AdminPassword, n.ConfirmPassword)
		for _, f := range apperr.FieldsOf(pv.Err()) {
			v.Add(f.Field, f.Message)
		}
	}
	return v.Err()
}

// nameFromEmail guesses "Karen Holloway" from "karen.holloway@...".
func nameFromEmail(email string) string {
	local, _, _ := strings.Cut(email, "@")
	parts := strings.FieldsFunc(local, func(r rune) bool { return r == '.' || r == '_' || r == '-' || r == '+' })
	for i, p := range parts {
		parts[i] = strings.ToUpper(p[:1]) + p[1:]
	}
	return strings.Join(parts, " ")
}

// splitName makes a given and a family name of "Karen Holloway" (one word:
// both the same, as people records need both).
func splitName(name string) (given, family string) {
	f := strings.Fields(name)
	if len(f) == 1 {
		return f[0], f[0]
	}
	return strings.Join(f[:len(f)-1], " "), f[len(f)-1]
}

// Store starts schools and their administrators.
type Store struct {
	db       *database.DB
	accounts *auth.Store
}

// NewStore returns a Store on db.
func NewStore(db *database.DB) *Store { return &Store{db: db, accounts: auth.NewStore(db)} }

// CreateSchool creates a school and its first administrator (an account
// with the admin and staff roles, and their staff record), with a set-up
// link unless a password is given, in one transaction. deliver, when not
// nil, queues the email carrying the link in the same transaction.
func (s *Store) CreateSchool(ctx context.Context, n NewSchool, actor audit.Actor, deliver Deliver) (Created, error) {
	var out Created
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = s.createSchoolTx(ctx, tx, n, actor, deliver)
		return err
	})
	return out, err
}

func (s *Store) createSchoolTx(ctx context.Context, tx pgx.Tx, n NewSchool, actor audit.Actor, deliver Deliver) (Created, error) {
	if err := n.Validate(); err != nil {
		return Created{}, err
	}
	now := s.db.Now()
	sc := schools.School{Name: n.Name, Slug: n.Slug, TrustID: n.TrustID}
	if n.TrustSlug != "" {
		var trustID int64
		err := tx.QueryRow(ctx, `SELECT id FROM trusts WHERE slug = $1`, strings.ToLower(strings.TrimSpace(n.TrustSlug))).Scan(&trustID)
		if err == pgx.ErrNoRows {
			return Created{}, &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "trust", Message: "There is no trust with the short name " + n.TrustSlug + " (make one with signoff trust add)"}}}
		}
		if err != nil {
			return Created{}, fmt.Errorf("onboarding: trust: %w", err)
		}
		sc.TrustID = trustID
	}
	if sc.Slug == "" {
		slug, err := schools.FreeSlugTx(ctx, tx, schools.SlugFrom(n.Name))
		if err != nil {
			return Created{}, err
		}
		sc.Slug = slug
	}
	var taken bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE email = $1)`, n.AdminEmail).Scan(&taken); err != nil {
		return Created{}, fmt.Errorf("onboarding: account email: %w", err)
	}
	if taken {
		return Created{}, &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "admin_email",
			Message: "An account with this email address already exists: each administrator needs an address of their own"}}}
	}
	if err := schools.CreateTx(ctx, tx, &sc); err != nil {
		return Created{}, err
	}
	given, family := splitName(n.AdminName)
	person := people.Person{SchoolID: sc.ID, Kind: people.Staff, StaffRole: people.Support, GivenName: given, FamilyName: family,
		Email: n.AdminEmail, JobTitle: "School administrator"}
	if err := people.CreateTx(ctx, tx, &person); err != nil {
		return Created{}, err
	}
	a := auth.Account{SchoolID: sc.ID, PersonID: person.ID, Email: n.AdminEmail, DisplayName: n.AdminName,
		Roles: []auth.Role{auth.Admin, auth.Staff}}
	if err := auth.CreateAccountTx(ctx, tx, &a, n.AdminPassword); err != nil {
		return Created{}, err
	}
	if err := audit.Record(ctx, tx, audit.Entry{SchoolID: sc.ID, At: now, Actor: actor, Action: "school.created",
		Subject: "school " + sc.Slug, Detail: map[string]string{"name": sc.Name, "administrator": n.AdminEmail}}); err != nil {
		return Created{}, err
	}
	out := Created{School: sc, Account: a}
	if n.AdminPassword == "" {
		token, err := auth.IssueSetUpLinkTx(ctx, tx, now, sc.ID, a.ID, actor)
		if err != nil {
			return Created{}, err
		}
		out.SetUpToken = token
		if deliver != nil {
			if err := deliver(ctx, tx, sc, a, token); err != nil {
				return Created{}, err
			}
		}
	}
	return out, nil
}
