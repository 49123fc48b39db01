package sealed_test

import (
	"bytes"
	"errors"
	"testing"

	"signoff/internal/sealed"
)

func TestSealOpen(t *testing.T) {
	box, err := sealed.New(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := box.Seal([]byte("a family link"), []byte("row 1"))
	b, _ := box.Seal([]byte("a family link"), []byte("row 1"))
	if bytes.Equal(a, b) || bytes.Contains(a, []byte("family")) {
		t.Fatal("sealing is not randomised, or leaves the text readable")
	}
	if plain, err := box.Open(a, []byte("row 1")); err != nil || string(plain) != "a family link" {
		t.Fatalf("open: %q %v", plain, err)
	}
	other, _ := sealed.New(bytes.Repeat([]byte{2}, 32))
	changed := bytes.Clone(a)
	changed[len(changed)-1] ^= 1
	for name, try := range map[string]func() ([]byte, error){
		"another row":   func() ([]byte, error) { return box.Open(a, []byte("row 2")) },
		"another key":   func() ([]byte, error) { return other.Open(a, []byte("row 1")) },
		"changed bytes": func() ([]byte, error) { return box.Open(changed, []byte("row 1")) },
		"too short":     func() ([]byte, error) { return box.Open(a[:5], []byte("row 1")) },
	} {
		if _, err := try(); !errors.Is(err, sealed.ErrOpen) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := sealed.New([]byte("short")); err == nil {
		t.Error("a short key was taken")
	}
}
