// Package subjectaccess answers a subject access request: everything
// Signoff holds about one person (staff, parent or pupil), gathered from
// every table that names them, and written as one ZIP (a readable
// summary, every signed copy, and the same data as JSON and CSV).
//
// What belongs to a person, precisely:
//   - their own person record, and the accounts that sign them in;
//   - their links (a parent's children, a pupil's parents and carers:
//     names and relationship only, never the other person's contact details);
//   - every record they signed or gave (staff signatures, a parent's
//     answers for each child with every change and withdrawal, a pupil's
//     part of the agreement), with the IP address and browser they used;
//   - for a pupil, the records their parents gave for them (answers, who,
//     when), without the parent's IP address and browser;
//   - sign-ins and what their accounts did (the audit log), sessions,
//     family and sign-in links issued to them (dates, never tokens);
//   - the emails Signoff queued to their address, and reminders to them.
//
// A parent's export covers their own records and those they made for
// their children, not the other parent's.
package subjectaccess

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/database"
	"signoff/internal/people"
)

// Store gathers what Signoff holds about a person.
type Store struct{ db *database.DB }

// NewStore returns a Store.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

// Export is everything held about one person.
type Export struct {
	GeneratedAt time.Time    `json:"generated_at"`
	School      string       `json:"school"`
	Person      Person       `json:"person"`
	Accounts    []Account    `json:"accounts"`
	Links       []Link       `json:"links"`
	Records     []Record     `json:"records"`               // what they signed or gave, every change included
	AboutThem   []Record     `json:"records_about_them"`    // a pupil's: what their parents gave for them
	SignIns     []Activity   `json:"sign_ins"`              // from the audit log
	Activity    []Activity   `json:"activity"`              // everything else their accounts did
	Sessions    []Session    `json:"sessions"`              // sign-ins still held
	AccessLinks []AccessLink `json:"access_links"`          // family and sign-in links issued to them
	Emails      []Email      `json:"emails"`                // queued to their address
	Reminders   []Reminder   `json:"reminders"`             // reminders to them
	Decisions   []Decision   `json:"policy_decisions"`      // a governor's or head's approvals, with comments
	LegalHolds  []LegalHold  `json:"legal_holds,omitempty"` // holds on their records
}

// Person is the person record.
type Person struct {
	ID            int64      `json:"id"`
	Kind          string     `json:"kind"`
	MISID         string     `json:"mis_id,omitempty"`
	Title         string     `json:"title,omitempty"`
	GivenName     string     `json:"given_name"`
	PreferredName string     `json:"preferred_name,omitempty"`
	FamilyName    string     `json:"family_name"`
	Email         string     `json:"email,omitempty"`
	Mobile        string     `json:"mobile,omitempty"`
	StaffRole     string     `json:"staff_role,omitempty"`
	JobTitle      string     `json:"job_title,omitempty"`
	YearGroup     string     `json:"year_group,omitempty"`
	RegClass      string     `json:"reg_class,omitempty"`
	DateOfBirth   *time.Time `json:"date_of_birth,omitempty"`
	StartedOn     *time.Time `json:"started_on,omitempty"`
	LeftAt        *time.Time `json:"left_at,omitempty"`
	AccountID     int64      `json:"-"`
}

// FullName is the person's name.
func (p Person) FullName() string { return p.GivenName + " " + p.FamilyName }

// Account is an account that signs the person in.
type Account struct {
	ID          int64      `json:"id"`
	Email       string     `json:"email,omitempty"`
	DisplayName string     `json:"display_name"`
	Roles       []string   `json:"roles"`
	HasPassword bool       `json:"has_password"`
	CreatedAt   time.Time  `json:"created_at"`
	DisabledAt  *time.Time `json:"disabled_at,omitempty"`
}

