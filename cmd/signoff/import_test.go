package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"signoff/internal/database/dbtest"
)

// misSamples holds our own MIS-shaped exports of a fictional school (the
// same as internal/mis/testdata): staff.csv in UTF-8 with a byte order mark
// and CRLF, pupils.csv in Windows-1252, contacts.csv with blank lines.
func misSamples(*testing.T) string { return "testdata" }

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestImportCommand(t *testing.T) {
	url := dbtest.NewURL(t)
	vars := env(map[string]string{"DATABASE_URL": url})
	dir := misSamples(t)
	files := []string{filepath.Join(dir, "contacts.csv"), filepath.Join(dir, "pupils.csv"), filepath.Join(dir, "staff.csv")}
	var out, errOut bytes.Buffer

	// No school yet.
	if code := run(append([]string{"import", "--dry-run"}, files...), vars, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "no school") {
		t.Fatalf("no school: exit %d\n%s", code, errOut.String())
	}
	pool, err := openTestDB(url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(context.Background(), `INSERT INTO schools (slug, name) VALUES ('oakfield', 'Oakfield Primary School')`); err != nil {
		t.Fatal(err)
	}

	out.Reset()
	errOut.Reset()
	if code := run(append([]string{"import", "--dry-run"}, files...), vars, &out, &errOut); code != 0 {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	const all = "new 129, changed 0, unchanged 0, leavers 0" // 24 staff, 42 pupils, 63 parents and carers
	if got := lastLine(out.String()); got != all {
		t.Fatalf("dry run ends %q\n%s", got, out.String())
	}
	for _, w := range []string{"staff.csv (staff, 24 rows): new 24,", "pupils.csv (pupils, 42 rows): new 42,", "contacts.csv (contacts, 78 rows): new 63,"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("dry run output lacks %q:\n%s", w, out.String())
		}
	}
	var people int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM people`).Scan(&people); err != nil || people != 0 {
		t.Fatalf("the dry run wrote %d people (%v)", people, err)
	}

	out.Reset()
	if code := run(append([]string{"import"}, append(files, "--school", "oakfield")...), vars, &out, &errOut); code != 0 || lastLine(out.String()) != all {
		t.Fatalf("import: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	out.Reset()
	if code := run(append([]string{"import"}, files...), vars, &out, &errOut); code != 0 ||
		lastLine(out.String()) != "new 0, changed 0, unchanged 129, leavers 0" {
		t.Fatalf("second import: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}

	// A broken file: every bad row as FILE:LINE: reason, exit 1, nothing imported.
	broken := filepath.Join(t.TempDir(), "staff-broken.csv")
	if err := os.WriteFile(broken, []byte("\ufeffStaff Code,Forename,Surname,Work Email,Role\r\n"+
		"AB01,Ann,Able,ann@example.org,Teacher\r\n\r\n"+
		"AB02,Ben,\"Baker, Jr\",,Teacher\r\n"+
		"AB03,Cat,Cole,ann@example.org,Dinner Monitor\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errOut.Reset()
	code := run([]string{"import", broken}, vars, &out, &errOut)
	if code != 1 {
		t.Fatalf("broken file: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	for _, w := range []string{broken + ":4: no email address for Ben Baker, Jr", broken + ":5: duplicate email address ann@example.org", `unknown staff role "Dinner Monitor"`} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, out.String())
		}
	}
	if !strings.Contains(errOut.String(), "nothing was imported") {
		t.Errorf("stderr: %s", errOut.String())
	}
	var leavers int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM people WHERE left_at IS NOT NULL`).Scan(&leavers); err != nil || leavers != 0 {
		t.Fatalf("the refused import marked %d leavers (%v)", leavers, err)
	}

	// Two schools: --school is needed.
	if _, err := pool.Exec(context.Background(), `INSERT INTO schools (slug, name) VALUES ('birchwood', 'Birchwood')`); err != nil {
		t.Fatal(err)
	}
	errOut.Reset()
	if code := run(append([]string{"import", "--dry-run"}, files...), vars, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "--school") {
		t.Fatalf("two schools: exit %d\n%s", code, errOut.String())
	}
	if code := run([]string{"import", "--dry-run"}, vars, &out, &errOut); code != 2 {
		t.Fatalf("no files: exit %d", code)
	}
}
