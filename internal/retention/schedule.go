// Package retention keeps each kind of record no longer than the
// school's schedule says: a period per kind, counted from the kind's
// trigger (a date of leaving, the day a message was queued), with
// defaults that are Signoff's own choices (each Rule's Source says why:
// the Information and Records Management Society's toolkits could not be
// read to confirm them; see docs/data-protection.md); legal holds on a
// person; and the run that erases or removes what is due, previewed
// before and reported after.
//
// Erasure keeps the evidence chain verifiable: a signature or consent
// record keeps its reference, seal, who (as ids), answers and times and
// loses the typed name, drawn signature, IP address and browser; an audit
// entry keeps its hashes, action, subject and time and loses the name,
// IP address and details; a person who has left keeps their row (records
// point at it) and loses their names and contact details. All of it goes
// through owner-owned SQL functions (migrations/0011_data_protection.sql).
package retention

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/database"
)

// Kind is a kind of record with a retention period.
type Kind string

// The kinds.
const (
	StaffSignatures     Kind = "staff_signatures"
	ParentConsents      Kind = "parent_consents"
	PaperScans          Kind = "paper_scans"
	HomeSchoolAgreement Kind = "home_school_agreement"
	SignIns             Kind = "sign_ins"
	Audit               Kind = "audit"
	Leavers             Kind = "leavers"
	Outbox              Kind = "outbox"
)

// Rule is what a kind's period means and where its default comes from.
type Rule struct {
	Kind          Kind
	Label         string // "Staff signatures of policies"
	Trigger       string // what the period counts from
	DefaultMonths int
	Action        string // what happens at the end
	// Source says where the default comes from. None is confirmed
	// against the IRMS toolkits' retention tables (we could not read
	// them); each says so, and why we chose it.
	Source string
}

// Rules are the kinds, in the order the settings page shows them.
var Rules = []Rule{
	{StaffSignatures, "Staff signatures of policies", "the member of staff's date of leaving", 72,
		"the typed name, drawn signature, IP address and browser are erased; the record, its reference and seal stay",
		"Signoff's choice, not confirmed against the IRMS toolkit's table (we could not read it): the figure widely given for a staff personnel file, termination of employment + 6 years, the Limitation Act 1980's six years for claims"},
	{ParentConsents, "Parents' consents and their history", "the pupil's date of leaving", 72,
		"every record and change: the typed name, drawn signature, IP address and browser are erased",
		"Signoff's choice, not confirmed against the IRMS toolkit's table: the pupil's date of leaving + 6 years, the Limitation Act 1980's six years for claims (a consent stops counting the day the pupil leaves)"},
	{PaperScans, "Scans of paper forms", "the date of leaving of the pupil (or member of staff)", 72,
		"the scan is deleted; its SHA-256 is kept, and the record it belongs to stays",
		"Signoff's choice, not confirmed against the IRMS toolkit's table: the scan follows the record it belongs to"},
	{HomeSchoolAgreement, "The home-school agreement", "the pupil's date of leaving", 72,
		"the parent's and child's parts: the typed name, drawn signature, IP address and browser are erased",
		"Signoff's choice, not confirmed against the IRMS toolkit's table: the pupil's date of leaving + 6 years, like their consents"},
	{SignIns, "Sign-in records", "the end of the session, or of the sign-in or family link", 12,
		"sessions and links are deleted",
		"Signoff's choice, not confirmed against the IRMS toolkit's table: an IT security log, kept a year to look into the misuse of an account"},
	{Audit, "Audit log entries", "the day of the entry", 72,
		"the name, IP address and details are erased; the hashes that chain entries stay",
		"Signoff's choice, not confirmed against the IRMS toolkit's table: 6 years, the longest period of the records the log evidences; the hashes that chain it stay"},
	{Leavers, "People who have left", "the date of leaving, once none of their records is kept", 72,
		"names, email, mobile, date of birth and MIS id are erased; their account is closed",
		"Signoff's choice, not confirmed against the IRMS toolkit's table: date of leaving + 6 years (as for staff, used for pupils and parents too), once none of their records is kept"},
	{Outbox, "Emails sent", "the day the message was queued", 12,
		"the message and its attachments are deleted (messages still to send are kept)",
		"Signoff's choice, not confirmed against the IRMS toolkit's table: a year, to answer whether a message was sent; signed copies are kept with their records, not here"},
}

