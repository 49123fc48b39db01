package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"signoff/internal/database/dbtest"
)

// TestRetentionCommand: `signoff retention` previews (changing nothing),
// --at looks at another day, --apply erases what is due today and
// refuses a future day.
func TestRetentionCommand(t *testing.T) {
	url := dbtest.NewURL(t)
	vars := env(map[string]string{"DATABASE_URL": url})
	var out, errOut bytes.Buffer
	if code := run([]string{"demo"}, vars, &out, &errOut); code != 0 {
		t.Fatalf("demo: exit %d\n%s", code, errOut.String())
	}
	db, err := openTestDB(url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	// A member of staff with signatures left five years ago: due in a year and more.
	var leaver int64
	if err := db.QueryRow(ctx, `SELECT s.person_id FROM signatures s JOIN people p ON p.id = s.person_id WHERE p.kind = 'staff' ORDER BY 1 LIMIT 1`).Scan(&leaver); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `UPDATE people SET left_at = now() - interval '5 years' WHERE id = $1`, leaver); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run([]string{"retention"}, vars, &out, &errOut); code != 0 || !strings.Contains(out.String(), "would erase or remove 0 records") ||
		!strings.Contains(out.String(), "Nothing has been changed") {
		t.Fatalf("retention: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	out.Reset()
	if code := run([]string{"retention", "--at", "2040-01-01"}, vars, &out, &errOut); code != 0 || !strings.Contains(out.String(), "Staff signatures of policies: ") {
		t.Fatalf("retention --at: exit %d\n%s", code, out.String())
	}
	out.Reset()
	errOut.Reset()
	if code := run([]string{"retention", "--at", "2040-01-01", "--apply"}, vars, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "only what is due by today") {
		t.Fatalf("retention --apply in the future: exit %d\n%s", code, errOut.String())
	}
	if code := run([]string{"retention", "--at", "soon"}, vars, &out, &errOut); code != 2 {
		t.Fatalf("a bad date: exit %d", code)
	}
	if _, err := db.Exec(ctx, `UPDATE people SET left_at = now() - interval '7 years' WHERE id = $1`, leaver); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run([]string{"retention", "--apply"}, vars, &out, &errOut); code != 0 || !strings.Contains(out.String(), "erased or removed") ||
		!strings.Contains(out.String(), "Staff signatures of policies: ") {
		t.Fatalf("retention --apply: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	var left int
	_ = db.QueryRow(ctx, `SELECT count(*) FROM signatures WHERE person_id = $1 AND erased_at IS NULL`, leaver).Scan(&left)
	if left != 0 {
		t.Fatalf("%d signatures of the leaver are not erased", left)
	}
	out.Reset()
	if code := run([]string{"audit", "verify"}, vars, &out, &errOut); code != 0 || !strings.Contains(out.String(), "intact") {
		t.Fatalf("audit verify after retention: exit %d %s", code, out.String())
	}
}
