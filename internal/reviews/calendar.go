package reviews

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/database"
)

// Feeds holds the private calendar feed links.
type Feeds struct{ db *database.DB }

// NewFeeds returns a Feeds store.
func NewFeeds(db *database.DB) *Feeds { return &Feeds{db: db} }

func hashToken(t string) []byte {
	h := sha256.Sum256([]byte(t))
	return h[:]
}

// Create makes a new feed link for an account, replacing (revoking) any
// it had, and returns its token. Only the token's hash is kept, so the
// link is shown once.
func (f *Feeds) Create(ctx context.Context, schoolID, accountID int64, actor audit.Actor) (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	now := f.db.Now()
	err := f.db.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE calendar_feeds SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL`, accountID, now); err != nil {
			return fmt.Errorf("reviews: revoke feed: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO calendar_feeds (school_id, account_id, token_hash, created_at) VALUES ($1, $2, $3, $4)`,
			schoolID, accountID, hashToken(token), now); err != nil {
			return fmt.Errorf("reviews: create feed: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: actor, Action: "calendar.feed_created",
			Subject: fmt.Sprintf("account %d", accountID)})
	})
	return token, err
}

// Revoke stops an account's feed link working.
func (f *Feeds) Revoke(ctx context.Context, schoolID, accountID int64, actor audit.Actor) error {
	now := f.db.Now()
	return f.db.InTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE calendar_feeds SET revoked_at = $3 WHERE school_id = $1 AND account_id = $2 AND revoked_at IS NULL`, schoolID, accountID, now)
		if err != nil {
			return fmt.Errorf("reviews: revoke feed: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: actor, Action: "calendar.feed_revoked",
			Subject: fmt.Sprintf("account %d", accountID)})
	})
}

// Active reports whether the account has a working feed link and since when.
func (f *Feeds) Active(ctx context.Context, accountID int64) (*time.Time, error) {
	var at time.Time
	err := f.db.Pool.QueryRow(ctx, `SELECT created_at FROM calendar_feeds WHERE account_id = $1 AND revoked_at IS NULL`, accountID).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reviews: feed: %w", err)
	}
	return &at, nil
}

// Open finds the school of a working feed token. The account must still
// be enabled and hold a role that sees policies.
func (f *Feeds) Open(ctx context.Context, token string) (schoolID int64, err error) {
	err = f.db.Pool.QueryRow(ctx, `SELECT c.school_id FROM calendar_feeds c JOIN accounts a ON a.id = c.account_id
		WHERE c.token_hash = $1 AND c.revoked_at IS NULL AND a.disabled_at IS NULL AND a.roles && ARRAY['admin', 'head', 'governor']`,
		hashToken(token)).Scan(&schoolID)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, apperr.New(apperr.NotFound, "This calendar link does not work")
	}
	if err != nil {
		return 0, fmt.Errorf("reviews: open feed: %w", err)
	}
	return schoolID, nil
}

// Event is one all-day event in a calendar.
type Event struct {
	UID         string
	Date        time.Time
	Summary     string
	Description string
	URL         string
}

// ICS writes an iCalendar (RFC 5545) text: CRLF line ends, lines folded
// at 75 octets without splitting a UTF-8 character, text values escaped,
// all-day events with DTSTART;VALUE=DATE and a DTEND the next day.
func ICS(name string, stamp time.Time, events []Event) string {
	var b strings.Builder
	line := func(s string) { b.WriteString(fold(s)) }
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:-//Signoff//Policy reviews//EN")
	line("CALSCALE:GREGORIAN")
	line("METHOD:PUBLISH")
	line("X-WR-CALNAME:" + escapeText(name))
	line("X-WR-TIMEZONE:Europe/London")
	for _, e := range events {
		line("BEGIN:VEVENT")
		line("UID:" + e.UID)
		line("DTSTAMP:" + stamp.UTC().Format("20060102T150405Z"))
		line("DTSTART;VALUE=DATE:" + e.Date.Format("20060102"))
		line("DTEND;VALUE=DATE:" + e.Date.AddDate(0, 0, 1).Format("20060102"))
		line("SUMMARY:" + escapeText(e.Summary))
		if e.Description != "" {
			line("DESCRIPTION:" + escapeText(e.Description))
		}
		if e.URL != "" {
			line("URL:" + e.URL)
		}
		line("TRANSP:TRANSPARENT")
		line("END:VEVENT")
	}
	line("END:VCALENDAR")
	return b.String()
}

// escapeText escapes a TEXT value: backslash, semicolon, comma, newline.
func escapeText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\n", `\n`, "\r", `\n`).Replace(s)
}

// fold splits a content line into lines of at most 75 octets, each
// continuation starting with a space, and ends it with CRLF.
func fold(s string) string {
	var b strings.Builder
	limit := 75
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		b.WriteString(s[:cut])
		b.WriteString("\r\n ")
		s = s[cut:]
		limit = 74 // the leading space counts
	}
	b.WriteString(s)
	b.WriteString("\r\n")
	return b.String()
}
