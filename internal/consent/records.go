package consent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/png" // drawn signatures
	"signoff/internal/database"
	"signoff/internal/limits"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/people"
	"signoff/internal/schooltime"
	"signoff/internal/signing"
)

// Parts of a home-school agreement (a consent form's records have none).
const (
	PartSchool = "school"
	PartParent = "parent"
	PartChild  = "child"
)

// Record is one signing of a parents' form: given, changed or withdrawn.
// Nothing is overwritten: a change is a new record superseding the old.
type Record struct {
	ID           int64
	Reference    string
	FormID       int64
	PupilID      int64
	PersonID     int64
	PersonName   string
	Part         string
	Answers      map[int64]bool // consent item → yes or no; acknowledgements → true
	TypedName    string
	Method       signing.Method
	SignedAt     time.Time
	AcademicYear int
	KeyStage     int
	SupersedesID int64
	Superseded   bool
	// Counts: the record is current and still counts under the form's
	// renewal rule now (this academic year, the child's key stage now, or
	// until withdrawn), as SQL's signoff_record_counts says (migration
	// 0022); the obligations table is derived with the same function.
	Counts      bool
	WitnessName string
	RecordedBy  string
	PaperDate   *time.Time
	HasScan     bool
	HasDrawing  bool
	TextSHA256  string
	IP          string
	UserAgent   string
	Language    string
	Seal        string // set when the record is made (see signing.SealFields)
}

// recordColumns are a record's columns, read from signatures s with the
// signer p (recordJoins); currentRecords and anyRecords add the last two,
// whether it is superseded and whether it still counts (for which
// recordJoins reads the form rf and the child rc).
const recordColumns = `s.id, s.reference, s.form_id, coalesce(s.pupil_id, 0), s.person_id, p.given_name || ' ' || p.family_name, s.part,
	s.answers, s.typed_name, s.method, s.signed_at, s.academic_year, coalesce(s.key_stage, -1), coalesce(s.supersedes_id, 0),
	coalesce((SELECT w.given_name || ' ' || w.family_name FROM people w WHERE w.id = s.witness_id), ''),
	coalesce((SELECT a.display_name FROM accounts a WHERE a.id = s.recorded_by), ''),
	s.paper_date, EXISTS (SELECT 1 FROM signature_scans sc WHERE sc.signature_id = s.id), s.drawn_signature IS NOT NULL,
	coalesce(s.version_sha256, ''), s.ip, s.user_agent, s.language`

const recordJoins = ` JOIN people p ON p.id = s.person_id JOIN forms rf ON rf.id = s.form_id LEFT JOIN people rc ON rc.id = s.pupil_id `

// stillCounts is "current record s still counts in academic year $1":
// signoff_record_counts (migration 0022), the one home of the rule.
const stillCounts = `signoff_record_counts(rf.renewal, s.academic_year, s.key_stage, rc.year_group, $1)`

// currentRecords is the SELECT of current records (signatures_current,
// migration 0022: the one home of "not superseded"), each saying whether
// it still counts in the academic year given as parameter $1 (every
// statement reading records passes the year first).
const currentRecords = `SELECT ` + recordColumns + `, false, ` + stillCounts + ` FROM signatures_current s` + recordJoins

// anyRecords is the SELECT of records current or superseded, as
// currentRecords says of each (the academic year is $1 here too).
const anyRecords = `SELECT ` + recordColumns + `, cur.id IS NULL, cur.id IS NOT NULL AND ` + stillCounts +
	` FROM signatures s LEFT JOIN signatures_current cur ON cur.id = s.id` + recordJoins

func scanRecord(r pgx.Row) (Record, error) {
	var rec Record
	var answers []byte
	err := r.Scan(&rec.ID, &rec.Reference, &rec.FormID, &rec.PupilID, &rec.PersonID, &rec.PersonName, &rec.Part, &answers, &rec.TypedName,
		&rec.Method, &rec.SignedAt, &rec.AcademicYear, &rec.KeyStage, &rec.SupersedesID, &rec.WitnessName, &rec.RecordedBy,
		&rec.PaperDate, &rec.HasScan, &rec.HasDrawing, &rec.TextSHA256, &rec.IP, &rec.UserAgent, &rec.Language, &rec.Superseded, &rec.Counts)
	if err != nil {
		return rec, err
	}
	rec.Answers, err = decodeAnswers(answers)
	return rec, err
}

