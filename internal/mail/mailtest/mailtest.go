// Package mailtest runs a real SMTP server for tests: Mailpit
// (github.com/axllent/mailpit), pinned as a tool in go.mod and started as
// a separate process on free local ports. Messages() reads back what
// arrived through Mailpit's HTTP API. The server is stopped, and its
// files removed, when the test ends.
//
// The first use on a machine builds Mailpit with `go tool -n mailpit`
// (a minute or two on a cold cache; cached afterwards). When the server
// cannot be built or started, the test fails; it is never skipped.
package mailtest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"signoff/internal/mail"
)

// Options change how the server is started.
type Options struct {
	// TLS is "" (no encryption), "starttls" (STARTTLS offered, with a
	// self-signed certificate; see Server.RootCAs) or "tls" (implicit TLS).
	TLS string
	// Auth makes the server accept any username and password (PLAIN and
	// LOGIN, offered over TLS only).
	Auth bool
	// AllowedRecipients, when set, is a regular expression: recipients
	// that do not match are refused at RCPT TO with a permanent error.
	AllowedRecipients string
}

// Server is a running Mailpit.
type Server struct {
	Host    string // 127.0.0.1
	Port    int    // SMTP
	APIURL  string // http://127.0.0.1:PORT, Mailpit's web UI and API
	RootCAs *x509.CertPool

	opts Options
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

// Message is what the server received, as Mailpit parsed it.
type Message struct {
	ID        string // Mailpit's id
	MessageID string // the Message-ID header, without brackets
	From      string // address
	FromName  string
	To        []string // addresses
	ToNames   []string
	Subject   string // decoded
	Text      string // the plain-text body, decoded, with LF line endings
	Date      time.Time
	Headers   map[string][]string
	// Attachments are the attached files' names and content types.
	Attachments []Attachment
}

// Attachment is a file attached to a message that arrived.
type Attachment struct {
	FileName    string
	ContentType string
	Size        int
}

// Start runs a plain SMTP server (no TLS, no authentication).
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith runs a server with options.
func StartWith(t testing.TB, o Options) *Server {
	t.Helper()
	bin := binary(t)
	dir := t.TempDir()
	var lastErr error
	for try := 0; try < 3; try++ { // a free port may be taken between choosing it and binding it
		s, err := start(bin, dir, o)
		if err == nil {
			t.Cleanup(s.stop)
			return s
		}
		lastErr = err
	}
	t.Fatalf("mailtest: cannot start Mailpit: %v", lastErr)
	return nil
}

// Config returns mail settings that send to this server, with a From
// address and no rate limit worth waiting for. TLS matches the server's.
func (s *Server) Config() mail.Config {
	c := mail.Config{
		Host: s.Host, Port: s.Port,
		From: "office@school.example", FromName: "Test School",
		TLS: mail.TLSNone, PerMinute: 100000,
	}
	switch s.opts.TLS {
	case "starttls":
		c.TLS = mail.TLSStartTLS
	case "tls":
		c.TLS = mail.TLSImplicit
	}
	if s.opts.Auth {
		c.Username, c.Password = "signoff", "secret"
	}
	return c
}

// Messages returns every message received so far, oldest first.
func (s *Server) Messages(t testing.TB) []Message {
	t.Helper()
	msgs, err := s.messages()
	if err != nil {
		t.Fatalf("mailtest: %v", err)
	}
	return msgs
}

// WaitMessages waits up to timeout for at least n messages and returns
// them all; the test fails when fewer arrive.
func (s *Server) WaitMessages(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msgs, err := s.messages()
		if err != nil {
			t.Fatalf("mailtest: %v", err)
		}
		if len(msgs) >= n {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailtest: %d messages arrived within %s, want %d", len(msgs), timeout, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Log returns what Mailpit has printed (for failure messages).
func (s *Server) Log() string { return s.out.String() }

// The Mailpit binary is built once per test process.
var (
	binOnce sync.Once
	binPath string
	binErr  error
)

func binary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		// `go tool -n` builds the tool (or finds it in the build cache) and
		// prints its path, so we can run and stop the server itself rather
		// than a `go` process in front of it.
		cmd := exec.CommandContext(ctx, "go", "tool", "-n", "mailpit")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			binErr = fmt.Errorf("building the mailpit tool (go tool -n mailpit) failed: %v\n%s", err, stderr.String())
			return
		}
		binPath = strings.TrimSpace(string(out))
		if _, err := os.Stat(binPath); err != nil {
			binErr = fmt.Errorf("go tool -n mailpit printed %q, which is not a file: %v", binPath, err)
		}
	})
	if binErr != nil {
		t.Fatalf("mailtest: no SMTP server for the test: %v", binErr)
	}
	return binPath
}

