// Package tsa asks an RFC 3161 time-stamping authority to time-stamp a
// SHA-256 digest, and checks the tokens it returns. It never stands in
// for one: when the authority cannot be reached, Stamp returns the error
// and the caller retries later.
package tsa

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/digitorus/timestamp"
)

// Client talks to one time-stamping authority.
type Client struct {
	URL  string
	HTTP *http.Client // nil: a client with a 15-second timeout
}

// Token is a checked time-stamp token.
type Token struct {
	DER         []byte    // the token (a CMS SignedData), as the authority signed it
	Time        time.Time // the time the authority vouches for
	Certificate *x509.Certificate
}

// MaxResponse is the largest response read from an authority.
const MaxResponse = 1 << 20

// Stamp asks the authority to time-stamp digest (a SHA-256) and returns
// the token after checking it covers digest and its signature is valid.
func (c *Client) Stamp(ctx context.Context, digest []byte) (Token, error) {
	if c == nil || c.URL == "" {
		return Token{}, errors.New("tsa: no time-stamping authority is set")
	}
	req, err := timestamp.CreateRequest(bytes.NewReader(nil), &timestamp.RequestOptions{Hash: crypto.SHA256, Certificates: true})
	if err != nil {
		return Token{}, fmt.Errorf("tsa: request: %w", err)
	}
	// CreateRequest hashes its reader; ask for our digest instead.
	parsed, err := timestamp.ParseRequest(req)
	if err != nil {
		return Token{}, fmt.Errorf("tsa: request: %w", err)
	}
	parsed.HashedMessage = digest
	if req, err = parsed.Marshal(); err != nil {
		return Token{}, fmt.Errorf("tsa: request: %w", err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(req))
	if err != nil {
		return Token{}, fmt.Errorf("tsa: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/timestamp-query")
	client := c.HTTP
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	res, err := client.Do(hreq)
	if err != nil {
		return Token{}, fmt.Errorf("tsa: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, MaxResponse))
	if err != nil {
		return Token{}, fmt.Errorf("tsa: read response: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return Token{}, fmt.Errorf("tsa: the authority answered %s", res.Status)
	}
	ts, err := timestamp.ParseResponse(body)
	if err != nil {
		return Token{}, fmt.Errorf("tsa: response: %w", err)
	}
	return check(ts, digest)
}

// Check parses a stored token and checks its signature and that it
// time-stamps digest.
func Check(der, digest []byte) (Token, error) {
	ts, err := timestamp.Parse(der)
	if err != nil {
		return Token{}, fmt.Errorf("tsa: token: %w", err)
	}
	return check(ts, digest)
}

func check(ts *timestamp.Timestamp, digest []byte) (Token, error) {
	if len(ts.Certificates) == 0 {
		return Token{}, errors.New("tsa: the token carries no certificate, so its signature cannot be checked")
	}
	if ts.HashAlgorithm != crypto.SHA256 || !bytes.Equal(ts.HashedMessage, digest) {
		return Token{}, errors.New("tsa: the token time-stamps something else")
	}
	return Token{DER: ts.RawToken, Time: ts.Time.UTC(), Certificate: ts.Certificates[0]}, nil
}

// CheckToken parses a token and checks its signature (not what it
// time-stamps: the caller compares that).
func CheckToken(der []byte) (*timestamp.Timestamp, error) {
	ts, err := timestamp.Parse(der)
	if err != nil {
		return nil, fmt.Errorf("tsa: token: %w", err)
	}
	if len(ts.Certificates) == 0 {
		return nil, errors.New("tsa: the token carries no certificate, so its signature cannot be checked")
	}
	return ts, nil
}
