package mail_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/database"
	"signoff/internal/database/dbtest"
	"signoff/internal/jobs"
	"signoff/internal/jobs/jobstest"
	"signoff/internal/mail"
	"signoff/internal/mail/mailtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// testLog writes the sender's log to the test's output.
func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}

// clock is a test clock that only moves when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// withClock sets db's clock to a test clock starting at a fixed time.
func withClock(db *database.DB) *clock {
	c := &clock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	db.Now = c.Now
	return c
}

func newSchool(t *testing.T, db *database.DB, slug string) int64 {
	t.Helper()
	var id int64
	err := db.Pool.QueryRow(context.Background(),
		`INSERT INTO schools (slug, name) VALUES ($1, $2) RETURNING id`, slug, "School "+slug).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func enqueue(t *testing.T, db *database.DB, m mail.Message) (int64, bool) {
	t.Helper()
	var id int64
	var queued bool
	err := db.InTx(context.Background(), func(tx pgx.Tx) error {
		var err error
		id, queued, err = mail.Enqueue(context.Background(), tx, db.Now(), m)
		return err
	})
	if err != nil {
		t.Fatalf("enqueue %q: %v", m.Subject, err)
	}
	return id, queued
}

type outboxRow struct {
	Attempts      int
	LastError     string
	NextAttemptAt time.Time
	SentAt        *time.Time
	FailedAt      *time.Time
}

func row(t *testing.T, db *database.DB, id int64) outboxRow {
	t.Helper()
	var r outboxRow
	err := db.Pool.QueryRow(context.Background(),
		`SELECT attempts, last_error, next_attempt_at, sent_at, failed_at FROM outbox WHERE id = $1`, id).
		Scan(&r.Attempts, &r.LastError, &r.NextAttemptAt, &r.SentAt, &r.FailedAt)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func count(t *testing.T, db *database.DB, where string) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM outbox WHERE `+where).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// sendDue delivers every due waiting message once, oldest first, as the
// send jobs would (each as its next attempt), and counts the outcomes.
func sendDue(t *testing.T, db *database.DB, s *mail.Sender) (sent, failed int, err error) {
	t.Helper()
	ctx := context.Background()
	rows, err := db.Pool.Query(ctx, `SELECT id, attempts FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1 ORDER BY next_attempt_at, id`, db.Now())
	if err != nil {
		t.Fatal(err)
	}
	type due struct {
		id       int64
		attempts int
	}
	var list []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.id, &d.attempts); err != nil {
			t.Fatal(err)
		}
		list = append(list, d)
	}
	rows.Close()
	for _, d := range list {
		out, derr := s.Deliver(ctx, d.id, d.attempts+1, mail.MaxAttempts)
		switch out {
		case mail.Delivered:
			sent++
		case mail.Failed:
			failed++
		default:
			if derr != nil {
				return sent, failed, derr
			}
		}
	}
	return sent, failed, nil
}

// closedPort returns a local port with nothing listening on it.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	return port
}

func msg(school int64, to, subject string) mail.Message {
	return mail.Message{SchoolID: school, To: to, Subject: subject, Text: "Hello.\n\nThis is " + subject + ".\n", Kind: "test"}
}

func TestEnqueueValidates(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	school := newSchool(t, db, "valid")
	good := mail.Message{SchoolID: school, To: "parent@example.org", ToName: "A Parent", Subject: "Your link", Text: "Hello", Kind: "sign_in"}
	cases := []struct {
		name  string
		edit  func(*mail.Message)
		field string
	}{
		{"no address", func(m *mail.Message) { m.To = "" }, "to"},
		{"not an address", func(m *mail.Message) { m.To = "parent at example.org" }, "to"},
		{"name and address", func(m *mail.Message) { m.To = "A Parent <parent@example.org>" }, "to"},
		{"header injection in address", func(m *mail.Message) { m.To = "parent@example.org\r\nBcc: all@example.org" }, "to"},
		{"two addresses", func(m *mail.Message) { m.To = "a@example.org, b@example.org" }, "to"},
		{"header injection in name", func(m *mail.Message) { m.ToName = "A Parent\r\nBcc: all@example.org" }, "to_name"},
		{"no subject", func(m *mail.Message) { m.Subject = "  " }, "subject"},
		{"header injection in subject", func(m *mail.Message) { m.Subject = "Hi\nBcc: all@example.org" }, "subject"},
		{"subject too long", func(m *mail.Message) { m.Subject = strings.Repeat("é", 251) }, "subject"},
		{"no body", func(m *mail.Message) { m.Text = "\n \n" }, "text"},
		{"dedupe key on two lines", func(m *mail.Message) { m.DedupeKey = "a\nb" }, "dedupe_key"},
	}
	for _, c := range cases {
		m := good
		c.edit(&m)
		err := db.InTx(context.Background(), func(tx pgx.Tx) error {
			_, _, err := mail.Enqueue(context.Background(), tx, db.Now(), m)
			return err
		})
		if apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("%s: err = %v, want invalid", c.name, err)
			continue
		}
		fields := apperr.FieldsOf(err)
		if len(fields) != 1 || fields[0].Field != c.field {
			t.Errorf("%s: fields = %+v, want one on %q", c.name, fields, c.field)
		}
	}
	if n := count(t, db, "true"); n != 0 {
		t.Fatalf("%d invalid messages were saved", n)
	}
	// Accents and a long but valid subject are fine.
	m := good
	m.ToName, m.Subject = "Hélène Dupré-Ødegård", strings.Repeat("é", 250)
	if _, queued := enqueue(t, db, m); !queued {
		t.Fatal("a valid message was not queued")
	}
}

func TestEnqueueDedupeAndTransaction(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	school := newSchool(t, db, "dedupe")
	m := msg(school, "dokafor@example.org", "Your sign-in link")
	m.DedupeKey = fmt.Sprintf("school:%d:sign-in:account:7:1", school)

	// The email rolls back with the change that caused it.
	boom := errors.New("the state change failed")
	err := db.InTx(context.Background(), func(tx pgx.Tx) error {
		if _, queued, err := mail.Enqueue(context.Background(), tx, db.Now(), m); err != nil || !queued {
			t.Fatalf("enqueue: queued=%v err=%v", queued, err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if n := count(t, db, "true"); n != 0 {
		t.Fatalf("a rolled-back message is in the outbox (%d rows)", n)
	}

	id1, queued1 := enqueue(t, db, m)
	id2, queued2 := enqueue(t, db, m)
	if !queued1 || queued2 {
		t.Fatalf("queued = %v then %v, want true then false", queued1, queued2)
	}
	if id1 != id2 {
		t.Fatalf("the repeated key returned id %d, want the first message's %d", id2, id1)
	}
	// Without a key, the same message twice is two messages.
	m.DedupeKey = ""
	enqueue(t, db, m)
	enqueue(t, db, m)
	if n := count(t, db, "true"); n != 3 {
		t.Fatalf("outbox holds %d messages, want 3", n)
	}
}

// TestEnqueueDedupeConcurrent presses the button twice at once: one
// message is queued.
func TestEnqueueDedupeConcurrent(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	school := newSchool(t, db, "twice")
	m := msg(school, "dokafor@example.org", "Your family link")
	m.DedupeKey = "family-link:twice"
	var wg sync.WaitGroup
	var mu sync.Mutex
	queuedCount := 0
	ids := map[int64]bool{}
	for range 8 {
		wg.Go(func() {
			var id int64
			var queued bool
			err := db.InTx(context.Background(), func(tx pgx.Tx) error {
				var err error
				id, queued, err = mail.Enqueue(context.Background(), tx, db.Now(), m)
				time.Sleep(20 * time.Millisecond) // hold the transaction open
				return err
			})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			ids[id] = true
			if queued {
				queuedCount++
			}
		})
	}
	wg.Wait()
	if queuedCount != 1 || len(ids) != 1 || count(t, db, "true") != 1 {
		t.Fatalf("queued %d times, ids %v, %d rows; want one message", queuedCount, ids, count(t, db, "true"))
	}
}

func TestSendDueDelivers(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	clk := withClock(db)
	school := newSchool(t, db, "deliver")
	srv := mailtest.Start(t)

	body1 := "Bonjour Hélène,\n\nVoici votre lien de connexion : https://signoff.example/in/abc123\n\nÀ bientôt, l’équipe de l’école — Ærøskøbing.\n"
	id1, _ := enqueue(t, db, mail.Message{SchoolID: school, To: "helene@example.org", ToName: "Hélène Dupré",
		Subject: "Votre lien de connexion — école Sainte-Thérèse", Text: body1, Kind: "sign_in"})
	id2, _ := enqueue(t, db, mail.Message{SchoolID: school, To: "dokafor@example.org",
		Subject: "Please sign the IT acceptable use policy", Text: "Dear Daniel,\n\nPlease sign.\n", Kind: "reminder"})

	cfg := srv.Config()
	sender := mail.NewSender(db, cfg, testLog(t))
	sent, failed, err := sendDue(t, db, sender)
	if err != nil || sent != 2 || failed != 0 {
		t.Fatalf("SendDue = %d sent, %d failed, %v; want 2, 0, nil\n%s", sent, failed, err, srv.Log())
	}
	got := srv.Messages(t)
	if len(got) != 2 {
		t.Fatalf("the server received %d messages, want 2", len(got))
	}
	byTo := map[string]mailtest.Message{}
	for _, m := range got {
		if len(m.To) != 1 {
			t.Fatalf("message %q has recipients %v, want one", m.Subject, m.To)
		}
		byTo[m.To[0]] = m
	}
	h := byTo["helene@example.org"]
	if h.Subject != "Votre lien de connexion — école Sainte-Thérèse" {
		t.Errorf("subject = %q", h.Subject)
	}
	if strings.TrimRight(h.Text, "\r\n") != strings.TrimRight(body1, "\n") {
		t.Errorf("body = %q\nwant %q", h.Text, body1)
	}
	if h.ToNames[0] != "Hélène Dupré" {
		t.Errorf("recipient name = %q", h.ToNames[0])
	}
	if h.From != cfg.From || h.FromName != cfg.FromName {
		t.Errorf("from = %q <%s>, want %q <%s>", h.FromName, h.From, cfg.FromName, cfg.From)
	}
	if want := fmt.Sprintf("outbox-%d.", id1); !strings.HasPrefix(h.MessageID, want) || !strings.HasSuffix(h.MessageID, "@school.example") {
		t.Errorf("Message-ID = %q, want outbox-%d.…@school.example", h.MessageID, id1)
	}
	if !h.Date.Equal(clk.Now()) {
		t.Errorf("Date = %v, want the database clock's %v", h.Date, clk.Now())
	}
	if v := h.Headers["Auto-Submitted"]; len(v) != 1 || v[0] != "auto-generated" {
		t.Errorf("Auto-Submitted = %v", v)
	}
	if ct := strings.Join(h.Headers["Content-Type"], ""); !strings.Contains(ct, "text/plain") || !strings.Contains(strings.ToLower(ct), "utf-8") {
		t.Errorf("Content-Type = %q, want text/plain; charset=UTF-8", ct)
	}
	if d := byTo["dokafor@example.org"]; d.Subject != "Please sign the IT acceptable use policy" || !strings.Contains(d.Text, "Please sign.") {
		t.Errorf("second message = %q %q", d.Subject, d.Text)
	}

	for _, id := range []int64{id1, id2} {
		r := row(t, db, id)
		if r.SentAt == nil || !r.SentAt.Equal(clk.Now()) || r.Attempts != 1 || r.LastError != "" {
			t.Errorf("message %d after sending: %+v", id, r)
		}
	}
	// A second pass sends nothing again.
	clk.Add(time.Hour)
	sent, failed, err = sendDue(t, db, sender)
	if err != nil || sent != 0 || failed != 0 {
		t.Fatalf("second pass = %d, %d, %v; want nothing", sent, failed, err)
	}
	if n := len(srv.Messages(t)); n != 2 {
		t.Fatalf("the server holds %d messages after the second pass, want 2", n)
	}
	entries, total, err := mail.NewStore(db).List(context.Background(), school, mail.Filter{Status: mail.StatusSent})
	if err != nil || total != 2 || len(entries) != 2 || entries[0].Status != mail.StatusSent || entries[0].SentAt == nil {
		t.Fatalf("List(sent) = %+v, %d, %v", entries, total, err)
	}
}

// TestSchoolSenderAndReplyTo: a school's own sender name, address and
// reply-to (from its settings) replace the installation's.
func TestSchoolSenderAndReplyTo(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	withClock(db)
	own := newSchool(t, db, "own-sender")
	plain := newSchool(t, db, "plain-sender")
	if _, err := db.Pool.Exec(context.Background(), `UPDATE schools SET mail_from_name = 'Own School Office', mail_from_address = 'office@own.example',
		reply_to = 'replies@own.example' WHERE id = $1`, own); err != nil {
		t.Fatal(err)
	}
	srv := mailtest.Start(t)
	enqueue(t, db, msg(own, "a@example.org", "From the school"))
	enqueue(t, db, msg(plain, "b@example.org", "From the installation"))
	cfg := srv.Config()
	if sent, _, err := sendDue(t, db, mail.NewSender(db, cfg, testLog(t))); err != nil || sent != 2 {
		t.Fatalf("sent %d, %v", sent, err)
	}
	for _, m := range srv.Messages(t) {
		switch m.To[0] {
		case "a@example.org":
			if m.FromName != "Own School Office" || m.From != "office@own.example" || strings.Join(m.Headers["Reply-To"], "") != "<replies@own.example>" {
				t.Errorf("the school's own sender: %q <%s>, Reply-To %v", m.FromName, m.From, m.Headers["Reply-To"])
			}
		case "b@example.org":
			if m.FromName != cfg.FromName || m.From != cfg.From || len(m.Headers["Reply-To"]) != 0 {
				t.Errorf("the installation's sender: %q <%s>, Reply-To %v", m.FromName, m.From, m.Headers["Reply-To"])
			}
		}
	}
}

func TestSendFailureRetriesWithBackoff(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	clk := withClock(db)
	school := newSchool(t, db, "retry")
	ids := []int64{}
	for i := range 2 {
		id, _ := enqueue(t, db, msg(school, fmt.Sprintf("p%d@example.org", i), fmt.Sprintf("message %d", i)))
		ids = append(ids, id)
	}
	down := mail.Config{Host: "127.0.0.1", Port: closedPort(t), TLS: mail.TLSNone, From: "office@school.example", PerMinute: 100000}
	broken := mail.NewSender(db, down, testLog(t))
	start := clk.Now()

	sent, failed, err := sendDue(t, db, broken)
	if err != nil || sent != 0 || failed != 2 {
		t.Fatalf("SendDue to a closed port = %d sent, %d failed, %v; want 0, 2, nil", sent, failed, err)
	}
	for _, id := range ids {
		r := row(t, db, id)
		if r.Attempts != 1 || !strings.Contains(r.LastError, "connect to 127.0.0.1") || r.SentAt != nil || r.FailedAt != nil {
			t.Errorf("message %d after a failure: %+v", id, r)
		}
		if !r.NextAttemptAt.Equal(start.Add(time.Minute)) {
			t.Errorf("message %d next attempt at %v, want a minute later (%v)", id, r.NextAttemptAt, start.Add(time.Minute))
		}
	}
	// Not due yet: nothing is tried, even with a working server.
	srv := mailtest.Start(t)
	working := mail.NewSender(db, srv.Config(), testLog(t))
	clk.Add(59 * time.Second)
	if sent, failed, err := sendDue(t, db, working); err != nil || sent+failed != 0 {
		t.Fatalf("before the retry time: %d sent, %d failed, %v; want nothing", sent, failed, err)
	}
	// Due again: each is sent once.
	clk.Add(time.Second)
	if sent, failed, err := sendDue(t, db, working); err != nil || sent != 2 || failed != 0 {
		t.Fatalf("at the retry time: %d sent, %d failed, %v; want 2 sent", sent, failed, err)
	}
	if sent, failed, err := sendDue(t, db, working); err != nil || sent+failed != 0 {
		t.Fatalf("after sending: %d sent, %d failed, %v; want nothing", sent, failed, err)
	}
	if got := srv.Messages(t); len(got) != 2 {
		t.Fatalf("the server received %d messages, want 2", len(got))
	}
	for _, id := range ids {
		r := row(t, db, id)
		if r.SentAt == nil || r.Attempts != 2 {
			t.Errorf("message %d: %+v, want sent on the second attempt", id, r)
		}
	}
}

func TestSendGivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	clk := withClock(db)
	school := newSchool(t, db, "giveup")
	id, _ := enqueue(t, db, msg(school, "p@example.org", "never arrives"))
	down := mail.Config{Host: "127.0.0.1", Port: closedPort(t), TLS: mail.TLSNone, From: "office@school.example", PerMinute: 100000}
	sender := mail.NewSender(db, down, testLog(t))
	wantWaits := []time.Duration{1, 2, 4, 8, 16, 32, 60}
	for attempt := 1; attempt <= mail.MaxAttempts; attempt++ {
		at := clk.Now()
		if _, failed, err := sendDue(t, db, sender); err != nil || failed != 1 {
			t.Fatalf("attempt %d: failed=%d err=%v", attempt, failed, err)
		}
		r := row(t, db, id)
		if r.Attempts != attempt {
			t.Fatalf("attempt %d recorded as %d", attempt, r.Attempts)
		}
		if attempt < mail.MaxAttempts {
			want := at.Add(wantWaits[attempt-1] * time.Minute)
			if r.FailedAt != nil || !r.NextAttemptAt.Equal(want) {
				t.Fatalf("after attempt %d: next %v (want %v), failed_at %v", attempt, r.NextAttemptAt, want, r.FailedAt)
			}
			clk.Add(r.NextAttemptAt.Sub(at))
			continue
		}
		if r.FailedAt == nil || !r.FailedAt.Equal(at) {
			t.Fatalf("after %d attempts failed_at = %v, want %v", attempt, r.FailedAt, at)
		}
	}
	clk.Add(24 * time.Hour)
	if sent, failed, err := sendDue(t, db, sender); err != nil || sent+failed != 0 {
		t.Fatalf("a failed message was tried again: %d, %d, %v", sent, failed, err)
	}
	e, err := mail.NewStore(db).Get(context.Background(), school, id)
	if err != nil || e.Status != mail.StatusFailed || e.Attempts != mail.MaxAttempts || e.LastError == "" || e.FailedAt == nil {
		t.Fatalf("Get = %+v, %v", e, err)
	}
	if got := mail.Backoff(10); got != time.Hour {
		t.Fatalf("Backoff(10) = %v, want an hour", got)
	}
}

// TestRejectedRecipient: the server refuses one recipient of a batch; the
// others are delivered and only the refused one waits for a retry.
func TestRejectedRecipient(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	withClock(db)
	school := newSchool(t, db, "reject")
	srv := mailtest.StartWith(t, mailtest.Options{AllowedRecipients: `@ok\.example$`})
	a, _ := enqueue(t, db, msg(school, "a@ok.example", "first"))
	b, _ := enqueue(t, db, msg(school, "b@refused.example", "second"))
	c, _ := enqueue(t, db, msg(school, "c@ok.example", "third"))
	sent, failed, err := sendDue(t, db, mail.NewSender(db, srv.Config(), testLog(t)))
	if err != nil || sent != 2 || failed != 1 {
		t.Fatalf("SendDue = %d sent, %d failed, %v; want 2, 1\n%s", sent, failed, err, srv.Log())
	}
	if r := row(t, db, b); r.SentAt != nil || r.Attempts != 1 || !strings.Contains(r.LastError, "550") {
		t.Errorf("refused message: %+v", r)
	}
	for _, id := range []int64{a, c} {
		if r := row(t, db, id); r.SentAt == nil {
			t.Errorf("message %d was not sent: %+v", id, r)
		}
	}
	got := srv.Messages(t)
	if len(got) != 2 || got[0].Subject != "first" || got[1].Subject != "third" {
		t.Fatalf("server received %+v", got)
	}
}

func TestStartTLSWithAuth(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	withClock(db)
	school := newSchool(t, db, "starttls")
	srv := mailtest.StartWith(t, mailtest.Options{TLS: "starttls", Auth: true})
	cfg := srv.Config()
	if cfg.TLS != mail.TLSStartTLS || cfg.Username == "" {
		t.Fatalf("config = %+v", cfg)
	}
	id, _ := enqueue(t, db, msg(school, "p@example.org", "over TLS"))

	// A certificate we do not trust: nothing is sent, and the reason is kept.
	untrusting := mail.NewSender(db, cfg, testLog(t))
	if sent, failed, err := sendDue(t, db, untrusting); err != nil || sent != 0 || failed != 1 {
		t.Fatalf("untrusted certificate: %d sent, %d failed, %v", sent, failed, err)
	}
	if r := row(t, db, id); !strings.Contains(r.LastError, "certificate") {
		t.Errorf("last error = %q, want a certificate error", r.LastError)
	}
	if n := len(srv.Messages(t)); n != 0 {
		t.Fatalf("%d messages arrived over an untrusted connection", n)
	}

	_, err := db.Pool.Exec(context.Background(), `UPDATE outbox SET next_attempt_at = created_at`)
	if err != nil {
		t.Fatal(err)
	}
	trusting := mail.NewSender(db, cfg, testLog(t))
	trusting.TLSConfig = &tls.Config{RootCAs: srv.RootCAs, MinVersion: tls.VersionTLS12}
	if sent, failed, err := sendDue(t, db, trusting); err != nil || sent != 1 || failed != 0 {
		t.Fatalf("STARTTLS: %d sent, %d failed, %v\n%s", sent, failed, err, srv.Log())
	}
	if got := srv.Messages(t); len(got) != 1 || got[0].Subject != "over TLS" {
		t.Fatalf("server received %+v", got)
	}
}

func TestImplicitTLS(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	school := newSchool(t, db, "smtps")
	srv := mailtest.StartWith(t, mailtest.Options{TLS: "tls", Auth: true})
	enqueue(t, db, msg(school, "p@example.org", "over implicit TLS"))
	sender := mail.NewSender(db, srv.Config(), testLog(t))
	sender.TLSConfig = &tls.Config{RootCAs: srv.RootCAs, MinVersion: tls.VersionTLS12}
	if sent, failed, err := sendDue(t, db, sender); err != nil || sent != 1 || failed != 0 {
		t.Fatalf("implicit TLS: %d sent, %d failed, %v\n%s", sent, failed, err, srv.Log())
	}
	srv.WaitMessages(t, 1, 5*time.Second)
}

func TestNoSMTPMessagesWait(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	school := newSchool(t, db, "nosmtp")
	for i := range 3 {
		enqueue(t, db, msg(school, fmt.Sprintf("p%d@example.org", i), fmt.Sprintf("letter %d", i)))
	}
	sender := mail.NewSender(db, mail.Config{}, testLog(t))
	if sender.Enabled() {
		t.Fatal("a sender with no host says it is enabled")
	}
	sent, failed, err := sendDue(t, db, sender)
	if err != nil || sent != 0 || failed != 0 {
		t.Fatalf("SendDue without SMTP = %d, %d, %v; want nothing", sent, failed, err)
	}
	// The send jobs complete without touching the messages.
	id, _ := enqueue(t, db, msg(school, "late@example.org", "not sent"))
	if out, err := sender.Deliver(context.Background(), id, 1, mail.MaxAttempts); out != mail.NotConfigured || err != nil {
		t.Fatalf("Deliver without SMTP = %v, %v", out, err)
	}
	if _, err := db.Pool.Exec(context.Background(), `DELETE FROM outbox WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}

	entries, total, err := mail.NewStore(db).List(context.Background(), school, mail.Filter{Status: mail.StatusWaiting})
	if err != nil || total != 3 || len(entries) != 3 {
		t.Fatalf("List(waiting) = %d entries, total %d, %v; want 3", len(entries), total, err)
	}
	for _, e := range entries {
		if e.Status != mail.StatusWaiting || e.Attempts != 0 || e.SentAt != nil || e.Text == "" {
			t.Errorf("entry %+v", e)
		}
	}
	if entries[0].Subject != "letter 2" {
		t.Errorf("newest first: got %q first", entries[0].Subject)
	}
}

