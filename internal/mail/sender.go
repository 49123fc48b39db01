package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"signoff/internal/database"
)

// Retry policy: a failed send is tried again after 1, 2, 4, ... minutes
// (never more than an hour apart); after MaxAttempts failures the message
// is marked failed and left for the office.
const (
	MaxAttempts  = 8
	firstBackoff = time.Minute
	maxBackoff   = time.Hour
)

// DefaultInterval is how often Run looks for due messages.
const DefaultInterval = 5 * time.Second

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

// Sender delivers due outbox messages over SMTP. Several Senders (on
// several servers) may work on one database at once: each claims its
// messages with SELECT ... FOR UPDATE SKIP LOCKED, so every message is
// sent by one of them.
type Sender struct {
	db  *database.DB
	cfg Config
	log *slog.Logger

	// Interval is how often Run looks for due messages (DefaultInterval).
	// Set it before calling Run.
	Interval time.Duration
	// TLSConfig, when set, is used for STARTTLS and implicit TLS instead
	// of the default (system roots, server name = Host). Tests set it to
	// trust their own certificate.
	TLSConfig *tls.Config

	pace pacer
}

// NewSender returns a Sender for cfg (zero fields take their defaults).
// With no Host it sends nothing. log may be nil.
func NewSender(db *database.DB, cfg Config, log *slog.Logger) *Sender {
	if log == nil {
		log = slog.Default()
	}
	cfg = cfg.withDefaults()
	return &Sender{
		db:       db,
		cfg:      cfg,
		log:      log.With("component", "mail"),
		Interval: DefaultInterval,
		pace:     pacer{interval: time.Minute / time.Duration(cfg.PerMinute)},
	}
}

// Enabled reports whether the Sender has an SMTP server to send through.
func (s *Sender) Enabled() bool { return s.cfg.Enabled() }

// Run sends due messages every Interval until ctx is done. Without an
// SMTP server it only waits for ctx: messages stay in the outbox.
func (s *Sender) Run(ctx context.Context) {
	if !s.cfg.Enabled() {
		s.log.Info("no SMTP server configured: messages wait in the outbox for the office to read or print")
		<-ctx.Done()
		return
	}
	if err := s.cfg.Validate(); err != nil {
		s.log.Error("mail settings are not valid: nothing will be sent", "err", err)
		<-ctx.Done()
		return
	}
	s.log.Info("sending mail", "host", s.cfg.Host, "port", s.cfg.Port, "tls", s.cfg.TLS, "per_minute", s.cfg.PerMinute)
	interval := s.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		sent, failed, err := s.SendDue(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Error("sending mail", "err", err)
		}
		if sent > 0 || failed > 0 {
			s.log.Info("mail pass", "sent", sent, "failed", failed)
		}
		timer.Reset(interval)
	}
}

// SendDue makes one pass over the outbox: it claims due messages a batch
// at a time, sends each batch over one SMTP connection, and records each
// outcome, until no due message is left, the server cannot be reached, or
// ctx is done. sent counts messages delivered; failed counts attempts that
// failed in this pass (the message is retried later, or marked failed
// after MaxAttempts). err is a database error, or an invalid Config.
// Without an SMTP server it does nothing.
func (s *Sender) SendDue(ctx context.Context) (sent, failed int, err error) {
	if !s.cfg.Enabled() {
		return 0, 0, nil
	}
	if err := s.cfg.Validate(); err != nil {
		return 0, 0, err
	}
	for ctx.Err() == nil {
		r, err := s.sendBatch(ctx)
		sent += r.sent
		failed += r.failed
		if err != nil {
			return sent, failed, err
		}
		if r.claimed < s.cfg.Batch || r.unreachable {
			break
		}
	}
	return sent, failed, nil
}

// outgoing is a claimed outbox row.
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
}

type batchResult struct {
	claimed, sent, failed int
	unreachable           bool // the SMTP server could not be reached
}

