// Package mis reads the people exports of a school's management
// information system (SIMS, Arbor, Bromcom and the like) and applies them.
//
// A school exports three CSV files: staff, pupils and contacts (the
// parents and carers of each pupil). Read them into Files and call
// Preview to see what would change, then Apply to change it in one
// transaction. The kind of each file is recognised from its headers, and
// columns are found by header name whatever their order; a header
// Signoff does not recognise is reported, and File.Mapping can say what
// it holds (header → field name, see FieldsFor and the Field* constants).
//
// People are matched by their MIS identifier (staff code, UPN), then by
// email, so importing again updates rather than duplicates. Parents and
// carers have no MIS identifier: they are matched by email, else by first
// name, last name and mobile number, and a parent listed for two pupils
// is one person with two links. People missing from a file are marked as
// having left (never deleted); a leaver who reappears is marked as back.
//
// A row that cannot be imported is reported with its line number as a
// text editor counts it and the reason in plain English. Apply imports
// nothing while any row is bad.
package mis

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/database"
)

// Kind is what an export holds.
type Kind string

// The kinds of export.
const (
	Staff    Kind = "staff"
	Pupils   Kind = "pupils"
	Contacts Kind = "contacts"
)

// kindOrder is the order files are processed in, whatever the order
// given, so that contacts can refer to pupils imported alongside them.
var kindOrder = map[Kind]int{Staff: 0, Pupils: 1, Contacts: 2}

// File is one export to import.
type File struct {
	Name string // shown in reports: the file name as the user gave it
	Data []byte
	// Mapping says what the file's unrecognised headers hold: header (in
	// any case or spacing) → field name ("email", "first_name", ...), or
	// "ignore". It also overrides the usual reading of a header.
	Mapping map[string]string
	// Kind, when set, says what the file holds; otherwise it is
	// recognised from the headers.
	Kind Kind
}

// BadRow is a row (or, at the header's line, a whole file) that cannot be
// imported.
type BadRow struct {
	File   string
	Line   int // as a text editor counts: the header is line 1
	Reason string
}

// String is "FILE:LINE: reason".
func (b BadRow) String() string { return b.File + ":" + strconv.Itoa(b.Line) + ": " + b.Reason }

// Counts says how many people an import adds, changes, leaves as they
// are, and marks as having left.
type Counts struct {
	New       int
	Changed   int
	Unchanged int
	Leavers   int
}

// String is "new N, changed N, unchanged N, leavers N".
func (c Counts) String() string {
	return fmt.Sprintf("new %d, changed %d, unchanged %d, leavers %d", c.New, c.Changed, c.Unchanged, c.Leavers)
}

func (c *Counts) add(o Counts) {
	c.New += o.New
	c.Changed += o.Changed
	c.Unchanged += o.Unchanged
	c.Leavers += o.Leavers
}

// FileReport is what an import does with one file. For contacts the
// counts are of parents and carers (one person however many children),
// and a parent is changed when any of their links to pupils changes.
type FileReport struct {
	Name string
	Kind Kind // "" when it could not be recognised
	Rows int  // data rows read (blank lines not counted)
	Counts
	// Who changes: new people, changed ones with each field's old and new
	// value, and leavers; Current is how many of this kind the school holds now.
	NewPeople, ChangedPeople, LeavingPeople []PersonChange
	Current                                 int
	BadRows                                 []BadRow // by line
	UnknownHeaders                          []string // headers no field was found for, in file order
}

// Report is what an import does, file by file in the order they are
// processed: staff, pupils, contacts.
type Report struct {
	Files []FileReport
}

// Total adds up the files' counts.
func (r Report) Total() Counts {
	var c Counts
	for _, f := range r.Files {
		c.add(f.Counts)
	}
	return c
}

// Summary is the totals as "new N, changed N, unchanged N, leavers N".
func (r Report) Summary() string { return r.Total().String() }

// BadRows returns every file's bad rows, file by file.
func (r Report) BadRows() []BadRow {
	var out []BadRow
	for _, f := range r.Files {
		out = append(out, f.BadRows...)
	}
	return out
}

// OK reports whether every row of every file can be imported.
func (r Report) OK() bool { return len(r.BadRows()) == 0 }

// Store previews and applies imports.
type Store struct{ db *database.DB }

// NewStore returns a Store.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

// lockSpace is the first key of the advisory lock that serialises imports
// into one school.
const lockSpace = 0x6d6973 // "mis"

// Preview reads files and compares them with the school's people now,
// changing nothing.
func (s *Store) Preview(ctx context.Context, schoolID int64, files []File) (Report, error) {
	if len(files) == 0 {
		return Report{}, apperr.New(apperr.Invalid, "Choose at least one file to import")
	}
	tx, err := s.db.Pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return Report{}, fmt.Errorf("mis: preview: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	p, err := makePlan(ctx, tx, schoolID, files, s.db.Now())
	if err != nil {
		return Report{}, err
	}
	return p.report(), nil
}

// Apply imports files into the school in one transaction: all of it, or
// nothing when any row is bad (an Invalid error, with the report saying
// why). One audit entry ("import.applied") is recorded per file. Apply is
// the command line's and the demo's: it does not stop at warnings (the
// command prints them); the office's pages use ApplyBatch, which does.
func (s *Store) Apply(ctx context.Context, schoolID int64, actor audit.Actor, files []File) (Report, error) {
	return s.apply(ctx, schoolID, actor, files, true, nil)
}

// apply is Apply with an optional step run first in the same transaction
// (ApplyBatch marks its batch applied there, so both happen or neither).
// Unless confirmed, files whose report has warnings are refused.
func (s *Store) apply(ctx context.Context, schoolID int64, actor audit.Actor, files []File, confirmed bool, first func(pgx.Tx) error) (Report, error) {
	if len(files) == 0 {
		return Report{}, apperr.New(apperr.Invalid, "Choose at least one file to import")
	}
	var rep Report
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, int32(lockSpace), int32(schoolID)); err != nil {
			return fmt.Errorf("mis: lock: %w", err)
		}
		if first != nil {
			if err := first(tx); err != nil {
				return err
			}
		}
		now := s.db.Now()
		p, err := makePlan(ctx, tx, schoolID, files, now)
		if err != nil {
			return err
		}
		rep = p.report()
		if bad := rep.BadRows(); len(bad) > 0 {
			return apperr.New(apperr.Invalid, "Nothing was imported: %d %s to be corrected first", len(bad), plural(len(bad), "row needs", "rows need"))
		}
		if !confirmed && rep.NeedsConfirmation() {
			return errUnconfirmed()
		}
		if err := p.apply(ctx, tx, now); err != nil {
			return err
		}
		for _, f := range rep.Files {
			err := audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: actor, Action: "import.applied", Subject: f.Name,
				Detail: map[string]string{
					"kind": string(f.Kind), "rows": strconv.Itoa(f.Rows),
					"new": strconv.Itoa(f.New), "changed": strconv.Itoa(f.Changed),
					"unchanged": strconv.Itoa(f.Unchanged), "leavers": strconv.Itoa(f.Leavers),
				}})
			if err != nil {
				return err
			}
		}
		return nil
	})
	return rep, err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func sortBad(b []BadRow) {
	slices.SortStableFunc(b, func(x, y BadRow) int { return cmp.Compare(x.Line, y.Line) })
}
