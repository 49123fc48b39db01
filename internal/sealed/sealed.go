// Package sealed seals what Signoff stores but must not keep readable (a
// school's single sign-on client secret, a batch of printed letters with
// family links in it) with the installation's secret key: AES-256-GCM, a
// random nonce before the ciphertext, and associated data that binds each
// sealed value to the row it belongs to, so it cannot be moved to another.
package sealed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// Box seals and opens with one key.
type Box struct{ aead cipher.AEAD }

// New returns a Box for key (32 bytes).
func New(key []byte) (*Box, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("sealed: key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("sealed: key: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal returns plain sealed, bound to aad.
func (b *Box) Seal(plain, aad []byte) ([]byte, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("sealed: nonce: %w", err)
	}
	return b.aead.Seal(nonce, nonce, plain, aad), nil
}

// ErrOpen says a sealed value cannot be opened: another key, other
// associated data, or changed bytes.
var ErrOpen = errors.New("sealed: cannot open: another key, or changed")

// Open returns what Seal sealed with the same aad.
func (b *Box) Open(sealed, aad []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n {
		return nil, ErrOpen
	}
	plain, err := b.aead.Open(nil, sealed[:n], sealed[n:], aad)
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}