func start(bin, dir string, o Options) (*Server, error) {
	smtpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{
		Host:   "127.0.0.1",
		Port:   smtpPort,
		APIURL: "http://127.0.0.1:" + strconv.Itoa(httpPort),
		opts:   o,
		out:    &syncBuffer{},
		done:   make(chan struct{}),
	}
	args := []string{
		"--smtp", "127.0.0.1:" + strconv.Itoa(smtpPort),
		"--listen", "127.0.0.1:" + strconv.Itoa(httpPort),
		"--database", filepath.Join(dir, fmt.Sprintf("mailpit-%d.db", smtpPort)),
		"--disable-version-check",
		"--smtp-disable-rdns",
		"--max", "10000",
	}
	switch o.TLS {
	case "":
	case "starttls", "tls":
		cert, key, pool, err := selfSigned(dir)
		if err != nil {
			return nil, err
		}
		s.RootCAs = pool
		args = append(args, "--smtp-tls-cert", cert, "--smtp-tls-key", key)
		if o.TLS == "tls" {
			args = append(args, "--smtp-require-tls")
		} else {
			args = append(args, "--smtp-require-starttls")
		}
	default:
		return nil, fmt.Errorf("unknown TLS option %q", o.TLS)
	}
	if o.Auth {
		args = append(args, "--smtp-auth-accept-any")
	}
	if o.AllowedRecipients != "" {
		args = append(args, "--smtp-allowed-recipients", o.AllowedRecipients)
	}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Dir = dir
	s.cmd.Stdout = s.out
	s.cmd.Stderr = s.out
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()

	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-s.done:
			return nil, fmt.Errorf("mailpit exited before it was ready:\n%s", s.out.String())
		default:
		}
		if s.ready() {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("mailpit was not accepting SMTP connections on %s:%d after 30s:\n%s", s.Host, s.Port, s.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ready reports whether the SMTP port accepts connections and the API answers.
func (s *Server) ready() bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort(s.Host, strconv.Itoa(s.Port)), time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	resp, err := http.Get(s.APIURL + "/readyz")
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// stop ends the server: politely, then not.
func (s *Server) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

type summary struct {
	ID      string
	Created time.Time
}

type apiAddress struct {
	Name    string
	Address string
}

func (s *Server) messages() ([]Message, error) {
	var list struct {
		Total    int
		Messages []summary
	}
	if err := s.getJSON("/api/v1/messages?limit=10000", &list); err != nil {
		return nil, err
	}
	// Mailpit lists newest first.
	slices.Reverse(list.Messages)
	slices.SortStableFunc(list.Messages, func(a, b summary) int { return a.Created.Compare(b.Created) })
	out := make([]Message, 0, len(list.Messages))
	for _, summary := range list.Messages {
		var m struct {
			ID          string
			MessageID   string
			From        *apiAddress
			To          []apiAddress
			Subject     string
			Text        string
			Date        time.Time
			Attachments []Attachment
		}
		if err := s.getJSON("/api/v1/message/"+summary.ID, &m); err != nil {
			return nil, err
		}
		msg := Message{ID: m.ID, MessageID: m.MessageID, Subject: m.Subject, Text: strings.ReplaceAll(m.Text, "\r\n", "\n"), Date: m.Date,
			Attachments: m.Attachments}
		if m.From != nil {
			msg.From, msg.FromName = m.From.Address, m.From.Name
		}
		for _, a := range m.To {
			msg.To = append(msg.To, a.Address)
			msg.ToNames = append(msg.ToNames, a.Name)
		}
		if err := s.getJSON("/api/v1/message/"+summary.ID+"/headers", &msg.Headers); err != nil {
			return nil, err
		}
		out = append(out, msg)
	}
	return out, nil
}

func (s *Server) getJSON(path string, v any) error {
	resp, err := http.Get(s.APIURL + path)
	if err != nil {
		return fmt.Errorf("mailpit API %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("mailpit API %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("mailpit API %s: %s: %s", path, resp.Status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("mailpit API %s: %w", path, err)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// selfSigned writes a certificate for 127.0.0.1 and localhost into dir
// and returns its files and a pool that trusts it.
func selfSigned(dir string) (certFile, keyFile string, pool *x509.CertPool, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "mailtest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	certFile = filepath.Join(dir, "smtp-cert.pem")
	keyFile = filepath.Join(dir, "smtp-key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		return "", "", nil, err
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		return "", "", nil, err
	}
	pool = x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return certFile, keyFile, pool, nil
}

// syncBuffer is a bytes.Buffer safe for the process's writers and readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
