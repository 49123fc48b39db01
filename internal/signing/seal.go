package signing

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// SealVersion is the version of the seal's canonical encoding. A new
// encoding gets a new number; records keep the version they were sealed
// with (the seal's "N:" prefix), so old seals still check.
const SealVersion = 1

// SealFields are every evidential field of a signature or consent record:
// who (person, account, for which child), which form and version and its
// text's SHA-256, the statement, each answer, the typed name, the drawn
// signature's SHA-256, how (method, part, witness, recorder, paper date),
// when, the IP address and browser, the reference and what it supersedes.
type SealFields struct {
	SchoolID, FormID, PersonID, PupilID, VersionID int64
	VersionSHA256, Statement, TypedName            string
	Drawn                                          []byte
	Answers                                        []byte // the answers JSON as stored
	AcademicYear                                   int
	Method                                         Method
	AccountID                                      int64
	IP, UserAgent, Reference                       string
	SupersedesID                                   int64
	SignedAt                                       time.Time
	Part                                           string
	WitnessID, RecordedBy                          int64
	PaperDate                                      *time.Time
	KeyStage                                       *int
	Language                                       string
	// IdentifiedBy is how the signer's session was opened (single sign-on:
	// "Microsoft 365 account …, tenant …"). Records without it seal as
	// before; with it, it is one more string at the end of the encoding.
	IdentifiedBy string
}

// Seal is "1:" and the SHA-256 (hex) of the canonical encoding: a JSON
// array of strings in a fixed order, beginning "signoff-seal-1"; an
// absent id, date or key stage is "", the time is RFC 3339 in UTC to the
// microsecond, the drawing is its SHA-256 (or ""), and the answers are
// re-encoded with sorted keys and no spaces.
func (f SealFields) Seal() string {
	sum := sha256.Sum256(f.canonical())
	return strconv.Itoa(SealVersion) + ":" + hex.EncodeToString(sum[:])
}

func (f SealFields) canonical() []byte {
	id := func(n int64) string {
		if n == 0 {
			return ""
		}
		return strconv.FormatInt(n, 10)
	}
	drawn := ""
	if len(f.Drawn) > 0 {
		sum := sha256.Sum256(f.Drawn)
		drawn = hex.EncodeToString(sum[:])
	}
	paper := ""
	if f.PaperDate != nil {
		paper = f.PaperDate.Format("2006-01-02")
	}
	ks := ""
	if f.KeyStage != nil {
		ks = strconv.Itoa(*f.KeyStage)
	}
	fields := []string{
		"signoff-seal-" + strconv.Itoa(SealVersion),
		id(f.SchoolID), id(f.FormID), id(f.PersonID), id(f.PupilID), id(f.VersionID), f.VersionSHA256,
		f.Statement, f.TypedName, drawn, CanonicalAnswers(f.Answers), strconv.Itoa(f.AcademicYear), string(f.Method),
		id(f.AccountID), f.IP, f.UserAgent, f.Reference, id(f.SupersedesID),
		f.SignedAt.UTC().Truncate(time.Microsecond).Format("2006-01-02T15:04:05.000000Z"),
		f.Part, id(f.WitnessID), id(f.RecordedBy), paper, ks, f.Language,
	}
	if f.IdentifiedBy != "" {
		fields = append(fields, f.IdentifiedBy)
	}
	out, _ := json.Marshal(fields)
	return out
}

// CanonicalAnswers re-encodes an answers JSON object with sorted keys and
// no spaces (PostgreSQL's jsonb does not keep the bytes it was given);
// anything that is not an object is kept as it is.
func CanonicalAnswers(raw []byte) string {
	var m map[string]any
	if len(raw) == 0 {
		return "{}"
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return strings.TrimSpace(string(raw))
	}
	if m == nil {
		return "null"
	}
	out, _ := json.Marshal(m)
	return string(out)
}

// SealColumns reads SealFields from signatures s, in ScanSeal's order.
const SealColumns = `s.school_id, s.form_id, s.person_id, coalesce(s.pupil_id, 0), coalesce(s.version_id, 0),
	coalesce(s.version_sha256, ''), s.statement, s.typed_name, s.drawn_signature, s.answers, s.academic_year, s.method,
	coalesce(s.account_id, 0), s.ip, s.user_agent, s.reference, coalesce(s.supersedes_id, 0), s.signed_at, s.part,
	coalesce(s.witness_id, 0), coalesce(s.recorded_by, 0), s.paper_date, s.key_stage, s.language, coalesce(s.identified_by, '')`

// ScanSeal scans SealColumns, and then dest.
func ScanSeal(r pgx.Row, dest ...any) (SealFields, error) {
	var f SealFields
	var ks *int16
	args := []any{&f.SchoolID, &f.FormID, &f.PersonID, &f.PupilID, &f.VersionID, &f.VersionSHA256, &f.Statement,
		&f.TypedName, &f.Drawn, &f.Answers, &f.AcademicYear, &f.Method, &f.AccountID, &f.IP, &f.UserAgent, &f.Reference,
		&f.SupersedesID, &f.SignedAt, &f.Part, &f.WitnessID, &f.RecordedBy, &f.PaperDate, &ks, &f.Language, &f.IdentifiedBy}
	err := r.Scan(append(args, dest...)...)
	if ks != nil {
		k := int(*ks)
		f.KeyStage = &k
	}
	return f, err
}
