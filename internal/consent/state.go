package consent

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/database"
	"signoff/internal/limits"
	"signoff/internal/people"
	"signoff/internal/schooltime"
	"signoff/internal/signing"
)

// State is what a child may do for one consent item now.
type State int

// The states. NotReturned counts as no: nothing is assumed.
const (
	NotReturned State = iota
	Given
	Refused
)

// ChildConsent is one child's current consent on a form.
type ChildConsent struct {
	Pupil    people.Person
	Items    map[int64]State
	Conflict map[int64]bool // parents' current answers disagree (the "no" applies)
	Returned bool
	Records  []Record // the current records that count
	// ChildSigned and SchoolSigned are for agreements.
	ChildSigned bool
	// Left is true for a pupil who has left: nothing they were given
	// counts any more (a leaver may not be photographed on a consent
	// given while they were here).
	Left bool
}

// NoPhotos reports whether no photo use is allowed (or nothing returned).
func (c ChildConsent) NoPhotos(items []Item) bool {
	for _, it := range items {
		if it.Photo && c.Items[it.ID] == Given {
			return false
		}
	}
	return true
}

// Restricted reports whether any consent item is not given.
func (c ChildConsent) Restricted(items []Item) bool {
	for _, it := range items {
		if it.Kind == ConsentItem && c.Items[it.ID] != Given {
			return true
		}
	}
	return false
}

// HasConflict reports whether parents disagree on any item.
func (c ChildConsent) HasConflict() bool {
	for _, v := range c.Conflict {
		if v {
			return true
		}
	}
	return false
}

// effective works out a child's state from the current records that
// count (Record.Counts, judged by SQL): an item is given only when every
// parent who answered said yes.
func effective(items []Item, pupil people.Person, recs []Record, now time.Time) ChildConsent {
	c := ChildConsent{Pupil: pupil, Items: map[int64]State{}, Conflict: map[int64]bool{}}
	if pupil.LeftAt != nil && !pupil.LeftAt.After(now) {
		c.Left = true
		return c
	}
	for _, rec := range recs {
		if !rec.Counts {
			continue
		}
		if rec.Part == PartChild {
			c.ChildSigned = true
			continue
		}
		if rec.Part == PartSchool {
			continue
		}
		c.Returned = true
		c.Records = append(c.Records, rec)
		for _, it := range items {
			if it.Kind != ConsentItem {
				continue
			}
			yes, ok := rec.Answers[it.ID]
			if !ok {
				continue
			}
			switch {
			case !yes && c.Items[it.ID] == Given:
				c.Conflict[it.ID] = true
				c.Items[it.ID] = Refused
			case !yes:
				c.Items[it.ID] = Refused
			case yes && c.Items[it.ID] == Refused:
				c.Conflict[it.ID] = true
			case yes:
				c.Items[it.ID] = Given
			}
		}
	}
	return c
}

// Consents returns the current consent of every pupil the form is
// addressed to in one class (or all classes when class is ""), those
// with restrictions first, then by name.
func (s *Store) Consents(ctx context.Context, schoolID, formID int64, class string) (signing.Form, []Item, []ChildConsent, error) {
	f, items, err := s.Form(ctx, schoolID, formID)
	if err != nil {
		return f, nil, nil, err
	}
	now := s.db.Now()
	pupils, err := people.NewStore(s.db).ListPupils(ctx, schoolID, people.PupilFilter{RegClass: class})
	if err != nil {
		return f, nil, nil, err
	}
	rows, err := s.db.Pool.Query(ctx, currentRecords+`
		WHERE s.school_id = $2 AND s.form_id = $3 AND s.pupil_id IS NOT NULL
		  AND (s.part = 'child' OR EXISTS (SELECT 1 FROM guardianships g WHERE g.parent_id = s.person_id AND g.pupil_id = s.pupil_id
		      AND g.parental_responsibility))`, schooltime.AcademicYear(now), schoolID, formID)
	if err != nil {
		return f, nil, nil, fmt.Errorf("consent: class records: %w", err)
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Record, error) { return scanRecord(r) })
	if err != nil {
		return f, nil, nil, fmt.Errorf("consent: class records: %w", err)
	}
	byPupil := map[int64][]Record{}
	for _, rec := range all {
		byPupil[rec.PupilID] = append(byPupil[rec.PupilID], rec)
	}
	var out []ChildConsent
	for _, p := range pupils {
		if !ForPupil(f, p) {
			continue
		}
		out = append(out, effective(items, p, byPupil[p.ID], now))
	}
	sort.SliceStable(out, func(i, j int) bool {
		ri, rj := rank(out[i], items), rank(out[j], items)
		if ri != rj {
			return ri < rj
		}
		return strings.ToLower(out[i].Pupil.FamilyName+" "+out[i].Pupil.GivenName) < strings.ToLower(out[j].Pupil.FamilyName+" "+out[j].Pupil.GivenName)
	})
	return f, items, out, nil
}

