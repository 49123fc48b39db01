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

// A page whose tables come after a long text (a policy's page): the
// labels are the same whether the whole page is read or only its tables.
func TestLabelTableCellsAroundText(t *testing.T) {
	const table = `<table class="govuk-table"><thead class="govuk-table__head"><tr><th>Version</th><th>Date</th></tr></thead>` +
		`<tbody><tr><td>2</td><td>3 May</td></tr></tbody></table>`
	text := strings.Repeat(`<p class="govuk-body">A policy&#39;s text, &lt;table&gt; quoted.</p>`, 50)
	page := `<!doctype html><main>` + text + table + `<p>Between</p>` + table + text + `</main>`
	want := strings.ReplaceAll(page, `<td>2</td><td>3 May</td>`, `<td data-label="Version">2</td><td data-label="Date">3 May</td>`)
	if got := string(labelTableCells([]byte(page))); got != want {
		t.Fatalf("labelled:\n%s\nwant:\n%s", got, want)
	}
}

func BenchmarkLabelTableCells(b *testing.B) {
	var rows strings.Builder
	for i := range 10 {
		rows.WriteString(`<tr class="govuk-table__row"><td class="govuk-table__cell">Version ` + strings.Repeat("x", i) + `</td><td class="govuk-table__cell">3 May 2026</td></tr>`)
	}
	text := strings.Repeat(`<p class="govuk-body">Staff must lock their screens when they leave their desk, and report a lost laptop at once.</p>`, 200)
	page := []byte(`<!doctype html><html><head><title>Policy</title></head><body><main>` + text +
		`<table class="govuk-table"><thead class="govuk-table__head"><tr><th>Version</th><th>Date</th></tr></thead><tbody>` + rows.String() + `</tbody></table></main></body></html>`)
	b.ReportAllocs()
	for b.Loop() {
		labelTableCells(page)
	}
}
