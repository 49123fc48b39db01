package signing

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/codes"
	"signoff/internal/database"
	"signoff/internal/limits"
	"signoff/internal/people"
	"signoff/internal/schooltime"
)

// Method is how a signature was given.
type Method string

// The methods.
const (
	Web   Method = "web"   // in the browser, signed in
	Class Method = "class" // in class, witnessed by a teacher
	Paper Method = "paper" // on paper, recorded by the office
)

// Signature is the immutable record of one signing.
type Signature struct {
	ID            int64
	Reference     string
	SchoolID      int64
	FormID        int64
	PersonID      int64
	VersionID     int64
	VersionSHA256 string
	Statement     string
	TypedName     string
	AcademicYear  int
	Method        Method
	AccountID     int64
	IP            string
	UserAgent     string
	SignedAt      time.Time

	// Joined for display.
	FormTitle     string
	VersionNumber int
}

const signatureColumns = `s.id, s.reference, s.school_id, s.form_id, s.person_id, coalesce(s.version_id, 0), coalesce(s.version_sha256, ''),
	s.statement, s.typed_name, s.academic_year, s.method, coalesce(s.account_id, 0), s.ip, s.user_agent, s.signed_at,
	f.title, coalesce(v.number, 0)`

const signatureFrom = ` FROM signatures s JOIN forms f ON f.id = s.form_id LEFT JOIN policy_versions v ON v.id = s.version_id `

func scanSignature(r pgx.Row) (Signature, error) {
	var s Signature
	err := r.Scan(&s.ID, &s.Reference, &s.SchoolID, &s.FormID, &s.PersonID, &s.VersionID, &s.VersionSHA256,
		&s.Statement, &s.TypedName, &s.AcademicYear, &s.Method, &s.AccountID, &s.IP, &s.UserAgent, &s.SignedAt,
		&s.FormTitle, &s.VersionNumber)
	return s, err
}

// SignInput is one submission of the signing form.
type SignInput struct {
	SchoolID  int64
	FormID    int64
	PersonID  int64
	VersionID int64 // the version the signer was shown
	Agreed    bool  // the statement was ticked
	TypedName string
	Actor     audit.Actor
	UserAgent string
	// IdentifiedBy is how the signer's session was opened ("Microsoft 365
	// account j.smith@school.example, tenant ..."), kept on the signature.
	IdentifiedBy string
}

// Sign records that a member of staff signed the version of a form's
// policy they were shown. Signing again is harmless: when a signature
// that still counts exists, it is returned with created false.
func (s *Store) Sign(ctx context.Context, in SignInput) (sig Signature, created bool, err error) {
	now := s.db.Now()
	var st signState
	err = s.db.InTxBatch(ctx, func(r *database.Reads) { st.queue(r, now, in) }, func(tx pgx.Tx, last *pgx.Batch) error {
		created, err = signTx(ctx, tx, last, now, in, &st, &sig)
		return err
	})
	if database.IsUniqueViolation(err, "signatures_once") {
		// A second submit of the same signer raced this one and won (this
		// transaction was rolled back): show its signature.
		sig, err = scanSignature(s.db.Pool.QueryRow(ctx, `SELECT `+signatureColumns+signatureFrom+`
			WHERE s.form_id = $1 AND s.person_id = $2 AND s.version_id = $3 AND s.academic_year = $4 AND s.pupil_id IS NULL`,
			in.FormID, in.PersonID, sig.VersionID, sig.AcademicYear))
		if err != nil {
			return Signature{}, false, fmt.Errorf("signing: sign: raced: %w", err)
		}
		return sig, false, nil
	}
	if err != nil {
		return Signature{}, false, err
	}
	return sig, created, nil
}

