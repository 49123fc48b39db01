package mis

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	xunicode "golang.org/x/text/encoding/unicode"
)

// table is one file read: its kind, which column holds which field, and
// its non-blank rows with their line numbers.
type table struct {
	name       string
	kind       Kind
	headerLine int
	cols       map[string]int // field name → column index
	upnHeader  string         // the normalised header read as the UPN
	unknown    []string
	rows       []record
	bad        []BadRow
	ok         bool // the header is usable: the kind is known and no required column is missing
}

// record is one row of values with the line it starts on.
type record struct {
	line int
	vals []string
}

func (t *table) has(field string) bool { _, ok := t.cols[field]; return ok }

// get returns the row's value for field, trimmed; "" when the file has no
// such column.
func (t *table) get(r record, field string) string {
	i, ok := t.cols[field]
	if !ok || i >= len(r.vals) {
		return ""
	}
	return strings.TrimSpace(r.vals[i])
}

func (t *table) addBad(line int, format string, args ...any) {
	t.bad = append(t.bad, BadRow{File: t.name, Line: line, Reason: fmt.Sprintf(format, args...)})
}

// readTable reads f: its encoding, its header (recognising the kind when
// f.Kind is empty) and its rows. Problems become bad rows of the table.
func readTable(f File) *table {
	t := &table{name: f.Name, cols: map[string]int{}, headerLine: 1}
	text := decode(f.Data)
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = sniffDelimiter(text)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		t.addBad(1, "the file is empty: it needs a header line naming its columns")
		return t
	}
	if err != nil {
		t.addBad(parseErrorLine(err), "%s", parseErrorReason(err))
		return t
	}
	t.headerLine, _ = r.FieldPos(0)
	t.mapHeader(header, f.Mapping)

	t.kind = f.Kind
	if t.kind == "" {
		t.kind = t.detectKind()
	}
	kf, known := kindFields[t.kind]
	if !known {
		t.addBad(t.headerLine, "cannot tell whether this is a staff, pupils or contacts export from its headers: "+
			"a staff export needs a Staff Code or Role column, a pupils export a UPN and a Year column, "+
			"a contacts export a Pupil UPN and a Relationship column")
		return t
	}
	for _, name := range kf.required {
		if !t.has(name) {
			fd := fieldByName(name)
			t.addBad(t.headerLine, "no column for the %s: a %s export needs one headed %s", fd.Label, t.kind, fd.examples)
		}
	}
	if len(t.bad) > 0 {
		return t
	}
	t.ok = true

	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				t.addBad(0, "%s", err)
				break
			}
			t.addBad(parseErrorLine(err), "%s", parseErrorReason(err))
			continue // the reader has moved past the broken line
		}
		line, _ := r.FieldPos(0)
		blank := true
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
			if rec[i] != "" {
				blank = false
			}
		}
		if blank {
			continue // ",,,," as spreadsheets save an empty row
		}
		if len(rec) > len(header) && slices.ContainsFunc(rec[len(header):], func(s string) bool { return s != "" }) {
			t.addBad(line, "this row has %d values but the header has %d columns: check for a stray comma or a value that should be in quotes", len(rec), len(header))
			continue
		}
		t.rows = append(t.rows, record{line: line, vals: rec})
	}
	if len(t.rows) == 0 && len(t.bad) == 0 {
		// Everyone of the kind would be marked as having left.
		t.addBad(t.headerLine, "the file has no rows under its header: check that the whole %s export was saved", t.kind)
	}
	return t
}

// mapHeader decides which column holds which field: the caller's mapping
// first, then the aliases. A header nobody reads is reported as unknown.
func (t *table) mapHeader(header []string, mapping map[string]string) {
	mapped := map[string]string{}
	for k, v := range mapping {
		mapped[normHeader(k)] = v
	}
	rank := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		n := normHeader(h)
		if n == "" {
			continue
		}
		field, r := "", 0
		if v, ok := mapped[n]; ok {
			f, ok := mappedField(v)
			if !ok {
				t.addBad(t.headerLine, "the column %q is mapped to %q, which is not something Signoff reads", h, v)
				continue
			}
			if f == FieldIgnore {
				continue
			}
			field, r = f, -1
		} else if a, ok := aliasIndex[n]; ok {
			field, r = a.field, a.rank
		} else if knownUnused[n] {
			continue
		} else {
			t.unknown = append(t.unknown, h)
			continue
		}
		if j, taken := t.cols[field]; taken {
			if rank[field] <= r {
				t.unknown = append(t.unknown, h)
				continue
			}
			t.unknown = append(t.unknown, strings.TrimSpace(header[j]))
		}
		t.cols[field], rank[field] = i, r
		if field == FieldUPN {
			t.upnHeader = n
		}
	}
}

// detectKind recognises an export from the fields its headers hold.
func (t *table) detectKind() Kind {
	switch {
	case t.has(FieldUPN) && (t.has(FieldRelationship) || t.has(FieldPR) || t.has(FieldPriority) ||
		t.upnHeader == "pupilupn" || t.upnHeader == "studentupn" ||
		(!t.has(FieldYearGroup) && (t.has(FieldEmail) || t.has(FieldMobile)))):
		return Contacts
	case t.has(FieldUPN):
		return Pupils
	case t.has(FieldStaffCode) || t.has(FieldRole):
		return Staff
	}
	return ""
}

// decode returns the file as UTF-8 text: a UTF-8 byte order mark is
// dropped, UTF-16 with a byte order mark is converted, and bytes that are
// not UTF-8 are read as Windows-1252 (what Excel saves as "CSV").
func decode(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		b = b[3:]
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}), bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		if out, err := xunicode.UTF16(xunicode.LittleEndian, xunicode.ExpectBOM).NewDecoder().Bytes(b); err == nil {
			b = out
		}
	}
	if !utf8.Valid(b) {
		if out, err := charmap.Windows1252.NewDecoder().Bytes(b); err == nil {
			b = out
		}
	}
	return string(b)
}

// sniffDelimiter picks comma, semicolon or tab: whichever the header line
// holds most of outside quotes.
func sniffDelimiter(text string) rune {
	line, _, _ := strings.Cut(text, "\n")
	counts := map[rune]int{}
	quoted := false
	for _, r := range line {
		switch {
		case r == '"':
			quoted = !quoted
		case !quoted && (r == ',' || r == ';' || r == '\t'):
			counts[r]++
		}
	}
	best := ','
	for _, r := range []rune{';', '\t'} {
		if counts[r] > counts[best] {
			best = r
		}
	}
	return best
}

func parseErrorLine(err error) int {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, csv.ErrQuote) {
			return pe.StartLine
		}
		return pe.Line
	}
	return 1
}

func parseErrorReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		switch {
		case errors.Is(pe.Err, csv.ErrQuote):
			return "a value in quotes that starts on this line is never closed (or has a quote mark inside it that is not doubled)"
		case errors.Is(pe.Err, csv.ErrBareQuote):
			return "a quote mark inside a value that is not in quotes: put the whole value in double quotes and double the quote mark (\"\")"
		}
		return "this line is not valid CSV: " + pe.Err.Error()
	}
	return "the file could not be read: " + err.Error()
}
