package templates_test

import (
	"context"
	"io"
	"strconv"
	"testing"

	"signoff/templates"
	"signoff/templates/components"
)

// BenchmarkTrackFormPage renders a form's page of 50 people still to sign.
func BenchmarkTrackFormPage(b *testing.B) {
	v := templates.TrackFormView{Layout: components.LayoutProps{Title: "Photo consent", SiteName: "Oakfield"}, Title: "Photo consent",
		GroupNoun: "Class", Total: 200, Outstanding: 50, Matching: 50,
		Headers: []components.SortHeader{{Label: "Name", Href: "?sort=name", Sort: "ascending"}, {Label: "Class", Href: "?sort=group"},
			{Label: "Email", Href: "?sort=email"}, {Label: "Last reminder", Href: "?sort=reminded"}}}
	for i := range 50 {
		n := strconv.Itoa(i)
		v.Rows = append(v.Rows, templates.TrackRow{PersonID: n, RowID: n, Name: "Parent " + n, Href: "/admin/people/" + n,
			Group: "5H", Email: "parent" + n + "@example.org", LastReminder: "3 May"})
	}
	for i := range 8 {
		v.Groups = append(v.Groups, components.Bar{Label: "Class " + strconv.Itoa(i), Value: 20, Of: 25, Width: 80})
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := templates.TrackFormPage(v).Render(context.Background(), io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
