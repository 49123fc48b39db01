package web_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	nethtml "golang.org/x/net/html"
)

// Every data cell of a GOV.UK table carries data-label, its column's
// heading, which app.css shows before the value when the table stacks on a
// phone. The templates write the labels beside the headings; every HTML
// page the HTTP and browser tests of this package fetch is checked here
// (checkTableLabels), so a table whose cells lack their labels fails the
// test that opened it.

// labelsChecked holds the pages already checked, by content.
var labelsChecked = struct {
	sync.Mutex
	seen map[[32]byte]bool
}{seen: map[[32]byte]bool{}}

// checkTableLabels reports, as errors of t, the table cells of an HTML
// page whose data-label is not their column's heading.
func checkTableLabels(t testing.TB, path string, header http.Header, body []byte) {
	t.Helper()
	if !strings.HasPrefix(header.Get("Content-Type"), "text/html") || !bytes.Contains(body, []byte("govuk-table__head")) {
		return
	}
	sum := sha256.Sum256(body)
	labelsChecked.Lock()
	seen := labelsChecked.seen[sum]
	labelsChecked.seen[sum] = true
	labelsChecked.Unlock()
	if seen {
		return
	}
	for _, p := range tableLabelProblems(body) {
		t.Errorf("%s: %s", path, p)
	}
}

// tableLabelProblems lists the data cells of the page's govuk-tables whose
// data-label is not the text of their column's heading (colspans counted).
// A heading's text is what it shows: the text of its visually hidden or
// aria-hidden parts (a sorted column's "(sorted ascending…)" and arrow)
// counts only when the heading shows nothing else (a "Remind" or "Action"
// column). A column whose heading is empty needs no label.
func tableLabelProblems(page []byte) []string {
	type table struct {
		gov     bool
		caption strings.Builder
		inCap   bool
		heads   []string
		inHead  bool
		col     int
		// The heading being read: its shown text, all its text, its span,
		// and for each open element inside it whether it is hidden.
		heading    bool
		shown, all strings.Builder
		span       int
		hidden     []bool
		row        int
	}
	var (
		stack []*table
		out   []string
	)
	z := nethtml.NewTokenizer(bytes.NewReader(page))
	for {
		tt := z.Next()
		if tt == nethtml.ErrorToken {
			return out
		}
		var t *table
		if len(stack) > 0 {
			t = stack[len(stack)-1]
		}
		switch tt {
		case nethtml.StartTagToken, nethtml.SelfClosingTagToken:
			name, more := z.TagName()
			tag := string(name)
			attrs := map[string]string{}
			for more {
				var k, v []byte
				k, v, more = z.TagAttr()
				attrs[string(k)] = string(v)
			}
			if t != nil && t.heading {
				if tt == nethtml.StartTagToken && !voidElement[tag] {
					t.hidden = append(t.hidden, attrs["aria-hidden"] == "true" || strings.Contains(" "+attrs["class"]+" ", " govuk-visually-hidden "))
				}
				continue
			}
			switch tag {
			case "table":
				stack = append(stack, &table{gov: strings.Contains(" "+attrs["class"]+" ", " govuk-table ")})
			case "caption":
				if t != nil {
					t.inCap = true
				}
			case "thead":
				if t != nil {
					t.inHead = true
				}
			case "tr":
				if t != nil {
					t.col = 0
					if !t.inHead {
						t.row++
					}
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
					t.heading, t.span = true, span
					t.shown.Reset()
					t.all.Reset()
					t.hidden = t.hidden[:0]
					break
				}
				if t.gov && tag == "td" {
					want := ""
					if t.col < len(t.heads) {
						want = t.heads[t.col]
					}
					label, has := attrs["data-label"]
					if want != "" && (!has || label != want) || want == "" && label != "" {
						what := fmt.Sprintf("data-label %q", label)
						if !has {
							what = "no data-label"
						}
						out = append(out, fmt.Sprintf("table %q, row %d, column %d: %s, want %q (its heading)",
							strings.TrimSpace(t.caption.String()), t.row, t.col+1, what, want))
					}
				}
				t.col += span
			}
		case nethtml.TextToken:
			if t == nil {
				break
			}
			text := string(z.Text())
			switch {
			case t.heading:
				t.all.WriteString(text)
				shown := true
				for _, h := range t.hidden {
					shown = shown && !h
				}
				if shown {
					t.shown.WriteString(text)
				}
			case t.inCap:
				t.caption.WriteString(text)
			}
		case nethtml.EndTagToken:
			name, _ := z.TagName()
			tag := string(name)
			if t != nil && t.heading && tag != "th" && tag != "td" {
				if len(t.hidden) > 0 {
					t.hidden = t.hidden[:len(t.hidden)-1]
				}
				continue
			}
			switch tag {
			case "table":
				if t != nil {
					stack = stack[:len(stack)-1]
				}
			case "caption":
				if t != nil {
					t.inCap = false
				}
			case "thead":
				if t != nil {
					t.inHead = false
				}
			case "th", "td":
				if t != nil && t.heading {
					label := strings.Join(strings.Fields(t.shown.String()), " ")
					if label == "" {
						label = strings.Join(strings.Fields(t.all.String()), " ")
					}
					for range t.span {
						t.heads = append(t.heads, label)
					}
					t.heading = false
				}
			}
		}
	}
}

// voidElement are the elements that have no end tag.
var voidElement = map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true, "input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true}

// The checker finds a missing or wrong label, counts colspans, reads a
// heading's shown text, and asks nothing of an unlabelled column or of a
// table that is not a govuk-table.
func TestTableLabelProblems(t *testing.T) {
	const good = `<!doctype html><p>Tom &amp; Jerry</p>` +
		`<table class="govuk-table app-x"><caption class="govuk-visually-hidden">Staff</caption><thead class="govuk-table__head"><tr>` +
		`<th scope="col">Name &amp; role</th><th scope="col" colspan="2"><a href="/s">Signed<br/> <span class="govuk-visually-hidden">(sorted ascending)</span><span aria-hidden="true">▲</span></a></th>` +
		`<th><span class="govuk-visually-hidden">Action</span></th><th></th></tr></thead>` +
		`<tbody><tr><td data-label="Name &amp; role">Ann</td><td data-label="Signed">Yes</td><td data-label="Signed">12 May</td><td data-label="Action"><a href="/x">Open</a></td><td>x</td></tr>` +
		`<tr><th scope="row">Bob</th><td colspan="2" data-label="Signed">No</td><td data-label="Action"/><td></td></tr></tbody></table>` +
		`<table class="app-diff-table"><thead class="govuk-table__head"><tr><th>Old</th></tr></thead><tbody><tr><td>x</td></tr></tbody></table>`
	if got := tableLabelProblems([]byte(good)); len(got) != 0 {
		t.Fatalf("a labelled page has problems: %q", got)
	}
	bad := strings.NewReplacer(
		`<td data-label="Signed">Yes</td>`, `<td>Yes</td>`,
		`<td data-label="Action"/>`, `<td data-label="Actions"/>`,
		`<td></td>`, `<td data-label="Extra"></td>`,
	).Replace(good)
	want := []string{
		`table "Staff", row 1, column 2: no data-label, want "Signed" (its heading)`,
		`table "Staff", row 2, column 4: data-label "Actions", want "Action" (its heading)`,
		`table "Staff", row 2, column 5: data-label "Extra", want "" (its heading)`,
	}
	if got := tableLabelProblems([]byte(bad)); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
