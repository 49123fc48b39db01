package consent

import (
	"context"
	"fmt"
	"strings"

	"signoff/internal/signing"
)

// CopyMarkdown writes a parents' form and one record's answers as the
// text of its signed copy: the same text wherever the copy is made (the
// receipt, the download, the verification page).
func CopyMarkdown(f signing.Form, items []Item, answers map[int64]bool) string {
	var b strings.Builder
	if f.IntroMD != "" {
		b.WriteString(f.IntroMD + "\n\n")
	}
	if f.Kind == signing.Agreement {
		fmt.Fprintf(&b, "## The school's part\n\n%s\n\n## The parent's part\n\n%s\n\n## The child's part\n\n%s\n\n", f.SchoolPartMD, f.ParentPartMD, f.ChildPartMD)
	}
	if len(items) > 0 {
		b.WriteString("## Answers\n\n")
		for _, it := range items {
			ans := "No"
			if answers[it.ID] {
				ans = "Yes"
			}
			if it.Kind == AckItem {
				ans = "Confirmed"
			}
			fmt.Fprintf(&b, "- %s: **%s**\n", it.Label, ans)
		}
	}
	return b.String()
}

// FormOf returns the parents' form of a record with its items, whatever
// the school (for verification, which checks a copy against the record).
func (s *Store) FormOf(ctx context.Context, formID int64) (signing.Form, []Item, error) {
	var schoolID int64
	if err := s.db.Pool.QueryRow(ctx, `SELECT school_id FROM forms WHERE id = $1`, formID).Scan(&schoolID); err != nil {
		return signing.Form{}, nil, fmt.Errorf("consent: form of record: %w", err)
	}
	return s.Form(ctx, schoolID, formID)
}
