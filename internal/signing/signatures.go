package signing

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"signoff/internal/database"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"signoff/internal/apperr"
	"signoff/internal/audit"
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
	err = s.db.InTx(ctx, func(tx pgx.Tx) error {
		var p people.Person
		err := tx.QueryRow(ctx, `SELECT id, given_name, family_name, kind, coalesce(staff_role, ''), left_at
			FROM people WHERE school_id = $1 AND id = $2 FOR SHARE`, in.SchoolID, in.PersonID).
			Scan(&p.ID, &p.GivenName, &p.FamilyName, &p.Kind, &p.StaffRole, &p.LeftAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.Forbidden, "Your account is not linked to a person at this school, so there is nothing for you to sign")
		}
		if err != nil {
			return fmt.Errorf("signing: sign: person: %w", err)
		}
		f, err := scanForm(tx.QueryRow(ctx, `SELECT `+formColumns+` FROM forms f WHERE f.school_id = $1 AND f.id = $2 FOR SHARE`, in.SchoolID, in.FormID))
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "There is no such form")
		}
		if err != nil {
			return fmt.Errorf("signing: sign: form: %w", err)
		}
		if p.Kind != people.Staff || p.LeftAt != nil || !f.InAudience(p.StaffRole) {
			return apperr.New(apperr.Forbidden, "This form is not addressed to you")
		}
		if f.ClosedAt != nil {
			return apperr.New(apperr.Conflict, "This form has been closed and is no longer collecting signatures")
		}
		var cur struct {
			VersionID int64
			Number    int
			SHA256    string
			Floor     int
		}
		err = tx.QueryRow(ctx, `SELECT version_id, number, sha256, floor_number FROM form_current WHERE form_id = $1`, f.ID).
			Scan(&cur.VersionID, &cur.Number, &cur.SHA256, &cur.Floor)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.Conflict, "This policy has no published version to sign")
		}
		if err != nil {
			return fmt.Errorf("signing: sign: current version: %w", err)
		}
		ay := schooltime.AcademicYear(now)
		existing, err := scanSignature(tx.QueryRow(ctx, `SELECT `+signatureColumns+signatureFrom+`
			WHERE s.form_id = $1 AND s.person_id = $2 AND s.pupil_id IS NULL AND v.number >= $3
			  AND ($4 <> 'each_year' OR s.academic_year = $5)
			ORDER BY s.signed_at DESC LIMIT 1`, f.ID, p.ID, cur.Floor, f.Renewal, ay))
		if err == nil {
			sig = existing
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("signing: sign: existing: %w", err)
		}
		if in.VersionID != cur.VersionID {
			return apperr.New(apperr.Conflict, "A new version of this policy (version %d) was published while you were reading. Please read the new version and sign again.", cur.Number)
		}
		if err := validateSignature(&in, p, f); err != nil {
			return err
		}
		ref, err := NewReference()
		if err != nil {
			return err
		}
		ua := in.UserAgent
		if len(ua) > 500 {
			ua = ua[:500]
		}
		identified := clip(in.IdentifiedBy, 500)
		seal := SealFields{SchoolID: in.SchoolID, FormID: f.ID, PersonID: p.ID, VersionID: cur.VersionID, VersionSHA256: cur.SHA256,
			Statement: f.Statement, TypedName: in.TypedName, Answers: []byte("{}"), AcademicYear: ay, Method: Web,
			AccountID: in.Actor.AccountID, IP: in.Actor.IP, UserAgent: ua, Reference: ref, SignedAt: now, Language: "en",
			IdentifiedBy: identified}.Seal()
		err = tx.QueryRow(ctx, `INSERT INTO signatures (school_id, form_id, person_id, version_id, version_sha256, statement, typed_name,
				academic_year, method, account_id, ip, user_agent, reference, signed_at, answers, part, language, seal, identified_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'web', $9, $10, $11, $12, $13, '{}', '', 'en', $14, nullif($15, ''))
			ON CONFLICT (form_id, person_id, version_id, academic_year) WHERE pupil_id IS NULL AND supersedes_id IS NULL DO NOTHING
			RETURNING id`,
			in.SchoolID, f.ID, p.ID, cur.VersionID, cur.SHA256, f.Statement, in.TypedName, ay, database.NullID(in.Actor.AccountID),
			in.Actor.IP, ua, ref, now, seal, identified).Scan(&sig.ID)
		if errors.Is(err, pgx.ErrNoRows) {
			// A second submit raced this one and won: show its signature.
			sig, err = scanSignature(tx.QueryRow(ctx, `SELECT `+signatureColumns+signatureFrom+`
				WHERE s.form_id = $1 AND s.person_id = $2 AND s.version_id = $3 AND s.academic_year = $4 AND s.pupil_id IS NULL`,
				f.ID, p.ID, cur.VersionID, ay))
			if err != nil {
				return fmt.Errorf("signing: sign: raced: %w", err)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("signing: sign: insert: %w", err)
		}
		created = true
		sig = Signature{ID: sig.ID, Reference: ref, SchoolID: in.SchoolID, FormID: f.ID, PersonID: p.ID, VersionID: cur.VersionID,
			VersionSHA256: cur.SHA256, Statement: f.Statement, TypedName: in.TypedName, AcademicYear: ay, Method: Web,
			AccountID: in.Actor.AccountID, IP: in.Actor.IP, UserAgent: ua, SignedAt: now, FormTitle: f.Title, VersionNumber: cur.Number}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: in.SchoolID, At: now, Actor: in.Actor, Action: "signature.created",
			Subject: "signature " + ref, Detail: map[string]string{"form": fmt.Sprint(f.ID), "person": fmt.Sprint(p.ID),
				"version": fmt.Sprint(cur.Number), "sha256": cur.SHA256, "method": string(Web), "seal": seal}})
	})
	if err != nil {
		return Signature{}, false, err
	}
	return sig, created, nil
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
// "Zoë O'Brien" and "zoe obrien" fold alike.
func foldName(s string) string {
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

// referenceAlphabet is Crockford's base 32: no I, L, O or U to misread.
const referenceAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewReference returns a signature reference like "SG-7Q2K-9XHM-4D1P".
func NewReference() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("signing: reference: %w", err)
	}
	out := []byte("SG-")
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			out = append(out, '-')
		}
		out = append(out, referenceAlphabet[int(c)%32])
	}
	return string(out), nil
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
	rows, err := s.db.Pool.Query(ctx, `SELECT `+signatureColumns+signatureFrom+`
		WHERE s.school_id = $1 AND s.person_id = $2 ORDER BY s.signed_at DESC, s.id DESC`, schoolID, personID)
	if err != nil {
		return nil, fmt.Errorf("signing: signatures of person: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Signature, error) { return scanSignature(r) })
	if err != nil {
		return nil, fmt.Errorf("signing: signatures of person: %w", err)
	}
	return out, nil
}

// CurrentSignature returns the signature of a form that still counts for
// a person now, if any.
func (s *Store) CurrentSignature(ctx context.Context, p people.Person, formID int64) (Signature, bool, error) {
	ay := schooltime.AcademicYear(s.db.Now())
	sig, err := scanSignature(s.db.Pool.QueryRow(ctx, `SELECT `+signatureColumns+signatureFrom+`
		JOIN form_current fc ON fc.form_id = f.id
		WHERE s.school_id = $1 AND s.form_id = $2 AND s.person_id = $3 AND s.pupil_id IS NULL AND v.number >= fc.floor_number
		  AND (f.renewal <> 'each_year' OR s.academic_year = $4)
		ORDER BY s.signed_at DESC LIMIT 1`, p.SchoolID, formID, p.ID, ay))
	if errors.Is(err, pgx.ErrNoRows) {
		return Signature{}, false, nil
	}
	if err != nil {
		return Signature{}, false, fmt.Errorf("signing: current signature: %w", err)
	}
	return sig, true, nil
}

// clip shortens s to at most n bytes.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
