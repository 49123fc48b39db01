package tsa_test

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"signoff/internal/tsa"
	"signoff/internal/tsa/tsatest"
)

func TestStampAndCheck(t *testing.T) {
	t.Parallel()
	srv := tsatest.Start(t)
	c := &tsa.Client{URL: srv.URL}
	digest := sha256.Sum256([]byte("chain head"))
	tok, err := c.Stamp(context.Background(), digest[:])
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(tok.Time) > time.Minute || tok.Certificate.Subject.CommonName != "Signoff test TSA" {
		t.Fatalf("token: %v %v", tok.Time, tok.Certificate.Subject)
	}
	if _, err := tsa.Check(tok.DER, digest[:]); err != nil {
		t.Fatalf("check: %v", err)
	}
	other := sha256.Sum256([]byte("another head"))
	if _, err := tsa.Check(tok.DER, other[:]); err == nil {
		t.Fatal("a token checked against another digest")
	}
	broken := append([]byte(nil), tok.DER...)
	broken[len(broken)-10] ^= 0xff
	if _, err := tsa.Check(broken, digest[:]); err == nil {
		t.Fatal("a changed token checked")
	}
	srv.Down.Store(true)
	if _, err := c.Stamp(context.Background(), digest[:]); err == nil {
		t.Fatal("a stamp while the authority is down")
	}
}