// rank puts "do not photograph" first, then any restriction, then the rest.
func rank(c ChildConsent, items []Item) int {
	switch {
	case c.NoPhotos(items) && hasPhotoItems(items):
		return 0
	case c.Restricted(items):
		return 1
	}
	return 2
}

func hasPhotoItems(items []Item) bool {
	for _, it := range items {
		if it.Photo {
			return true
		}
	}
	return false
}

// ChildForm is one form as a parent sees it for one child.
type ChildForm struct {
	Form    signing.Form
	Items   []Item
	Owed    bool         // this parent is asked to complete it now
	Mine    *Record      // this parent's record that counts, if any
	Others  []Record     // other parents' records that count
	State   ChildConsent // what the child may do now
	CanSign bool         // this parent has parental responsibility
}

// ChildForms is a parent's view of one child.
type ChildForms struct {
	Link  people.Link
	Forms []ChildForm
}

// ForParent returns, for each of a parent's current children, the forms
// addressed to them: what is owed and what has been given. The family
// pages list who completed what, not the answers: each ChildForm's Items
// and State are left empty (ChildForm reads them for one form).
func (s *Store) ForParent(ctx context.Context, schoolID, parentID int64) ([]ChildForms, error) {
	_, out, err := s.family(ctx, schoolID, parentID, false)
	return out, err
}

// Family is the parent's own record (people.Get, NotFound for none) and
// ForParent's children with their forms: the family page.
func (s *Store) Family(ctx context.Context, schoolID, parentID int64) (people.Person, []ChildForms, error) {
	return s.family(ctx, schoolID, parentID, true)
}

// family reads everything in one round trip whatever the family's size
// (the reads depend only on the school and the parent): the children
// (with the parent, when asked, in the same statement), the school's open
// forms, and every current record of the parent's children on them. The
// forms' questions are not read: no family list shows them (issue 15:
// the family page sends three reads where it sent five).
func (s *Store) family(ctx context.Context, schoolID, parentID int64, withParent bool) (people.Person, []ChildForms, error) {
	var (
		parent   people.Person
		children []people.Link
		forms    []signing.Form
		recs     map[[2]int64][]Record
		r        database.Reads
	)
	now := s.db.Now()
	r.GenericPlans() // lookups by school and parent: the same plan for every family
	if withParent {
		people.QueueParentAndChildren(&r, schoolID, parentID, &parent, &children)
	} else {
		people.QueueChildrenOf(&r, schoolID, parentID, &children)
	}
	r.Rows(formsSQL, []any{schoolID}, func(rows pgx.Rows) (err error) {
		forms, err = collectForms(rows)
		return err
	})
	r.Rows(familyRecordsSQL, []any{schooltime.AcademicYear(now), schoolID, parentID}, func(rows pgx.Rows) (err error) {
		recs, err = collectCurrent(rows)
		return err
	})
	if err := s.db.Send(ctx, &r); err != nil {
		return people.Person{}, nil, err
	}
	var out []ChildForms
	for _, link := range children {
		cf := ChildForms{Link: link, Forms: make([]ChildForm, 0, len(forms))}
		for _, f := range forms {
			if !ForPupil(f, link.Person) {
				continue
			}
			cf.Forms = append(cf.Forms, childForm(f, link, parentID, recs[[2]int64{f.ID, link.Person.ID}]))
		}
		out = append(out, cf)
	}
	return parent, out, nil
}

// familyRecordsSQL is family's read of every current record of a parent's
// children on the school's open parents' forms. It is built once: the
// family page runs it on every request. The records' form rf (read for
// the rule) is the open form condition's too: one join, as many as the
// subquery on forms it replaced.
const familyRecordsSQL = currentRecords + `
		WHERE s.school_id = $2 AND rf.school_id = $2 AND rf.audience = 'parents' AND rf.closed_at IS NULL
		  AND s.pupil_id IN (SELECT g.pupil_id FROM guardianships g WHERE g.school_id = $2 AND g.parent_id = $3)
		ORDER BY s.signed_at DESC, s.id DESC`

// ChildForm returns one form for one of the parent's children; another
// family's child, or a form not addressed to the child, is not found.
func (s *Store) ChildForm(ctx context.Context, schoolID, parentID, pupilID, formID int64) (people.Link, ChildForm, error) {
	link, err := people.NewStore(s.db).ChildOf(ctx, schoolID, parentID, pupilID)
	if err != nil {
		return link, ChildForm{}, err
	}
	f, _, err := s.Form(ctx, schoolID, formID)
	if err != nil || !ForPupil(f, link.Person) {
		return link, ChildForm{}, apperr.New(apperr.NotFound, "Page not found")
	}
	items, err := s.items(ctx, f.ID)
	if err != nil {
		return link, ChildForm{}, err
	}
	now := s.db.Now()
	recs, err := s.currentForPupil(ctx, s.db.Pool, f, link.Person.ID, now)
	if err != nil {
		return link, ChildForm{}, err
	}
	cf := childForm(f, link, parentID, recs)
	cf.Items, cf.State = items, effective(items, link.Person, recs, now)
	return link, cf, nil
}

