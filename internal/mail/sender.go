package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	gomail "github.com/wneessen/go-mail"

	"signoff/internal/database"
	"signoff/internal/limits"
)

// Retry policy: a failed send is tried again after 1, 2, 4, ... minutes
// (never more than an hour apart); after MaxAttempts failures the message
// is marked failed and left for the office (who may retry it).
const (
	MaxAttempts  = 8
	firstBackoff = time.Minute
	maxBackoff   = time.Hour
)

// smtpTimeout bounds each SMTP command (connect, each step of sending).
const smtpTimeout = 30 * time.Second

// Backoff is how long to wait before the next try after the given number
// of failed attempts (1 → 1m, 2 → 2m, 3 → 4m, ..., at most 1h).
func Backoff(attempts int) time.Duration {
	if attempts < 1 {
		attempts = 1
	}
	if attempts > 7 {
		return maxBackoff
	}
	return min(firstBackoff<<(attempts-1), maxBackoff)
}

// Sender delivers outbox messages over SMTP, one per call of Deliver (the
// "mail_send" job, SendWorker, calls it). Any number of servers may run
// one on a database: the outbox row is locked while it is sent, and the
// per-minute limit is a counter row per minute shared by all of them.
type Sender struct {
	db  *database.DB
	cfg Config
	log *slog.Logger

	// TLSConfig, when set, is used for STARTTLS and implicit TLS instead
	// of the default (system roots, server name = Host). Tests set it to
	// trust their own certificate.
	TLSConfig *tls.Config
}

// NewSender returns a Sender for cfg (zero fields take their defaults).
// With no Host it sends nothing. log may be nil.
func NewSender(db *database.DB, cfg Config, log *slog.Logger) *Sender {
	if log == nil {
		log = slog.Default()
	}
	return &Sender{db: db, cfg: cfg.withDefaults(), log: log.With("component", "mail")}
}

// Enabled reports whether the Sender has an SMTP server to send through.
func (s *Sender) Enabled() bool { return s.cfg.Enabled() }

// Outcome says what Deliver did.
type Outcome int

// The outcomes.
const (
	Delivered     Outcome = iota + 1 // the SMTP server accepted the message; sent_at is set
	AlreadyDone                      // sent (or given up) before: nothing was done
	NotConfigured                    // no SMTP server: the message waits in the outbox
	Failed                           // this attempt failed; it is recorded, and retried unless it was the last
)

// PacedError is returned by Deliver when this minute's allowance of
// messages (Config.PerMinute, across all servers) is used up: nothing was
// attempted; try again after Wait.
type PacedError struct{ Wait time.Duration }

func (e *PacedError) Error() string {
	return fmt.Sprintf("mail: the per-minute limit is reached; next send in %s", e.Wait.Round(time.Millisecond))
}

