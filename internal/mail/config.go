package mail

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
)

// TLS modes for Config.TLS.
const (
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS, which must succeed (port 587)
	TLSImplicit = "tls"      // TLS from the first byte, "SMTPS" (port 465)
	TLSNone     = "none"     // no encryption: a relay on the same machine or network only
)

// Defaults applied by NewSender to a Config's zero fields.
const (
	DefaultPerMinute = 60
)

// Config is how Signoff reaches its SMTP server. The zero Config (no
// Host) sends nothing: messages wait in the outbox for the office to read,
// print or forward.
type Config struct {
	Host     string
	Port     int    // 0: 587 for starttls, 465 for tls, 25 for none
	Username string // empty: no SMTP AUTH (an open relay or one that trusts our address)
	Password string
	From     string // the From address, e.g. office@school.example; required when Host is set
	FromName string // shown beside From, e.g. "Hollybrook Primary School"
	// TLS is "starttls" (the default), "tls" or "none". With "none" a
	// password is only sent with a challenge mechanism (CRAM-MD5, SCRAM),
	// never in clear.
	TLS       string
	PerMinute int // at most this many messages a minute, across all servers; 0: 60
}

// Enabled reports whether an SMTP server is configured.
func (c Config) Enabled() bool { return strings.TrimSpace(c.Host) != "" }

// Validate checks the settings. A Config that is not Enabled is valid (it
// sends nothing).
func (c Config) Validate() error {
	if !c.Enabled() {
		return nil
	}
	var errs []error
	if strings.ContainsAny(c.Host, " \t\r\n/") {
		errs = append(errs, fmt.Errorf("host %q is not a host name or address", c.Host))
	}
	if c.Port < 0 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("port %d is not between 1 and 65535", c.Port))
	}
	switch c.tlsMode() {
	case TLSStartTLS, TLSImplicit, TLSNone:
	default:
		errs = append(errs, fmt.Errorf("TLS %q must be starttls, tls or none", c.TLS))
	}
	if c.From == "" {
		errs = append(errs, errors.New("a From address is required when an SMTP host is set"))
	} else if err := checkAddress(c.From); err != nil {
		errs = append(errs, fmt.Errorf("From %q: %w", c.From, err))
	}
	if hasControl(c.FromName) {
		errs = append(errs, errors.New("the From name must be one line of text"))
	}
	if c.Password != "" && c.Username == "" {
		errs = append(errs, errors.New("a password is set without a username"))
	}
	if c.PerMinute < 0 || c.PerMinute > 100000 {
		errs = append(errs, fmt.Errorf("per-minute limit %d must be between 1 and 100000 (0 for the default, %d)", c.PerMinute, DefaultPerMinute))
	}
	if len(errs) > 0 {
		return fmt.Errorf("mail: %w", errors.Join(errs...))
	}
	return nil
}

// tlsMode is TLS normalised, with the default.
func (c Config) tlsMode() string {
	m := strings.ToLower(strings.TrimSpace(c.TLS))
	if m == "" {
		return TLSStartTLS
	}
	return m
}

// withDefaults fills the zero fields.
func (c Config) withDefaults() Config {
	c.Host = strings.TrimSpace(c.Host)
	c.TLS = c.tlsMode()
	if c.Port == 0 {
		switch c.TLS {
		case TLSImplicit:
			c.Port = 465
		case TLSNone:
			c.Port = 25
		default:
			c.Port = 587
		}
	}
	if c.PerMinute <= 0 {
		c.PerMinute = DefaultPerMinute
	}
	return c
}

// checkAddress accepts a bare address ("name@example.org"), nothing else.
func checkAddress(addr string) error {
	if hasControl(addr) {
		return errors.New("must be one line")
	}
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Name != "" || a.Address != addr {
		return errors.New("is not an email address")
	}
	return nil
}