// childForm is what a family list shows of one form for one child: what
// is owed, the parent's own record and the others' (no Items or State).
func childForm(f signing.Form, link people.Link, parentID int64, recs []Record) ChildForm {
	cf := ChildForm{Form: f, CanSign: link.ParentalResponsibility}
	var counting []Record
	for _, rec := range recs {
		if !rec.Counts || rec.Part == PartChild || rec.Part == PartSchool {
			continue
		}
		counting = append(counting, rec)
		if rec.PersonID == parentID {
			r := rec
			cf.Mine = &r
		} else {
			cf.Others = append(cf.Others, rec)
		}
	}
	switch f.Signer {
	case signing.EachParent:
		cf.Owed = cf.CanSign && cf.Mine == nil
	default:
		cf.Owed = cf.CanSign && len(counting) == 0
	}
	return cf
}

// ChildInput is a child signing their part of an agreement in class.
type ChildInput struct {
	SchoolID  int64
	FormID    int64
	PupilID   int64
	Agreed    bool
	TypedName string
	Drawn     []byte
	Witness   people.Person // the teacher whose screen it is
	Actor     audit.Actor
	UserAgent string
}

// SignChild records a child's part, signed in class with the teacher as
// witness. Once a year: signing again this year returns the record.
func (s *Store) SignChild(ctx context.Context, in ChildInput) (Record, error) {
	now := s.db.Now()
	var rec Record
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, int32(in.FormID), int32(in.PupilID)); err != nil {
			return fmt.Errorf("consent: lock: %w", err)
		}
		f, err := signing.ScanForm(tx.QueryRow(ctx, `SELECT `+signing.FormColumns+` FROM forms f WHERE f.school_id = $1 AND f.id = $2 AND f.kind = 'agreement'`,
			in.SchoolID, in.FormID))
		if err != nil {
			return apperr.New(apperr.NotFound, "There is no such agreement")
		}
		pupil, err := loadChild(ctx, tx, in.SchoolID, in.PupilID)
		if err != nil || !ForPupil(f, pupil.Person) {
			return apperr.New(apperr.NotFound, "Page not found")
		}
		if in.Witness.Kind != people.Staff || in.Witness.LeftAt != nil {
			return apperr.New(apperr.Forbidden, "Only a member of staff can open class mode")
		}
		prev, ok, err := s.ownCurrent(ctx, tx, f, pupil.ID, pupil.ID, now)
		if err != nil {
			return err
		}
		if ok && prev.Counts {
			rec = prev
			return nil
		}
		var v apperr.Validation
		v.Check(in.Agreed, "agree", "Tick the box to say you agree")
		in.TypedName = strings.Join(strings.Fields(in.TypedName), " ")
		v.Check(in.TypedName != "" || len(in.Drawn) > 0, "typed_name", "Write your name")
		switch {
		case len(in.Drawn) > MaxDrawing:
			v.Add("typed_name", "The drawing is too big: clear it and try again")
		case len(in.Drawn) > 0 && !DrawingFits(in.Drawn):
			v.Add("typed_name", fmt.Sprintf("The drawing could not be used: it must be a picture of at most %d × %d dots. Clear it and try again", MaxDrawingSide, MaxDrawingSide))
		}
		v.MaxLen("typed_name", in.TypedName, limits.Name, "name")
		if err := v.Err(); err != nil {
			return err
		}
		if in.TypedName == "" {
			in.TypedName = pupil.DisplayName()
		}
		rec, err = s.insert(ctx, tx, now, f, insertArgs{pupil: pupil, person: pupil.Person, part: PartChild, answers: map[int64]bool{},
			typed: in.TypedName, drawn: in.Drawn, method: signing.Class, supersedes: prev.ID, witness: in.Witness.ID, actor: in.Actor, ua: in.UserAgent})
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: in.SchoolID, At: now, Actor: in.Actor, Action: "agreement.child_signed",
			Subject: "signature " + rec.Reference, Detail: map[string]string{"form": fmt.Sprint(f.ID), "pupil": fmt.Sprint(pupil.ID),
				"witness": in.Witness.FullName(), "seal": rec.Seal}})
	})
	return rec, err
}

