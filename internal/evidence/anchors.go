package evidence

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/database"
	"signoff/internal/mail"
	"signoff/internal/signkey"
	"signoff/internal/tsa"
)

// An Anchor is a school's audit chain head at a moment, signed with the
// installation's key and, when an authority is set, time-stamped (RFC
// 3161). Held outside the database (emailed, printed on the governors'
// report), it lets a truncated or rewritten chain be found.
type Anchor struct {
	ID          int64
	SchoolID    int64
	EntryID     int64  // the head entry
	HeadHash    string // its hash
	Entries     int64  // the chain's length up to and including it
	CreatedAt   time.Time
	Certificate []byte // DER of the certificate whose key signed it
	Signature   []byte // over Digest()
	Reason      string // "hourly", "on_demand"
	TSAURL      string // the authority asked ("" when none is set)
	TSAToken    []byte // its RFC 3161 token over Digest(), once it answered
	TSATime     *time.Time
	TSAAttempts int
	TSAError    string
	TSANextAt   *time.Time
	EmailedTo   string
}

// The anchor reasons.
const (
	AnchorHourly   = "hourly"
	AnchorOnDemand = "on_demand"
)

// Message is what an anchor signs and time-stamps, one field a line:
//
//	signoff-anchor-1
//	school: 1
//	entry: 183
//	entries: 183
//	head: 3f…
//	at: 2026-12-01T10:00:00.000000Z
func (a Anchor) Message() []byte {
	return fmt.Appendf(nil, "signoff-anchor-1\nschool: %d\nentry: %d\nentries: %d\nhead: %s\nat: %s\n",
		a.SchoolID, a.EntryID, a.Entries, a.HeadHash, a.CreatedAt.UTC().Truncate(time.Microsecond).Format("2006-01-02T15:04:05.000000Z"))
}

// Digest is the SHA-256 of Message.
func (a Anchor) Digest() []byte {
	sum := sha256.Sum256(a.Message())
	return sum[:]
}

// Status says where the anchor's time stamp stands.
func (a Anchor) Status() string {
	switch {
	case a.TSAToken != nil:
		return "time-stamped"
	case a.TSAURL != "":
		return "time stamp pending"
	}
	return "signed (no time-stamping authority set)"
}

// Text is the anchor as a file to keep outside Signoff: its message, the
// signature and certificate, and the time-stamp token (base64, PEM).
func (a Anchor) Text() string {
	var b strings.Builder
	b.Write(a.Message())
	fmt.Fprintf(&b, "signature (RSA/ECDSA over SHA-256 of the lines above, base64): %s\n", base64.StdEncoding.EncodeToString(a.Signature))
	if a.TSAToken != nil {
		fmt.Fprintf(&b, "time stamp: %s\n", a.TSATime.UTC().Format(time.RFC3339))
		b.WriteString(string(pem.EncodeToMemory(&pem.Block{Type: "TIMESTAMP TOKEN", Bytes: a.TSAToken})))
	} else {
		fmt.Fprintf(&b, "time stamp: %s\n", a.Status())
	}
	b.WriteString(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.Certificate})))
	return b.String()
}

const anchorColumns = `id, school_id, entry_id, head_hash, entries, created_at, certificate, signature, reason, tsa_url, tsa_token,
	tsa_time, tsa_attempts, tsa_error, tsa_next_at, emailed_to`

func scanAnchor(r pgx.Row) (Anchor, error) {
	var a Anchor
	err := r.Scan(&a.ID, &a.SchoolID, &a.EntryID, &a.HeadHash, &a.Entries, &a.CreatedAt, &a.Certificate, &a.Signature, &a.Reason,
		&a.TSAURL, &a.TSAToken, &a.TSATime, &a.TSAAttempts, &a.TSAError, &a.TSANextAt, &a.EmailedTo)
	return a, err
}

