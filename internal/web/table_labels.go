package web

import (
	"bytes"
	"html"
	"strconv"
	"strings"

	nethtml "golang.org/x/net/html"
)

// labelTableCells gives every data cell of a GOV.UK table a data-label
// naming its column (the text of the column's heading), so that on a phone
// every table reads as stacked rows, each value labelled (app.css), with
// no column off screen and no JavaScript. A cell that has a label keeps
// it; a column whose heading is empty gets none. Everything else of the
// page is written back byte for byte.
func labelTableCells(page []byte) []byte {
	if !bytes.Contains(page, []byte("govuk-table__head")) {
		return page
	}
	// Only the part from the first table to the end of the last is read:
	// the page's frame and its text (a policy's, say) are copied as they
	// are. A "<table" or "</table>" in the output is always a tag (templ
	// and the Markdown sanitiser escape every "<" of text and attributes,
	// and no page has inline script or style), so the tokenizer starts and
	// ends in the state it would be in reading the whole page.
	start := bytes.Index(page, []byte("<table"))
	end := bytes.LastIndex(page, []byte("</table>"))
	if start < 0 || end < start {
		return page
	}
	end += len("</table>")
	out := make([]byte, 0, len(page)+(end-start)/8)
	out = append(out, page[:start]...)
	out = append(out, labelTables(page[start:end])...)
	return append(out, page[end:]...)
}

// labelTables is labelTableCells over a run of HTML holding the tables.
func labelTables(page []byte) []byte {
	type table struct {
		gov    bool     // a govuk-table (not, say, the policy diff's)
		heads  []string // the column headings, one per column spanned
		inHead bool
		col    int              // the column of the next cell in this row
		text   *strings.Builder // the heading being read
		span   int
	}
	var (
		stack []*table
		out   bytes.Buffer
	)
	out.Grow(len(page) + len(page)/16)
	z := nethtml.NewTokenizer(bytes.NewReader(page))
	for {
		tt := z.Next()
		// A copy: reading a token's name, attributes or text rewrites
		// (lower-cases, unescapes) the tokenizer's buffer in place.
		raw := bytes.Clone(z.Raw())
		if tt == nethtml.ErrorToken {
			out.Write(raw)
			break
		}
		var t *table
		if len(stack) > 0 {
			t = stack[len(stack)-1]
		}
		switch tt {
		case nethtml.StartTagToken, nethtml.SelfClosingTagToken:
			name, more := z.TagName()
			attrs := map[string]string{}
			for more {
				var k, v []byte
				k, v, more = z.TagAttr()
				attrs[string(k)] = string(v)
			}
			switch string(name) {
			case "table":
				stack = append(stack, &table{gov: strings.Contains(" "+attrs["class"]+" ", " govuk-table ")})
			case "thead":
				if t != nil {
					t.inHead = true
				}
			case "tr":
				if t != nil {
					t.col = 0
				}
			case "th", "td":
				if t == nil {
					break
				}
				span, err := strconv.Atoi(attrs["colspan"])
				if err != nil || span < 1 {
					span = 1
				}
				if t.inHead {
					t.text, t.span = &strings.Builder{}, span
					break
				}
				if _, has := attrs["data-label"]; t.gov && string(name) == "td" && !has && t.col < len(t.heads) && t.heads[t.col] != "" {
					end := len(raw) - 1
					if bytes.HasSuffix(raw, []byte("/>")) {
						end--
					}
					out.Write(raw[:end])
					out.WriteString(` data-label="` + html.EscapeString(t.heads[t.col]) + `"`)
					out.Write(raw[end:])
					t.col += span
					continue
				}
				t.col += span
			}
		case nethtml.TextToken:
			if t != nil && t.text != nil {
				t.text.Write(z.Text())
			}
		case nethtml.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "table":
				if t != nil {
					stack = stack[:len(stack)-1]
				}
			case "thead":
				if t != nil {
					t.inHead = false
				}
			case "th", "td":
				if t != nil && t.text != nil {
					label := strings.Join(strings.Fields(t.text.String()), " ")
					for range t.span {
						t.heads = append(t.heads, label)
					}
					t.text = nil
				}
			}
		}
		out.Write(raw)
	}
	return out.Bytes()
}
