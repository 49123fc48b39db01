// Package docimport turns a school's existing policy document (.docx,
// .md or .txt) into Markdown, keeping headings, numbered and bulleted
// lists, bold and italic, and simple tables. Word files are read with
// archive/zip and encoding/xml: paragraph styles named "Heading N" or
// "Title" become headings, paragraphs with numbering become list items
// (numbered or bulleted as numbering.xml says), and runs keep their
// emphasis.
package docimport

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// MaxSize is the largest file accepted.
const MaxSize = 10 << 20

// ErrUnsupported is returned for a file that is not .docx, .md or .txt.
var ErrUnsupported = errors.New("docimport: choose a Word (.docx), Markdown (.md) or text (.txt) file")

// ToMarkdown converts the file's content by its name's extension.
func ToMarkdown(name string, data []byte) (string, error) {
	if len(data) > MaxSize {
		return "", fmt.Errorf("docimport: the file is larger than 10 MB")
	}
	var md string
	var err error
	switch strings.ToLower(path.Ext(name)) {
	case ".docx":
		md, err = Docx(data)
	case ".md", ".markdown":
		md = tidy(decodeText(data))
	case ".txt", ".text":
		md = Text(decodeText(data))
	default:
		return "", ErrUnsupported
	}
	// What comes back is stored: valid UTF-8 without NUL characters.
	return strings.ReplaceAll(strings.ToValidUTF8(md, "\uFFFD"), "\x00", ""), err
}

// decodeText reads UTF-8 (with or without BOM), UTF-16 with BOM, or
// Windows-1252, and normalises line endings.
func decodeText(b []byte) string {
	var s string
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		s = string(b[3:])
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}), bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		out, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewDecoder().Bytes(b)
		if err == nil {
			s = string(out)
		}
	case utf8.Valid(b):
		s = string(b)
	default:
		out, _ := charmap.Windows1252.NewDecoder().Bytes(b)
		s = string(out)
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

var (
	bulletLine   = regexp.MustCompile(`^\s*[•·▪◦●○■\-\*–]\s+(.*)$`)
	numberedLine = regexp.MustCompile(`^\s*(\d{1,3})[.)]\s+(.*)$`)
	blankRuns    = regexp.MustCompile(`\n{3,}`)
)

// Text converts plain text: bullet characters become Markdown bullets,
// "1." and "1)" numbered lines stay numbered, tabs become spaces, and
// paragraphs are kept apart by a blank line.
func Text(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimRight(strings.ReplaceAll(line, "\t", " "), " ")
		if m := bulletLine.FindStringSubmatch(line); m != nil {
			out = append(out, "- "+escapeInline(m[1]))
			continue
		}
		if m := numberedLine.FindStringSubmatch(line); m != nil {
			out = append(out, m[1]+". "+escapeInline(m[2]))
			continue
		}
		if strings.TrimSpace(line) == "" {
			out = append(out, "")
			continue
		}
		if len(out) > 0 && out[len(out)-1] != "" && isListItem(out[len(out)-1]) {
			out = append(out, "")
		}
		out = append(out, escapeInline(strings.TrimSpace(line)))
		out = append(out, "")
	}
	return tidy(strings.Join(out, "\n"))
}

func isListItem(l string) bool {
	return strings.HasPrefix(l, "- ") || numberedLine.MatchString(l)
}

func tidy(s string) string {
	s = blankRuns.ReplaceAllString(strings.TrimSpace(s), "\n\n")
	return s + "\n"
}

