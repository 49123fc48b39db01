package signkey

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"time"

	"github.com/digitorus/pdf"
	"github.com/digitorus/pdfsign/sign"
	"github.com/digitorus/pdfsign/verify"

	"signoff/internal/tsa"
)

// PDFSigner signs PDFs with a Key (PAdES: an invisible certification
// signature that allows no change), time-stamped by the time-stamping
// authority at TSAURL when it is set.
type PDFSigner struct {
	Key    *Key
	TSAURL string
	// Timeout bounds a signature with a time stamp (0: 20 seconds). When
	// the authority does not answer in time, or fails, the copy is signed
	// without a time stamp and Sign says so in Signed.TimeStamped: it is
	// never given a time the authority did not vouch for.
	Timeout time.Duration
	Log     *slog.Logger
	Now     func() time.Time
}

// SignInfo is what the signature dictionary says.
type SignInfo struct {
	Name     string // who signs: the installation or school
	Reason   string // "Signed copy SG-…"
	Location string
	Contact  string // the verification link
}

// Signed is a signed PDF.
type Signed struct {
	PDF         []byte
	TimeStamped bool
	// TSAError says why the time stamp is missing when TSAURL is set.
	TSAError error
}

// Sign returns data signed. data must be a PDF whose bytes are kept
// unchanged at the start of the result (the signature is appended as an
// incremental update), so the unsigned copy can be recognised inside it.
func (s *PDFSigner) Sign(ctx context.Context, data []byte, info SignInfo) (Signed, error) {
	if s == nil || s.Key == nil {
		return Signed{PDF: data}, errors.New("signkey: no signing key")
	}
	if s.TSAURL == "" {
		out, err := s.sign(data, info, "")
		return Signed{PDF: out}, err
	}
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 20 * time.Second
	}
	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1)
	go func() { // the library's HTTP client has no deadline of its own
		out, err := s.sign(data, info, s.TSAURL)
		done <- result{out, err}
	}()
	var tsaErr error
	select {
	case r := <-done:
		if r.err == nil {
			return Signed{PDF: r.out, TimeStamped: true}, nil
		}
		tsaErr = r.err
	case <-time.After(timeout):
		tsaErr = fmt.Errorf("the time-stamping authority did not answer in %s", timeout)
	case <-ctx.Done():
		return Signed{}, ctx.Err()
	}
	if s.Log != nil {
		s.Log.Warn("signed copy signed without a time stamp", "tsa", s.TSAURL, "err", tsaErr)
	}
	out, err := s.sign(data, info, "")
	return Signed{PDF: out, TSAError: tsaErr}, err
}

func (s *PDFSigner) sign(data []byte, info SignInfo, tsaURL string) ([]byte, error) {
	rdr, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("signkey: read PDF: %w", err)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	chain := append([]*x509.Certificate{s.Key.Certificate}, s.Key.Chain...)
	var out bytes.Buffer
	err = sign.Sign(bytes.NewReader(data), &out, rdr, int64(len(data)), sign.SignData{
		Signature: sign.SignDataSignature{
			Info:       sign.SignDataSignatureInfo{Name: info.Name, Location: info.Location, Reason: info.Reason, ContactInfo: info.Contact, Date: now().UTC()},
			CertType:   sign.CertificationSignature,
			DocMDPPerm: sign.DoNotAllowAnyChangesPerms,
		},
		Signer:            s.Key.Signer,
		DigestAlgorithm:   crypto.SHA256,
		Certificate:       s.Key.Certificate,
		CertificateChains: [][]*x509.Certificate{chain},
		TSA:               sign.TSA{URL: tsaURL},
	})
	if err != nil {
		return nil, fmt.Errorf("signkey: sign PDF: %w", err)
	}
	return out.Bytes(), nil
}

// PDFCheck is what CheckPDF found.
type PDFCheck struct {
	Signed bool // the file has a digital signature
	Valid  bool // it is intact, covers the whole file, and its certificate's key made it
	// Certificate signed it (nil when unsigned).
	Certificate *x509.Certificate
	SignedAt    time.Time // the time the signer wrote (not vouched for by anyone)
	// TimeStamped: an RFC 3161 token vouches for TimeStamp; TimeStampBy is
	// the authority's certificate.
	TimeStamped bool
	TimeStamp   time.Time
	TimeStampBy *x509.Certificate
	Problem     string // why it is not valid, in a sentence
}

var byteRangeRE = regexp.MustCompile(`/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]`)

// CheckPDF checks the last digital signature of a PDF: that its bytes are
// the bytes signed, that the whole file but the signature itself is
// covered, and its time stamp, if any. It checks nothing about whether the
// certificate is to be trusted: compare Certificate with the one you trust.
func CheckPDF(data []byte) PDFCheck {
	var c PDFCheck
	m := byteRangeRE.FindAllSubmatch(data, -1)
	if len(m) == 0 {
		return c
	}
	c.Signed = true
	last := m[len(m)-1]
	var br [4]int64
	for i := range br {
		br[i], _ = strconv.ParseInt(string(last[i+1]), 10, 64)
	}
	if br[0] != 0 || br[2]+br[3] != int64(len(data)) {
		c.Problem = "something was added to the file after it was signed"
		return c
	}
	opts := verify.DefaultVerifyOptions()
	opts.AllowUntrustedRoots = true // trust is decided by the caller, by certificate
	opts.ValidateTimestampCertificates = false
	res, err := verify.VerifyWithOptions(bytes.NewReader(data), int64(len(data)), opts)
	if err != nil || res == nil || len(res.Signers) == 0 {
		c.Problem = "the file was changed after it was signed"
		return c
	}
	sg := res.Signers[len(res.Signers)-1]
	if len(sg.Certificates) > 0 {
		c.Certificate = sg.Certificates[0].Certificate
	}
	if sg.SignatureTime != nil {
		c.SignedAt = sg.SignatureTime.UTC()
	}
	if !sg.ValidSignature {
		c.Problem = "the file was changed after it was signed"
		return c
	}
	c.Valid = true
	if sg.TimeStamp != nil {
		// The library checked the token signs this signature; check the
		// token's own signature too.
		if _, err := tsa.CheckToken(sg.TimeStamp.RawToken); err == nil {
			c.TimeStamped = true
			c.TimeStamp = sg.TimeStamp.Time.UTC()
			if len(sg.TimeStamp.Certificates) > 0 {
				c.TimeStampBy = sg.TimeStamp.Certificates[0]
			}
		} else {
			c.Valid = false
			c.Problem = "its time stamp is broken"
		}
	}
	return c
}
