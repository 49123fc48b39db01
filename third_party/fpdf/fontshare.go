// Signoff's change 4 to fpdf v0.12.0 (see ../README.md): a UTF-8 font
// parsed once and added to any number of documents, instead of parsed
// afresh by every document that adds it.

package fpdf

import (
	"bytes"
	"fmt"
)

// UTF8Font is a UTF-8 font as AddUTF8FontFromBytes parses it, for
// AddParsedUTF8Font; it is only read once made.
type UTF8Font struct {
	key string
	def fontDefType
	ttf []byte
}

// ParseUTF8Font parses ttf as AddUTF8FontFromBytes does. The bytes are
// kept and only read (the subsetting works on a copy): they must not
// change afterwards.
func ParseUTF8Font(familyStr, styleStr string, ttf []byte) (*UTF8Font, error) {
	tpl := New("P", "mm", "A4", "")
	tpl.AddUTF8FontFromBytes(familyStr, styleStr, bytes.Clone(ttf))
	if err := tpl.Error(); err != nil {
		return nil, err
	}
	key := getFontKey(fontFamilyEscape(familyStr), styleStr)
	def, ok := tpl.fonts[key]
	if !ok {
		return nil, fmt.Errorf("fpdf: the font %s %s could not be parsed", familyStr, styleStr)
	}
	return &UTF8Font{key: key, def: def, ttf: ttf}, nil
}

// AddParsedUTF8Font adds font to the document: the very definition
// AddUTF8FontFromBytes would make, with what a document changes made
// afresh (its set of used runes, and the font file's reader).
func (f *Fpdf) AddParsedUTF8Font(font *UTF8Font) {
	if f.err != nil {
		return
	}
	if _, ok := f.fonts[font.key]; ok {
		return
	}
	def := font.def
	file := *def.utf8File
	file.fileReader = &fileReader{array: font.ttf}
	def.utf8File = &file
	if f.aliasNbPagesStr == "" {
		def.usedRunes = makeSubsetRange(57)
	} else {
		def.usedRunes = makeSubsetRange(32)
	}
	f.fonts[font.key] = def
}
