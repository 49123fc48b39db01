package policies_test

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"signoff/internal/policies"
)

func readFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// text joins a block's runs of one kind ("" for what the later version
// reads: unchanged and inserted).
func later(rs []policies.Run) string {
	var sb strings.Builder
	for _, r := range rs {
		if r.Op != policies.Deleted {
			sb.WriteString(r.Text)
		}
	}
	return sb.String()
}

func runsOf(rs []policies.Run, op policies.Op) []string {
	var out []string
	for _, r := range rs {
		if r.Op == op {
			out = append(out, strings.TrimSpace(r.Text))
		}
	}
	return out
}

func TestCompareDocumentsBlocksAndSections(t *testing.T) {
	t.Parallel()
	d := policies.CompareDocuments(readFixture(t, "aup-v1.md"), readFixture(t, "aup-v2.md"))
	// Three changes, named by their sections, in order.
	if d.Changes != 3 {
		t.Fatalf("changes: %d\n%+v", d.Changes, d.Blocks)
	}
	if got, want := d.ChangedSections(), []string{"2. Passwords", "5. Email", "Appendix A: Contacts"}; !slices.Equal(got, want) {
		t.Fatalf("sections: %q, want %q", got, want)
	}
	var sawItem, sawRow, sawNew bool
	for _, b := range d.Blocks {
		// No Markdown syntax reaches the reader.
		for _, r := range b.Runs {
			if strings.Contains(r.Text, "**") || strings.HasPrefix(r.Text, "#") || strings.HasPrefix(r.Text, "- ") {
				t.Errorf("Markdown syntax shown: %q", r.Text)
			}
		}
		switch {
		case b.Kind == policies.ListItem && b.Status == policies.Modified:
			// "at least 8 characters" became "at least 12 characters".
			if !slices.Contains(runsOf(b.Runs, policies.Deleted), "8") || !slices.Contains(runsOf(b.Runs, policies.Inserted), "12") {
				t.Errorf("list item: %+v", b.Runs)
			}
			if d.Sections[b.Section].Title != "2. Passwords" || b.Change != 1 {
				t.Errorf("list item in %q, change %d", d.Sections[b.Section].Title, b.Change)
			}
			sawItem = true
		case b.Kind == policies.TableRow && b.Status == policies.Modified:
			if len(b.Cells) != 3 || later(b.Cells[2]) != "dpo@hollybrook.example.sch.uk" || !slices.Contains(runsOf(b.Cells[1], policies.Inserted), "Priya Shah") {
				t.Errorf("table row: %+v", b.Cells)
			}
			sawRow = true
		case b.Kind == policies.Paragraph && b.Status == policies.Added:
			if !strings.Contains(later(b.Runs), "encrypted") || d.Sections[b.Section].Title != "5. Email" {
				t.Errorf("new paragraph: %+v in %q", b.Runs, d.Sections[b.Section].Title)
			}
			sawNew = true
		case b.Status == policies.Unchanged && b.Change != 0:
			t.Errorf("unchanged block numbered: %+v", b)
		}
	}
	if !sawItem || !sawRow || !sawNew {
		t.Errorf("item %v row %v new paragraph %v", sawItem, sawRow, sawNew)
	}
	// Only the changed sections (with a block of context) are shown by default.
	vis := d.Visible(1)
	shown := 0
	for i, b := range d.Blocks {
		if vis[i] {
			shown++
			if d.Sections[b.Section].Changes == 0 {
				t.Errorf("block of an unchanged section shown: %+v", b)
			}
		}
	}
	if shown == 0 || shown >= len(d.Blocks)/2 {
		t.Errorf("%d of %d blocks shown", shown, len(d.Blocks))
	}
}

func TestCompareDocumentsWholeBlocks(t *testing.T) {
	t.Parallel()
	d := policies.CompareDocuments("# Title\n\nKeep this.\n\nDrop this paragraph entirely please.\n",
		"# Title\n\nKeep this.\n\n## Lost devices\n\nReport lost devices the same day.\n")
	var added, removed int
	for _, b := range d.Blocks {
		switch b.Status {
		case policies.Added:
			added++
		case policies.Removed:
			removed++
		}
	}
	if added != 2 || removed != 1 || d.Changes != 2 {
		t.Fatalf("added %d removed %d changes %d: %+v", added, removed, d.Changes, d.Blocks)
	}
	if got := d.ChangedSections(); !slices.Equal(got, []string{"Title", "Lost devices"}) {
		t.Errorf("sections: %q", got)
	}
	if same := policies.CompareDocuments("# A\n\nB\n", "# A\n\nB\n"); same.Changed() || len(same.ChangedSections()) != 0 {
		t.Errorf("no change reported: %+v", same)
	}
	// A first version: everything is new, and text before any heading has a section of its own.
	first := policies.CompareDocuments("", "Intro.\n\n# One\n\nText.\n")
	if first.Changes != 2 || first.Sections[0].Title != "Opening text" {
		t.Errorf("first version: %+v", first)
	}
}

// TestCompareDocumentsReadsEscapesAsTheWebViewDoes: an escaped ampersand
// (`\&amp;`) reads "&amp;" on the page and an unescaped one "&", so changing
// one into the other is a change, and the reader sees each as the page does.
func TestCompareDocumentsReadsEscapesAsTheWebViewDoes(t *testing.T) {
	t.Parallel()
	d := policies.CompareDocuments("Fish \\&amp; chips\n", "Fish &amp; chips\n")
	if d.Changes != 1 {
		t.Fatalf("changes: %d, want 1\n%+v", d.Changes, d.Blocks)
	}
	var before, after []string
	for _, b := range d.Blocks {
		var sb strings.Builder
		for _, r := range b.Runs {
			if r.Op != policies.Inserted {
				sb.WriteString(r.Text)
			}
		}
		before = append(before, sb.String())
		after = append(after, later(b.Runs))
	}
	if !slices.Equal(before, []string{"Fish &amp; chips"}) {
		t.Errorf("earlier text %q, want %q", before, "Fish &amp; chips")
	}
	if !slices.Equal(after, []string{"Fish & chips"}) {
		t.Errorf("later text %q, want %q", after, "Fish & chips")
	}
}

// TestCompareBeyondTheSurrogateRunes: a text with more distinct words than
// there are runes below the surrogates still compares and reads back
// exactly (each word stands for one rune in the diff, the surrogates
// skipped).
func TestCompareBeyondTheSurrogateRunes(t *testing.T) {
	t.Parallel()
	words := make([]string, 0xD800+500)
	for i := range words {
		words[i] = "w" + strconv.Itoa(i)
	}
	old := strings.Join(words, " ")
	words[0xD800+100] = "changed"
	new := strings.Join(words, " ")
	c := policies.Compare(old, new)
	if got := later(c.Changes); got != new {
		t.Fatalf("the later text read back differs (%d bytes, want %d)", len(got), len(new))
	}
	var earlier strings.Builder
	for _, r := range c.Changes {
		if r.Op != policies.Inserted {
			earlier.WriteString(r.Text)
		}
	}
	if earlier.String() != old {
		t.Fatal("the earlier text read back differs")
	}
	if !slices.Equal(runsOf(c.Changes, policies.Deleted), []string{"w" + strconv.Itoa(0xD800+100)}) || !slices.Equal(runsOf(c.Changes, policies.Inserted), []string{"changed"}) {
		t.Fatalf("changes: deleted %q, inserted %q", runsOf(c.Changes, policies.Deleted), runsOf(c.Changes, policies.Inserted))
	}
}