func decodeAnswers(data []byte) (map[int64]bool, error) {
	raw := map[string]bool{}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("consent: answers: %w", err)
	}
	out := make(map[int64]bool, len(raw))
	for k, v := range raw {
		id, err := strconv.ParseInt(k, 10, 64)
		if err != nil {
			continue
		}
		out[id] = v
	}
	return out, nil
}

func encodeAnswers(a map[int64]bool) []byte {
	raw := make(map[string]bool, len(a))
	for k, v := range a {
		raw[strconv.FormatInt(k, 10)] = v
	}
	data, _ := json.Marshal(raw)
	return data
}

// Scan is the scan of a paper form.
type Scan struct {
	Filename    string
	ContentType string
	Data        []byte
}

// MaxScan is the largest scan accepted.
const MaxScan = 10 << 20

// checkScan looks at a scan's first bytes: only PDF, JPEG and PNG.
func checkScan(sc *Scan) string {
	switch {
	case len(sc.Data) == 0:
		return "Choose the scan of the paper form"
	case len(sc.Data) > MaxScan:
		return "The scan must be smaller than 10 MB"
	case bytes.HasPrefix(sc.Data, []byte("%PDF-")):
		sc.ContentType = "application/pdf"
	case bytes.HasPrefix(sc.Data, []byte{0xFF, 0xD8, 0xFF}):
		sc.ContentType = "image/jpeg"
	case bytes.HasPrefix(sc.Data, []byte("\x89PNG\r\n\x1a\n")):
		sc.ContentType = "image/png"
	default:
		return "The scan must be a PDF, JPEG or PNG file"
	}
	return ""
}

// MaxDrawingSide is the most pixels a drawn signature may have across or
// down. Its header is read before any pixels are (a small file can claim
// to be huge, and decoding it would take the memory it claims).
const MaxDrawingSide = 4000

// DrawingFits reports whether png's header says it is a PNG image of at
// most MaxDrawingSide × MaxDrawingSide pixels (no pixels are decoded).
func DrawingFits(png []byte) bool {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(png))
	return err == nil && format == "png" && cfg.Width > 0 && cfg.Height > 0 &&
		cfg.Width <= MaxDrawingSide && cfg.Height <= MaxDrawingSide
}

// MaxDrawing is the largest drawn signature accepted (a PNG).
const MaxDrawing = 300 << 10

// Submission is a parent's answers for one child, given on the web or
// recorded by the office from a paper form.
type Submission struct {
	SchoolID  int64
	FormID    int64
	PupilID   int64
	ParentID  int64
	Answers   map[int64]bool // consent items: yes or no
	Acks      map[int64]bool // acknowledgements ticked
	Agreed    bool           // agreement: the parent's part ticked
	TypedName string
	Drawn     []byte // optional drawn signature, PNG
	// Paper forms: who recorded it, the date on the form and its scan.
	Paper     bool
	PaperDate *time.Time
	Scan      *Scan
	Actor     audit.Actor
	UserAgent string
	Language  string
	// Deliver, when set, queues the receipt inside the same transaction.
	Deliver func(ctx context.Context, tx pgx.Tx, rec Record) error
}

// Submit records a parent's answers for one child. A parent who has
// answered before supersedes their own earlier record: nothing is lost.
func (s *Store) Submit(ctx context.Context, in Submission) (Record, error) {
	now := s.db.Now()
	var rec Record
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		f, items, pupil, parent, err := s.loadForParent(ctx, tx, in.SchoolID, in.FormID, in.PupilID, in.ParentID)
		if err != nil {
			return err
		}
		if err := validateSubmission(&in, f, items, now); err != nil {
			return err
		}
		prev, _, err := s.ownCurrent(ctx, tx, f, in.PupilID, in.ParentID, now)
		if err != nil {
			return err
		}
		part := ""
		if f.Kind == signing.Agreement {
			part = PartParent
		}
		answers := map[int64]bool{}
		for _, it := range items {
			if it.Kind == ConsentItem {
				answers[it.ID] = in.Answers[it.ID]
			} else {
				answers[it.ID] = true
			}
		}
		method := signing.Web
		if in.Paper {
			method = signing.Paper
		}
		rec, err = s.insert(ctx, tx, now, f, insertArgs{pupil: pupil, person: parent, part: part, answers: answers, typed: in.TypedName,
			drawn: in.Drawn, method: method, supersedes: prev.ID, actor: in.Actor, ua: in.UserAgent, lang: in.Language,
			paperDate: in.PaperDate, scan: in.Scan})
		if err != nil {
			return err
		}
		action := "consent.given"
		if prev.ID != 0 {
			action = "consent.changed"
		}
		if err := audit.Record(ctx, tx, audit.Entry{SchoolID: in.SchoolID, At: now, Actor: in.Actor, Action: action,
			Subject: "signature " + rec.Reference, Detail: map[string]string{"form": fmt.Sprint(f.ID), "pupil": fmt.Sprint(pupil.ID),
				"parent": fmt.Sprint(parent.ID), "method": string(method), "answers": describeAnswers(items, answers), "seal": rec.Seal}}); err != nil {
			return err
		}
		if in.Deliver != nil {
			return in.Deliver(ctx, tx, rec)
		}
		return nil
	})
	return rec, err
}

