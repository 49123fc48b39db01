// Package schools holds the tenants: schools, each optionally in a trust.
package schools

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"golang.org/x/text/unicode/norm"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/database"
	"signoff/internal/limits"
)

// School is a tenant.
type School struct {
	ID      int64
	TrustID int64 // 0 when the school is in no trust
	Slug    string
	Name    string
	Colour  string // "#1d70b8"
	// FamilyLinkDays is how long a parent's family link works.
	FamilyLinkDays int
	// URN is the school's six-digit DfE unique reference number, or "".
	URN string
	// MailFromName and MailFromAddress, when set, are the sender of the
	// school's emails (else the installation's SIGNOFF_SMTP_FROM*);
	// ReplyTo is where replies go.
	MailFromName, MailFromAddress, ReplyTo string
	// PrivacyNoticeURL is the address of the school's privacy notice.
	PrivacyNoticeURL string
	// LogoSHA256 is the hash of the school's logo, "" when it has none.
	LogoSHA256 string
}

// HasLogo reports whether the school has a logo.
func (s School) HasLogo() bool { return s.LogoSHA256 != "" }

// LogoPath is the address of the school's logo (changing with it, so it
// can be cached for ever), or "".
func (s School) LogoPath() string {
	if s.LogoSHA256 == "" {
		return ""
	}
	return fmt.Sprintf("/logo/%d/%s", s.ID, s.LogoSHA256[:16])
}

// Limits on a school's texts.
const (
	MaxName    = limits.Name
	maxAddress = 254
	maxURL     = 500
)

var (
	slugRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}$`)
	colourRE = regexp.MustCompile(`^#[0-9a-f]{6}$`)
	urnRE    = regexp.MustCompile(`^[0-9]{6}$`)
)

// ValidSlug reports whether s can be a school's or trust's short name.
func ValidSlug(s string) bool { return slugRE.MatchString(s) }

// Validate checks the school's fields.
func (s *School) Validate() error {
	var v apperr.Validation
	s.Name = strings.TrimSpace(s.Name)
	s.Colour = strings.ToLower(strings.TrimSpace(s.Colour))
	if s.Colour == "" {
		s.Colour = "#1d70b8"
	}
	s.URN = strings.ReplaceAll(strings.TrimSpace(s.URN), " ", "")
	s.MailFromName = strings.TrimSpace(s.MailFromName)
	s.MailFromAddress = strings.ToLower(strings.TrimSpace(s.MailFromAddress))
	s.ReplyTo = strings.ToLower(strings.TrimSpace(s.ReplyTo))
	s.PrivacyNoticeURL = strings.TrimSpace(s.PrivacyNoticeURL)
	switch {
	case s.Name == "":
		v.Add("name", "Enter the school's name")
	case utf8.RuneCountInString(s.Name) > MaxName || strings.ContainsFunc(s.Name, unicode.IsControl):
		v.Add("name", fmt.Sprintf("The school's name must be one line of %d characters or fewer", MaxName))
	}
	v.Check(slugRE.MatchString(s.Slug), "slug", "The short name must be 2 to 63 lower-case letters, digits or hyphens, starting with a letter or digit")
	switch {
	case !colourRE.MatchString(s.Colour):
		v.Add("colour", "Enter the colour as # and six letters or digits, like #1d70b8")
	case ContrastWithWhite(s.Colour) < 4.5:
		v.Add("colour", fmt.Sprintf("Choose a darker colour: white text on %s has a contrast ratio of %.1f to 1, and it must be at least 4.5 to 1 to be easy to read", s.Colour, ContrastWithWhite(s.Colour)))
	}
	if s.FamilyLinkDays == 0 {
		s.FamilyLinkDays = 90
	}
	v.Check(s.FamilyLinkDays >= 1 && s.FamilyLinkDays <= 400, "family_link_days", "Family links must last between 1 and 400 days")
	v.Check(s.URN == "" || urnRE.MatchString(s.URN), "urn", "Enter the URN as 6 digits, like 123456 (it is on Get Information about Schools)")
	switch {
	case utf8.RuneCountInString(s.MailFromName) > MaxName || strings.ContainsFunc(s.MailFromName, unicode.IsControl):
		v.Add("mail_from_name", fmt.Sprintf("The sender's name must be one line of %d characters or fewer", MaxName))
	}
	v.Check(validAddress(s.MailFromAddress), "mail_from_address", "Enter the sender's email address in the right format, like office@school.example.sch.uk")
	v.Check(validAddress(s.ReplyTo), "reply_to", "Enter the reply-to email address in the right format, like office@school.example.sch.uk")
	if s.PrivacyNoticeURL != "" {
		u, err := url.Parse(s.PrivacyNoticeURL)
		v.Check(err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && len(s.PrivacyNoticeURL) <= maxURL &&
			!strings.ContainsFunc(s.PrivacyNoticeURL, unicode.IsSpace),
			"privacy_notice_url", "Enter the privacy notice's web address: the address of its page, starting https://")
	}
	return v.Err()
}