// Period is a kind's period at one school.
type Period struct {
	Rule
	Months int
	Custom bool // the school changed the default
}

// Describe is "date of leaving + 6 years" for people.
func (p Period) Describe() string {
	return p.Trigger + " + " + Months(p.Months)
}

// Months writes a number of months the way people say it.
func Months(m int) string {
	switch {
	case m%12 == 0 && m == 12:
		return "1 year"
	case m%12 == 0:
		return strconv.Itoa(m/12) + " years"
	case m == 1:
		return "1 month"
	}
	return strconv.Itoa(m) + " months"
}

// MaxMonths is the longest period a school may set (100 years).
const MaxMonths = 1200

// Store reads and changes retention settings and runs.
type Store struct {
	db *database.DB
	// batch is how many records (or scans) a run erases with one
	// statement, the audit entries of those going in one round trip.
	batch int
}

// eraseBatch is a Store's batch: a few hundred records a statement.
const eraseBatch = 500

// NewStore returns a Store.
func NewStore(db *database.DB) *Store { return &Store{db: db, batch: eraseBatch} }

// Schedule returns a school's periods, every kind, defaults filled in.
func (s *Store) Schedule(ctx context.Context, schoolID int64) ([]Period, error) {
	return schedule(ctx, s.db.Pool, schoolID)
}

func schedule(ctx context.Context, q database.Querier, schoolID int64) ([]Period, error) {
	rows, err := q.Query(ctx, `SELECT kind, months FROM retention_periods WHERE school_id = $1`, schoolID)
	if err != nil {
		return nil, fmt.Errorf("retention: schedule: %w", err)
	}
	set := map[Kind]int{}
	for rows.Next() {
		var k Kind
		var m int
		if err := rows.Scan(&k, &m); err != nil {
			rows.Close()
			return nil, fmt.Errorf("retention: schedule: %w", err)
		}
		set[k] = m
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("retention: schedule: %w", err)
	}
	out := make([]Period, 0, len(Rules))
	for _, r := range Rules {
		p := Period{Rule: r, Months: r.DefaultMonths}
		if m, ok := set[r.Kind]; ok {
			p.Months, p.Custom = m, m != r.DefaultMonths
		}
		out = append(out, p)
	}
	return out, nil
}

// ParseMonths reads a period typed as a number of months.
func ParseMonths(s string) (int, bool) {
	m, err := strconv.Atoi(strings.TrimSpace(s))
	return m, err == nil && m >= 1 && m <= MaxMonths
}

// SaveSchedule sets a school's periods from typed values (months, by
// kind); every kind must be given. Each change is audited; all or nothing.
func (s *Store) SaveSchedule(ctx context.Context, schoolID int64, actor audit.Actor, typed map[Kind]string) error {
	var v apperr.Validation
	months := map[Kind]int{}
	for _, r := range Rules {
		m, ok := ParseMonths(typed[r.Kind])
		v.Check(ok, string(r.Kind), fmt.Sprintf("Enter the period for %s as a whole number of months from 1 to %d", strings.ToLower(r.Label), MaxMonths))
		months[r.Kind] = m
	}
	if err := v.Err(); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		current, err := schedule(ctx, tx, schoolID)
		if err != nil {
			return err
		}
		now := s.db.Now()
		for _, p := range current {
			m := months[p.Kind]
			if m == p.Months {
				continue
			}
			if _, err := tx.Exec(ctx, `INSERT INTO retention_periods (school_id, kind, months, updated_at, updated_by)
				VALUES ($1, $2, $3, $4, $5) ON CONFLICT (school_id, kind) DO UPDATE SET months = $3, updated_at = $4, updated_by = $5`,
				schoolID, p.Kind, m, now, database.NullID(actor.AccountID)); err != nil {
				return fmt.Errorf("retention: save period: %w", err)
			}
			if err := audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: actor, Action: "retention.period_changed",
				Subject: string(p.Kind), Detail: map[string]string{"from_months": strconv.Itoa(p.Months), "to_months": strconv.Itoa(m)}}); err != nil {
				return err
			}
		}
		return nil
	})
}