// Anchors returns a school's newest anchors, newest first.
func Anchors(ctx context.Context, db *database.DB, schoolID int64, limit int) ([]Anchor, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+anchorColumns+` FROM audit_anchors WHERE school_id = $1 ORDER BY id DESC LIMIT $2`, schoolID, limit)
	if err != nil {
		return nil, fmt.Errorf("evidence: anchors: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Anchor, error) { return scanAnchor(r) })
	if err != nil {
		return nil, fmt.Errorf("evidence: anchors: %w", err)
	}
	return out, nil
}

// Anchorer makes and time-stamps anchors.
type Anchorer struct {
	DB  *database.DB
	Key *signkey.Key
	// TSA is the time-stamping authority; nil or an empty URL for none.
	TSA *tsa.Client
	Log *slog.Logger
}

func (an *Anchorer) tsaURL() string {
	if an.TSA == nil {
		return ""
	}
	return an.TSA.URL
}

// ErrNoChain is returned when a school's audit log is empty.
var ErrNoChain = apperr.New(apperr.Conflict, "There is nothing in the audit log to anchor yet")

// Anchor anchors a school's chain head now. With reason AnchorHourly it
// does nothing (created false) when nothing but anchoring has been logged
// since the school's newest anchor. The time stamp is asked for at once;
// when the authority fails, the anchor is stored as pending and
// RetryPending asks again later. The anchor is recorded in the audit log
// (so removing anchors breaks the chain) and emailed to the school's
// anchor address, if it has one.
func (an *Anchorer) Anchor(ctx context.Context, schoolID int64, reason string, actor audit.Actor) (a Anchor, created bool, err error) {
	if an.Key == nil {
		return Anchor{}, false, errors.New("evidence: anchor: no signing key")
	}
	now := an.DB.Now().UTC().Truncate(time.Microsecond)
	a = Anchor{SchoolID: schoolID, CreatedAt: now, Reason: reason, Certificate: an.Key.Certificate.Raw, TSAURL: an.tsaURL()}
	// The head is the newest entry linked into the chain (seq is its place
	// in it, so the chain's length up to it): link what is waiting first.
	if _, err := audit.Link(ctx, an.DB); err != nil {
		return Anchor{}, false, fmt.Errorf("evidence: anchor: %w", err)
	}
	err = an.DB.Pool.QueryRow(ctx, `SELECT id, hash, seq FROM audit_log
		WHERE coalesce(school_id, 0) = $1 AND seq IS NOT NULL ORDER BY seq DESC LIMIT 1`, schoolID).Scan(&a.EntryID, &a.HeadHash, &a.Entries)
	if errors.Is(err, pgx.ErrNoRows) {
		return Anchor{}, false, ErrNoChain
	}
	if err != nil {
		return Anchor{}, false, fmt.Errorf("evidence: anchor: chain head: %w", err)
	}
	if reason == AnchorHourly {
		var changed bool
		if err := an.DB.Pool.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM audit_anchors WHERE school_id = $1)
			OR EXISTS (SELECT 1 FROM audit_log WHERE school_id = $1 AND action <> 'audit.anchored'
				AND (seq IS NULL OR seq > (SELECT max(entries) FROM audit_anchors WHERE school_id = $1)))`, schoolID).Scan(&changed); err != nil {
			return Anchor{}, false, fmt.Errorf("evidence: anchor: changed: %w", err)
		}
		if !changed {
			return Anchor{}, false, nil
		}
	}
	if a.Signature, err = an.Key.SignDigest(a.Digest()); err != nil {
		return Anchor{}, false, fmt.Errorf("evidence: anchor: sign: %w", err)
	}
	if a.TSAURL != "" {
		an.stamp(ctx, &a, now)
	}
	err = an.DB.InTx(ctx, func(tx pgx.Tx) error {
		var school, to string
		if err := tx.QueryRow(ctx, `SELECT name, anchor_email FROM schools WHERE id = $1`, schoolID).Scan(&school, &to); err != nil {
			return fmt.Errorf("evidence: anchor: school: %w", err)
		}
		a.EmailedTo = to
		if err := tx.QueryRow(ctx, `INSERT INTO audit_anchors (school_id, entry_id, head_hash, entries, created_at, certificate, signature,
				reason, tsa_url, tsa_token, tsa_time, tsa_attempts, tsa_error, tsa_next_at, emailed_to)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
			a.SchoolID, a.EntryID, a.HeadHash, a.Entries, a.CreatedAt, a.Certificate, a.Signature, a.Reason, a.TSAURL, a.TSAToken,
			a.TSATime, a.TSAAttempts, a.TSAError, a.TSANextAt, a.EmailedTo).Scan(&a.ID); err != nil {
			return fmt.Errorf("evidence: anchor: store: %w", err)
		}
		if err := audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: actor, Action: "audit.anchored",
			Subject: "anchor " + strconv.FormatInt(a.ID, 10), Detail: map[string]string{"entry": strconv.FormatInt(a.EntryID, 10),
				"head": a.HeadHash, "entries": strconv.FormatInt(a.Entries, 10), "time_stamp": a.Status()}}); err != nil {
			return err
		}
		if to == "" {
			return nil
		}
		_, _, err := mail.Enqueue(ctx, tx, now, mail.Message{SchoolID: schoolID, To: to, Kind: "audit_anchor",
			Subject: fmt.Sprintf("%s: audit log anchor %d", school, a.ID),
			Text: fmt.Sprintf("This is an anchor of %s's audit log in Signoff: the newest entry (%d, the %d-th) and its hash, signed with the installation's key%s.\n\n"+
				"Keep this email. If the audit log is ever truncated or rewritten, `signoff audit verify` finds it by comparing with anchors like this one; "+
				"keep it outside Signoff, so that it can be compared with the database even by someone who does not trust it.\n\n%s",
				school, a.EntryID, a.Entries, map[bool]string{true: " and time-stamped by " + a.TSAURL, false: ""}[a.TSAToken != nil], a.Text()),
			Attachments: []mail.Attachment{{Filename: fmt.Sprintf("audit-anchor-%d.txt", a.ID), ContentType: "text/plain; charset=utf-8", Data: []byte(a.Text())}},
			DedupeKey:   fmt.Sprintf("school:%d:audit-anchor:%d", schoolID, a.ID)})
		return err
	})
	if err != nil {
		return Anchor{}, false, err
	}
	return a, true, nil
}

