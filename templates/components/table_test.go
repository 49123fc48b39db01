package components_test

import (
	"context"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/a-h/templ"

	"signoff/templates/components"
)

func benchTable(rows int) components.TableProps {
	p := components.TableProps{Caption: "People", Region: "People", Class: "app-stack", Heads: []components.TableHead{
		{Label: "Name", Href: "/x?sort=name", Sort: "ascending"}, {Label: "Class"}, {Label: "Email"},
		{Label: "Signed", Class: "app-nowrap"}, {Label: "Still to sign", Numeric: true}}}
	for i := range rows {
		p.Rows = append(p.Rows, components.TableRow{components.ContentCell(components.Email("a" + strconv.Itoa(i) + "@b.org")),
			components.TextCell("5H"), components.TextCell("x@y.org"), components.TextCell("1 May"), components.TextCell("3")})
	}
	return p
}

// BenchmarkTable renders a page's worth of rows (50, five columns).
func BenchmarkTable(b *testing.B) {
	p := benchTable(50)
	b.ReportAllocs()
	for b.Loop() {
		if err := components.Table(p).Render(context.Background(), io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTrackFormsTable renders the dashboard's table of 30 forms.
func BenchmarkTrackFormsTable(b *testing.B) {
	var forms []components.TrackFormRow
	for i := range 30 {
		forms = append(forms, components.TrackFormRow{Title: "Policy " + strconv.Itoa(i), Href: "/admin/tracking/forms/" + strconv.Itoa(i),
			School: "Oakfield", Version: "Version 2", Due: "due 1 May", Signed: i, Total: 40, Outstanding: 40 - i, Withdrawn: i % 3, Percent: i * 100 / 40, LastReminder: "3 May"})
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := components.TrackFormsTable(forms, "Staff policies", true).Render(context.Background(), io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

func render(t *testing.T, c templ.Component) string {
	t.Helper()
	var b strings.Builder
	if err := c.Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Every data cell carries its column's heading as data-label, with the
// column's classes; a row's heading cell and a column without a heading
// carry none; headings and texts are escaped.
func TestTableLabelsEveryCellFromItsHeading(t *testing.T) {
	got := render(t, components.Table(components.TableProps{
		Caption: "Forms & figures", CaptionM: true, Region: "Forms", Class: "app-stack", RowHeads: true,
		Heads: []components.TableHead{{Label: "Class"}, {Label: "Tick", Hidden: true, Class: "app-stack__tick"},
			{Label: "Still to sign", Numeric: true}, {Label: "Name", Href: "/f?sort=name", Sort: "ascending"}, {Label: `Say "hi"`}, {}},
		Rows: []components.TableRow{
			{components.TextCell("5H"), components.ContentCell(components.Tag("Done", true)), components.TextCell("3"),
				components.LinkCell("/p/1?a=1&b=2", "<Ann>"), components.TextCell("x"), components.TextCell("y"), components.TextCell("past the headings")},
		},
	}))
	for _, want := range []string{
		`<div class="app-table-wrapper" role="region" aria-label="Forms" tabindex="0"><table class="govuk-table app-stack">`,
		`<caption class="govuk-table__caption govuk-table__caption--m">Forms &amp; figures</caption>`,
		`<th scope="col" class="govuk-table__header"><span class="govuk-visually-hidden">Tick</span></th>`,
		`<th scope="col" class="govuk-table__header govuk-table__header--numeric">Still to sign</th>`,
		`aria-sort="ascending"`,
		`<th scope="row" class="govuk-table__header">5H</th>`,
		`<td class="govuk-table__cell app-stack__tick" data-label="Tick"><strong class="govuk-tag`,
		`<td class="govuk-table__cell govuk-table__cell--numeric" data-label="Still to sign">3</td>`,
		`<td class="govuk-table__cell" data-label="Name"><a class="govuk-link" href="/p/1?a=1&amp;b=2">&lt;Ann&gt;</a></td>`,
		`<td class="govuk-table__cell" data-label="Say &#34;hi&#34;">x</td>`,
		`<td class="govuk-table__cell">y</td>`,
		`<td class="govuk-table__cell">past the headings</td>`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the table lacks %s\n%s", want, got)
		}
	}
	if strings.Contains(got, `data-label="Class"`) {
		t.Errorf("a row's heading cell carries a label:\n%s", got)
	}
}

// Without a region the table is not wrapped; a caption not shown is read
// by screen readers only.
func TestTableWithoutRegion(t *testing.T) {
	got := render(t, components.Table(components.TableProps{Caption: "Trend", Heads: []components.TableHead{{Label: "Day"}}}))
	if !strings.HasPrefix(got, `<table class="govuk-table"><caption class="govuk-table__caption govuk-visually-hidden">Trend</caption>`) {
		t.Errorf("got %s", got)
	}
}