// signRead is everything one signing reads, in one statement: the form,
// the signer, the form's current version and any signature that still
// counts (signoff_staff_current, migration 0016, in its academic year:
// signoff_counts). The form and the signer's rows are locked against a change
// (closing the form, the signer leaving) until the signing commits.
const signRead = `SELECT ` + formColumns + `,
		p.given_name, p.family_name, p.kind, coalesce(p.staff_role, ''), p.left_at,
		coalesce(fc.version_id, 0), coalesce(fc.number, 0), coalesce(fc.sha256, ''), coalesce(fc.floor_number, 0),
		coalesce(CASE WHEN signoff_counts(cur.id, cur.sig_year, $4) THEN cur.id END, 0)
	FROM people p
	JOIN forms f ON f.school_id = p.school_id AND f.id = $3
	LEFT JOIN form_current fc ON fc.form_id = f.id
	LEFT JOIN LATERAL signoff_staff_current(f.id, p.id) cur ON true
	WHERE p.school_id = $1 AND p.id = $2
	FOR SHARE OF p, f`

// signState is what signRead found.
type signState struct {
	p   people.Person
	f   Form
	cur struct {
		VersionID int64
		Number    int
		SHA256    string
		Floor     int
	}
	existing int64
	found    bool // false: no such person or form at the school
}

// queue adds signRead for in to b, with the setting it runs under: the
// transaction's statements are looked up by key, so one plan serves any
// key (made once per connection, then reused from pgx's statement cache)
// instead of PostgreSQL planning each afresh for its values, which cost
// more than running them.
func (st *signState) queue(reads *database.Reads, now time.Time, in SignInput) {
	st.p = people.Person{ID: in.PersonID, SchoolID: in.SchoolID}
	reads.Exec(`SET LOCAL plan_cache_mode = force_generic_plan`)
	reads.Row(signRead, []any{in.SchoolID, in.PersonID, in.FormID, schooltime.AcademicYear(now)}, func(r pgx.Row) error {
		var err error
		var kind, role string // as strings: see ScanForm
		st.f, err = scanForm(r, &st.p.GivenName, &st.p.FamilyName, &kind, &role, &st.p.LeftAt,
			&st.cur.VersionID, &st.cur.Number, &st.cur.SHA256, &st.cur.Floor, &st.existing)
		st.p.Kind, st.p.StaffRole = people.Kind(kind), people.StaffRole(role)
		st.found = err == nil
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("signing: sign: read: %w", err)
		}
		return nil
	})
}

// insertSignature stores a staff signature made on the web. A second
// signature of the same version in the same year (a second submit that
// raced this one) fails on signatures_once, and with it the rest of the
// transaction's last round trip, the COMMIT included.
const insertSignature = `INSERT INTO signatures (school_id, form_id, person_id, version_id, version_sha256, statement, typed_name,
		academic_year, method, account_id, ip, user_agent, reference, signed_at, answers, part, language, seal, identified_by)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'web', $9, $10, $11, $12, $13, '{}', '', 'en', $14, nullif($15, ''))
	RETURNING id`

