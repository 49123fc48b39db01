package mail

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/database"
	"signoff/internal/jobs"
)

// Message is one email to one person. The body is plain text; an HTML
// alternative would be a new field (and a body_html column) beside Text.
type Message struct {
	// Attachments are sent with the message (a PDF receipt, say).
	Attachments []Attachment
	SchoolID    int64  // the school it belongs to; 0 for mail that belongs to no school (not shown to any school's office)
	To          string // a bare address: "name@example.org"
	ToName      string // shown beside the address: "Daniel Okafor"
	Subject     string
	Text        string // plain text, UTF-8; may hold sign-in links, so it is never logged
	Kind        string // what it is for, e.g. "sign_in", "family_link", "reminder"
	// DedupeKey, when set, makes Enqueue harmless twice: a second message
	// with the same key is not queued. Keys are unique across the whole
	// outbox, so include the school and the purpose:
	// "school:12:family-link:account:34:2026-09-01".
	DedupeKey string
}

// Limits on a message's fields.
const (
	maxAddress   = 254
	maxName      = 200
	maxSubject   = 250 // characters
	maxText      = 512 << 10
	maxKind      = 50
	maxDedupeKey = 300
)

// Validate checks m and returns an apperr.Invalid error naming each bad
// field ("to", "to_name", "subject", "text", "kind", "dedupe_key").
func (m Message) Validate() error {
	var v apperr.Validation
	switch {
	case strings.TrimSpace(m.To) == "":
		v.Add("to", "Enter an email address")
	case len(m.To) > maxAddress:
		v.Add("to", "The email address is too long")
	case checkAddress(m.To) != nil:
		v.Add("to", "Enter an email address in the correct format, like name@example.com")
	}
	switch {
	case !utf8.ValidString(m.ToName) || hasControl(m.ToName):
		v.Add("to_name", "The name must be one line of text")
	case utf8.RuneCountInString(m.ToName) > maxName:
		v.Add("to_name", fmt.Sprintf("The name must be %d characters or fewer", maxName))
	}
	switch {
	case strings.TrimSpace(m.Subject) == "":
		v.Add("subject", "Enter a subject")
	case !utf8.ValidString(m.Subject) || hasControl(m.Subject):
		v.Add("subject", "The subject must be one line of text")
	case utf8.RuneCountInString(m.Subject) > maxSubject:
		v.Add("subject", fmt.Sprintf("The subject must be %d characters or fewer", maxSubject))
	}
	switch {
	case strings.TrimSpace(m.Text) == "":
		v.Add("text", "Enter the message")
	case !utf8.ValidString(m.Text) || strings.ContainsRune(m.Text, 0):
		v.Add("text", "The message must be text")
	case len(m.Text) > maxText:
		v.Add("text", "The message is too long")
	}
	v.Check(!hasControl(m.Kind) && len(m.Kind) <= maxKind && utf8.ValidString(m.Kind), "kind", "The kind must be a short word")
	v.Check(!hasControl(m.DedupeKey) && len(m.DedupeKey) <= maxDedupeKey && utf8.ValidString(m.DedupeKey), "dedupe_key", "The dedupe key must be one short line")
	total := 0
	for _, a := range m.Attachments {
		total += len(a.Data)
		v.Check(a.Filename != "" && !hasControl(a.Filename) && a.ContentType != "" && len(a.Data) > 0, "attachments", "an attachment needs a name, a type and content")
	}
	v.Check(total <= MaxAttachments, "attachments", "the attachments are too large")
	return v.Err()
}

// Enqueue validates m and puts it in the outbox inside the caller's
// transaction, with the job that sends it (SendArgs), so the change that
// causes an email and the email commit (or roll back) together. now is the caller's clock (db.Now()): the
// message is due at once.
//
// When m.DedupeKey is already in the outbox nothing is queued: queued is
// false, id is the existing message's id, and err is nil.
func Enqueue(ctx context.Context, tx pgx.Tx, now time.Time, m Message) (id int64, queued bool, err error) {
	if err := m.Validate(); err != nil {
		return 0, false, err
	}
	err = tx.QueryRow(ctx, `INSERT INTO outbox (school_id, to_address, to_name, subject, body_text, kind, dedupe_key, created_at, next_attempt_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
		ON CONFLICT (dedupe_key) DO NOTHING
		RETURNING id`,
		database.NullID(m.SchoolID), m.To, m.ToName, m.Subject, m.Text, m.Kind, nullString(m.DedupeKey), now.UTC()).Scan(&id)
	if err == nil {
		for i, a := range m.Attachments {
			if _, err := tx.Exec(ctx, `INSERT INTO outbox_attachments (outbox_id, position, filename, content_type, data) VALUES ($1, $2, $3, $4, $5)`,
				id, i, a.Filename, a.ContentType, a.Data); err != nil {
				return 0, false, fmt.Errorf("mail: attachment: %w", err)
			}
		}
		if err := jobs.InsertTx(ctx, tx, SendArgs{OutboxID: id}, nil); err != nil {
			return 0, false, err
		}
		return id, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, false, fmt.Errorf("mail: enqueue: %w", err)
	}
	// The key is taken (ON CONFLICT waited for any transaction holding it
	// to finish, so the row is committed and visible now).
	if err := tx.QueryRow(ctx, `SELECT id FROM outbox WHERE dedupe_key = $1`, m.DedupeKey).Scan(&id); err != nil {
		return 0, false, fmt.Errorf("mail: enqueue: find the message with the same dedupe key: %w", err)
	}
	return id, false, nil
}

// hasControl reports whether s holds a control character (CR, LF, tab,
// NUL, ...): header fields must be one line.
func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Attachment is a file sent with a message.
type Attachment struct {
	Filename    string // "photo-consent-SG-XXXX.pdf"
	ContentType string // "application/pdf"
	Data        []byte
}

// MaxAttachments is the most the attachments of one message may hold.
const MaxAttachments = 5 << 20
