package signing

import (
	"context"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/database"
	"signoff/internal/people"
	"signoff/internal/policies"
	"signoff/internal/schooltime"
)

// Documents is a member of staff's home page: the person, what they must
// sign now (ToSign) and every signature they gave (SignaturesOf).
type Documents struct {
	Person people.Person
	Owed   []Owed
	Signed []Signature
}

// DocumentsOf reads a person's Documents in one round trip: the three
// reads depend only on the school and the person, so they go together.
// A person of the school who is not found is NotFound.
func (s *Store) DocumentsOf(ctx context.Context, schoolID, personID int64) (Documents, error) {
	var d Documents
	var r database.Reads
	people.QueueGet(&r, schoolID, personID, &d.Person)
	r.Rows(toSignSQL, []any{schoolID, personID, schooltime.AcademicYear(s.db.Now())}, func(rows pgx.Rows) (err error) {
		d.Owed, err = collectOwed(rows)
		return err
	})
	r.Rows(signaturesOfSQL, []any{schoolID, personID}, func(rows pgx.Rows) (err error) {
		d.Signed, err = collectSignaturesOf(rows)
		return err
	})
	if err := s.db.Send(ctx, &r); err != nil {
		return Documents{}, err
	}
	if !mayOwe(d.Person) {
		d.Owed = nil
	}
	return d, nil
}

// SignPage is what a form's signing page shows a member of staff: the
// person, the form, the version to sign now and the signature that
// already counts, if any.
type SignPage struct {
	Person     people.Person
	Form       Form
	Version    policies.Version
	Signed     Signature
	HasSigned  bool
	hasVersion bool
}

// SignPageOf reads a SignPage in one round trip. The person and the form
// of the school must exist (NotFound); a form not addressed to the person
// (a leaver, another role, a parents' form) is NotFound, as is one with
// no published version.
func (s *Store) SignPageOf(ctx context.Context, schoolID, personID, formID int64) (SignPage, error) {
	var pg SignPage
	var r database.Reads
	people.QueueGet(&r, schoolID, personID, &pg.Person)
	r.Row(formSQL, []any{schoolID, formID}, formInto(&pg.Form))
	policies.QueueVersionOf(&r, `SELECT version_id FROM form_current WHERE form_id = $2`, []any{schoolID, formID}, &pg.Version, &pg.hasVersion)
	r.Row(currentSignatureSQL, []any{schoolID, formID, personID, schooltime.AcademicYear(s.db.Now())}, currentInto(&pg.Signed, &pg.HasSigned))
	if err := s.db.Send(ctx, &r); err != nil {
		return SignPage{}, err
	}
	if !mayOwe(pg.Person) || !pg.Form.InAudience(pg.Person.StaffRole) {
		return SignPage{}, apperr.New(apperr.NotFound, "Page not found")
	}
	if !pg.hasVersion {
		return SignPage{}, apperr.New(apperr.NotFound, "This form has no published version")
	}
	return pg, nil
}