// signTx is one signing, in tx, in two round trips: BEGIN with st's read
// (Sign), then the audit entry, the signature and the COMMIT together
// (queued in last, sent by InTxBatch), so the rows the signature's
// triggers lock (who owes what and the form's figures, which the form's
// other signers update too) are held only while PostgreSQL runs the rest
// and commits. The audit entry is linked into the school's chain after
// commit, so signers never wait for one another.
// The signature is filled in sig (its id once last has run).
func signTx(ctx context.Context, tx pgx.Tx, last *pgx.Batch, now time.Time, in SignInput, st *signState, sig *Signature) (created bool, err error) {
	ay := schooltime.AcademicYear(now)
	p, f, cur, existing := st.p, st.f, st.cur, st.existing
	if !st.found {
		var person bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM people WHERE school_id = $1 AND id = $2)`, in.SchoolID, in.PersonID).Scan(&person); err != nil {
			return false, fmt.Errorf("signing: sign: person: %w", err)
		}
		if !person {
			return false, apperr.New(apperr.Forbidden, "Your account is not linked to a person at this school, so there is nothing for you to sign")
		}
		return false, apperr.New(apperr.NotFound, "There is no such form")
	}
	if p.Kind != people.Staff || p.LeftAt != nil || !f.InAudience(p.StaffRole) {
		return false, apperr.New(apperr.Forbidden, "This form is not addressed to you")
	}
	if f.ClosedAt != nil {
		return false, apperr.New(apperr.Conflict, "This form has been closed and is no longer collecting signatures")
	}
	if cur.VersionID == 0 {
		return false, apperr.New(apperr.Conflict, "This policy has no published version to sign")
	}
	if existing != 0 {
		*sig, err = scanSignature(tx.QueryRow(ctx, `SELECT `+signatureColumns+signatureFrom+` WHERE s.id = $1`, existing))
		if err != nil {
			return false, fmt.Errorf("signing: sign: existing: %w", err)
		}
		return false, nil
	}
	if in.VersionID != cur.VersionID {
		return false, apperr.New(apperr.Conflict, "A new version of this policy (version %d) was published while you were reading. Please read the new version and sign again.", cur.Number)
	}
	if err := validateSignature(&in, p, f); err != nil {
		return false, err
	}
	ref, err := NewReference()
	if err != nil {
		return false, err
	}
	ua := limits.Clip(in.UserAgent, limits.UserAgent)
	identified := limits.Clip(in.IdentifiedBy, limits.IdentifiedBy)
	seal := SealFields{SchoolID: in.SchoolID, FormID: f.ID, PersonID: p.ID, VersionID: cur.VersionID, VersionSHA256: cur.SHA256,
		Statement: f.Statement, TypedName: in.TypedName, Answers: []byte("{}"), AcademicYear: ay, Method: Web,
		AccountID: in.Actor.AccountID, IP: in.Actor.IP, UserAgent: ua, Reference: ref, SignedAt: now, Language: "en",
		IdentifiedBy: identified}.Seal()
	*sig = Signature{Reference: ref, SchoolID: in.SchoolID, FormID: f.ID, PersonID: p.ID, VersionID: cur.VersionID,
		VersionSHA256: cur.SHA256, Statement: f.Statement, TypedName: in.TypedName, AcademicYear: ay, Method: Web,
		AccountID: in.Actor.AccountID, IP: in.Actor.IP, UserAgent: ua, SignedAt: now, FormTitle: f.Title, VersionNumber: cur.Number}

	// The audit entry goes first: the signature's INSERT locks rows that
	// the form's other signers wait for (its figures), so nothing but its
	// own checks and the COMMIT should follow it.
	audit.Queue(last, audit.Entry{SchoolID: in.SchoolID, At: now, Actor: in.Actor, Action: "signature.created",
		Subject: "signature " + ref, Detail: map[string]string{"form": fmt.Sprint(f.ID), "person": fmt.Sprint(p.ID),
			"version": fmt.Sprint(cur.Number), "sha256": cur.SHA256, "method": string(Web), "seal": seal}})
	last.Queue(insertSignature, in.SchoolID, f.ID, p.ID, cur.VersionID, cur.SHA256, f.Statement, in.TypedName, ay,
		database.NullID(in.Actor.AccountID), in.Actor.IP, ua, ref, now, seal, identified).QueryRow(func(r pgx.Row) error {
		if err := r.Scan(&sig.ID); err != nil {
			return fmt.Errorf("signing: sign: insert: %w", err)
		}
		return nil
	})
	// Who owes what (the obligations table) and the form's figures are
	// kept up to date by the trigger on signatures (migrations/0012,
	// 0017, 0026), inside this INSERT. More work of a signing goes before
	// it, queued in last so that it travels in the same round trip.
	return true, nil
}

// validateSignature checks the tick and the typed name, which must contain
// the signer's first or last name (ignoring case, accents and punctuation)
// so that a typed signature is a name, not a stray keystroke.
func validateSignature(in *SignInput, p people.Person, f Form) error {
	var v apperr.Validation
	in.TypedName = strings.Join(strings.Fields(in.TypedName), " ")
	v.Check(in.Agreed, "agree", "Tick the box to confirm you have read it and agree")
	switch {
	case in.TypedName == "":
		v.Add("typed_name", "Type your full name to sign")
	case len([]rune(in.TypedName)) > 200:
		v.Add("typed_name", "Your name must be 200 characters or fewer")
	default:
		typed := foldName(in.TypedName)
		if !strings.Contains(typed, foldName(p.FamilyName)) && !strings.Contains(typed, foldName(p.GivenName)) {
			v.Add("typed_name", "Type your full name as your school knows it, for example "+p.FullName())
		}
	}
	return v.Err()
}

// foldName lower-cases s and removes accents, spaces and punctuation:
// "Zoë O'Brien" and "zoe obrien" fold alike. A name in ASCII has no
// accents to remove, so it is folded byte by byte (foldASCII: the same
// letters and digits, lower-cased) without the Unicode normalisation.
func foldName(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return foldUnicode(s)
		}
	}
	return foldASCII(s)
}

// foldASCII is foldName of a string in ASCII.
func foldASCII(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
			b = append(b, c)
		case 'A' <= c && c <= 'Z':
			b = append(b, c+'a'-'A')
		}
	}
	return string(b)
}

// foldUnicode is foldName of any string: decomposed, its combining marks
// removed, recomposed, lower-cased, and only its letters and digits kept.
func foldUnicode(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	var b strings.Builder
	for _, r := range strings.ToLower(out) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ReferencePrefix begins every signature's reference.
const ReferencePrefix = "SG"

// NewReference returns a signature reference like "SG-7Q2K-9XHM-4D1P".
func NewReference() (string, error) {
	ref, err := codes.New(ReferencePrefix, 12)
	if err != nil {
		return "", fmt.Errorf("signing: reference: %w", err)
	}
	return ref, nil
}

// ByReference returns a signature of the school by its reference.
func (s *Store) ByReference(ctx context.Context, schoolID int64, ref string) (Signature, error) {
	sig, err := scanSignature(s.db.Pool.QueryRow(ctx, `SELECT `+signatureColumns+signatureFrom+`
		WHERE s.school_id = $1 AND s.reference = $2`, schoolID, strings.ToUpper(strings.TrimSpace(ref))))
	if errors.Is(err, pgx.ErrNoRows) {
		return Signature{}, apperr.New(apperr.NotFound, "There is no signature with that reference")
	}
	if err != nil {
		return Signature{}, fmt.Errorf("signing: by reference: %w", err)
	}
	return sig, nil
}

// SignaturesOf returns everything a person has signed, newest first.
func (s *Store) SignaturesOf(ctx context.Context, schoolID, personID int64) ([]Signature, error) {
	rows, err := s.db.Pool.Query(ctx, signaturesOfSQL, schoolID, personID)
	if err != nil {
		return nil, fmt.Errorf("signing: signatures of person: %w", err)
	}
	return collectSignaturesOf(rows)
}

const signaturesOfSQL = `SELECT ` + signatureColumns + signatureFrom + `
	WHERE s.school_id = $1 AND s.person_id = $2 ORDER BY s.signed_at DESC, s.id DESC`

func collectSignaturesOf(rows pgx.Rows) ([]Signature, error) {
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Signature, error) { return scanSignature(r) })
	if err != nil {
		return nil, fmt.Errorf("signing: signatures of person: %w", err)
	}
	return out, nil
}

// CurrentSignature returns the signature of a form that still counts for
// a person now, if any: signoff_staff_current (migration 0016, the rule
// the obligations table is derived with) in this academic year.
func (s *Store) CurrentSignature(ctx context.Context, p people.Person, formID int64) (Signature, bool, error) {
	var sig Signature
	var ok bool
	err := currentInto(&sig, &ok)(s.db.Pool.QueryRow(ctx, currentSignatureSQL, p.SchoolID, formID, p.ID, schooltime.AcademicYear(s.db.Now())))
	return sig, ok, err
}

// currentSignatureSQL is CurrentSignature's read: school, form, person,
// academic year.
const currentSignatureSQL = `SELECT ` + signatureColumns + signatureFrom + `
	JOIN signoff_staff_current($2, $3) cur ON cur.id = s.id
	WHERE s.school_id = $1 AND signoff_counts(cur.id, cur.sig_year, $4)`

func currentInto(dst *Signature, ok *bool) func(pgx.Row) error {
	return func(row pgx.Row) error {
		sig, err := scanSignature(row)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("signing: current signature: %w", err)
		}
		*dst, *ok = sig, true
		return nil
	}
}
