package pdf

import (
	"sync"

	"codeberg.org/go-pdf/fpdf"
)

// Sharing the parsed fonts between documents.
//
// fpdf (v0.12.0) parses a UTF-8 font afresh in every document that adds
// it (AddUTF8FontFromBytes) and names it by the SHA-1 of its definition
// marshalled as JSON, 65,536 glyph widths included: about 1.5 ms a face,
// a third of a signed copy's render, for the same result every time. Our
// copy of fpdf (third_party/fpdf, change 4) parses each face once a
// process (ParseUTF8Font) and gives every document its own copy of the
// definition (AddParsedUTF8Font): the very values AddUTF8FontFromBytes
// would make, so the output is the same, byte for byte
// (TestSharedFontsSameBytes renders both ways and compares).

var (
	shareOnce sync.Once
	// shared holds each face parsed, by family+style; nil if a face
	// could not be parsed (documents then add their fonts the ordinary way).
	shared map[string]*fpdf.UTF8Font
	// shareFonts can be turned off by tests, to compare with fpdf's own way.
	shareFonts = true
)

// prepareShared parses every face once.
func prepareShared() {
	if loadFaces() != nil || len(faces) == 0 {
		return
	}
	parsed := make(map[string]*fpdf.UTF8Font, len(faces))
	for key, face := range faces {
		font, err := fpdf.ParseUTF8Font(face.Family, face.Style, face.TTF)
		if err != nil {
			return
		}
		parsed[key] = font
	}
	shared = parsed
}

// addShared adds face to p parsed once a process; false when fonts are
// not shared (the caller adds it the ordinary way).
func addShared(p *fpdf.Fpdf, face *fontFace) bool {
	if !shareFonts {
		return false
	}
	shareOnce.Do(prepareShared)
	font := shared[face.Family+face.Style]
	if font == nil {
		return false
	}
	p.AddParsedUTF8Font(font)
	return true
}
