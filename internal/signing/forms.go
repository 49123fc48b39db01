// Package signing holds forms (what a person signs), the requests derived
// from them (who owes which form now) and signatures (the immutable record
// that someone signed a version of a text).
package signing

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
	"signoff/internal/database"
	"signoff/internal/people"
	"signoff/internal/policies"
)

// Kind is the kind of form.
type Kind string

// The kinds of form.
const (
	Acknowledgement Kind = "acknowledgement" // "I have read and will comply"
	Consent         Kind = "consent"         // items answered yes or no
	Agreement       Kind = "agreement"       // several parties sign their part
)

// Renewal says when a form must be signed again.
type Renewal string

// The renewals.
const (
	EachVersion    Renewal = "each_version"    // on every major new version
	EachYear       Renewal = "each_year"       // every academic year, and on every major new version
	UntilWithdrawn Renewal = "until_withdrawn" // stands until withdrawn
	EachKeyStage   Renewal = "each_key_stage"  // consents: again when the child moves to a new key stage
)

// Audience is who a form is addressed to.
type Audience string

// The audiences.
const (
	StaffAudience   Audience = "staff"   // members of staff in chosen roles
	ParentsAudience Audience = "parents" // the parents of pupils in chosen year groups or classes
)

// Signer says who signs a parents' form for each child.
type Signer string

// The signers.
const (
	ByPerson   Signer = "person"      // staff forms: the person themselves
	OneParent  Signer = "one_parent"  // one parent with parental responsibility, for each child
	EachParent Signer = "each_parent" // each parent with parental responsibility, for each child
)

// Label describes the renewal to an admin.
func (r Renewal) Label() string {
	switch r {
	case EachVersion:
		return "Once, and again when a new version is published"
	case EachYear:
		return "Every academic year, and again when a new version is published"
	case UntilWithdrawn:
		return "Once, until withdrawn"
	case EachKeyStage:
		return "Again when the child moves to a new key stage, or when withdrawn"
	}
	return string(r)
}

// Form is what a person signs.
type Form struct {
	ID            int64
	SchoolID      int64
	PolicyID      int64 // 0 for a form that stands alone
	Kind          Kind
	Title         string
	Statement     string // the words the signer ticks
	AudienceRoles []people.StaffRole
	Renewal       Renewal
	DueOn         *time.Time
	CreatedAt     time.Time
	ClosedAt      *time.Time

	// Parents' forms.
	Audience     Audience
	YearGroups   []people.YearGroup
	Classes      []string
	Signer       Signer
	IntroMD      string
	SchoolPartMD string // the home-school agreement's three parts
	ParentPartMD string
	ChildPartMD  string
	TextSHA256   string
}

// InAudience reports whether a member of staff with role r is asked to sign.
func (f Form) InAudience(r people.StaffRole) bool {
	for _, a := range f.AudienceRoles {
		if a == r {
			return true
		}
	}
	return false
}

// FormInput is what an admin chooses when publishing a policy to staff.
type FormInput struct {
	Statement     string
	AudienceRoles []people.StaffRole
	Renewal       Renewal
	DueOn         *time.Time
}

// Validate tidies and checks the input.
func (in *FormInput) Validate() error {
	var v apperr.Validation
	in.Statement = strings.TrimSpace(in.Statement)
	v.Check(in.Statement != "", "statement", "Enter the statement people tick to sign, for example “I have read and understood this policy and will comply with it”")
	v.Check(utf8.RuneCountInString(in.Statement) <= 500, "statement", "The statement must be 500 characters or fewer")
	v.Check(len(in.AudienceRoles) > 0, "audience", "Choose who must sign: at least one staff role")
	for _, r := range in.AudienceRoles {
		if !r.Valid() {
			v.Add("audience", "Choose staff roles from the list")
			break
		}
	}
	switch in.Renewal {
	case EachVersion, EachYear:
	default:
		v.Add("renewal", "Choose when staff must sign again")
	}
	return v.Err()
}

// DefaultStatement is the statement offered for a policy acknowledgement.
func DefaultStatement(policyTitle string) string {
	return "I have read and understood the " + policyTitle + " and I will comply with it."
}

// Store reads and writes forms and signatures.
type Store struct{ db *database.DB }

// NewStore returns a Store.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

// Publish publishes a policy version and, in one transaction, opens (or
// updates) the policy's staff acknowledgement form so the chosen staff
// are asked to sign it, and tells them (NotifyPublished's emails, for a
// revision). The publishing rule is policies.PublishVersionTx's: a
// revision not yet approved is refused and nothing changes. baseURL is
// the site's address, for the links in the emails.
func (s *Store) Publish(ctx context.Context, schoolID, versionID int64, actor audit.Actor, in FormInput, baseURL string) (Form, error) {
	if err := in.Validate(); err != nil {
		return Form{}, err
	}
	now := s.db.Now()
	var f Form
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		v, err := policies.PublishVersionTx(ctx, tx, now, schoolID, versionID, actor)
		if err != nil {
			return err
		}
		var title string
		if err := tx.QueryRow(ctx, `SELECT title FROM policies WHERE id = $1`, v.PolicyID).Scan(&title); err != nil {
			return fmt.Errorf("signing: policy title: %w", err)
		}
		if f, err = upsertPolicyFormTx(ctx, tx, now, schoolID, v.PolicyID, title, actor, in); err != nil {
			return err
		}
		_, err = notifyPublishedTx(ctx, tx, now, schoolID, v.ID, baseURL)
		return err
	})
	return f, err
}