// Deliver sends outbox message id, as attempt number attempt of
// maxAttempts, and records the outcome on the row.
//
// The row stays locked (SELECT ... FOR UPDATE) from before the SMTP
// conversation until sent_at is committed, so a second job for the same
// message (a job rescued from a server that looked dead) waits and then
// finds it sent. The one way a message goes twice: the SMTP server accepts
// it and this server dies (or loses the database) in the milliseconds
// before the commit; the job is then run again and the message is sent
// again with the same Message-ID. Delivery is at least once, never lost.
//
// A failure is recorded (attempts, last_error, the next try after
// Backoff) and returned as the error; on the last attempt the row is
// marked failed. The returned error is nil for Delivered, AlreadyDone and
// NotConfigured, a *PacedError when the per-minute limit is reached.
func (s *Sender) Deliver(ctx context.Context, id int64, attempt, maxAttempts int) (Outcome, error) {
	if !s.cfg.Enabled() {
		return NotConfigured, nil
	}
	if err := s.cfg.Validate(); err != nil {
		return 0, err
	}
	// Once a message has gone, its outcome must be recorded even when ctx
	// ends: the database work does not follow ctx's cancellation.
	dbctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
	defer cancel()
	tx, err := s.db.Pool.Begin(dbctx)
	if err != nil {
		return 0, fmt.Errorf("mail: begin: %w", err)
	}
	defer func() { _ = tx.Rollback(dbctx) }()

	var o outgoing
	var sentAt, failedAt *time.Time
	err = tx.QueryRow(dbctx, `SELECT o.id, coalesce(o.school_id, 0), o.to_address, o.to_name, o.subject, o.body_text, o.kind, o.created_at, o.attempts,
			o.sent_at, o.failed_at, coalesce(sc.mail_from_name, ''), coalesce(sc.mail_from_address, ''), coalesce(sc.reply_to, '')
		FROM outbox o LEFT JOIN schools sc ON sc.id = o.school_id WHERE o.id = $1 FOR UPDATE OF o`, id).
		Scan(&o.id, &o.schoolID, &o.to, &o.toName, &o.subject, &o.text, &o.kind, &o.createdAt, &o.attempts, &sentAt, &failedAt,
			&o.fromName, &o.fromAddress, &o.replyTo)
	if errors.Is(err, pgx.ErrNoRows) {
		return AlreadyDone, nil // removed (retention): nothing to send
	}
	if err != nil {
		return 0, fmt.Errorf("mail: load message %d: %w", id, err)
	}
	if sentAt != nil || failedAt != nil {
		return AlreadyDone, nil
	}
	if wait, err := s.takeSlot(dbctx); err != nil {
		return 0, err
	} else if wait > 0 {
		return 0, &PacedError{Wait: wait}
	}
	arows, err := tx.Query(dbctx, `SELECT filename, content_type, data FROM outbox_attachments WHERE outbox_id = $1 ORDER BY position`, id)
	if err != nil {
		return 0, fmt.Errorf("mail: attachments: %w", err)
	}
	o.files, err = pgx.CollectRows(arows, func(r pgx.CollectableRow) (Attachment, error) {
		var a Attachment
		return a, r.Scan(&a.Filename, &a.ContentType, &a.Data)
	})
	if err != nil {
		return 0, fmt.Errorf("mail: attachments: %w", err)
	}

	sendErr := s.send(ctx, o)
	if sendErr != nil && ctx.Err() != nil {
		return 0, ctx.Err() // shutting down: not the server's fault, not an attempt
	}
	now := s.db.Now()
	if sendErr == nil {
		if _, err := tx.Exec(dbctx, `UPDATE outbox SET sent_at = $2, attempts = attempts + 1 WHERE id = $1`, id, now); err != nil {
			return 0, fmt.Errorf("mail: record message %d sent: %w", id, err)
		}
		if err := tx.Commit(dbctx); err != nil {
			return 0, fmt.Errorf("mail: record message %d sent: %w", id, err)
		}
		s.log.Info("mail sent", "outbox_id", id, "school_id", o.schoolID, "kind", o.kind, "attempt", attempt)
		return Delivered, nil
	}
	reason := limits.Clip(errorText(sendErr), 2000)
	if attempt >= maxAttempts {
		_, err = tx.Exec(dbctx, `UPDATE outbox SET attempts = attempts + 1, last_error = $2, failed_at = $3 WHERE id = $1`, id, reason, now)
		s.log.Warn("mail failed, giving up", "outbox_id", id, "school_id", o.schoolID, "kind", o.kind, "attempt", attempt, "err", reason)
	} else {
		next := now.Add(Backoff(attempt))
		_, err = tx.Exec(dbctx, `UPDATE outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3 WHERE id = $1`, id, reason, next)
		s.log.Warn("mail not sent, will retry", "outbox_id", id, "school_id", o.schoolID, "kind", o.kind, "attempt", attempt, "retry_at", next, "err", reason)
	}
	if err != nil {
		return 0, fmt.Errorf("mail: record message %d failed: %w", id, err)
	}
	if err := tx.Commit(dbctx); err != nil {
		return 0, fmt.Errorf("mail: record message %d failed: %w", id, err)
	}
	return Failed, fmt.Errorf("mail: message %d: %s", id, reason)
}

// takeSlot takes one of this minute's PerMinute sends, counted in a row
// per minute that every server shares (committed at once, in its own
// transaction, so the others see it). wait is 0 when a slot was taken,
// else how long until the next minute starts.
func (s *Sender) takeSlot(ctx context.Context) (wait time.Duration, err error) {
	now := s.db.Now()
	minute := now.Truncate(time.Minute)
	var n int
	err = s.db.Pool.QueryRow(ctx, `INSERT INTO mail_pace (minute, sent) VALUES ($1, 1)
		ON CONFLICT (minute) DO UPDATE SET sent = mail_pace.sent + 1 WHERE mail_pace.sent < $2
		RETURNING sent`, minute, s.cfg.PerMinute).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return minute.Add(time.Minute).Sub(now) + time.Duration(rand.Int64N(int64(2*time.Second))), nil
	}
	if err != nil {
		return 0, fmt.Errorf("mail: pace: %w", err)
	}
	return 0, nil
}

