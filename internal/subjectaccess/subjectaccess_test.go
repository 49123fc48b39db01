package subjectaccess_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"signoff/internal/database/dbtest"
	"signoff/internal/demo"
	"signoff/internal/subjectaccess"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// TestGovernorsDecisionsAreTheirs: a governor's rejection of a revision,
// with its comment, is in their export (JSON, CSV and summary) and in no
// one else's.
func TestGovernorsDecisionsAreTheirs(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	ctx := context.Background()
	if _, err := demo.Load(ctx, db); err != nil {
		t.Fatal(err)
	}
	var school, governor, account, version, other int64
	if err := db.Pool.QueryRow(ctx, `SELECT p.school_id, p.id, p.account_id FROM people p JOIN accounts a ON a.id = p.account_id
		WHERE a.email = 'rstanton@hollybrook.example.sch.uk'`).Scan(&school, &governor, &account); err != nil {
		t.Fatal(err)
	}
	if err := db.Pool.QueryRow(ctx, `SELECT min(id) FROM policy_versions WHERE school_id = $1`, school).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO policy_decisions (school_id, version_id, round, account_id, decision, comment, decided_at)
		VALUES ($1, $2, 1, $3, 'reject', 'Needs the new wording on mobile phones', now())`, school, version, account); err != nil {
		t.Fatal(err)
	}
	st := subjectaccess.NewStore(db)
	ex, err := st.Collect(ctx, school, governor)
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.Decisions) != 1 || ex.Decisions[0].Decision != "reject" || ex.Decisions[0].Policy == "" {
		t.Fatalf("decisions: %+v", ex.Decisions)
	}
	var buf bytes.Buffer
	if err := subjectaccess.WriteZIP(&buf, ex, func(w io.Writer, ref string, own bool) error { _, err := w.Write([]byte("%PDF-")); return err }); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if strings.Contains(string(b), "Needs the new wording on mobile phones") {
			found[f.Name] = true
		}
	}
	for _, name := range []string{"data.json", "policy-decisions.csv", "summary.html"} {
		if !found[name] {
			t.Errorf("%s lacks the governor's comment", name)
		}
	}
	if err := db.Pool.QueryRow(ctx, `SELECT p.id FROM people p JOIN accounts a ON a.id = p.account_id WHERE a.email = $1`, demo.StaffEmail).Scan(&other); err != nil {
		t.Fatal(err)
	}
	theirs, err := st.Collect(ctx, school, other)
	if err != nil || len(theirs.Decisions) != 0 {
		t.Fatalf("another person's export has decisions: %v %+v", err, theirs.Decisions)
	}
}
