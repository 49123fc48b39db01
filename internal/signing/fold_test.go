package signing_test

import (
	"testing"

	"signoff/internal/signing"
)

// A typed name is checked against the signer's names folded (case,
// accents, spaces and punctuation gone); a name in ASCII takes the short
// way, which must fold exactly as the Unicode way does.
func TestFoldName(t *testing.T) {
	for in, want := range map[string]string{
		"Zoë O'Brien":            "zoeobrien",
		"zoe obrien":             "zoeobrien",
		"  JEAN-LUC  Picard 3rd": "jeanlucpicard3rd",
		"Ångström":               "angstrom",
		"Đorđe Šarić":            "đorđesaric",
		"Müller-Lüdenscheidt":    "mullerludenscheidt",
		"O’Neill":                "oneill",
		"":                       "",
		"!@#$%^&*()_+=~`{}[]|":   "",
	} {
		if got := signing.FoldName(in); got != want {
			t.Errorf("FoldName(%q) = %q, want %q", in, got, want)
		}
	}
	var ascii []byte
	for c := 0; c < 128; c++ {
		ascii = append(ascii, byte(c))
	}
	for _, s := range []string{string(ascii), "Daniel Hughes", "MARY-ANNE o'connor", "x\x00y\tz\n9", "A1 b2_C3.d4"} {
		if fast, slow := signing.FoldASCII(s), signing.FoldUnicode(s); fast != slow {
			t.Errorf("%q folds to %q the short way but %q the Unicode way", s, fast, slow)
		}
	}
}
