package pdf_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	"codeberg.org/go-pdf/fpdf"

	"signoff/internal/pdf"
)

// fpdf is our local copy (third_party/fpdf, go.mod's replace) with
// changes that make it faster but must never change a byte it writes.
// testdata/unpatched.sha256 holds the SHA-256 of documents as fpdf v0.12.0
// itself (the module, unpatched) renders them; write it again with
//
//	go mod edit -dropreplace codeberg.org/go-pdf/fpdf && go test ./internal/pdf -run TestFpdfPatch -update-unpatched
//	go mod edit -replace codeberg.org/go-pdf/fpdf=./third_party/fpdf
//
// when the documents' rendering changes on purpose.
var updateUnpatched = flag.Bool("update-unpatched", false, "write testdata/unpatched.sha256 (with fpdf unpatched)")

// patchDocs are the documents compared with fpdf's own output.
func patchDocs() map[string]func(*testing.T) []byte {
	return map[string]func(*testing.T) []byte{
		"signed copy":      func(t *testing.T) []byte { return render(t, sample()) },
		"long signed copy": func(t *testing.T) []byte { return render(t, longPolicy()) },
		"certificate":      func(t *testing.T) []byte { return render(t, withCertificate()) },
		"letter":           letter,
	}
}

// TestFpdfPatchSameBytes: every document is, byte for byte, what the
// unpatched fpdf writes, when the local copy makes the font subsets and
// when it takes them from its cache; and the local copy is the one in use.
func TestFpdfPatchSameBytes(t *testing.T) {
	docs := patchDocs()
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range docs {
			if !yield(n) {
				return
			}
		}
	})
	const file = "testdata/unpatched.sha256"
	if *updateUnpatched {
		var b strings.Builder
		for _, n := range names {
			sum := sha256.Sum256(docs[n](t))
			fmt.Fprintf(&b, "%s  %s\n", hex.EncodeToString(sum[:]), n)
		}
		if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !fpdf.PooledZlibWriters {
		t.Fatal("fpdf is not the local copy in third_party/fpdf")
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok {
			t.Fatalf("%s: bad line %q", file, line)
		}
		want[name] = sum
	}
	for _, n := range names {
		if want[n] == "" {
			t.Errorf("%s has no hash for %q", file, n)
			continue
		}
		// The first render makes the font subsets (the cache emptied),
		// the second takes them from the cache.
		fpdf.SetCutFontsMax(fpdf.SetCutFontsMax(0))
		for _, round := range []string{"subsets made", "subsets cached"} {
			sum := sha256.Sum256(docs[n](t))
			if got := hex.EncodeToString(sum[:]); got != want[n] {
				t.Errorf("%s (%s): SHA-256 %s, unpatched fpdf wrote %s", n, round, got, want[n])
			}
			if entries, _ := fpdf.CutFontsCached(); entries == 0 {
				t.Fatalf("%s: no font subset cached: is fpdf's change 2 (fontcache.go) lost?", n)
			}
		}
	}
}

// TestFpdfPatchCacheBounded: the font subsets cached stay under the
// bound however many different sets of characters are printed (each
// signer's name here has a letter of its own), and each copy rendered
// again (its subsets cached, or made again after the cache started
// again) is the same bytes.
func TestFpdfPatchCacheBounded(t *testing.T) {
	const bound = 150 << 10
	defer fpdf.SetCutFontsMax(fpdf.SetCutFontsMax(bound))
	c := sample()
	var seen [][]byte
	restarted, last := false, 0
	for i := range 24 {
		c.SignerName = "Zoë " + string(rune(0x100+i)) + "ukasz"
		c.TypedSignature = c.SignerName
		data := render(t, c)
		seen = append(seen, data)
		entries, held := fpdf.CutFontsCached()
		if held > bound || entries == 0 {
			t.Fatalf("after %d copies: %d subsets cached in %d bytes (bound %d)", i+1, entries, held, bound)
		}
		restarted = restarted || entries < last
		last = entries
	}
	if !restarted {
		t.Fatal("the cache never started again: the test does not reach the bound")
	}
	for i, want := range seen {
		c.SignerName = "Zoë " + string(rune(0x100+i)) + "ukasz"
		c.TypedSignature = c.SignerName
		if !bytes.Equal(render(t, c), want) {
			t.Fatalf("copy %d differs the second time", i)
		}
	}
}

// TestFpdfPatchAllocates: a signed copy's render allocates a fraction
// of what it did when fpdf made a zlib writer (about 1 MB) for every
// stream it compresses (22.8 MB a long copy then): the patch is in use.
func TestFpdfPatchAllocates(t *testing.T) {
	c := longPolicy()
	var buf bytes.Buffer
	if err := pdf.WriteSignedCopy(&buf, c); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const n = 3
	for range n {
		buf.Reset()
		if err := pdf.WriteSignedCopy(&buf, c); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / n; per > 12<<20 {
		t.Fatalf("a long signed copy allocates %d bytes a render: is fpdf's patch (pooled zlib writers) lost?", per)
	}
}
