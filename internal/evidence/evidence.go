// Package evidence makes signed copies that prove themselves and checks
// them: the certificate page of a signed copy (who signed, how they were
// identified, each answer, server time, IP address, browser, the
// version's SHA-256, the reference, a verification link and QR code), and
// verification of a reference or of an uploaded PDF against the stored
// record.
//
// What verification checks, precisely:
//
//  1. The reference names a stored signature (references are random, 60
//     bits, unique across every school).
//  2. The stored text of the version signed still hashes to the SHA-256
//     recorded on the signature ("the text signed is intact").
//  3. The record still matches the seal made with it (see seal.go).
//  4. For an uploaded PDF: the reference is read from the file's
//     Keywords; its digital signature (signkey.CheckPDF) must not be
//     broken; and the file must be a copy Signoff issued (the SHA-256 of
//     every issued copy is kept in signed_copies), or the copy Signoff
//     renders for it now (deterministic) with this installation's
//     signature appended. Any changed byte, page, text or metadata field,
//     a missing or unknown reference, a text whose hash no longer matches
//     or a record changed since it was sealed, does not verify.
package evidence

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/auth"
	"signoff/internal/codes"
	"signoff/internal/consent"
	"signoff/internal/database"
	"signoff/internal/i18n"
	"signoff/internal/pdf"
	"signoff/internal/people"
	"signoff/internal/policies"
	"signoff/internal/schools"
	"signoff/internal/schooltime"
	"signoff/internal/signing"
	"signoff/internal/signkey"
)

// Store builds and checks signed copies: the one builder of every signed
// copy (a member of staff's, a parent's download, the copy attached to a
// parent's receipt, the ZIP of a form's copies).
type Store struct {
	db      *database.DB
	schools *schools.Store
	consent *consent.Store
	// BaseURL is the site's public address, for the verification link.
	BaseURL string
	// Signer signs every copy issued (PAdES); nil issues unsigned copies.
	Signer *signkey.PDFSigner
}

// NewStore returns a Store.
func NewStore(db *database.DB, baseURL string) *Store {
	return &Store{db: db, schools: schools.NewStore(db), consent: consent.NewStore(db), BaseURL: strings.TrimRight(baseURL, "/")}
}

// NormalizeReference tidies a typed reference: upper case, no spaces,
// the look-alike letters O, I and L read as 0, 1 and 1.
func NormalizeReference(s string) string { return codes.Normalise(signing.ReferencePrefix, s, 0) }

// Record is a stored signature as a signed copy prints it.
type Record struct {
	SignatureID int64
	SchoolID    int64
	Reference   string
	Copy        pdf.SignedCopy
	// TextIntact is true when the stored version text still hashes to the
	// signature's SHA-256.
	TextIntact bool
	FormTitle  string
	VersionID  int64
	PersonID   int64
	// Seal is the record's stored seal and SealState what checking it found.
	Seal      string
	SealState SealState
	// AccountID is the account that submitted the signature (0 for none):
	// the IP address and browser recorded are that account's.
	AccountID int64
}

// DeviceShownTo reports whether the copy given to the account accountID
// may show the IP address and browser recorded: only to the account that
// gave them (the signer online; for a paper form or in class, the member
// of staff who recorded it) and to the school office.
func (rec Record) DeviceShownTo(accountID int64, office bool) bool {
	return office || (accountID != 0 && accountID == rec.AccountID)
}

// WithoutDevice returns rec as a copy for anyone else: the certificate
// says the IP address and browser are recorded but does not print them.
// The stored record and its seal keep them.
func (rec Record) WithoutDevice() Record {
	if rec.Copy.Certificate == nil {
		return rec
	}
	cert := *rec.Copy.Certificate
	cert.IP, cert.UserAgent, cert.DeviceWithheld = "", "", true
	rec.Copy.Certificate = &cert
	return rec
}

// VerifyURL is the public page that checks a reference.
func (s *Store) VerifyURL(ref string) string { return s.BaseURL + "/verify/" + ref }

// Load reads the signature with reference ref (of any school when
// schoolID is 0) and everything its signed copy prints.
func (s *Store) Load(ctx context.Context, schoolID int64, ref string) (Record, error) {
	return s.load(ctx, s.db.Pool, schoolID, ref)
}

