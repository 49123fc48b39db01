package pdf

import (
	"bytes"
	"reflect"
	"strings"
	"sync"
	"unsafe"

	"codeberg.org/go-pdf/fpdf"
)

// Sharing the parsed fonts between documents.
//
// fpdf (v0.12.0) parses a UTF-8 font afresh in every document that adds
// it (AddUTF8FontFromBytes) and names it by the SHA-1 of its definition
// marshalled as JSON, 65,536 glyph widths included: about 1.5 ms a face,
// a third of a signed copy's render, for the same result every time. Its
// API has no way to give a document a font parsed before, so each face is
// added once a process to a template document, and every document gets a
// copy of the template's definition: the very values AddUTF8FontFromBytes
// would make (so the output is the same, byte for byte), with the parts
// fpdf changes per document made afresh: the set of runes it uses, and the
// font file's reader (over the face's bytes themselves: our copy of fpdf,
// third_party/fpdf, subsets a copy of them, so they are only read, and
// sums them once for its cache of subsets). That reaches into fpdf's unexported fields (fonts,
// aliasNbPagesStr, fontDefType.usedRunes and utf8File, utf8FontFile's
// fileReader and fileReader.array) by reflect and unsafe: the layout
// is checked once, and if it is not the one expected (another fpdf
// version) documents add their fonts the ordinary way.
// TestSharedFontsSameBytes renders both ways and compares, and fails if
// the shared way is not in use.

var (
	shareOnce sync.Once
	shareOK   bool
	// sharedDefs holds each face's fontDefType as the template document
	// made it, by fpdf's font key; read-only once made.
	sharedDefs map[string]reflect.Value
	// shareFonts can be turned off by tests, to compare with fpdf's own way.
	shareFonts = true
)

// fpdfField is the unexported field name of struct v, writable.
func fpdfField(v reflect.Value, name string) (reflect.Value, bool) {
	f := v.FieldByName(name)
	if !f.IsValid() {
		return f, false
	}
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem(), true
}

// fpdfFontKey is fpdf's key for a family and style.
func fpdfFontKey(family, style string) string {
	style = strings.ToUpper(style)
	if style == "IB" {
		style = "BI"
	}
	return strings.ToLower(family) + style
}

// prepareShared adds every face to a template document and keeps their
// definitions, if fpdf's layout is the expected one.
func prepareShared() {
	if loadFaces() != nil || len(faces) == 0 {
		return
	}
	tpl := fpdf.New("P", "mm", "A4", "")
	for _, face := range faces {
		tpl.AddUTF8FontFromBytes(face.Family, face.Style, bytes.Clone(face.TTF))
	}
	if tpl.Error() != nil {
		return
	}
	fonts, ok := fpdfField(reflect.ValueOf(tpl).Elem(), "fonts")
	if !ok || fonts.Kind() != reflect.Map || fonts.Type().Key().Kind() != reflect.String {
		return
	}
	defs := map[string]reflect.Value{}
	for _, face := range faces {
		key := fpdfFontKey(face.Family, face.Style)
		def := fonts.MapIndex(reflect.ValueOf(key))
		if !def.IsValid() || def.Kind() != reflect.Struct {
			return
		}
		keep := reflect.New(def.Type()).Elem()
		keep.Set(def)
		defs[key] = keep
		// Check every field addFace sets is there, with the type it needs.
		if _, err := copyDef(keep, face.TTF, 32); err != nil {
			return
		}
	}
	sharedDefs, shareOK = defs, true
}

type layoutError struct{}

func (layoutError) Error() string { return "pdf: fpdf's font layout is not the one expected" }

// copyDef makes a document's own copy of a template definition, with its
// own used-rune set (0..subset-1, as fpdf starts it) and its own reader
// over the font's bytes (shared: only read).
func copyDef(tpl reflect.Value, ttf []byte, subset int) (reflect.Value, error) {
	def := reflect.New(tpl.Type()).Elem()
	def.Set(tpl)
	used, ok := fpdfField(def, "usedRunes")
	if !ok || used.Type() != reflect.TypeFor[map[int]int]() {
		return def, layoutError{}
	}
	runes := make(map[int]int, subset)
	for i := range subset {
		runes[i] = 0
	}
	used.Set(reflect.ValueOf(runes))
	file, ok := fpdfField(def, "utf8File")
	if !ok || file.Kind() != reflect.Pointer || file.IsNil() || file.Elem().Kind() != reflect.Struct {
		return def, layoutError{}
	}
	own := reflect.New(file.Type().Elem())
	own.Elem().Set(file.Elem())
	reader, ok := fpdfField(own.Elem(), "fileReader")
	if !ok || reader.Kind() != reflect.Pointer || reader.Type().Elem().Kind() != reflect.Struct {
		return def, layoutError{}
	}
	r := reflect.New(reader.Type().Elem())
	array, ok := fpdfField(r.Elem(), "array")
	if !ok || array.Type() != reflect.TypeFor[[]byte]() || r.Elem().NumField() != 2 {
		return def, layoutError{}
	}
	array.Set(reflect.ValueOf(ttf))
	reader.Set(r)
	file.Set(own)
	return def, nil
}

// addShared adds face to p from the template; false when fonts are not
// shared (the caller adds it the ordinary way).
func addShared(p *fpdf.Fpdf, face *fontFace) bool {
	if !shareFonts {
		return false
	}
	shareOnce.Do(prepareShared)
	if !shareOK {
		return false
	}
	key := fpdfFontKey(face.Family, face.Style)
	tpl, ok := sharedDefs[key]
	if !ok {
		return false
	}
	doc := reflect.ValueOf(p).Elem()
	fonts, _ := fpdfField(doc, "fonts")
	if fonts.MapIndex(reflect.ValueOf(key)).IsValid() {
		return true
	}
	// fpdf keeps the digits in every subset when the page total is
	// substituted (AliasNbPages), and the first 32 codes otherwise.
	subset := 57
	if alias, ok := fpdfField(doc, "aliasNbPagesStr"); ok && alias.Kind() == reflect.String && alias.String() != "" {
		subset = 32
	}
	def, err := copyDef(tpl, face.TTF, subset)
	if err != nil {
		return false
	}
	fonts.SetMapIndex(reflect.ValueOf(key), def)
	return true
}