// escapeInline keeps characters Markdown would take as formatting at the
// start of a line as plain text.
func escapeInline(s string) string {
	if strings.HasPrefix(s, "#") || strings.HasPrefix(s, ">") {
		return `\` + s
	}
	return s
}

// docx reading.

type style struct {
	name    string
	heading int // 1-6, 0 if none
}

// Docx converts a Word document.
func Docx(data []byte) (string, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return "", fmt.Errorf("docimport: this is not a Word (.docx) file, or it is damaged")
	}
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[f.Name] = f
	}
	read := func(name string) ([]byte, error) {
		f, ok := files[name]
		if !ok {
			return nil, nil
		}
		if f.UncompressedSize64 > 50<<20 {
			return nil, fmt.Errorf("docimport: the document is too large")
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(io.LimitReader(rc, 50<<20))
	}
	doc, err := read("word/document.xml")
	if err != nil || doc == nil {
		return "", fmt.Errorf("docimport: this is not a Word (.docx) file, or it is damaged")
	}
	stylesXML, _ := read("word/styles.xml")
	numberingXML, _ := read("word/numbering.xml")
	c := converter{styles: parseStyles(stylesXML), numbered: parseNumbering(numberingXML), counters: map[string]int{}}
	if err := c.convert(doc); err != nil {
		return "", err
	}
	return tidy(strings.Join(c.out, "\n")), nil
}

var headingName = regexp.MustCompile(`(?i)^heading\s*([1-6])$`)

func parseStyles(b []byte) map[string]style {
	out := map[string]style{}
	if b == nil {
		return out
	}
	var id string
	eachStart(b, func(se xml.StartElement) {
		switch se.Name.Local {
		case "style":
			id = attr(se, "styleId")
			out[id] = style{}
		case "name":
			if id != "" {
				st := style{name: attr(se, "val")}
				if m := headingName.FindStringSubmatch(st.name); m != nil {
					st.heading, _ = strconv.Atoi(m[1])
				} else if strings.EqualFold(st.name, "Title") {
					st.heading = 1
				} else if strings.EqualFold(st.name, "Subtitle") {
					st.heading = 2
				}
				out[id] = st
			}
		}
	})
	return out
}

// parseNumbering returns, for each numId and level ("3:0"), whether the
// list is numbered (decimal, letters, roman) rather than bulleted.
func parseNumbering(b []byte) map[string]bool {
	out := map[string]bool{}
	if b == nil {
		return out
	}
	abstract := map[string]map[string]bool{}
	var curAbs, curLvl, curNum string
	numToAbs := map[string]string{}
	eachStart(b, func(se xml.StartElement) {
		switch se.Name.Local {
		case "abstractNum":
			curAbs = attr(se, "abstractNumId")
			abstract[curAbs] = map[string]bool{}
			curNum = ""
		case "lvl":
			curLvl = attr(se, "ilvl")
		case "numFmt":
			if curAbs != "" && curNum == "" {
				abstract[curAbs][curLvl] = attr(se, "val") != "bullet" && attr(se, "val") != "none"
			}
		case "num":
			curNum = attr(se, "numId")
		case "abstractNumId":
			if curNum != "" {
				numToAbs[curNum] = attr(se, "val")
			}
		}
	})
	for num, abs := range numToAbs {
		for lvl, numbered := range abstract[abs] {
			out[num+":"+lvl] = numbered
		}
	}
	return out
}

// eachStart calls fn with each start element of the XML in b, in order,
// until the end or the first error.
func eachStart(b []byte, fn func(xml.StartElement)) {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.Token()
		if err != nil {
			return
		}
		if se, ok := tok.(xml.StartElement); ok {
			fn(se)
		}
	}
}

func attr(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

func on(se xml.StartElement) bool {
	v := attr(se, "val")
	return v == "" || (v != "0" && v != "false" && v != "none")
}

type converter struct {
	styles   map[string]style
	numbered map[string]bool
	counters map[string]int
	out      []string
	lastList bool
}

type para struct {
	style   string
	numID   string
	level   int
	inList  bool
	text    strings.Builder
	bold    bool
	italic  bool
	runText strings.Builder
}

// flushRun writes the current run's text with its emphasis.
func (p *para) flushRun() {
	t := p.runText.String()
	p.runText.Reset()
	if t == "" {
		return
	}
	core := strings.TrimSpace(t)
	if core == "" || (!p.bold && !p.italic) {
		p.text.WriteString(escapeMarks(t))
		return
	}
	lead := t[:len(t)-len(strings.TrimLeft(t, " "))]
	trail := t[len(strings.TrimRight(t, " ")):]
	mark := ""
	if p.bold {
		mark += "**"
	}
	if p.italic {
		mark += "*"
	}
	p.text.WriteString(lead + mark + escapeMarks(core) + mark + trail)
}

func escapeMarks(s string) string {
	return strings.NewReplacer(`*`, `\*`, `_`, `\_`, "`", "\\`").Replace(s)
}

func (c *converter) convert(doc []byte) error {
	d := xml.NewDecoder(bytes.NewReader(doc))
	var p *para
	var inRPr, inTable bool
	var table [][]string
	var row []string
	var cell []string
	depth := 0 // table nesting
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("docimport: the document could not be read: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "tbl":
				depth++
				if depth == 1 {
					inTable = true
					table = nil
				}
			case "tr":
				row = nil
			case "tc":
				cell = nil
			case "p":
				p = &para{}
			case "pStyle":
				if p != nil {
					p.style = attr(t, "val")
				}
			case "numId":
				if p != nil {
					p.numID = attr(t, "val")
					p.inList = p.numID != "0"
				}
			case "ilvl":
				if p != nil {
					p.level, _ = strconv.Atoi(attr(t, "val"))
				}
			case "r":
				if p != nil {
					p.bold, p.italic = false, false
				}
			case "rPr":
				inRPr = true
			case "b":
				if p != nil && inRPr {
					p.bold = on(t)
				}
			case "i":
				if p != nil && inRPr {
					p.italic = on(t)
				}
			case "t":
				var s string
				if err := d.DecodeElement(&s, &t); err != nil {
					return fmt.Errorf("docimport: the document could not be read: %w", err)
				}
				if p != nil {
					p.runText.WriteString(s)
				}
			case "tab":
				if p != nil && !inRPr {
					p.runText.WriteString(" ")
				}
			case "br", "cr":
				if p != nil && !inRPr {
					p.runText.WriteString(" ")
				}
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "rPr":
				inRPr = false
			case "r":
				if p != nil {
					p.flushRun()
				}
			case "p":
				if p == nil {
					continue
				}
				p.flushRun()
				if inTable {
					cell = append(cell, strings.TrimSpace(p.text.String()))
				} else {
					c.paragraph(p)
				}
				p = nil
			case "tc":
				row = append(row, strings.Join(nonEmpty(cell), " "))
			case "tr":
				if depth == 1 {
					table = append(table, row)
				}
			case "tbl":
				depth--
				if depth == 0 {
					inTable = false
					c.table(table)
				}
			}
		}
	}
	return nil
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (c *converter) paragraph(p *para) {
	text := strings.TrimSpace(p.text.String())
	if text == "" {
		return
	}
	st := c.styles[p.style]
	if st.heading == 0 {
		if m := headingName.FindStringSubmatch(p.style); m != nil {
			st.heading, _ = strconv.Atoi(m[1])
		}
	}
	switch {
	case st.heading > 0:
		c.endList()
		// A heading is plain text: emphasis marks inside it add nothing.
		text = strings.NewReplacer("***", "", "**", "").Replace(text)
		c.out = append(c.out, strings.Repeat("#", st.heading)+" "+text, "")
	case p.inList || strings.Contains(strings.ToLower(st.name), "list"):
		indent := strings.Repeat("   ", min(p.level, 4))
		key := p.numID + ":" + strconv.Itoa(p.level)
		if c.numbered[key] {
			c.counters[key]++
			c.out = append(c.out, indent+strconv.Itoa(c.counters[key])+". "+text)
		} else {
			c.out = append(c.out, indent+"- "+text)
		}
		c.lastList = true
	default:
		c.endList()
		if m := bulletLine.FindStringSubmatch(text); m != nil {
			c.out = append(c.out, "- "+m[1])
			c.lastList = true
			return
		}
		c.out = append(c.out, escapeInline(text), "")
	}
}

func (c *converter) endList() {
	if c.lastList {
		c.out = append(c.out, "")
		c.lastList = false
	}
}

func (c *converter) table(rows [][]string) {
	c.endList()
	if len(rows) == 0 {
		return
	}
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	if cols == 0 {
		return
	}
	line := func(r []string) string {
		cells := make([]string, cols)
		for i := range cells {
			if i < len(r) {
				cells[i] = strings.ReplaceAll(r[i], "|", `\|`)
			}
		}
		return "| " + strings.Join(cells, " | ") + " |"
	}
	c.out = append(c.out, line(rows[0]), "|"+strings.Repeat(" --- |", cols))
	for _, r := range rows[1:] {
		c.out = append(c.out, line(r))
	}
	c.out = append(c.out, "")
}