func (s *Store) load(ctx context.Context, q batcher, schoolID int64, ref string) (Record, error) {
	ref = NormalizeReference(ref)
	var rec Record
	var (
		schoolName, body, statement, typed, ip, ua, method, title string
		sha, versionSHA                                           string
		number, accountID, formID                                 int64
		pupilID                                                   int64
		publishedAt                                               *time.Time
		signedAt                                                  time.Time
		drawn                                                     []byte
		answers                                                   []byte
		sig                                                       signedHow
		language                                                  string
	)
	err := q.QueryRow(ctx, `SELECT s.id, s.school_id, s.reference, sc.name, coalesce(pol.title, f.title), coalesce(v.number, 0),
			v.published_at, coalesce(v.body_md, ''), coalesce(v.sha256, ''), coalesce(s.version_sha256, ''), s.statement, s.typed_name,
			s.ip, s.user_agent, s.method, coalesce(s.account_id, 0), coalesce(s.pupil_id, 0), s.signed_at, s.drawn_signature, s.answers,
			s.person_id, coalesce(s.version_id, 0), f.title, s.form_id,
			`+people.NameSQL("s.witness_id")+`, `+auth.NameSQL("s.recorded_by")+`, s.paper_date, coalesce(s.identified_by, ''), s.language
		FROM signatures s
		JOIN schools sc ON sc.id = s.school_id
		JOIN forms f ON f.id = s.form_id
		LEFT JOIN policy_versions v ON v.id = s.version_id
		LEFT JOIN policies pol ON pol.id = v.policy_id
		WHERE s.reference = $1 AND ($2::bigint = 0 OR s.school_id = $2)`, ref, schoolID).
		Scan(&rec.SignatureID, &rec.SchoolID, &rec.Reference, &schoolName, &title, &number, &publishedAt, &body, &sha, &versionSHA,
			&statement, &typed, &ip, &ua, &method, &accountID, &pupilID, &signedAt, &drawn, &answers, &rec.PersonID, &rec.VersionID, &rec.FormTitle, &formID,
			&sig.witness, &sig.recordedBy, &sig.paperDate, &sig.identifiedBy, &language)
	if errors.Is(err, pgx.ErrNoRows) {
		return Record{}, apperr.New(apperr.NotFound, "There is no signature with that reference")
	}
	if err != nil {
		return Record{}, fmt.Errorf("evidence: load %s: %w", ref, err)
	}
	sig.method, sig.accountID, sig.signedAt = method, accountID, signedAt
	// A parent's copy writes its dates and the child's year in the
	// language they signed in, where the copy's fonts can draw it.
	lang := i18n.ByCode(language)
	if lang.RTL {
		lang = i18n.English
	}

	// What the signature's row names is read in one round trip: the
	// signer, the child, the seal and how the signer was identified.
	var (
		reads          pgx.Batch
		person, pupil  people.Person
		pupilFound     bool
		signInMethod   string
		signInEmail    string
		identifiedRead = sig.needsSignIn()
	)
	reads.Queue(`SELECT `+people.Columns+` FROM people p WHERE p.id = $1`, rec.PersonID).QueryRow(func(r pgx.Row) (err error) {
		if person, err = people.Scan(r); err != nil {
			return fmt.Errorf("evidence: signer: %w", err)
		}
		return nil
	})
	if pupilID != 0 {
		reads.Queue(`SELECT `+people.Columns+` FROM people p WHERE p.id = $1`, pupilID).QueryRow(func(r pgx.Row) (err error) {
			pupil, err = people.Scan(r)
			pupilFound = err == nil
			return nil // a child no longer held: the copy goes without their name
		})
	}
	reads.Queue(sealQuery+` WHERE s.id = $1`, rec.SignatureID).QueryRow(func(r pgx.Row) error {
		x, err := scanSealRow(r)
		if err != nil {
			return fmt.Errorf("evidence: seal: %w", err)
		}
		rec.SealState, rec.Seal = x.state(), x.Seal
		return nil
	})
	if identifiedRead {
		reads.Queue(signInSQL, rec.SchoolID, sig.accountID, sig.signedAt).QueryRow(func(r pgx.Row) error {
			if err := r.Scan(&signInMethod, &signInEmail); err != nil {
				return fmt.Errorf("evidence: sign-in method: %w", err)
			}
			return nil
		})
	}
	if err := q.SendBatch(ctx, &reads).Close(); err != nil {
		return Record{}, err
	}
	rec.TextIntact = versionSHA != "" && policies.Hash(body) == versionSHA
	c := pdf.SignedCopy{
		SchoolName:     schoolName,
		PolicyTitle:    title,
		VersionNumber:  int(number),
		BodyMarkdown:   body,
		Statement:      statement,
		SignerName:     person.FullName(),
		SignerRole:     signerRole(person),
		TypedSignature: typed,
		SignedAt:       signedAt,
		SHA256:         versionSHA,
		Reference:      rec.Reference,
	}
	if publishedAt != nil {
		c.VersionDate = *publishedAt
	}
	if c.SchoolLogo, err = s.schools.LogoPNG(ctx, rec.SchoolID); err != nil {
		return Record{}, fmt.Errorf("evidence: school logo: %w", err)
	}
	cert := &pdf.Certificate{IP: ip, UserAgent: ua, VerifyURL: s.VerifyURL(rec.Reference), DrawnSignature: drawn}
	if pupilFound {
		cert.ForChild = pupil.FullName()
		if pupil.YearGroup != nil && lang != i18n.English {
			cert.ForChild += ", " + lang.YearGroup(int(*pupil.YearGroup))
		} else if pupil.YearGroup != nil {
			cert.ForChild += ", " + pupil.YearGroup.Label()
		}
		if pupil.RegClass != "" {
			cert.ForChild += " (" + pupil.RegClass + ")"
		}
	}
	cert.Answers = decodeAnswers(answers)
	if rec.VersionID == 0 {
		// A parents' form: its text is the form and its questions, hashed
		// when it was published (see consent.TextHash).
		f, items, err := s.consent.FormOf(ctx, formID)
		if err == nil && f.Audience == signing.ParentsAudience {
			given := map[int64]bool{}
			raw := map[string]bool{}
			_ = json.Unmarshal(answers, &raw)
			for k, v := range raw {
				if id, err := strconv.ParseInt(k, 10, 64); err == nil {
					given[id] = v
				}
			}
			c.PolicyTitle, c.VersionNumber, c.VersionDate, c.Lang = f.Title, 1, f.CreatedAt, lang
			c.BodyMarkdown = consent.CopyMarkdown(f, items, given)
			rec.TextIntact = versionSHA != "" && consent.TextHash(f, items) == versionSHA
			cert.Answers = nil
			for _, it := range items {
				if it.Kind != consent.ConsentItem {
					continue
				}
				v := "No"
				if given[it.ID] {
					v = "Yes"
				}
				cert.Answers = append(cert.Answers, pdf.Answer{Item: it.Label, Value: v})
			}
		}
	}
	rec.AccountID = accountID
	cert.IdentifiedBy, cert.Method = sig.identified(signInMethod, signInEmail)
	c.Certificate = cert
	rec.Copy = c
	return rec, nil
}