// Link is a parent–pupil link seen from the person.
type Link struct {
	Name                   string `json:"name"`
	Kind                   string `json:"kind"` // "pupil" (their child) or "parent"
	Relationship           string `json:"relationship,omitempty"`
	ParentalResponsibility bool   `json:"parental_responsibility"`
	Class                  string `json:"class,omitempty"`
}

// Record is one signature or consent record.
type Record struct {
	Reference     string            `json:"reference"`
	Form          string            `json:"form"`
	Version       int               `json:"version,omitempty"`
	VersionSHA256 string            `json:"version_sha256,omitempty"`
	ForChild      string            `json:"for_child,omitempty"`
	GivenBy       string            `json:"given_by,omitempty"` // records about a pupil: the parent
	Part          string            `json:"part,omitempty"`
	Statement     string            `json:"statement,omitempty"`
	Answers       map[string]string `json:"answers,omitempty"` // question → yes/no
	TypedName     string            `json:"typed_name,omitempty"`
	Method        string            `json:"method"`
	Language      string            `json:"language,omitempty"`
	SignedAt      time.Time         `json:"signed_at"`
	IP            string            `json:"ip,omitempty"`
	UserAgent     string            `json:"user_agent,omitempty"`
	Supersedes    string            `json:"supersedes,omitempty"`
	Superseded    bool              `json:"superseded"`
	HasScan       bool              `json:"has_paper_scan"`
	// Own is true for the person's own record (the copy shows their IP
	// address and browser); false for a record about them.
	Own bool `json:"-"`
}

// Activity is one audit entry of the person's accounts.
type Activity struct {
	At      time.Time `json:"at"`
	Action  string    `json:"action"`
	Subject string    `json:"subject,omitempty"`
	Method  string    `json:"method,omitempty"`
	IP      string    `json:"ip,omitempty"`
}

// Session is a sign-in the server still holds.
type Session struct {
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	IP         string    `json:"ip,omitempty"`
	UserAgent  string    `json:"user_agent,omitempty"`
}