// SignSchool records the school's part of an agreement, signed once a
// year on the school's behalf (by the headteacher).
func (s *Store) SignSchool(ctx context.Context, schoolID, formID int64, signer people.Person, typedName string, actor audit.Actor) (Record, error) {
	now := s.db.Now()
	var rec Record
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		f, err := signing.ScanForm(tx.QueryRow(ctx, `SELECT `+signing.FormColumns+` FROM forms f WHERE f.school_id = $1 AND f.id = $2 AND f.kind = 'agreement' FOR UPDATE`,
			schoolID, formID))
		if err != nil {
			return apperr.New(apperr.NotFound, "There is no such agreement")
		}
		typedName = strings.Join(strings.Fields(typedName), " ")
		if typedName == "" {
			return &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "typed_name", Message: "Type your full name to sign on the school's behalf"}}}
		}
		var v apperr.Validation
		if v.MaxLen("typed_name", typedName, limits.Name, "name"); v.Err() != nil {
			return v.Err()
		}
		existing, err := scanRecord(tx.QueryRow(ctx, anyRecords+`
			WHERE s.form_id = $2 AND s.part = 'school' AND s.academic_year = $1 ORDER BY s.id DESC LIMIT 1`, schooltime.AcademicYear(now), f.ID))
		if err == nil {
			rec = existing
			return nil
		}
		rec, err = s.insert(ctx, tx, now, f, insertArgs{person: signer, part: PartSchool, answers: map[int64]bool{}, typed: typedName,
			method: signing.Web, actor: actor})
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: actor, Action: "agreement.school_signed",
			Subject: "signature " + rec.Reference, Detail: map[string]string{"form": fmt.Sprint(f.ID), "seal": rec.Seal}})
	})
	return rec, err
}

// SchoolSignature returns this year's school part of an agreement, if signed.
func (s *Store) SchoolSignature(ctx context.Context, schoolID, formID int64) (Record, bool, error) {
	rec, err := scanRecord(s.db.Pool.QueryRow(ctx, anyRecords+`
		WHERE s.school_id = $2 AND s.form_id = $3 AND s.part = 'school' AND s.academic_year = $1 ORDER BY s.id DESC LIMIT 1`,
		schooltime.AcademicYear(s.db.Now()), schoolID, formID))
	if err == pgx.ErrNoRows {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, fmt.Errorf("consent: school part: %w", err)
	}
	return rec, true, nil
}

// PupilConsent is a pupil's current consent on one form.
type PupilConsent struct {
	Form  signing.Form
	Items []Item
	State ChildConsent
}

// ConsentsOf returns, for each pupil, their current consent on every
// open consent form addressed to their parents: three queries whatever
// the number of pupils and forms.
func (s *Store) ConsentsOf(ctx context.Context, schoolID int64, pupils []people.Person) (map[int64][]PupilConsent, error) {
	out := map[int64][]PupilConsent{}
	if len(pupils) == 0 {
		return out, nil
	}
	forms, err := s.Forms(ctx, schoolID)
	if err != nil {
		return nil, err
	}
	forms = slices.DeleteFunc(forms, func(f signing.Form) bool { return f.Kind != signing.Consent })
	if len(forms) == 0 {
		return out, nil
	}
	formIDs := make([]int64, len(forms))
	for i, f := range forms {
		formIDs[i] = f.ID
	}
	items, err := s.itemsOf(ctx, formIDs)
	if err != nil {
		return nil, err
	}
	pupilIDs := make([]int64, len(pupils))
	for i, p := range pupils {
		pupilIDs[i] = p.ID
	}
	now := s.db.Now()
	rows, err := s.db.Pool.Query(ctx, currentRecords+`
		WHERE s.school_id = $2 AND s.form_id = ANY ($3) AND s.pupil_id = ANY ($4)
		  AND (s.part = 'child' OR EXISTS (SELECT 1 FROM guardianships g WHERE g.parent_id = s.person_id AND g.pupil_id = s.pupil_id
		      AND g.parental_responsibility))`, schooltime.AcademicYear(now), schoolID, formIDs, pupilIDs)
	if err != nil {
		return nil, fmt.Errorf("consent: records: %w", err)
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Record, error) { return scanRecord(r) })
	if err != nil {
		return nil, fmt.Errorf("consent: records: %w", err)
	}
	type key struct{ form, pupil int64 }
	recs := map[key][]Record{}
	for _, rec := range all {
		k := key{rec.FormID, rec.PupilID}
		recs[k] = append(recs[k], rec)
	}
	for _, p := range pupils {
		for _, f := range forms {
			if ForPupil(f, p) {
				out[p.ID] = append(out[p.ID], PupilConsent{Form: f, Items: items[f.ID], State: effective(items[f.ID], p, recs[key{f.ID, p.ID}], now)})
			}
		}
	}
	return out, nil
}