func validateSubmission(in *Submission, f signing.Form, items []Item, now time.Time) error {
	var v apperr.Validation
	for _, it := range items {
		field := fmt.Sprintf("item-%d", it.ID)
		switch it.Kind {
		case ConsentItem:
			if _, ok := in.Answers[it.ID]; !ok {
				v.Add(field, "Choose yes or no for: "+it.Label)
			}
		case AckItem:
			v.Check(in.Acks[it.ID], field, "Tick to confirm: "+it.Label)
		}
	}
	if f.Kind == signing.Agreement {
		v.Check(in.Agreed, "agree", "Tick the box to agree to the parent's part")
	}
	in.TypedName = strings.Join(strings.Fields(in.TypedName), " ")
	switch {
	case in.TypedName == "":
		if in.Paper {
			v.Add("typed_name", "Enter the name written on the paper form")
		} else {
			v.Add("typed_name", "Type your full name to sign")
		}
	case len([]rune(in.TypedName)) > 200:
		v.Add("typed_name", "The name must be 200 characters or fewer")
	}
	if len(in.Drawn) > 0 {
		v.Check(len(in.Drawn) <= MaxDrawing && bytes.HasPrefix(in.Drawn, []byte("\x89PNG\r\n\x1a\n")), "drawn",
			"The drawn signature could not be read: clear it and draw it again, or leave it out")
		if !v.Has("drawn") {
			v.Check(DrawingFits(in.Drawn), "drawn", fmt.Sprintf(
				"The drawn signature is too large: it must be a PNG image of at most %d × %d pixels. Clear it and draw it again, or leave it out", MaxDrawingSide, MaxDrawingSide))
		}
	}
	if in.Paper {
		switch {
		case in.PaperDate == nil:
			v.Add("paper_date", "Enter the date written on the paper form")
		case in.PaperDate.After(now):
			v.Add("paper_date", "The date on the paper form must be today or in the past")
		}
		if in.Scan == nil {
			v.Add("scan", "Choose the scan of the paper form")
		} else if msg := checkScan(in.Scan); msg != "" {
			v.Add("scan", msg)
		}
	}
	return v.Err()
}

// describeAnswers writes answers for the audit log: "Website: yes; Press: no".
func describeAnswers(items []Item, answers map[int64]bool) string {
	var parts []string
	for _, it := range items {
		if it.Kind != ConsentItem {
			continue
		}
		a := "no"
		if answers[it.ID] {
			a = "yes"
		}
		parts = append(parts, it.Label+": "+a)
	}
	return strings.Join(parts, "; ")
}

