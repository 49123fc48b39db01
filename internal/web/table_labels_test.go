package web

import (
	"strings"
	"testing"
)

// labelTableCells adds the labels and changes nothing else.
func TestLabelTableCells(t *testing.T) {
	const page = `<!doctype html><svg viewBox="0 0 10 10"><path d="M0 0"/></svg><p>Tom &amp; Jerry&#39;s</p>` +
		`<table class="govuk-table app-x"><caption>Staff</caption><thead class="govuk-table__head"><tr>` +
		`<th scope="col">Name &amp; role</th><th scope="col" colspan="2">Signed</th><th><span class="govuk-visually-hidden"></span></th><th>Email</th></tr></thead>` +
		`<tbody><tr><th scope="row">Ann</th><td>Yes</td><td class="x">12 May</td><td><a href="/x">Open</a></td><td data-label="Address">a@b.c</td></tr>` +
		`<tr><td colspan="3">Nobody</td><td/><td>e@f.g</td></tr></tbody></table>` +
		`<table class="app-diff-table"><thead class="govuk-table__head"><tr><th>Old</th></tr></thead><tbody><tr><td>x</td></tr></tbody></table>`
	got := string(labelTableCells([]byte(page)))
	want := strings.NewReplacer(
		`<td>Yes</td>`, `<td data-label="Signed">Yes</td>`,
		`<td class="x">`, `<td class="x" data-label="Signed">`,
		`<td colspan="3">`, `<td colspan="3" data-label="Name &amp; role">`,
		`<td>e@f.g`, `<td data-label="Email">e@f.g`,
	).Replace(page)
	if got != want {
		t.Fatalf("labelled:\n%s\nwant:\n%s", got, want)
	}
	if plain := "<p>No tables &amp; nothing to do</p>"; string(labelTableCells([]byte(plain))) != plain {
		t.Fatal("a page without tables changed")
	}
}
