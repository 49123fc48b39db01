package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"signoff/internal/database/dbtest"
)

// tamper runs sql as the database's superuser with every trigger off.
func tamper(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("tamper %s: %v", sql, err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestAuditVerifyNamesEachTampering: records edited in place, the newest
// audit entries removed, a published text changed: `signoff audit verify`
// fails and names each one.
func TestAuditVerifyNamesEachTampering(t *testing.T) {
	url := dbtest.NewURL(t)
	vars := env(map[string]string{"DATABASE_URL": dbtest.AppURL(t, url), "SIGNOFF_MIGRATE_DATABASE_URL": url})
	var out, errOut bytes.Buffer
	if code := run([]string{"demo"}, vars, &out, &errOut); code != 0 {
		t.Fatalf("demo: exit %d\n%s", code, errOut.String())
	}
	out.Reset()
	if code := run([]string{"audit", "verify"}, vars, &out, &errOut); code != 0 || !strings.Contains(out.String(), "intact") ||
		strings.Contains(out.String(), " 0 sealed") {
		t.Fatalf("untouched: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	pool, err := openTestDB(url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	ctx := context.Background()
	var staff, consent []string
	rows, _ := pool.Query(ctx, `SELECT reference, pupil_id IS NOT NULL FROM signatures ORDER BY id`)
	for rows.Next() {
		var ref string
		var child bool
		_ = rows.Scan(&ref, &child)
		if child {
			consent = append(consent, ref)
		} else {
			staff = append(staff, ref)
		}
	}
	rows.Close()
	if len(staff) < 3 || len(consent) < 3 {
		t.Fatalf("demo records: %d staff, %d consent", len(staff), len(consent))
	}
	// The newest signature's audit entries (and any after them) removed.
	newest := consent[len(consent)-1]
	tamper(t, pool, `DELETE FROM audit_log WHERE id >= (SELECT min(id) FROM audit_log WHERE subject = 'signature ' || $1::text)`, newest)
	changed := map[string]string{
		staff[0]:   `UPDATE signatures SET person_id = (SELECT id FROM people WHERE kind = 'staff' AND id <> signatures.person_id LIMIT 1) WHERE reference = $1`,
		staff[1]:   `UPDATE signatures SET typed_name = 'Somebody Else' WHERE reference = $1`,
		staff[2]:   `UPDATE signatures SET signed_at = signed_at - interval '45 days' WHERE reference = $1`,
		consent[0]: `UPDATE signatures SET ip = '198.51.100.66' WHERE reference = $1`,
		consent[1]: `UPDATE signatures SET answers = (SELECT jsonb_object_agg(k, false) FROM jsonb_object_keys(answers) k) WHERE reference = $1`,
		consent[2]: `UPDATE signatures SET seal = NULL WHERE reference = $1`,
	}
	for ref, sql := range changed {
		tamper(t, pool, sql, ref)
	}
	tamper(t, pool, `UPDATE policy_versions SET body_md = body_md || ' (and one more rule)' WHERE id = (SELECT min(id) FROM policy_versions WHERE status = 'published')`)
	tamper(t, pool, `UPDATE form_items SET label = label || ' and on the radio' WHERE id = (SELECT min(id) FROM form_items)`)

	out.Reset()
	code := run([]string{"audit", "verify"}, vars, &out, &errOut)
	got := out.String()
	if code != 1 {
		t.Fatalf("tampered: exit %d\n%s", code, got)
	}
	for ref := range changed {
		if !strings.Contains(got, "signature "+ref+": ") {
			t.Errorf("the change to %s is not named:\n%s", ref, got)
		}
	}
	if !strings.Contains(got, "signature "+newest+": no audit entry records it") {
		t.Errorf("the removed audit entries are not found:\n%s", got)
	}
	if !strings.Contains(got, "version 1: its text no longer hashes") || !strings.Contains(got, "its text and questions no longer hash") {
		t.Errorf("the changed texts are not named:\n%s", got)
	}
}