// stamp asks the authority for a's token, or marks it pending with the
// next attempt due after a back-off (5 minutes, doubling, at most 6 hours).
func (an *Anchorer) stamp(ctx context.Context, a *Anchor, now time.Time) {
	tok, err := an.TSA.Stamp(ctx, a.Digest())
	if err == nil {
		a.TSAToken, a.TSATime, a.TSAError, a.TSANextAt = tok.DER, &tok.Time, "", nil
		return
	}
	a.TSAAttempts++
	a.TSAError = err.Error()
	if len(a.TSAError) > 1000 {
		a.TSAError = a.TSAError[:1000]
	}
	wait := 5 * time.Minute << min(a.TSAAttempts-1, 7)
	wait = min(wait, 6*time.Hour)
	next := now.Add(wait)
	a.TSANextAt = &next
	if an.Log != nil {
		an.Log.Warn("anchor time stamp failed; will retry", "school", a.SchoolID, "attempt", a.TSAAttempts, "next", next, "err", err)
	}
}

// RetryPending asks the authority again for every anchor whose time stamp
// is due; it returns how many were time-stamped.
func (an *Anchorer) RetryPending(ctx context.Context) (int, error) {
	if an.tsaURL() == "" {
		return 0, nil
	}
	now := an.DB.Now().UTC()
	rows, err := an.DB.Pool.Query(ctx, `SELECT `+anchorColumns+` FROM audit_anchors
		WHERE tsa_token IS NULL AND tsa_url <> '' AND tsa_next_at <= $1 ORDER BY id LIMIT 100`, now)
	if err != nil {
		return 0, fmt.Errorf("evidence: pending anchors: %w", err)
	}
	pending, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Anchor, error) { return scanAnchor(r) })
	if err != nil {
		return 0, fmt.Errorf("evidence: pending anchors: %w", err)
	}
	done := 0
	for _, a := range pending {
		an.stamp(ctx, &a, now)
		if _, err := an.DB.Pool.Exec(ctx, `UPDATE audit_anchors SET tsa_token = $2, tsa_time = $3, tsa_attempts = $4, tsa_error = $5, tsa_next_at = $6
			WHERE id = $1 AND tsa_token IS NULL`, a.ID, a.TSAToken, a.TSATime, a.TSAAttempts, a.TSAError, a.TSANextAt); err != nil {
			return done, fmt.Errorf("evidence: anchor %d: %w", a.ID, err)
		}
		if a.TSAToken != nil {
			done++
		}
	}
	return done, nil
}