// send delivers o over a new SMTP connection.
func (s *Sender) send(ctx context.Context, o outgoing) error {
	client, err := s.newClient()
	if err != nil {
		return err
	}
	msg, err := s.build(o)
	if err != nil {
		return err
	}
	conn, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return fmt.Errorf("connect to %s:%d: %w", s.cfg.Host, s.cfg.Port, err)
	}
	defer func() { _ = client.CloseWithSMTPClient(conn) }()
	return client.SendWithSMTPClient(conn, msg)
}

// outgoing is a loaded outbox row.
type outgoing struct {
	id        int64
	schoolID  int64
	to        string
	toName    string
	subject   string
	text      string
	kind      string
	createdAt time.Time
	attempts  int
	files     []Attachment
	// The school's own sender and reply-to, when it set them.
	fromName, fromAddress, replyTo string
}

// newClient configures a go-mail client for the settings (it does not
// connect).
func (s *Sender) newClient() (*gomail.Client, error) {
	opts := []gomail.Option{
		gomail.WithPort(s.cfg.Port),
		gomail.WithTimeout(smtpTimeout),
	}
	tlsConf := &tls.Config{ServerName: s.cfg.Host, MinVersion: tls.VersionTLS12}
	if s.TLSConfig != nil {
		tlsConf = s.TLSConfig.Clone()
		if tlsConf.ServerName == "" {
			tlsConf.ServerName = s.cfg.Host
		}
	}
	switch s.cfg.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL(), gomail.WithTLSConfig(tlsConf))
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory), gomail.WithTLSConfig(tlsConf))
	}
	if s.cfg.Username != "" {
		// Discovery picks the strongest mechanism the server offers and
		// never sends a password in clear over an unencrypted connection.
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	c, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("mail: SMTP client: %w", err)
	}
	return c, nil
}

// build makes the email for o.
func (s *Sender) build(o outgoing) (*gomail.Msg, error) {
	m := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP), gomail.WithNoDefaultUserAgent())
	var err error
	// The school's sender name and address, when it set them, else the
	// installation's.
	fromName, from := s.cfg.FromName, s.cfg.From
	if o.fromName != "" {
		fromName = o.fromName
	}
	if o.fromAddress != "" {
		from = o.fromAddress
	}
	if fromName != "" {
		err = m.FromFormat(fromName, from)
	} else {
		err = m.From(from)
	}
	if err != nil {
		return nil, fmt.Errorf("from address: %w", err)
	}
	if o.replyTo != "" {
		if err := m.ReplyTo(o.replyTo); err != nil {
			return nil, fmt.Errorf("reply-to address: %w", err)
		}
	}
	if o.toName != "" {
		err = m.AddToFormat(o.toName, o.to)
	} else {
		err = m.AddTo(o.to)
	}
	if err != nil {
		return nil, fmt.Errorf("to address: %w", err)
	}
	m.Subject(o.subject)
	m.SetDateWithValue(s.db.Now())
	// The same outbox row always gets the same Message-ID, so a message
	// sent again after a crash can be recognised as a duplicate.
	m.SetMessageIDWithValue(messageID(o, s.cfg.From))
	m.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	m.SetBodyString(gomail.TypeTextPlain, o.text)
	for _, a := range o.files {
		if err := m.AttachReader(a.Filename, bytes.NewReader(a.Data), gomail.WithFileContentType(gomail.ContentType(a.ContentType))); err != nil {
			return nil, fmt.Errorf("attachment %s: %w", a.Filename, err)
		}
	}
	return m, nil
}

// messageID is "<outbox-ID.CREATED@DOMAIN>" (without the brackets), with
// the domain of the From address.
func messageID(o outgoing, from string) string {
	domain := "signoff.invalid"
	if at := strings.LastIndexByte(from, '@'); at >= 0 && at < len(from)-1 {
		domain = from[at+1:]
	}
	return "outbox-" + strconv.FormatInt(o.id, 10) + "." + strconv.FormatInt(o.createdAt.UnixMicro(), 36) + "@" + domain
}

// errorText is err as one line for last_error and the log. SMTP replies
// hold the server's words, never the message body.
func errorText(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > 1000 {
		s = s[:1000]
	}
	return strings.ToValidUTF8(s, "?")
}
