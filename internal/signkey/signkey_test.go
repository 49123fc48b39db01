package signkey_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	gopkcs12 "software.sslmate.com/src/go-pkcs12"

	"signoff/internal/pdf"
	"signoff/internal/pdf/pdftest"
	"signoff/internal/signkey"
	"signoff/internal/tsa/tsatest"
)

func samplePDF(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	err := pdf.WriteSignedCopy(&buf, pdf.SignedCopy{
		SchoolName: "Westbrook Primary School", PolicyTitle: "IT Acceptable Use Policy", VersionNumber: 3,
		VersionDate: time.Date(2026, 8, 31, 23, 30, 0, 0, time.UTC), BodyMarkdown: "# Rules\n\nBe kind to computers.",
		Statement: "I agree.", SignerName: "Zoë O'Brien", SignerRole: "Teacher", TypedSignature: "Zoë O'Brien",
		SignedAt: time.Date(2026, 11, 30, 14, 5, 0, 0, time.UTC), SHA256: strings.Repeat("a", 64), Reference: "SG-7Q2K-9XHM-4D1P",
	})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestKeptInTheDataFolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k, created, err := signkey.LoadOrCreate(dir, "Signoff at Westbrook", time.Now())
	if err != nil || !created {
		t.Fatalf("first start: %v %v", created, err)
	}
	if st, err := os.Stat(filepath.Join(dir, signkey.KeyFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	again, created, err := signkey.LoadOrCreate(dir, "ignored", time.Now())
	if err != nil || created || again.Fingerprint() != k.Fingerprint() {
		t.Fatalf("second start: %v %v", created, err)
	}
	_ = os.Remove(filepath.Join(dir, signkey.CertFile))
	if _, _, err := signkey.LoadOrCreate(dir, "x", time.Now()); err == nil {
		t.Fatal("a key without its certificate was accepted")
	}
}

func TestPKCS12(t *testing.T) {
	t.Parallel()
	k, err := signkey.Generate("School CA-issued", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	p12, err := gopkcs12.Modern.Encode(k.Signer, k.Certificate, []*x509.Certificate{}, "secret")
	if err != nil {
		t.Fatal(err)
	}
	got, err := signkey.LoadPKCS12(p12, "secret")
	if err != nil || got.Fingerprint() != k.Fingerprint() {
		t.Fatalf("load: %v", err)
	}
	if _, err := signkey.LoadPKCS12(p12, "wrong"); err == nil {
		t.Fatal("a wrong password was accepted")
	}
}

// TestSignedPDF: a signed copy, time-stamped by a real RFC 3161 authority,
// is valid in poppler's pdfsig and in CheckPDF; its first bytes are the
// unsigned copy; a changed byte breaks it; with the authority down it is
// signed without a time stamp and says so.
func TestSignedPDF(t *testing.T) {
	t.Parallel()
	k, err := signkey.Generate("Signoff at Westbrook", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if pub, ok := k.Certificate.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Fatalf("a generated key is %T, not ECDSA P-256", k.Certificate.PublicKey)
	}
	authority := tsatest.Start(t)
	s := &signkey.PDFSigner{Key: k, TSAURL: authority.URL}
	unsigned := samplePDF(t)
	res, err := s.Sign(context.Background(), unsigned, signkey.SignInfo{Name: "Westbrook Primary School", Reason: "Signed copy SG-7Q2K-9XHM-4D1P"})
	if err != nil || !res.TimeStamped {
		t.Fatalf("sign: %v %v", res.TSAError, err)
	}
	if !bytes.HasPrefix(res.PDF, unsigned) {
		t.Fatal("the signed copy does not start with the unsigned copy")
	}
	out := pdftest.Sig(t, res.PDF)
	for _, want := range []string{"Signature is Valid", "Signer Certificate Common Name: Signoff at Westbrook", "Total document signed"} {
		if !strings.Contains(out, want) {
			t.Errorf("pdfsig lacks %q:\n%s", want, out)
		}
	}
	// pdfcpu validates the structure of the signed file (the signature is
	// an incremental update on the unsigned copy). Relaxed, pdfcpu's
	// default: strict refuses the catalog's /Version in a file whose header
	// says PDF 1.3 (fpdf's header; the signature needs a later version).
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	if err := api.Validate(bytes.NewReader(res.PDF), conf); err != nil {
		t.Fatalf("pdfcpu: %v", err)
	}
	c := signkey.CheckPDF(res.PDF)
	if !c.Signed || !c.Valid || !c.TimeStamped || c.Certificate == nil || signkey.Fingerprint(c.Certificate) != k.Fingerprint() ||
		time.Since(c.TimeStamp) > time.Minute || c.TimeStampBy.Subject.CommonName != "Signoff test TSA" {
		t.Fatalf("check: %+v", c)
	}
	// One byte of the signed text changed.
	i := bytes.Index(res.PDF, []byte("/Producer"))
	bad := append([]byte(nil), res.PDF...)
	bad[i+2] ^= 0x01
	if c := signkey.CheckPDF(bad); c.Valid {
		t.Fatal("a changed copy checked valid")
	}
	if out := pdftest.Sig(t, bad); strings.Contains(out, "Signature is Valid") {
		t.Fatalf("pdfsig accepted a changed copy:\n%s", out)
	}
	// Something appended after signing.
	if c := signkey.CheckPDF(append(append([]byte(nil), res.PDF...), []byte("\n% more\n")...)); c.Valid {
		t.Fatal("a copy with bytes appended checked valid")
	}
	if c := signkey.CheckPDF(unsigned); c.Signed {
		t.Fatal("an unsigned copy checked signed")
	}
	authority.Down.Store(true)
	res, err = s.Sign(context.Background(), unsigned, signkey.SignInfo{Name: "Westbrook Primary School"})
	if err != nil || res.TimeStamped || res.TSAError == nil {
		t.Fatalf("with the authority down: stamped %v, %v, %v", res.TimeStamped, res.TSAError, err)
	}
	if c := signkey.CheckPDF(res.PDF); !c.Valid || c.TimeStamped {
		t.Fatalf("unstamped check: %+v", c)
	}
}

// BenchmarkSignPDF is the cost of signing one signed copy (PAdES, no time
// stamp), as the first download of a copy pays it.
func BenchmarkSignPDF(b *testing.B) {
	k, err := signkey.Generate("Signoff at Westbrook", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	s := &signkey.PDFSigner{Key: k}
	var buf bytes.Buffer
	if err := pdf.WriteSignedCopy(&buf, pdf.SignedCopy{
		SchoolName: "Westbrook Primary School", PolicyTitle: "IT Acceptable Use Policy", VersionNumber: 3,
		BodyMarkdown: strings.Repeat("## Rules\n\nBe kind to computers, and lock the screen when you leave it.\n\n", 120),
		Statement:    "I agree.", SignerName: "Zoë O'Brien", SignedAt: time.Date(2026, 11, 30, 14, 5, 0, 0, time.UTC),
		SHA256: strings.Repeat("a", 64), Reference: "SG-7Q2K-9XHM-4D1P",
	}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sign(context.Background(), buf.Bytes(), signkey.SignInfo{Name: "Westbrook Primary School"}); err != nil {
			b.Fatal(err)
		}
	}
}