// validAddress reports whether a is empty or one plain email address.
func validAddress(a string) bool {
	if a == "" {
		return true
	}
	p, err := mail.ParseAddress(a)
	return err == nil && p.Address == a && len(a) <= maxAddress
}

// ContrastWithWhite is the WCAG contrast ratio of white text on colour
// ("#rrggbb"): from 1 (white) to 21 (black).
func ContrastWithWhite(colour string) float64 {
	if !colourRE.MatchString(colour) {
		return 1
	}
	channel := func(hex string) float64 {
		n, _ := strconv.ParseUint(hex, 16, 8)
		c := float64(n) / 255
		if c <= 0.03928 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	l := 0.2126*channel(colour[1:3]) + 0.7152*channel(colour[3:5]) + 0.0722*channel(colour[5:7])
	return 1.05 / (l + 0.05)
}

// SlugFrom makes a short name from a school's or trust's name:
// "St Mary's C of E Primary School" → "st-marys-c-of-e-primary-school".
func SlugFrom(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(strings.ToLower(name)) {
		switch {
		case r == '\'' || r == '’' || unicode.Is(unicode.Mn, r):
			continue
		case r == '&':
			// "and" is a word of its own, with hyphens either side.
			if b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteString("and")
			dash = true
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
		if b.Len() >= 60 {
			break
		}
	}
	s := strings.Trim(b.String(), "-")
	if len(s) > 60 {
		s = strings.Trim(s[:60], "-")
	}
	if len(s) < 2 {
		s = "school"
	}
	return s
}

// Store reads and writes schools.
type Store struct{ db *database.DB }

// NewStore returns a Store.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

// CreateTx inserts s inside tx and sets its ID.
func CreateTx(ctx context.Context, tx pgx.Tx, s *School) error {
	if err := s.Validate(); err != nil {
		return err
	}
	err := tx.QueryRow(ctx, `INSERT INTO schools (slug, name, colour, family_link_days, trust_id, urn, mail_from_name, mail_from_address, reply_to, privacy_notice_url)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		s.Slug, s.Name, s.Colour, s.FamilyLinkDays, database.NullID(s.TrustID), s.URN, s.MailFromName, s.MailFromAddress, s.ReplyTo, s.PrivacyNoticeURL).Scan(&s.ID)
	if database.IsUniqueViolation(err, "") {
		return &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "slug", Message: "A school with that short name already exists"}}}
	}
	if err != nil {
		return fmt.Errorf("schools: create: %w", err)
	}
	return nil
}

// Get returns the school with id.
func (s *Store) Get(ctx context.Context, id int64) (School, error) {
	return s.one(ctx, `WHERE s.id = $1`, id)
}

// BySlug returns the school with slug.
func (s *Store) BySlug(ctx context.Context, slug string) (School, error) {
	return s.one(ctx, `WHERE s.slug = $1`, slug)
}

// Columns is a school's select list, with the schools row as s and its
// logo as l (joined by LogoJoin); School.ScanDest are the destinations in
// the same order. Another store reads a school in its own statement with
// them: auth's session query does, so that every request reads its viewer
// and their school in one round trip, always as they are now.
const Columns = `s.id, coalesce(s.trust_id, 0), s.slug, s.name, s.colour, s.family_link_days, s.urn,
	s.mail_from_name, s.mail_from_address, s.reply_to, s.privacy_notice_url, coalesce(l.sha256, '')`

// LogoJoin joins a school's logo (l) to the schools row s.
const LogoJoin = ` LEFT JOIN school_logos l ON l.school_id = s.id `

const from = ` FROM schools s` + LogoJoin

// ScanDest is where a row of Columns is scanned to.
func (sc *School) ScanDest() []any {
	return []any{&sc.ID, &sc.TrustID, &sc.Slug, &sc.Name, &sc.Colour, &sc.FamilyLinkDays, &sc.URN,
		&sc.MailFromName, &sc.MailFromAddress, &sc.ReplyTo, &sc.PrivacyNoticeURL, &sc.LogoSHA256}
}

func scan(r pgx.Row) (School, error) {
	var sc School
	err := r.Scan(sc.ScanDest()...)
	return sc, err
}

func (s *Store) one(ctx context.Context, where string, arg any) (School, error) {
	sc, err := scan(s.db.Pool.QueryRow(ctx, `SELECT `+Columns+from+where, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return School{}, apperr.New(apperr.NotFound, "There is no such school")
	}
	if err != nil {
		return School{}, fmt.Errorf("schools: get: %w", err)
	}
	return sc, nil
}

// List returns every school, by name.
func (s *Store) List(ctx context.Context) ([]School, error) {
	return s.list(ctx, `ORDER BY s.name`)
}

// InTrust returns the schools of a trust, by name.
func (s *Store) InTrust(ctx context.Context, trustID int64) ([]School, error) {
	return s.list(ctx, `WHERE s.trust_id = $1 ORDER BY lower(s.name)`, trustID)
}

// Count is how many schools the installation holds.
func (s *Store) Count(ctx context.Context) (int, error) {
	var n int
	if err := s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM schools`).Scan(&n); err != nil {
		return 0, fmt.Errorf("schools: count: %w", err)
	}
	return n, nil
}

func (s *Store) list(ctx context.Context, tail string, args ...any) ([]School, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT `+Columns+from+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("schools: list: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (School, error) { return scan(r) })
	if err != nil {
		return nil, fmt.Errorf("schools: list: %w", err)
	}
	return out, nil
}

// Update saves a school's details: name, colour, family-link period, URN,
// the sender and reply-to of its emails and its privacy notice.
func (s *Store) Update(ctx context.Context, sc School, actor audit.Actor) error {
	if err := sc.Validate(); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		var old School
		err := tx.QueryRow(ctx, `SELECT name, colour, family_link_days, urn, mail_from_name, mail_from_address, reply_to, privacy_notice_url
			FROM schools WHERE id = $1 FOR UPDATE`, sc.ID).
			Scan(&old.Name, &old.Colour, &old.FamilyLinkDays, &old.URN, &old.MailFromName, &old.MailFromAddress, &old.ReplyTo, &old.PrivacyNoticeURL)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "There is no such school")
		}
		if err != nil {
			return fmt.Errorf("schools: update: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE schools SET name = $2, colour = $3, family_link_days = $4, urn = $5,
			mail_from_name = $6, mail_from_address = $7, reply_to = $8, privacy_notice_url = $9 WHERE id = $1`,
			sc.ID, sc.Name, sc.Colour, sc.FamilyLinkDays, sc.URN, sc.MailFromName, sc.MailFromAddress, sc.ReplyTo, sc.PrivacyNoticeURL); err != nil {
			return fmt.Errorf("schools: update: %w", err)
		}
		detail := map[string]string{}
		change := func(k, a, b string) {
			if a != b {
				detail[k] = a + " → " + b
			}
		}
		change("name", old.Name, sc.Name)
		change("colour", old.Colour, sc.Colour)
		change("family_link_days", fmt.Sprint(old.FamilyLinkDays), fmt.Sprint(sc.FamilyLinkDays))
		change("urn", old.URN, sc.URN)
		change("mail_from_name", old.MailFromName, sc.MailFromName)
		change("mail_from_address", old.MailFromAddress, sc.MailFromAddress)
		change("reply_to", old.ReplyTo, sc.ReplyTo)
		change("privacy_notice_url", old.PrivacyNoticeURL, sc.PrivacyNoticeURL)
		if len(detail) == 0 {
			return nil
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: sc.ID, At: s.db.Now(), Actor: actor, Action: "school.settings_changed",
			Subject: "school " + sc.Slug, Detail: detail})
	})
}

// TrustSchools lists the schools of id's trust, by name (id alone when it
// is in no trust).
func (s *Store) TrustSchools(ctx context.Context, id int64) ([]School, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT id, slug, name, colour, family_link_days FROM schools
		WHERE id = $1 OR trust_id = (SELECT trust_id FROM schools WHERE id = $1) ORDER BY name`, id)
	if err != nil {
		return nil, fmt.Errorf("schools: trust: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (School, error) {
		var sc School
		return sc, r.Scan(&sc.ID, &sc.Slug, &sc.Name, &sc.Colour, &sc.FamilyLinkDays)
	})
	if err != nil {
		return nil, fmt.Errorf("schools: trust: %w", err)
	}
	return out, nil
}

// NameTx returns the name of school id, read inside tx (for an email
// queued in the transaction that causes it).
func NameTx(ctx context.Context, tx pgx.Tx, id int64) (string, error) {
	var name string
	err := tx.QueryRow(ctx, `SELECT name FROM schools WHERE id = $1`, id).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", apperr.New(apperr.NotFound, "There is no such school")
	}
	if err != nil {
		return "", fmt.Errorf("schools: name: %w", err)
	}
	return name, nil
}