// AccessLink is a family or sign-in link issued to the person.
type AccessLink struct {
	Purpose   string     `json:"purpose"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	UsedAt    *time.Time `json:"used_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// Email is a message queued to the person's address.
type Email struct {
	To        string     `json:"to"`
	Subject   string     `json:"subject"`
	Body      string     `json:"body"`
	Kind      string     `json:"kind,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
}

// Reminder is a reminder queued to the person.
type Reminder struct {
	Form     string    `json:"form"`
	ForChild string    `json:"for_child,omitempty"`
	SentOn   time.Time `json:"sent_on"`
	Origin   string    `json:"origin"`
}

// Decision is an approval or rejection of a policy revision, with its comment.
type Decision struct {
	Policy    string    `json:"policy"`
	Version   int       `json:"version"`
	Decision  string    `json:"decision"`
	Comment   string    `json:"comment,omitempty"`
	DecidedAt time.Time `json:"decided_at"`
}

// LegalHold is a hold the office placed on the person's records.
type LegalHold struct {
	Reason   string     `json:"reason"`
	PlacedAt time.Time  `json:"placed_at"`
	LiftedAt *time.Time `json:"lifted_at,omitempty"`
}

// Collect gathers everything held about person personID of school schoolID.
func (s *Store) Collect(ctx context.Context, schoolID, personID int64) (Export, error) {
	ex := Export{GeneratedAt: s.db.Now()}
	q := s.db.Pool
	var p people.Person
	var accountID int64
	p, err := people.Scan(q.QueryRow(ctx, `SELECT `+people.Columns+`, coalesce(p.account_id, 0) FROM people p
		WHERE p.school_id = $1 AND p.id = $2`, schoolID, personID), &accountID)
	if err != nil {
		return ex, fmt.Errorf("subjectaccess: person: %w", err)
	}
	ex.Person = Person{ID: p.ID, Kind: string(p.Kind), MISID: p.MISID, Title: p.Title, GivenName: p.GivenName, PreferredName: p.PreferredName,
		FamilyName: p.FamilyName, Email: p.Email, Mobile: p.Mobile, StaffRole: string(p.StaffRole), JobTitle: p.JobTitle, RegClass: p.RegClass,
		DateOfBirth: p.DateOfBirth, StartedOn: p.StartedOn, LeftAt: p.LeftAt, AccountID: accountID}
	if p.YearGroup != nil {
		ex.Person.YearGroup = p.YearGroup.Label()
	}
	if err := q.QueryRow(ctx, `SELECT name FROM schools WHERE id = $1`, schoolID).Scan(&ex.School); err != nil {
		return ex, fmt.Errorf("subjectaccess: school: %w", err)
	}

	// Accounts: the person's own.
	rows, err := q.Query(ctx, `SELECT a.id, coalesce(a.email, ''), a.display_name, a.roles, a.password_hash IS NOT NULL, a.created_at, a.disabled_at
		FROM accounts a WHERE a.school_id = $1 AND a.id = $2`, schoolID, accountID)
	if err != nil {
		return ex, fmt.Errorf("subjectaccess: accounts: %w", err)
	}
	ex.Accounts, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Account, error) {
		var a Account
		return a, r.Scan(&a.ID, &a.Email, &a.DisplayName, &a.Roles, &a.HasPassword, &a.CreatedAt, &a.DisabledAt)
	})
	if err != nil {
		return ex, fmt.Errorf("subjectaccess: accounts: %w", err)
	}
	emails := []string{}
	if p.Email != "" {
		emails = append(emails, p.Email)
	}
	for _, a := range ex.Accounts {
		if a.Email != "" && !slices.Contains(emails, a.Email) {
			emails = append(emails, a.Email)
		}
	}

	// Links: names and relationship only.
	rows, err = q.Query(ctx, `SELECT o.given_name || ' ' || o.family_name, o.kind, g.relationship, g.parental_responsibility, coalesce(o.reg_class, '')
		FROM guardianships g JOIN people o ON o.id = CASE WHEN g.parent_id = $2 THEN g.pupil_id ELSE g.parent_id END
		WHERE g.school_id = $1 AND (g.parent_id = $2 OR g.pupil_id = $2)
		ORDER BY g.priority, o.family_name, o.given_name`, schoolID, personID)
	if err != nil {
		return ex, fmt.Errorf("subjectaccess: links: %w", err)
	}
	ex.Links, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Link, error) {
		var l Link
		return l, r.Scan(&l.Name, &l.Kind, &l.Relationship, &l.ParentalResponsibility, &l.Class)
	})
	if err != nil {
		return ex, fmt.Errorf("subjectaccess: links: %w", err)
	}

	// Records they gave, and (for a pupil) the records given for them by others.
	if ex.Records, err = s.records(ctx, `s.school_id = $1 AND s.person_id = $2`, schoolID, personID, accountID, true); err != nil {
		return ex, err
	}
	if p.Kind == people.Pupil {
		if ex.AboutThem, err = s.records(ctx, `s.school_id = $1 AND s.pupil_id = $2 AND s.person_id <> $2`, schoolID, personID, accountID, false); err != nil {
			return ex, err
		}
	}

	if accountID != 0 {
		rows, err = q.Query(ctx, `SELECT at, action, subject, coalesce(detail->>'method', ''), ip FROM audit_log
			WHERE school_id = $1 AND actor_id = $2 ORDER BY id`, schoolID, accountID)
		if err != nil {
			return ex, fmt.Errorf("subjectaccess: activity: %w", err)
		}
		all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Activity, error) {
			var a Activity
			return a, r.Scan(&a.At, &a.Action, &a.Subject, &a.Method, &a.IP)
		})
		if err != nil {
			return ex, fmt.Errorf("subjectaccess: activity: %w", err)
		}
		for _, a := range all {
			if a.Action == "account.signed_in" || a.Action == "account.signed_out" {
				ex.SignIns = append(ex.SignIns, a)
			} else {
				a.Method = ""
				ex.Activity = append(ex.Activity, a)
			}
		}
		rows, err = q.Query(ctx, `SELECT p.title, v.number, d.decision, d.comment, d.decided_at
			FROM policy_decisions d JOIN policy_versions v ON v.id = d.version_id JOIN policies p ON p.id = v.policy_id
			WHERE d.school_id = $1 AND d.account_id = $2 ORDER BY d.decided_at`, schoolID, accountID)
		if err != nil {
			return ex, fmt.Errorf("subjectaccess: decisions: %w", err)
		}
		if ex.Decisions, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Decision, error) {
			var x Decision
			return x, r.Scan(&x.Policy, &x.Version, &x.Decision, &x.Comment, &x.DecidedAt)
		}); err != nil {
			return ex, fmt.Errorf("subjectaccess: decisions: %w", err)
		}
		rows, err = q.Query(ctx, `SELECT created_at, last_seen_at, expires_at, ip, user_agent FROM sessions WHERE account_id = $1 ORDER BY created_at`, accountID)
		if err != nil {
			return ex, fmt.Errorf("subjectaccess: sessions: %w", err)
		}
		if ex.Sessions, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Session, error) {
			var x Session
			return x, r.Scan(&x.CreatedAt, &x.LastSeenAt, &x.ExpiresAt, &x.IP, &x.UserAgent)
		}); err != nil {
			return ex, fmt.Errorf("subjectaccess: sessions: %w", err)
		}
		rows, err = q.Query(ctx, `SELECT purpose, created_at, expires_at, used_at, revoked_at FROM access_links
			WHERE school_id = $1 AND account_id = $2 ORDER BY created_at`, schoolID, accountID)
		if err != nil {
			return ex, fmt.Errorf("subjectaccess: links issued: %w", err)
		}
		if ex.AccessLinks, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (AccessLink, error) {
			var x AccessLink
			return x, r.Scan(&x.Purpose, &x.CreatedAt, &x.ExpiresAt, &x.UsedAt, &x.RevokedAt)
		}); err != nil {
			return ex, fmt.Errorf("subjectaccess: links issued: %w", err)
		}
	}

	if len(emails) > 0 {
		rows, err = q.Query(ctx, `SELECT to_address, subject, body_text, kind, created_at, sent_at FROM outbox
			WHERE school_id = $1 AND lower(to_address) = ANY ($2) ORDER BY id`, schoolID, emails)
		if err != nil {
			return ex, fmt.Errorf("subjectaccess: emails: %w", err)
		}
		if ex.Emails, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Email, error) {
			var x Email
			return x, r.Scan(&x.To, &x.Subject, &x.Body, &x.Kind, &x.CreatedAt, &x.SentAt)
		}); err != nil {
			return ex, fmt.Errorf("subjectaccess: emails: %w", err)
		}
	}

	rows, err = q.Query(ctx, `SELECT f.title, coalesce(c.given_name || ' ' || c.family_name, ''), r.sent_on, r.origin
		FROM reminders r JOIN forms f ON f.id = r.form_id LEFT JOIN people c ON c.id = r.pupil_id
		WHERE r.school_id = $1 AND r.person_id = $2 ORDER BY r.created_at`, schoolID, personID)
	if err != nil {
		return ex, fmt.Errorf("subjectaccess: reminders: %w", err)
	}
	if ex.Reminders, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Reminder, error) {
		var x Reminder
		return x, r.Scan(&x.Form, &x.ForChild, &x.SentOn, &x.Origin)
	}); err != nil {
		return ex, fmt.Errorf("subjectaccess: reminders: %w", err)
	}

	if ex.LegalHolds, err = s.holds(ctx, schoolID, personID); err != nil {
		return ex, err
	}
	return ex, nil
}

// holds reads the legal holds on a person, when the retention schedule's
// table exists.
func (s *Store) holds(ctx context.Context, schoolID, personID int64) ([]LegalHold, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT reason, placed_at, lifted_at FROM legal_holds
		WHERE school_id = $1 AND person_id = $2 ORDER BY placed_at`, schoolID, personID)
	if err != nil {
		return nil, fmt.Errorf("subjectaccess: legal holds: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (LegalHold, error) {
		var h LegalHold
		return h, r.Scan(&h.Reason, &h.PlacedAt, &h.LiftedAt)
	})
	if err != nil {
		return nil, fmt.Errorf("subjectaccess: legal holds: %w", err)
	}
	return out, nil
}

