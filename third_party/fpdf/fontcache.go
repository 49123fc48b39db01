// Signoff's change 2 to fpdf v0.12.0 (see ../README.md): a UTF-8 font's
// subset, its widths and its CIDToGIDMap are made once for a given font
// and set of used runes, and kept (bounded) for the next document that
// embeds the same: the very bytes putfonts made for it each time, which
// for the signed copies of one policy (the same glyphs, copy after copy)
// were most of a render.

package fpdf

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"slices"
	"sync"
)

// cutFontData is what putfonts writes for a UTF-8 font beyond its
// object numbers.
type cutFontData struct {
	size     int    // the subset font file's length, uncompressed
	stream   []byte // the subset font file, compressed
	widths   string // the CID font's /W entry
	cidToGID []byte // the CIDToGIDMap stream, compressed
}

// cutFonts holds what was made, at most max bytes of it (keys included):
// past that, it starts again.
var cutFonts = struct {
	sync.Mutex
	m     map[string]*cutFontData
	bytes int
	max   int
}{m: map[string]*cutFontData{}, max: 8 << 20}

// CutFontsCached says how many font subsets are cached and their bytes
// (for tests).
func CutFontsCached() (entries, bytes int) {
	cutFonts.Lock()
	defer cutFonts.Unlock()
	return len(cutFonts.m), cutFonts.bytes
}

// SetCutFontsMax empties the cache and bounds it to max bytes (for
// tests); it returns the bound before.
func SetCutFontsMax(max int) (before int) {
	cutFonts.Lock()
	defer cutFonts.Unlock()
	before, cutFonts.max = cutFonts.max, max
	clear(cutFonts.m)
	cutFonts.bytes = 0
	return before
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// fileSums memoises the CRC of a font file's bytes by their address and
// length: the subsetting works on a copy (cutFont), so the bytes a
// document was given are only read, and a caller that shares one font's
// bytes between documents (Signoff's fontshare.go) has them summed once.
// A memoised address stays allocated; at most fileSumsMax are kept.
var fileSums = struct {
	sync.Mutex
	m map[fileAt]uint32
}{m: map[fileAt]uint32{}}

type fileAt struct {
	p *byte
	n int
}

const fileSumsMax = 16

func fileSum(ttf []byte) uint32 {
	if len(ttf) == 0 {
		return 0
	}
	at := fileAt{&ttf[0], len(ttf)}
	fileSums.Lock()
	sum, ok := fileSums.m[at]
	fileSums.Unlock()
	if ok {
		return sum
	}
	sum = crc32.Checksum(ttf, castagnoli)
	fileSums.Lock()
	if len(fileSums.m) >= fileSumsMax {
		clear(fileSums.m)
	}
	fileSums.m[at] = sum
	fileSums.Unlock()
	return sum
}

// cutFontKey names a font (its definition's id and the font file's bytes
// as the subsetting reads them) and the used runes with their values.
func cutFontKey(font *fontDefType, used map[int]int) string {
	ttf := font.utf8File.fileReader.array
	b := make([]byte, 0, len(font.i)+16+len(used)*6)
	b = append(b, font.i...)
	b = binary.LittleEndian.AppendUint32(b, fileSum(ttf))
	b = binary.AppendUvarint(b, uint64(len(ttf)))
	keys := make([]int, 0, len(used))
	for k := range used {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b = binary.AppendVarint(b, int64(k))
		b = binary.AppendVarint(b, int64(used[k]))
	}
	return string(b)
}

// cutFont is font's data for the used runes, from the cache or made
// (and cached) the way putfonts made it.
func (f *Fpdf) cutFont(font *fontDefType, used map[int]int) *cutFontData {
	key := cutFontKey(font, used)
	cutFonts.Lock()
	c := cutFonts.m[key]
	cutFonts.Unlock()
	if c != nil {
		return c
	}
	// fpdf writes into the font file's bytes while subsetting
	// (getMetrics appends into a slice of them): it works on a copy.
	font.utf8File.fileReader = &fileReader{array: bytes.Clone(font.utf8File.fileReader.array)}
	stream := font.utf8File.GenerateCutFont(used)
	dict := font.utf8File.CodeSymbolDictionary
	delete(dict, 0)
	c = &cutFontData{size: len(stream), widths: f.cidWidths(font, font.utf8File.LastRune)}
	cidToGID := make([]byte, 256*256*2)
	for cc, glyph := range dict {
		cidToGID[cc*2] = byte(glyph >> 8)
		cidToGID[cc*2+1] = byte(glyph & 0xFF)
	}
	mem := xmem.compress(cidToGID)
	c.cidToGID = mem.copy()
	mem.release()
	mem = xmem.compress(stream)
	c.stream = mem.copy()
	mem.release()

	size := len(key) + len(c.stream) + len(c.widths) + len(c.cidToGID)
	cutFonts.Lock()
	if _, ok := cutFonts.m[key]; !ok && size <= cutFonts.max {
		if cutFonts.bytes+size > cutFonts.max {
			clear(cutFonts.m)
			cutFonts.bytes = 0
		}
		cutFonts.m[key] = c
		cutFonts.bytes += size
	}
	cutFonts.Unlock()
	return c
}

// ownStream is b, or a copy of it when the document is encrypted
// (putstream encrypts in place, and cached bytes are shared).
func (f *Fpdf) ownStream(b []byte) []byte {
	if f.protect.encrypted {
		return bytes.Clone(b)
	}
	return b
}