func TestStoreIsSchoolScoped(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	withClock(db)
	a := newSchool(t, db, "school-a")
	b := newSchool(t, db, "school-b")
	srv := mailtest.Start(t)
	var aIDs []int64
	for i := range 5 {
		id, _ := enqueue(t, db, msg(a, fmt.Sprintf("a%d@ok.example", i), fmt.Sprintf("a%d", i)))
		aIDs = append(aIDs, id)
	}
	bID, _ := enqueue(t, db, msg(b, "b@ok.example", "b0"))
	// Send a's first two and b's; then a's third fails for good.
	if _, err := db.Pool.Exec(context.Background(), `UPDATE outbox SET next_attempt_at = next_attempt_at + interval '1 day' WHERE id = ANY($1)`, aIDs[2:]); err != nil {
		t.Fatal(err)
	}
	if sent, _, err := sendDue(t, db, mail.NewSender(db, srv.Config(), testLog(t))); err != nil || sent != 3 {
		t.Fatalf("sent %d, %v", sent, err)
	}
	if _, err := db.Pool.Exec(context.Background(), `UPDATE outbox SET failed_at = now(), attempts = 8, last_error = 'x' WHERE id = $1`, aIDs[2]); err != nil {
		t.Fatal(err)
	}

	store := mail.NewStore(db)
	ctx := context.Background()
	for status, want := range map[string]int{"": 5, mail.StatusAll: 5, mail.StatusWaiting: 2, mail.StatusSent: 2, mail.StatusFailed: 1} {
		entries, total, err := store.List(ctx, a, mail.Filter{Status: status})
		if err != nil || total != want || len(entries) != want {
			t.Errorf("List(a, %q) = %d entries, total %d, %v; want %d", status, len(entries), total, err, want)
		}
		for _, e := range entries {
			if e.SchoolID != a || (status != "" && status != mail.StatusAll && e.Status != status) {
				t.Errorf("List(a, %q) returned %+v", status, e)
			}
		}
	}
	page, total, err := store.List(ctx, a, mail.Filter{Limit: 2, Offset: 2})
	if err != nil || total != 5 || len(page) != 2 || page[0].ID != aIDs[2] || page[1].ID != aIDs[1] {
		t.Fatalf("second page = %+v, total %d, %v", page, total, err)
	}
	if _, _, err := store.List(ctx, a, mail.Filter{Status: "bounced"}); apperr.CodeOf(err) != apperr.Invalid {
		t.Errorf("unknown status: err = %v, want invalid", err)
	}
	if e, err := store.Get(ctx, b, bID); err != nil || e.Subject != "b0" || e.Status != mail.StatusSent {
		t.Errorf("Get(b, own) = %+v, %v", e, err)
	}
	if _, err := store.Get(ctx, a, bID); apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("Get(a, b's message) err = %v, want not found", err)
	}
	if _, err := store.Get(ctx, b, aIDs[0]); apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("Get(b, a's message) err = %v, want not found", err)
	}
	if entries, total, err := store.List(ctx, b, mail.Filter{}); err != nil || total != 1 || entries[0].ID != bID {
		t.Errorf("List(b) = %+v, %d, %v", entries, total, err)
	}
}

