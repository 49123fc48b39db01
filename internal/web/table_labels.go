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