// records reads signature and consent records matching where ($1 the
// school, $2 the person), oldest first, answers named by their questions.
// The IP address and browser are kept only where the person's own
// account gave the record (not a teacher's screen in class, nor the
// office recording a paper form, nor another parent).
func (s *Store) records(ctx context.Context, where string, schoolID, personID, accountID int64, own bool) ([]Record, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT s.reference, f.title, coalesce(v.number, 0), coalesce(s.version_sha256, ''),
			coalesce(c.given_name || ' ' || c.family_name, ''), g.given_name || ' ' || g.family_name, s.part, s.statement, s.answers,
			s.typed_name, s.method, s.language, s.signed_at, s.ip, s.user_agent, coalesce(prev.reference, ''),
			cur.id IS NULL,
			EXISTS (SELECT 1 FROM signature_scans sc WHERE sc.signature_id = s.id),
			coalesce((SELECT jsonb_object_agg(i.id::text, i.label) FROM form_items i WHERE i.form_id = s.form_id), '{}'),
			coalesce(s.account_id, 0)
		FROM signatures s
		LEFT JOIN signatures_current cur ON cur.id = s.id
		JOIN forms f ON f.id = s.form_id
		JOIN people g ON g.id = s.person_id
		LEFT JOIN people c ON c.id = s.pupil_id
		LEFT JOIN policy_versions v ON v.id = s.version_id
		LEFT JOIN signatures prev ON prev.id = s.supersedes_id
		WHERE `+where+` ORDER BY s.signed_at, s.id`, schoolID, personID)
	if err != nil {
		return nil, fmt.Errorf("subjectaccess: records: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Record, error) {
		var rec Record
		var answers, labels []byte
		var by int64
		err := r.Scan(&rec.Reference, &rec.Form, &rec.Version, &rec.VersionSHA256, &rec.ForChild, &rec.GivenBy, &rec.Part, &rec.Statement,
			&answers, &rec.TypedName, &rec.Method, &rec.Language, &rec.SignedAt, &rec.IP, &rec.UserAgent, &rec.Supersedes,
			&rec.Superseded, &rec.HasScan, &labels, &by)
		if err != nil {
			return rec, err
		}
		rec.Answers = namedAnswers(answers, labels)
		rec.Own = own && accountID != 0 && by == accountID
		if own {
			rec.GivenBy = ""
		}
		if !rec.Own {
			// Someone else's device is theirs, not this person's.
			rec.IP, rec.UserAgent = "", ""
		}
		return rec, nil
	})
	if err != nil {
		return nil, fmt.Errorf("subjectaccess: records: %w", err)
	}
	return out, nil
}

// namedAnswers turns {"12": true} into {"Photos on the website": "yes"}.
func namedAnswers(answers, labels []byte) map[string]string {
	var raw map[string]any
	if json.Unmarshal(answers, &raw) != nil || len(raw) == 0 {
		return nil
	}
	names := map[string]string{}
	_ = json.Unmarshal(labels, &names)
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		name := names[k]
		if name == "" {
			name = k
		}
		switch x := v.(type) {
		case bool:
			out[name] = map[bool]string{true: "yes", false: "no"}[x]
		default:
			out[name] = fmt.Sprint(x)
		}
	}
	return out
}
