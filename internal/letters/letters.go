// Package letters prints the letters that give parents without email their
// family link: one A4 letter per family, with the children and the forms
// still to complete, a QR code of the family link, the link written out and
// the short code to type at the school's code page.
//
// A batch of letters is a single PDF, ready to print and post or send home
// in book bags. Output is deterministic for the same input.
package letters

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"signoff/internal/i18n"
)

// Child is one of the family's children, with the forms still to complete
// for them.
type Child struct {
	Name  string
	Class string
	Forms []string // titles of the forms still to complete for this child
}

// Letter is the letter to one parent or carer.
type Letter struct {
	ParentName string // as addressed, e.g. "Mrs Samira Walsh"
	Children   []Child
	Link       string    // the full family link, e.g. https://signoff.example.sch.uk/f/ABCD-EFGH-JKMN-PQRS
	Code       string    // the family code, e.g. ABCD-EFGH-JKMN-PQRS
	CodeURL    string    // where to type the code, e.g. https://signoff.example.sch.uk/family/code
	ExpiresOn  time.Time // the link works until this day (printed as its date in UK time)
	// Lang is the language the letter is written in (its fixed text and
	// dates; the caller gives the classes in it). The zero value and a
	// right-to-left language, which the letters' fonts cannot draw, print
	// in English.
	Lang i18n.Lang
}

// Batch is a print run of letters from one school.
type Batch struct {
	SchoolName string
	// SchoolLogo, when set, is the school's logo as a plain PNG, printed
	// at the top of every letter.
	SchoolLogo []byte
	Date       time.Time // the date printed on every letter, and the PDF's creation date
	Letters    []Letter
}

// Limits that keep a letter printable: a link or code longer than this
// cannot reasonably be typed by hand, and the QR code would get too dense.
const (
	maxLinkLen = 200
	maxCodeLen = 40
	maxTextLen = 300 // names, classes and form titles
)

// Write renders the batch as a PDF and writes it to w: one A4 page per
// letter; a letter that does not fit on one page flows onto another, with
// the header repeated.
//
// The document is rendered completely in memory first, so nothing is
// written to w if the batch is invalid or rendering fails.
func Write(w io.Writer, b Batch) (err error) {
	if w == nil {
		return errors.New("letters: nil writer")
	}
	nb, err := normalise(b)
	if err != nil {
		return err
	}
	defer func() {
		// fpdf reports most problems through its error state, but a bug or
		// unexpected input must not take the whole server down.
		if p := recover(); p != nil {
			err = fmt.Errorf("letters: rendering panicked: %v", p)
		}
	}()
	var buf bytes.Buffer
	if err := render(&buf, nb); err != nil {
		return err
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("letters: writing PDF: %w", err)
	}
	return nil
}

// normalise validates b and returns a cleaned deep copy: the caller's
// slices are never modified.
func normalise(b Batch) (*Batch, error) {
	out := &Batch{SchoolName: clean(b.SchoolName), SchoolLogo: b.SchoolLogo, Date: b.Date}
	if out.SchoolName == "" {
		return nil, errors.New("letters: SchoolName is required")
	}
	if b.Date.IsZero() {
		return nil, errors.New("letters: Date is required")
	}
	if len(b.Letters) == 0 {
		return nil, errors.New("letters: no letters to print")
	}
	for i, l := range b.Letters {
		n := clean(l.ParentName)
		where := fmt.Sprintf("letter %d", i+1)
		if n != "" {
			where = fmt.Sprintf("letter %d (%s)", i+1, n)
		}
		nl := Letter{
			ParentName: n,
			Link:       strings.TrimSpace(l.Link),
			Code:       clean(l.Code),
			CodeURL:    strings.TrimSpace(l.CodeURL),
			ExpiresOn:  l.ExpiresOn,
			Lang:       l.Lang,
		}
		if nl.Lang.Code == "" || nl.Lang.RTL {
			nl.Lang = i18n.English
		}
		var missing []string
		if nl.ParentName == "" {
			missing = append(missing, "ParentName")
		}
		if nl.Link == "" {
			missing = append(missing, "Link")
		}
		if nl.Code == "" {
			missing = append(missing, "Code")
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("letters: %s is missing %s", where, strings.Join(missing, ", "))
		}
		if err := checkURL(nl.Link); err != nil {
			return nil, fmt.Errorf("letters: %s: Link %w", where, err)
		}
		if nl.CodeURL != "" {
			if err := checkURL(nl.CodeURL); err != nil {
				return nil, fmt.Errorf("letters: %s: CodeURL %w", where, err)
			}
		}
		if utf8.RuneCountInString(nl.Code) > maxCodeLen || strings.ContainsRune(nl.Code, ' ') {
			return nil, fmt.Errorf("letters: %s: Code %q must be at most %d characters without spaces", where, nl.Code, maxCodeLen)
		}
		if utf8.RuneCountInString(nl.ParentName) > maxTextLen {
			return nil, fmt.Errorf("letters: %s: ParentName is longer than %d characters", where, maxTextLen)
		}
		for j, c := range l.Children {
			nc := Child{Name: clean(c.Name), Class: clean(c.Class)}
			if nc.Name == "" {
				return nil, fmt.Errorf("letters: %s: child %d has no Name", where, j+1)
			}
			if utf8.RuneCountInString(nc.Name) > maxTextLen || utf8.RuneCountInString(nc.Class) > maxTextLen {
				return nil, fmt.Errorf("letters: %s: child %d: Name or Class is longer than %d characters", where, j+1, maxTextLen)
			}
			for _, f := range c.Forms {
				f = clean(f)
				if f == "" {
					continue
				}
				if utf8.RuneCountInString(f) > maxTextLen {
					return nil, fmt.Errorf("letters: %s: child %d: a form title is longer than %d characters", where, j+1, maxTextLen)
				}
				nc.Forms = append(nc.Forms, f)
			}
			nl.Children = append(nl.Children, nc)
		}
		out.Letters = append(out.Letters, nl)
	}
	return out, nil
}

// checkURL accepts an absolute http or https URL short enough to type.
// The error reads after the field name.
func checkURL(s string) error {
	if len(s) > maxLinkLen {
		return fmt.Errorf("is longer than %d characters", maxLinkLen)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an http or https URL", s)
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r > unicode.MaxASCII {
			return fmt.Errorf("%q must be plain ASCII without spaces", s)
		}
	}
	return nil
}

// clean normalises text for printing: NFC (so "e" + combining diaeresis
// becomes "ë"), control characters removed, runs of white space collapsed.
func clean(s string) string {
	s = norm.NFC.String(s)
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return ' '
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}
