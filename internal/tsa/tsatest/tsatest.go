// Package tsatest runs a real RFC 3161 time-stamping authority for tests:
// an HTTP server on 127.0.0.1 that answers time-stamp requests with tokens
// signed (github.com/digitorus/timestamp) by a TSA certificate issued by a
// test CA made for the run. It can be switched off to test retries.
package tsatest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
)

// Server is a running time-stamping authority.
type Server struct {
	URL  string
	CA   *x509.Certificate // the test CA that issued Cert
	Cert *x509.Certificate // the TSA's signing certificate
	// Down makes the authority answer 503 Service Unavailable.
	Down atomic.Bool
	// Requests counts the requests answered with a token.
	Requests atomic.Int64
	key      crypto.Signer
}

// Start starts an authority for the test; it stops when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	caTpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Signoff test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTpl, caTpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatalf("tsatest: CA: %v", err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	tsaKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tsaTpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Signoff test TSA", Organization: []string{"Signoff tests"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
	}
	tsaDER, err := x509.CreateCertificate(rand.Reader, tsaTpl, ca, &tsaKey.PublicKey, caKey)
	if err != nil {
		t.Fatalf("tsatest: TSA certificate: %v", err)
	}
	cert, _ := x509.ParseCertificate(tsaDER)
	s := &Server{CA: ca, Cert: cert, key: tsaKey}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("tsatest: listen: %v", err)
	}
	hs := httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	t.Cleanup(hs.Close)
	s.URL = hs.URL + "/tsr"
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if s.Down.Load() {
		http.Error(w, "down for the test", http.StatusServiceUnavailable)
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/timestamp-query" {
		http.Error(w, "POST an application/timestamp-query", http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req, err := timestamp.ParseRequest(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ts := timestamp.Timestamp{
		HashAlgorithm: req.HashAlgorithm, HashedMessage: req.HashedMessage, Time: time.Now().UTC(),
		Policy: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Nonce: req.Nonce,
		AddTSACertificate: true, Accuracy: time.Second,
	}
	resp, err := ts.CreateResponseWithOpts(s.Cert, s.key, crypto.SHA256)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.Requests.Add(1)
	w.Header().Set("Content-Type", "application/timestamp-reply")
	_, _ = w.Write(resp)
}