// loadForParent locks the child's records and checks that parent is a
// current parent of pupil with parental responsibility and that the form
// is addressed to the pupil's parents.
func (s *Store) loadForParent(ctx context.Context, tx pgx.Tx, schoolID, formID, pupilID, parentID int64) (signing.Form, []Item, child, people.Person, error) {
	var none people.Person
	var noChild child
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, int32(formID), int32(pupilID)); err != nil {
		return signing.Form{}, nil, noChild, none, fmt.Errorf("consent: lock: %w", err)
	}
	f, err := signing.ScanForm(tx.QueryRow(ctx, `SELECT `+signing.FormColumns+` FROM forms f WHERE f.school_id = $1 AND f.id = $2 AND f.audience = 'parents'`, schoolID, formID))
	if errors.Is(err, pgx.ErrNoRows) {
		return f, nil, noChild, none, apperr.New(apperr.NotFound, "There is no such form")
	}
	if err != nil {
		return f, nil, noChild, none, fmt.Errorf("consent: form: %w", err)
	}
	pupil, err := loadChild(ctx, tx, schoolID, pupilID)
	if errors.Is(err, pgx.ErrNoRows) {
		return f, nil, noChild, none, apperr.New(apperr.NotFound, "Page not found")
	}
	if err != nil {
		return f, nil, noChild, none, fmt.Errorf("consent: pupil: %w", err)
	}
	var pr bool
	parent, err := people.Scan(tx.QueryRow(ctx, `SELECT `+people.Columns+`, g.parental_responsibility FROM people p JOIN guardianships g ON g.parent_id = p.id
		WHERE p.school_id = $1 AND p.id = $2 AND g.pupil_id = $3 AND p.left_at IS NULL`, schoolID, parentID, pupilID), &pr)
	if errors.Is(err, pgx.ErrNoRows) {
		return f, nil, noChild, none, apperr.New(apperr.NotFound, "Page not found")
	}
	if err != nil {
		return f, nil, noChild, none, fmt.Errorf("consent: parent: %w", err)
	}
	if !ForPupil(f, pupil.Person) {
		return f, nil, noChild, none, apperr.New(apperr.NotFound, "Page not found")
	}
	if !pr {
		return f, nil, noChild, none, apperr.New(apperr.Forbidden, "Only a parent or carer with parental responsibility can complete this form. Please contact the school office.")
	}
	if f.ClosedAt != nil {
		return f, nil, noChild, none, apperr.New(apperr.Conflict, "This form is closed")
	}
	items, err := itemsOn(ctx, tx, formID)
	return f, items, pupil, parent, err
}

// child is a pupil with the key stage a record given for them now is of:
// signoff_key_stage (migration 0012, the one home of key stages) of their
// year group, nil without one.
type child struct {
	people.Person
	keyStage *int
}

// loadChild reads a pupil of the school with their key stage now.
func loadChild(ctx context.Context, tx pgx.Tx, schoolID, pupilID int64) (child, error) {
	var c child
	var err error
	c.Person, err = people.Scan(tx.QueryRow(ctx, `SELECT `+people.Columns+`, CASE WHEN p.year_group IS NOT NULL THEN signoff_key_stage(p.year_group) END
		FROM people p WHERE p.school_id = $1 AND p.id = $2 AND p.kind = 'pupil'`, schoolID, pupilID), &c.keyStage)
	return c, err
}

// ownCurrent returns a person's current (not superseded) record of a form
// for a pupil, whether or not it still counts (its Counts says, now).
func (s *Store) ownCurrent(ctx context.Context, tx pgx.Tx, f signing.Form, pupilID, personID int64, now time.Time) (Record, bool, error) {
	rec, err := scanRecord(tx.QueryRow(ctx, currentRecords+`
		WHERE s.form_id = $2 AND s.pupil_id = $3 AND s.person_id = $4 AND s.part IN ('', 'parent', 'child')
		ORDER BY s.signed_at DESC, s.id DESC LIMIT 1`, schooltime.AcademicYear(now), f.ID, pupilID, personID))
	if errors.Is(err, pgx.ErrNoRows) {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, fmt.Errorf("consent: current record: %w", err)
	}
	return rec, true, nil
}

type insertArgs struct {
	pupil      child
	person     people.Person
	part       string
	answers    map[int64]bool
	typed      string
	drawn      []byte
	method     signing.Method
	supersedes int64
	witness    int64
	actor      audit.Actor
	ua         string
	lang       string
	paperDate  *time.Time
	scan       *Scan
}

