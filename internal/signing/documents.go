package signing

import (
	"context"

	"github.com/jackc/pgx/v5"

	"signoff/internal/database"
	"signoff/internal/people"
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