func upsertPolicyFormTx(ctx context.Context, tx pgx.Tx, now time.Time, schoolID, policyID int64, title string, actor audit.Actor, in FormInput) (Form, error) {
	roles := make([]string, len(in.AudienceRoles))
	for i, r := range in.AudienceRoles {
		roles[i] = string(r)
	}
	f := Form{SchoolID: schoolID, PolicyID: policyID, Kind: Acknowledgement, Title: title, Statement: in.Statement,
		AudienceRoles: in.AudienceRoles, Renewal: in.Renewal, DueOn: in.DueOn, CreatedAt: now}
	err := tx.QueryRow(ctx, `UPDATE forms SET title = $3, statement = $4, audience_staff_roles = $5, renewal = $6, due_on = $7, closed_at = NULL
		WHERE school_id = $1 AND policy_id = $2 AND kind = 'acknowledgement' RETURNING id, created_at`,
		schoolID, policyID, title, in.Statement, roles, in.Renewal, in.DueOn).Scan(&f.ID, &f.CreatedAt)
	action := "form.updated"
	if errors.Is(err, pgx.ErrNoRows) {
		action = "form.published"
		err = tx.QueryRow(ctx, `INSERT INTO forms (school_id, policy_id, kind, title, statement, audience_staff_roles, renewal, due_on, created_by, created_at)
			VALUES ($1, $2, 'acknowledgement', $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
			schoolID, policyID, title, in.Statement, roles, in.Renewal, in.DueOn, database.NullID(actor.AccountID), now).Scan(&f.ID)
	}
	if err != nil {
		return Form{}, fmt.Errorf("signing: save form: %w", err)
	}
	err = audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: actor, Action: action,
		Subject: fmt.Sprintf("form %d", f.ID), Detail: map[string]string{"title": title, "audience": strings.Join(roles, ","), "renewal": string(in.Renewal)}})
	return f, err
}

// FormColumns is the column list ScanForm reads (alias the table as f).
const FormColumns = `f.id, f.school_id, coalesce(f.policy_id, 0), f.kind, f.title, f.statement, f.audience_staff_roles::text[],
	f.renewal, f.due_on, f.created_at, f.closed_at, f.audience, f.audience_year_groups, f.audience_classes, f.signer,
	f.intro_md, f.school_part_md, f.parent_part_md, f.child_part_md, coalesce(f.text_sha256, '')`

const formColumns = FormColumns

// ScanForm reads a row selected with FormColumns, then extra destinations.
// The kinds are scanned as strings: pgx plans a scan into a named string
// type by reflection, afresh for every row a QueryRow reads.
func ScanForm(r pgx.Row, extra ...any) (Form, error) {
	var f Form
	var kind, renewal, audience, signer string
	var roles []string
	var years []int16
	dest := append([]any{&f.ID, &f.SchoolID, &f.PolicyID, &kind, &f.Title, &f.Statement, &roles, &renewal, &f.DueOn, &f.CreatedAt, &f.ClosedAt,
		&audience, &years, &f.Classes, &signer, &f.IntroMD, &f.SchoolPartMD, &f.ParentPartMD, &f.ChildPartMD, &f.TextSHA256}, extra...)
	if err := r.Scan(dest...); err != nil {
		return Form{}, err
	}
	f.Kind, f.Renewal, f.Audience, f.Signer = Kind(kind), Renewal(renewal), Audience(audience), Signer(signer)
	for _, r := range roles {
		f.AudienceRoles = append(f.AudienceRoles, people.StaffRole(r))
	}
	for _, y := range years {
		f.YearGroups = append(f.YearGroups, people.YearGroup(y))
	}
	return f, nil
}

func scanForm(r pgx.Row, extra ...any) (Form, error) { return ScanForm(r, extra...) }

// Form returns a form of the school.
func (s *Store) Form(ctx context.Context, schoolID, id int64) (Form, error) {
	var f Form
	err := formInto(&f)(s.db.Pool.QueryRow(ctx, formSQL, schoolID, id))
	return f, err
}

const formSQL = `SELECT ` + formColumns + ` FROM forms f WHERE f.school_id = $1 AND f.id = $2`

func formInto(dst *Form) func(pgx.Row) error {
	return database.One(func(row pgx.Row) (err error) {
		*dst, err = scanForm(row)
		return err
	}, apperr.New(apperr.NotFound, "There is no such form"), "signing: get form")
}

// PolicyForm returns the staff acknowledgement form of a policy, if any.
func (s *Store) PolicyForm(ctx context.Context, schoolID, policyID int64) (Form, bool, error) {
	f, err := scanForm(s.db.Pool.QueryRow(ctx, `SELECT `+formColumns+` FROM forms f
		WHERE f.school_id = $1 AND f.policy_id = $2 AND f.kind = 'acknowledgement'`, schoolID, policyID))
	if errors.Is(err, pgx.ErrNoRows) {
		return Form{}, false, nil
	}
	if err != nil {
		return Form{}, false, fmt.Errorf("signing: policy form: %w", err)
	}
	return f, true, nil
}