// riverServer starts a River client working the mail queue on its own
// pool (as a separate server would), stopped when the test ends.
func riverServer(t *testing.T, db *database.DB, cfg mail.Config, name string, now func() time.Time) *jobs.Client {
	t.Helper()
	return jobstest.Server(t, db, jobs.Options{ID: name, PollInterval: 50 * time.Millisecond, MailWorkers: 4}, now, func(reg *jobs.Registry, pool *database.DB) {
		sender := mail.NewSender(pool, cfg, testLog(t))
		jobs.Add(reg, &mail.SendWorker{Sender: sender})
		jobs.Add(reg, &mail.SweepWorker{Sender: sender})
	})
}

// TestConcurrentSenders runs the send jobs on two servers over one
// queue: every message is sent exactly once, on its first attempt; a
// message whose transaction rolled back is never sent.
func TestConcurrentSenders(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	school := newSchool(t, db, "concurrent")
	srv := mailtest.Start(t)
	const n = 40
	for i := range n {
		enqueue(t, db, msg(school, fmt.Sprintf("p%02d@example.org", i), fmt.Sprintf("message %02d", i)))
	}
	err := db.InTx(context.Background(), func(tx pgx.Tx) error {
		if _, _, err := mail.Enqueue(context.Background(), tx, db.Now(), msg(school, "ghost@example.org", "rolled back")); err != nil {
			return err
		}
		return errors.New("roll back")
	})
	if err == nil || err.Error() != "roll back" {
		t.Fatal(err)
	}
	riverServer(t, db, srv.Config(), "a", nil)
	riverServer(t, db, srv.Config(), "b", nil)
	got := srv.WaitMessages(t, n, 30*time.Second)
	jobstest.WaitFor(t, 10*time.Second, "every row marked sent", func() bool { return count(t, db, "sent_at IS NOT NULL") == n })
	time.Sleep(300 * time.Millisecond) // time for a second copy to arrive, if one were sent
	got = srv.Messages(t)
	seen := map[string]int{}
	for _, m := range got {
		seen[m.Subject]++
	}
	for i := range n {
		if s := fmt.Sprintf("message %02d", i); seen[s] != 1 {
			t.Errorf("%q arrived %d times", s, seen[s])
		}
	}
	if len(got) != n {
		t.Errorf("the server received %d messages, want %d", len(got), n)
	}
	if c := count(t, db, "sent_at IS NOT NULL AND attempts = 1"); c != n {
		t.Errorf("%d rows are marked sent on the first attempt, want %d", c, n)
	}
	var jobsDone int
	_ = db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'mail_send' AND state = 'completed'`).Scan(&jobsDone)
	if jobsDone != n {
		t.Errorf("%d completed send jobs, want %d (one per committed message)", jobsDone, n)
	}
}

// TestPerMinuteLimitAcrossServers: two servers share one per-minute
// allowance; the rest are snoozed to the next minute, not failed.
func TestPerMinuteLimitAcrossServers(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	clk := withClock(db) // the minute never ends
	school := newSchool(t, db, "paced")
	srv := mailtest.Start(t)
	for i := range 7 {
		enqueue(t, db, msg(school, fmt.Sprintf("p%d@example.org", i), fmt.Sprintf("paced %d", i)))
	}
	cfg := srv.Config()
	cfg.PerMinute = 3
	riverServer(t, db, cfg, "a", clk.Now)
	riverServer(t, db, cfg, "b", clk.Now)
	srv.WaitMessages(t, 3, 20*time.Second)
	var snoozed int
	jobstest.WaitFor(t, 10*time.Second, "four snoozed jobs", func() bool {
		_ = db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'mail_send' AND state = 'scheduled' AND attempt = 0`).Scan(&snoozed)
		return snoozed == 4
	})
	time.Sleep(500 * time.Millisecond)
	if got := len(srv.Messages(t)); got != 3 {
		t.Fatalf("%d messages sent in one minute by two servers, want the limit of 3", got)
	}
	if c := count(t, db, "sent_at IS NULL AND failed_at IS NULL AND attempts = 0"); c != 4 {
		t.Fatalf("%d messages wait untried, want 4", c)
	}
}