// AnchorAll anchors every school whose chain changed since its newest
// anchor (the hourly job), then retries pending time stamps.
func (an *Anchorer) AnchorAll(ctx context.Context) (anchored int, err error) {
	rows, err := an.DB.Pool.Query(ctx, `SELECT DISTINCT school_id FROM audit_log WHERE school_id IS NOT NULL ORDER BY 1`)
	if err != nil {
		return 0, fmt.Errorf("evidence: schools to anchor: %w", err)
	}
	schools, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, err
	}
	for _, id := range schools {
		_, created, err := an.Anchor(ctx, id, AnchorHourly, audit.System("signoff anchors"))
		if err != nil {
			return anchored, err
		}
		if created {
			anchored++
		}
	}
	_, err = an.RetryPending(ctx)
	return anchored, err
}

// AnchorReport is what CheckAnchors found.
type AnchorReport struct {
	Anchors     int
	TimeStamped int
	Pending     int
	Foreign     int // signed with a certificate that is not this installation's
	// Newest is, per school, the newest anchor that still matches its chain.
	Newest   map[int64]Anchor
	Problems []Problem
}

// CheckAnchors checks every anchor: its signature (with the certificate it
// carries; trusted, when given, is this installation's: an anchor signed
// with another is counted in Foreign and never reported as Newest),
// its time stamp, and that the chain still holds the anchored head at the
// same place with the same hash. Every "audit.anchored" entry must name an
// anchor that is still there.
func CheckAnchors(ctx context.Context, db *database.DB, chains map[int64]*audit.Chain, trusted *signkey.Key) (AnchorReport, error) {
	rep := AnchorReport{Newest: map[int64]Anchor{}}
	rows, err := db.Pool.Query(ctx, `SELECT `+anchorColumns+` FROM audit_anchors ORDER BY id`)
	if err != nil {
		return rep, fmt.Errorf("evidence: check anchors: %w", err)
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Anchor, error) { return scanAnchor(r) })
	if err != nil {
		return rep, fmt.Errorf("evidence: check anchors: %w", err)
	}
	have := map[int64]Anchor{}
	for _, a := range all {
		have[a.ID] = a
		rep.Anchors++
		what := fmt.Sprintf("anchor %d (entry %d, %s)", a.ID, a.EntryID, a.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"))
		bad := func(reason string) { rep.Problems = append(rep.Problems, Problem{a.SchoolID, what, reason}) }
		cert, err := x509.ParseCertificate(a.Certificate)
		if err != nil {
			bad("its certificate cannot be read")
			continue
		}
		if err := signkey.Verify(cert, a.Digest(), a.Signature); err != nil {
			bad("its signature does not verify (the anchor was changed)")
			continue
		}
		// Signed with another certificate (an earlier key, before a
		// PKCS#12 file was set): still checked against the chain, but not
		// reported as the newest that matches, which must be this
		// installation's.
		foreign := trusted != nil && signkey.Fingerprint(cert) != trusted.Fingerprint()
		if foreign {
			rep.Foreign++
		}
		switch {
		case a.TSAToken != nil:
			tok, err := tsa.Check(a.TSAToken, a.Digest())
			if err != nil {
				bad("its time stamp does not verify: " + err.Error())
				continue
			}
			if a.TSATime == nil || !tok.Time.Equal(a.TSATime.UTC()) {
				bad("its recorded time stamp time is not the token's")
				continue
			}
			rep.TimeStamped++
		case a.TSAURL != "":
			rep.Pending++
		}
		var pos audit.Position
		ok := false
		if c := chains[a.SchoolID]; c != nil {
			pos, ok = c.Positions[a.EntryID]
		}
		switch {
		case !ok:
			bad("the audit chain no longer contains the anchored entry: the chain was cut or rewritten")
			continue
		case pos.Hash != a.HeadHash:
			bad("the anchored entry's hash is no longer the anchored head: the chain was rewritten")
			continue
		case int64(pos.N) != a.Entries:
			bad(fmt.Sprintf("the chain holds %d entries up to the anchored entry, the anchor says %d: entries were removed or added", pos.N, a.Entries))
			continue
		}
		if !foreign {
			rep.Newest[a.SchoolID] = a
		}
	}
	// Every anchor the log recorded must still be there, with its head.
	logged, err := db.Pool.Query(ctx, `SELECT id, school_id, subject, detail->>'head', erased_at IS NOT NULL FROM audit_log
		WHERE action = 'audit.anchored' ORDER BY id`)
	if err != nil {
		return rep, fmt.Errorf("evidence: check anchors: %w", err)
	}
	defer logged.Close()
	for logged.Next() {
		var id, school int64
		var subject string
		var head *string
		var erased bool
		if err := logged.Scan(&id, &school, &subject, &head, &erased); err != nil {
			return rep, err
		}
		n, _ := strconv.ParseInt(strings.TrimPrefix(subject, "anchor "), 10, 64)
		a, ok := have[n]
		if !ok || (!erased && (head == nil || a.HeadHash != *head)) {
			rep.Problems = append(rep.Problems, Problem{school, fmt.Sprintf("anchor %d", n),
				fmt.Sprintf("audit entry %d records it, but it is missing or changed (anchors were removed)", id)})
		}
	}
	sort.SliceStable(rep.Problems, func(i, j int) bool { return rep.Problems[i].SchoolID < rep.Problems[j].SchoolID })
	return rep, logged.Err()
}