// sendBatch claims up to Batch due messages in one transaction, sends
// them, records each outcome and commits. The rows stay locked while they
// are sent, so no other Sender can claim them; a crash before the commit
// leaves them due again (a message may then be sent twice, never lost).
func (s *Sender) sendBatch(ctx context.Context) (res batchResult, err error) {
	// Once a message has gone, its outcome must be recorded even when ctx
	// ends: the database work does not follow ctx's cancellation.
	dbctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
	defer cancel()
	tx, err := s.db.Pool.Begin(dbctx)
	if err != nil {
		return res, fmt.Errorf("mail: begin: %w", err)
	}
	defer func() { _ = tx.Rollback(dbctx) }()

	rows, err := tx.Query(dbctx, `SELECT id, coalesce(school_id, 0), to_address, to_name, subject, body_text, kind, created_at, attempts
		FROM outbox
		WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1
		ORDER BY next_attempt_at, id
		LIMIT $2
		FOR UPDATE SKIP LOCKED`, s.db.Now(), s.cfg.Batch)
	if err != nil {
		return res, fmt.Errorf("mail: claim: %w", err)
	}
	var batch []outgoing
	for rows.Next() {
		var o outgoing
		if err := rows.Scan(&o.id, &o.schoolID, &o.to, &o.toName, &o.subject, &o.text, &o.kind, &o.createdAt, &o.attempts); err != nil {
			rows.Close()
			return res, fmt.Errorf("mail: claim: %w", err)
		}
		batch = append(batch, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("mail: claim: %w", err)
	}
	res.claimed = len(batch)
	if len(batch) == 0 {
		return res, nil
	}
	for i := range batch {
		arows, err := tx.Query(dbctx, `SELECT filename, content_type, data FROM outbox_attachments WHERE outbox_id = $1 ORDER BY position`, batch[i].id)
		if err != nil {
			return res, fmt.Errorf("mail: attachments: %w", err)
		}
		for arows.Next() {
			var a Attachment
			if err := arows.Scan(&a.Filename, &a.ContentType, &a.Data); err != nil {
				arows.Close()
				return res, fmt.Errorf("mail: attachments: %w", err)
			}
			batch[i].files = append(batch[i].files, a)
		}
		arows.Close()
	}

	client, err := s.newClient()
	if err != nil {
		return res, err
	}
	var conn *smtp.Client
	var dialErr error
	defer func() {
		if conn != nil {
			_ = client.CloseWithSMTPClient(conn)
		}
	}()
	for _, o := range batch {
		if ctx.Err() != nil {
			break // the rest stay due; they were not attempted
		}
		sendErr := dialErr // once the server cannot be reached, the rest of the batch fails with it
		if sendErr == nil {
			if err := s.pace.wait(ctx); err != nil {
				break
			}
		}
		if sendErr == nil && conn == nil {
			c, err := client.DialToSMTPClientWithContext(ctx)
			if err != nil {
				if ctx.Err() != nil {
					break // shutting down: not the server's fault, not an attempt
				}
				dialErr = fmt.Errorf("connect to %s:%d: %w", s.cfg.Host, s.cfg.Port, err)
				res.unreachable = true
				sendErr = dialErr
			} else {
				conn = c
			}
		}
		if sendErr == nil {
			msg, err := s.build(o)
			if err != nil {
				sendErr = err
			} else {
				sendErr = client.SendWithSMTPClient(conn, msg)
			}
			if sendErr != nil && conn != nil {
				// Start the next message on a fresh connection.
				_ = client.CloseWithSMTPClient(conn)
				conn = nil
			}
		}
		now := s.db.Now()
		if sendErr == nil {
			if _, err := tx.Exec(dbctx, `UPDATE outbox SET sent_at = $2, attempts = attempts + 1 WHERE id = $1`, o.id, now); err != nil {
				return res, fmt.Errorf("mail: record message %d sent: %w", o.id, err)
			}
			res.sent++
			s.log.Info("mail sent", "outbox_id", o.id, "school_id", o.schoolID, "kind", o.kind, "attempt", o.attempts+1)
			continue
		}
		res.failed++
		attempts := o.attempts + 1
		reason := errorText(sendErr)
		if attempts >= MaxAttempts {
			_, err = tx.Exec(dbctx, `UPDATE outbox SET attempts = $2, last_error = $3, failed_at = $4 WHERE id = $1`,
				o.id, attempts, reason, now)
			s.log.Warn("mail failed, giving up", "outbox_id", o.id, "school_id", o.schoolID, "kind", o.kind, "attempts", attempts, "err", reason)
		} else {
			next := now.Add(Backoff(attempts))
			_, err = tx.Exec(dbctx, `UPDATE outbox SET attempts = $2, last_error = $3, next_attempt_at = $4 WHERE id = $1`,
				o.id, attempts, reason, next)
			s.log.Warn("mail not sent, will retry", "outbox_id", o.id, "school_id", o.schoolID, "kind", o.kind, "attempts", attempts, "retry_at", next, "err", reason)
		}
		if err != nil {
			return res, fmt.Errorf("mail: record message %d failed: %w", o.id, err)
		}
	}
	if err := tx.Commit(dbctx); err != nil {
		return res, fmt.Errorf("mail: commit: %w", err)
	}
	return res, nil
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
	if s.cfg.FromName != "" {
		err = m.FromFormat(s.cfg.FromName, s.cfg.From)
	} else {
		err = m.From(s.cfg.From)
	}
	if err != nil {
		return nil, fmt.Errorf("from address: %w", err)
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

// pacer spaces sends at least interval apart (the PerMinute limit),
// across passes and batches of one Sender.
type pacer struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time
}

// wait blocks until the next send may start, or ctx ends.
func (p *pacer) wait(ctx context.Context) error {
	p.mu.Lock()
	now := time.Now()
	at := p.next
	if at.Before(now) {
		at = now
	}
	p.next = at.Add(p.interval)
	p.mu.Unlock()
	d := time.Until(at)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