func (s *Store) insert(ctx context.Context, tx pgx.Tx, now time.Time, f signing.Form, a insertArgs) (Record, error) {
	ref, err := signing.NewReference()
	if err != nil {
		return Record{}, err
	}
	if len(a.ua) > 500 {
		a.ua = a.ua[:500]
	}
	if a.lang == "" {
		a.lang = "en"
	}
	var pupilID *int64
	if a.pupil.ID != 0 {
		pupilID = &a.pupil.ID
	}
	ks, keyStage := a.pupil.keyStage, -1
	if ks != nil {
		keyStage = *ks
	}
	var recordedBy *int64
	if a.method == signing.Paper {
		recordedBy = &a.actor.AccountID
	}
	var drawn []byte
	if len(a.drawn) > 0 {
		drawn = a.drawn
	}
	rec := Record{Reference: ref, FormID: f.ID, PupilID: a.pupil.ID, PersonID: a.person.ID, PersonName: a.person.FullName(), Part: a.part,
		Answers: a.answers, TypedName: a.typed, Method: a.method, SignedAt: now, AcademicYear: schooltime.AcademicYear(now), KeyStage: keyStage,
		SupersedesID: a.supersedes, PaperDate: a.paperDate, HasScan: a.scan != nil, HasDrawing: drawn != nil, TextSHA256: f.TextSHA256,
		IP: a.actor.IP, UserAgent: a.ua, Language: a.lang}
	answers := encodeAnswers(a.answers)
	sf := signing.SealFields{SchoolID: f.SchoolID, FormID: f.ID, PersonID: a.person.ID, PupilID: a.pupil.ID, VersionSHA256: f.TextSHA256,
		Statement: f.Statement, TypedName: a.typed, Drawn: drawn, Answers: answers, AcademicYear: rec.AcademicYear, Method: a.method,
		AccountID: a.actor.AccountID, IP: a.actor.IP, UserAgent: a.ua, Reference: ref, SupersedesID: a.supersedes, SignedAt: now,
		Part: a.part, WitnessID: a.witness, PaperDate: a.paperDate, KeyStage: ks, Language: a.lang}
	if recordedBy != nil {
		sf.RecordedBy = *recordedBy
	}
	rec.Seal = sf.Seal()
	err = tx.QueryRow(ctx, `INSERT INTO signatures (school_id, form_id, person_id, pupil_id, version_sha256, statement, typed_name, drawn_signature,
			answers, academic_year, method, account_id, ip, user_agent, reference, supersedes_id, signed_at, part, witness_id, recorded_by,
			paper_date, key_stage, language, seal)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24) RETURNING id`,
		f.SchoolID, f.ID, a.person.ID, pupilID, f.TextSHA256, f.Statement, a.typed, drawn, answers, rec.AcademicYear,
		a.method, database.NullID(a.actor.AccountID), a.actor.IP, a.ua, ref, database.NullID(a.supersedes), now, a.part, database.NullID(a.witness), recordedBy,
		a.paperDate, ks, a.lang, rec.Seal).Scan(&rec.ID)
	if err != nil {
		return Record{}, fmt.Errorf("consent: record: %w", err)
	}
	if a.scan != nil {
		sum := sha256.Sum256(a.scan.Data)
		if _, err := tx.Exec(ctx, `INSERT INTO signature_scans (signature_id, school_id, filename, content_type, data, sha256, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, rec.ID, f.SchoolID, limits.Clip(a.scan.Filename, limits.Filename), a.scan.ContentType, a.scan.Data,
			hex.EncodeToString(sum[:]), now); err != nil {
			return Record{}, fmt.Errorf("consent: scan: %w", err)
		}
	}
	return rec, nil
}

// Change sets one consent item to yes or no for a child, at once, as a
// new record superseding the parent's current one (or, when only the
// other parent has answered, starting from their answers).
func (s *Store) Change(ctx context.Context, schoolID, formID, pupilID, parentID, itemID int64, value bool, actor audit.Actor, userAgent, lang string) (Record, error) {
	now := s.db.Now()
	var rec Record
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		f, items, pupil, parent, err := s.loadForParent(ctx, tx, schoolID, formID, pupilID, parentID)
		if err != nil {
			return err
		}
		var item *Item
		for i := range items {
			if items[i].ID == itemID && items[i].Kind == ConsentItem {
				item = &items[i]
			}
		}
		if item == nil {
			return apperr.New(apperr.NotFound, "There is no such question on this form")
		}
		base, ok, err := s.ownCurrent(ctx, tx, f, pupilID, parentID, now)
		if err != nil {
			return err
		}
		if !ok || !base.Counts {
			others, err := s.currentForPupil(ctx, tx, f, pupilID, now)
			if err != nil {
				return err
			}
			var from *Record
			for i := range others {
				if others[i].Counts && others[i].Part != PartChild {
					from = &others[i]
					break
				}
			}
			if from == nil {
				return apperr.New(apperr.Conflict, "Complete the form first: there are no answers to change yet")
			}
			b := *from
			if ok {
				b.ID = base.ID
			} else {
				b.ID = 0
			}
			base = b
		}
		answers := map[int64]bool{}
		for k, v := range base.Answers {
			answers[k] = v
		}
		if old, had := answers[itemID]; had && old == value {
			rec = base
			return nil
		}
		answers[itemID] = value
		part := ""
		if f.Kind == signing.Agreement {
			part = PartParent
		}
		rec, err = s.insert(ctx, tx, now, f, insertArgs{pupil: pupil, person: parent, part: part, answers: answers, typed: parent.FullName(),
			method: signing.Web, supersedes: base.ID, actor: actor, ua: userAgent, lang: lang})
		if err != nil {
			return err
		}
		action := "consent.given"
		if !value {
			action = "consent.withdrawn"
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: actor, Action: action, Subject: "signature " + rec.Reference,
			Detail: map[string]string{"form": fmt.Sprint(formID), "pupil": fmt.Sprint(pupilID), "parent": fmt.Sprint(parentID),
				"item": item.Label, "now": map[bool]string{true: "yes", false: "no"}[value], "seal": rec.Seal}})
	})
	return rec, err
}

// currentForPupil returns every current (not superseded) record of a
// form for a pupil: each parent's, the child's part and paper records.
func (s *Store) currentForPupil(ctx context.Context, q database.Querier, f signing.Form, pupilID int64, now time.Time) ([]Record, error) {
	rows, err := q.Query(ctx, currentRecords+`
		WHERE s.form_id = $2 AND s.pupil_id = $3
		ORDER BY s.signed_at DESC, s.id DESC`, schooltime.AcademicYear(now), f.ID, pupilID)
	if err != nil {
		return nil, fmt.Errorf("consent: records: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Record, error) { return scanRecord(r) })
	if err != nil {
		return nil, fmt.Errorf("consent: records: %w", err)
	}
	return out, nil
}

// collectCurrent reads records by form and pupil, in the order given.
func collectCurrent(rows pgx.Rows) (map[[2]int64][]Record, error) {
	out := map[[2]int64][]Record{}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Record, error) { return scanRecord(r) })
	if err != nil {
		return nil, fmt.Errorf("consent: records: %w", err)
	}
	for _, rec := range all {
		k := [2]int64{rec.FormID, rec.PupilID}
		out[k] = append(out[k], rec)
	}
	return out, nil
}

// History returns every record of a form for a pupil, newest first: who
// gave, changed or withdrew what, and when.
func (s *Store) History(ctx context.Context, schoolID, formID, pupilID int64) ([]Record, error) {
	rows, err := s.db.Pool.Query(ctx, anyRecords+`
		WHERE s.school_id = $2 AND s.form_id = $3 AND s.pupil_id = $4 ORDER BY s.signed_at DESC, s.id DESC`,
		schooltime.AcademicYear(s.db.Now()), schoolID, formID, pupilID)
	if err != nil {
		return nil, fmt.Errorf("consent: history: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Record, error) { return scanRecord(r) })
	if err != nil {
		return nil, fmt.Errorf("consent: history: %w", err)
	}
	return out, nil
}

// RecordByReference returns a parents' form record of the school.
func (s *Store) RecordByReference(ctx context.Context, schoolID int64, ref string) (Record, error) {
	rec, err := scanRecord(s.db.Pool.QueryRow(ctx, anyRecords+`
		WHERE s.school_id = $2 AND s.reference = $3 AND rf.audience = 'parents'`,
		schooltime.AcademicYear(s.db.Now()), schoolID, strings.ToUpper(strings.TrimSpace(ref))))
	if errors.Is(err, pgx.ErrNoRows) {
		return Record{}, apperr.New(apperr.NotFound, "There is no such record")
	}
	if err != nil {
		return Record{}, fmt.Errorf("consent: record: %w", err)
	}
	return rec, nil
}

// ScanOf returns the scan of a paper record.
func (s *Store) ScanOf(ctx context.Context, schoolID, signatureID int64) (Scan, error) {
	var sc Scan
	err := s.db.Pool.QueryRow(ctx, `SELECT filename, content_type, data FROM signature_scans WHERE school_id = $1 AND signature_id = $2`,
		schoolID, signatureID).Scan(&sc.Filename, &sc.ContentType, &sc.Data)
	if errors.Is(err, pgx.ErrNoRows) {
		return Scan{}, apperr.New(apperr.NotFound, "There is no scan")
	}
	if err != nil {
		return Scan{}, fmt.Errorf("consent: scan: %w", err)
	}
	return sc, nil
}

// Drawing returns a record's drawn signature (PNG), if any.
func (s *Store) Drawing(ctx context.Context, schoolID, signatureID int64) ([]byte, error) {
	var png []byte
	err := s.db.Pool.QueryRow(ctx, `SELECT drawn_signature FROM signatures WHERE school_id = $1 AND id = $2`, schoolID, signatureID).Scan(&png)
	if err != nil {
		return nil, fmt.Errorf("consent: drawing: %w", err)
	}
	return png, nil
}
