// Package signkey is the installation's signing key and certificate: the
// key that signs every signed copy (PAdES) and every anchor of an audit
// chain. It is generated on first start and kept in the data folder
// (signing-key.pem, signing-cert.pem), or given as a PKCS#12 file from a
// certificate authority the school trusts.
package signkey

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// Key is a signing key with its certificate and the certificates that
// issued it (none for a generated, self-signed one).
type Key struct {
	Certificate *x509.Certificate
	Chain       []*x509.Certificate
	Signer      crypto.Signer
}

// The files of a generated key in the data folder.
const (
	KeyFile  = "signing-key.pem"
	CertFile = "signing-cert.pem"
)

// oidDocumentSigning is the Document Signing extended key usage (RFC 9336).
var oidDocumentSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 36}

// Generate makes a new ECDSA P-256 key and a self-signed certificate for
// it, valid for ten years from now, naming the installation (name) as its
// subject, for signing documents. P-256 rather than RSA-2048: a signature
// costs about 0.1 ms of CPU instead of 1.5 ms (every first download of a
// signed copy pays one) at equal or better strength; a key generated
// before (RSA) is kept and used as it is.
func Generate(name string, now time.Time) (*Key, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("signkey: generate: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = "Signoff"
	}
	tpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name, Organization: []string{"Signoff"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		UnknownExtKeyUsage:    []asn1.ObjectIdentifier{oidDocumentSigning},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &priv.PublicKey, priv)
	if err != nil {
		return nil, fmt.Errorf("signkey: certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Key{Certificate: cert, Signer: priv}, nil
}

// LoadOrCreate reads the key kept in dir, or generates one and writes it
// there (the key readable by its owner only). created says which.
func LoadOrCreate(dir, name string, now time.Time) (k *Key, created bool, err error) {
	keyPath, certPath := filepath.Join(dir, KeyFile), filepath.Join(dir, CertFile)
	keyPEM, kerr := os.ReadFile(keyPath)
	certPEM, cerr := os.ReadFile(certPath)
	if kerr == nil && cerr == nil {
		k, err := parsePEM(keyPEM, certPEM)
		if err != nil {
			return nil, false, fmt.Errorf("signkey: %s, %s: %w", keyPath, certPath, err)
		}
		return k, false, nil
	}
	if !errors.Is(kerr, os.ErrNotExist) || !errors.Is(cerr, os.ErrNotExist) {
		return nil, false, fmt.Errorf("signkey: %s and %s must both be there or both be missing", keyPath, certPath)
	}
	k, err = Generate(name, now)
	if err != nil {
		return nil, false, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.Signer)
	if err != nil {
		return nil, false, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, false, err
	}
	if err := writeNew(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, false, err
	}
	if err := writeNew(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.Certificate.Raw}), 0o644); err != nil {
		return nil, false, err
	}
	return k, true, nil
}

// writeNew writes data to path through a temporary file, so that a
// reader never sees half a key.
func writeNew(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return fmt.Errorf("signkey: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("signkey: write %s: %w", path, err)
	}
	return nil
}

func parsePEM(keyPEM, certPEM []byte) (*Key, error) {
	kb, _ := pem.Decode(keyPEM)
	cb, _ := pem.Decode(certPEM)
	if kb == nil || cb == nil {
		return nil, errors.New("not PEM")
	}
	priv, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, err
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, errors.New("the key cannot sign")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, err
	}
	return check(&Key{Certificate: cert, Signer: signer})
}

// LoadPKCS12 reads a key, its certificate and the certificates that issued
// it from a PKCS#12 (.p12, .pfx) file's bytes.
func LoadPKCS12(data []byte, password string) (*Key, error) {
	priv, cert, chain, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		return nil, fmt.Errorf("signkey: PKCS#12: %w", err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, errors.New("signkey: PKCS#12: the key cannot sign")
	}
	return check(&Key{Certificate: cert, Chain: chain, Signer: signer})
}

func check(k *Key) (*Key, error) {
	digest := sha256.Sum256([]byte("signoff key check"))
	sig, err := k.SignDigest(digest[:])
	if err == nil {
		err = Verify(k.Certificate, digest[:], sig)
	}
	if err != nil {
		return nil, fmt.Errorf("signkey: the key does not match its certificate: %w", err)
	}
	return k, nil
}

// SignDigest signs a SHA-256 digest (PKCS #1 v1.5 for RSA, ASN.1 for ECDSA).
func (k *Key) SignDigest(digest []byte) ([]byte, error) {
	return k.Signer.Sign(rand.Reader, digest, crypto.SHA256)
}

// Fingerprint is the SHA-256 of the certificate, in hex.
func (k *Key) Fingerprint() string { return Fingerprint(k.Certificate) }

// Fingerprint is the SHA-256 of a certificate, in hex.
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// Verify checks a signature made by SignDigest over digest with the key of
// cert.
func Verify(cert *x509.Certificate, digest, sig []byte) error {
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest, sig)
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(pub, digest, sig) {
			return errors.New("signkey: ECDSA signature does not verify")
		}
		return nil
	}
	return fmt.Errorf("signkey: unsupported key type %T (use RSA or ECDSA)", cert.PublicKey)
}