// TestRetryThroughRiver: a message fails on every attempt (the server is
// down), River retries it after Backoff, it is marked failed after the
// last attempt; the office's Retry queues it again and it is sent.
func TestRetryThroughRiver(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	school := newSchool(t, db, "retry-river")
	other := newSchool(t, db, "other")
	id, _ := enqueue(t, db, msg(school, "p@example.org", "eventually"))
	down := mail.Config{Host: "127.0.0.1", Port: closedPort(t), TLS: mail.TLSNone, From: "office@school.example", PerMinute: 100000}
	c := riverServer(t, db, down, "down", nil)
	// Bring each retry forward instead of waiting minutes.
	for attempt := 1; attempt <= mail.MaxAttempts; attempt++ {
		jobstest.WaitFor(t, 15*time.Second, fmt.Sprintf("attempt %d recorded", attempt), func() bool { return row(t, db, id).Attempts == attempt })
		if attempt < mail.MaxAttempts {
			jobstest.WaitFor(t, 5*time.Second, "the job to wait for its retry", func() bool {
				tag, err := db.Pool.Exec(context.Background(), `UPDATE river_job SET scheduled_at = now(), state = 'available' WHERE kind = 'mail_send' AND state IN ('retryable', 'scheduled')`)
				return err == nil && tag.RowsAffected() == 1
			})
		}
	}
	jobstest.WaitFor(t, 5*time.Second, "the job discarded", func() bool {
		var n int
		_ = db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'mail_send' AND state = 'discarded'`).Scan(&n)
		return n == 1
	})
	r := row(t, db, id)
	if r.FailedAt == nil || r.SentAt != nil || !strings.Contains(r.LastError, "connect to 127.0.0.1") {
		t.Fatalf("after the last attempt: %+v", r)
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}

	actor := audit.System("test")
	if err := mail.Retry(context.Background(), db, other, id, actor); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("another school's retry: %v, want not found", err)
	}
	srv := mailtest.Start(t)
	if err := mail.Retry(context.Background(), db, school, id, actor); err != nil {
		t.Fatal(err)
	}
	if err := mail.Retry(context.Background(), db, school, id, actor); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("retrying a waiting message: %v, want conflict", err)
	}
	riverServer(t, db, srv.Config(), "up", nil)
	got := srv.WaitMessages(t, 1, 15*time.Second)
	if got[0].Subject != "eventually" {
		t.Fatalf("received %+v", got)
	}
	jobstest.WaitFor(t, 5*time.Second, "the row marked sent", func() bool { return row(t, db, id).SentAt != nil })
	if r := row(t, db, id); r.Attempts != mail.MaxAttempts+1 || r.FailedAt != nil {
		t.Fatalf("after the retry: %+v", r)
	}
}

// TestSweepQueuesWaitingMessages: messages that have no send job (queued
// while there was no SMTP server, whose job completed without sending)
// get one from the sweep, once.
func TestSweepQueuesWaitingMessages(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	ctx := context.Background()
	school := newSchool(t, db, "sweep")
	for i := range 3 {
		enqueue(t, db, msg(school, fmt.Sprintf("p%d@example.org", i), fmt.Sprintf("held %d", i)))
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE river_job SET state = 'completed', finalized_at = now() WHERE kind = 'mail_send'`); err != nil {
		t.Fatal(err)
	}
	if n, err := mail.NewSender(db, mail.Config{}, testLog(t)).Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("sweep without SMTP: %d, %v; want nothing queued", n, err)
	}
	srv := mailtest.Start(t)
	sender := mail.NewSender(db, srv.Config(), testLog(t))
	if n, err := sender.Sweep(ctx); err != nil || n != 3 {
		t.Fatalf("sweep: %d, %v; want 3", n, err)
	}
	if n, err := sender.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("second sweep: %d, %v; want 0 (they have jobs)", n, err)
	}
	riverServer(t, db, srv.Config(), "a", nil)
	srv.WaitMessages(t, 3, 15*time.Second)
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := mail.Config{Host: "smtp.example.org", From: "office@school.example"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	if err := (mail.Config{}).Validate(); err != nil || (mail.Config{}).Enabled() {
		t.Fatalf("empty config: enabled=%v err=%v; want disabled and valid", (mail.Config{}).Enabled(), err)
	}
	bad := map[string]func(*mail.Config){
		"no from":          func(c *mail.Config) { c.From = "" },
		"from with name":   func(c *mail.Config) { c.From = "Office <office@school.example>" },
		"from name 2 line": func(c *mail.Config) { c.FromName = "Office\r\nBcc: x@y.z" },
		"tls mode":         func(c *mail.Config) { c.TLS = "ssl3" },
		"port":             func(c *mail.Config) { c.Port = 70000 },
		"password no user": func(c *mail.Config) { c.Password = "secret" },
		"per minute":       func(c *mail.Config) { c.PerMinute = -1 },
		"host":             func(c *mail.Config) { c.Host = "smtp example org" },
	}
	for name, edit := range bad {
		c := ok
		edit(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	for _, mode := range []string{"", "starttls", "TLS", "none"} {
		c := ok
		c.TLS = mode
		if err := c.Validate(); err != nil {
			t.Errorf("TLS %q: %v", mode, err)
		}
	}
}