// AnchorEmail returns where a school's anchors are emailed ("" for nobody).
func AnchorEmail(ctx context.Context, db *database.DB, schoolID int64) (string, error) {
	var to string
	if err := db.Pool.QueryRow(ctx, `SELECT anchor_email FROM schools WHERE id = $1`, schoolID).Scan(&to); err != nil {
		return "", fmt.Errorf("evidence: anchor email: %w", err)
	}
	return to, nil
}

// SetAnchorEmail sets where a school's anchors are emailed ("" for nobody).
func SetAnchorEmail(ctx context.Context, db *database.DB, schoolID int64, email string, actor audit.Actor) error {
	email = strings.ToLower(strings.TrimSpace(email))
	var v apperr.Validation
	if email != "" {
		addr, err := netmail.ParseAddress(email)
		switch {
		case len(email) > 254:
			v.Add("anchor_email", "The email address must be 254 characters or fewer")
		case err != nil || addr.Address != email || !strings.Contains(email[strings.LastIndex(email, "@")+1:], "."):
			v.Add("anchor_email", "Enter an email address in the correct format, like chair@example.org")
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	return db.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE schools SET anchor_email = $2 WHERE id = $1`, schoolID, email); err != nil {
			return fmt.Errorf("evidence: set anchor email: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: db.Now(), Actor: actor, Action: "school.anchor_email_set",
			Subject: "school " + strconv.FormatInt(schoolID, 10), Detail: map[string]string{"email": email}})
	})
}