func signerRole(p people.Person) string {
	switch p.Kind {
	case people.Parent:
		return "Parent or carer"
	case people.Pupil:
		return "Pupil"
	}
	return p.RoleLabel()
}

// decodeAnswers reads the answers jsonb as stored, {"item": "yes"|"no"|true|false},
// in key order. A parents' form's answers are keyed by its items' ids:
// load prints those with the items' labels, in the form's order, instead.
func decodeAnswers(b []byte) []pdf.Answer {
	var m map[string]any
	if len(b) == 0 || json.Unmarshal(b, &m) != nil {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []pdf.Answer
	for _, k := range keys {
		v := fmt.Sprint(m[k])
		switch strings.ToLower(v) {
		case "yes", "true":
			v = "Yes"
		case "no", "false":
			v = "No"
		}
		out = append(out, pdf.Answer{Item: k, Value: v})
	}
	return out
}

// signedHow is what a signature records of how it was given.
type signedHow struct {
	method              string
	accountID           int64
	signedAt            time.Time
	witness, recordedBy string // names: the witnessing member of staff, the account that recorded a paper form
	paperDate           *time.Time
	identifiedBy        string // single sign-on's description of the signer's session
}

// batcher is a Querier that sends a batch (the pool, a transaction).
type batcher interface {
	database.Querier
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// needsSignIn reports whether identified needs the signing account's
// last sign-in before signing (signInSQL): a signature given online,
// with an account and no single sign-on description.
func (sig signedHow) needsSignIn() bool {
	return sig.method != "class" && sig.method != "paper" && sig.identifiedBy == "" && sig.accountID != 0
}

// signInSQL reads the way account $2 last signed in at school $1 before
// $3 (the audit log's account.signed_in "method"), and its address. The
// signature's account cannot be deleted (signatures refer to it).
var signInSQL = `SELECT coalesce((SELECT detail->>'method' FROM audit_log
		WHERE school_id = $1 AND actor_id = $2 AND action = 'account.signed_in' AND at <= $3
		ORDER BY id DESC LIMIT 1), ''), ` + auth.EmailSQL("$2::bigint")

// identified says how the signer was identified and how they signed.
// For a signature given online it is how the signer's session was opened
// (single sign-on's identified_by) or else the way the signing account
// last signed in before signing (method and email, read by signInSQL
// when needsSignIn); in class, the witnessing member of staff; on paper,
// who recorded it.
func (sig signedHow) identified(m, email string) (identified, how string) {
	switch sig.method {
	case "class":
		how = "In class, on the school's device"
		if sig.witness != "" {
			how = "In class, witnessed by " + sig.witness
		}
		return "Witnessed in person by a member of staff", how
	case "paper":
		how = "On a paper form"
		if sig.recordedBy != "" {
			how = "On a paper form, recorded by " + sig.recordedBy
		}
		if sig.paperDate != nil {
			how += " (form dated " + sig.paperDate.Format("2 January 2006") + ")"
		}
		return "Signed by hand on paper; the office keeps the form", how
	}
	how = "Online, in Signoff"
	if sig.identifiedBy != "" {
		return sig.identifiedBy, how
	}
	if sig.accountID == 0 {
		return "Not recorded", how
	}
	switch m {
	case "password":
		identified = "Signed in with their password"
	case "sign-in link to their address":
		identified = "Signed in with a single-use link emailed to their address"
	case "family link":
		identified = "Opened their family link, sent to them by the school"
	case "":
		identified = "Signed in to their account"
	default:
		identified = "Signed in by " + m
	}
	if email != "" && m != "family link" {
		identified += " (" + email + ")"
	}
	return identified, how
}

// Result is what the public verification page may show: no more than the
// signed copy itself shows on its face.
type Result struct {
	Found      bool
	Reference  string
	SchoolName string
	Title      string
	Version    int
	SignerName string
	SignedAt   string // UK time
	SHA256     string
	TextIntact bool
	// SealState says whether the record still matches the seal made with it.
	SealState SealState
	// For an uploaded file: whether it is, byte for byte, a copy Signoff issued.
	FileChecked bool
	FileMatches bool
	FileSHA256  string
	// Its digital signature (see signkey.CheckPDF), and whether it was
	// made with this installation's key.
	Signature signkey.PDFCheck
	OurKey    bool
}

// SignatureBroken is true for a file whose digital signature fails.
func (r Result) SignatureBroken() bool { return r.Signature.Signed && !r.Signature.Valid }

// Verified is the overall answer.
func (r Result) Verified() bool {
	return r.Found && r.TextIntact && r.SealState.Good() && (!r.FileChecked || (r.FileMatches && !r.SignatureBroken()))
}

func result(rec Record) Result {
	return Result{Found: true, Reference: rec.Reference, SchoolName: rec.Copy.SchoolName, Title: rec.Copy.PolicyTitle,
		Version: rec.Copy.VersionNumber, SignerName: rec.Copy.SignerName, SignedAt: schooltime.DateTimeZone(rec.Copy.SignedAt),
		SHA256: rec.Copy.SHA256, TextIntact: rec.TextIntact, SealState: rec.SealState}
}

// VerifyReference checks a reference.
func (s *Store) VerifyReference(ctx context.Context, ref string) (Result, error) {
	rec, err := s.Load(ctx, 0, ref)
	if apperr.CodeOf(err) == apperr.NotFound {
		return Result{Reference: NormalizeReference(ref)}, nil
	}
	if err != nil {
		return Result{}, err
	}
	return result(rec), nil
}

// MaxUpload is the largest PDF the verification page reads.
const MaxUpload = 20 << 20

// VerifyPDF checks an uploaded signed copy (see the package comment).
func (s *Store) VerifyPDF(ctx context.Context, data []byte) (Result, error) {
	sum := sha256.Sum256(data)
	fileSHA := hex.EncodeToString(sum[:])
	ref := pdf.ReferenceOf(data)
	if ref == "" {
		return Result{FileChecked: true, FileSHA256: fileSHA}, nil
	}
	rec, err := s.Load(ctx, 0, ref)
	if apperr.CodeOf(err) == apperr.NotFound {
		return Result{Reference: ref, FileChecked: true, FileSHA256: fileSHA}, nil
	}
	if err != nil {
		return Result{}, err
	}
	res := result(rec)
	res.FileChecked, res.FileSHA256 = true, fileSHA
	res.Signature = signkey.CheckPDF(data)
	res.OurKey = res.Signature.Certificate != nil && s.Signer != nil && s.Signer.Key != nil &&
		signkey.Fingerprint(res.Signature.Certificate) == s.Signer.Key.Fingerprint()
	if res.SignatureBroken() {
		return res, nil
	}
	var issued bool
	if err := s.db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM signed_copies WHERE signature_id = $1 AND sha256 = $2)`,
		rec.SignatureID, fileSHA).Scan(&issued); err != nil {
		return Result{}, fmt.Errorf("evidence: issued copies: %w", err)
	}
	// Not recorded as issued: it may still be the copy Signoff renders
	// now, with or without the signer's IP address and browser.
	for _, c := range []Record{rec, rec.WithoutDevice()} {
		if issued || !rec.TextIntact {
			break
		}
		var buf bytes.Buffer
		if err := pdf.WriteSignedCopy(&buf, c.Copy); err != nil {
			return Result{}, err
		}
		if res.Signature.Signed {
			// A signed copy is the copy rendered now with a signature
			// appended, made with this installation's key.
			issued = res.Signature.Valid && res.OurKey && bytes.HasPrefix(data, buf.Bytes())
		} else {
			issued = bytes.Equal(buf.Bytes(), data)
		}
	}
	res.FileMatches = issued
	return res, nil
}
