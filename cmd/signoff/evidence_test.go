package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"signoff/internal/audit"
	"signoff/internal/database"
	"signoff/internal/database/dbtest"
	"signoff/internal/evidence"
	"signoff/internal/pdf"
	"signoff/internal/signkey"
	"signoff/internal/tsa"
	"signoff/internal/tsa/tsatest"
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

// TestVerifyCommandOffline: `signoff verify FILE.pdf` checks a signed
// copy's digital signature and time stamp with no database, and says
// whether the certificate is the data folder's.
func TestVerifyCommandOffline(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k, _, err := signkey.LoadOrCreate(dir, "Signoff", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var unsigned bytes.Buffer
	if err := pdf.WriteSignedCopy(&unsigned, pdf.SignedCopy{SchoolName: "Westbrook", PolicyTitle: "IT", VersionNumber: 1,
		BodyMarkdown: "Text.", Statement: "I agree.", SignerName: "Ann Lee", SignerRole: "Teacher", TypedSignature: "Ann Lee",
		SignedAt: time.Now(), SHA256: strings.Repeat("a", 64), Reference: "SG-7Q2K-9XHM-4D1P"}); err != nil {
		t.Fatal(err)
	}
	authority := tsatest.Start(t)
	signed, err := (&signkey.PDFSigner{Key: k, TSAURL: authority.URL}).Sign(context.Background(), unsigned.Bytes(), signkey.SignInfo{Name: "Westbrook"})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "copy.pdf")
	_ = os.WriteFile(file, signed.PDF, 0o600)
	vars := env(map[string]string{"SIGNOFF_DATA": dir})
	var out, errOut bytes.Buffer
	if code := run([]string{"verify", file}, vars, &out, &errOut); code != 0 {
		t.Fatalf("verify: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"reference: SG-7Q2K-9XHM-4D1P", "signature: valid", "time stamp: ", `by "Signoff test TSA"`, "certificate: this installation's"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("verify output lacks %q:\n%s", want, out.String())
		}
	}
	bad := bytes.Replace(signed.PDF, []byte("Westbrook"), []byte("Eastbrook"), 1)
	_ = os.WriteFile(file, bad, 0o600)
	out.Reset()
	if code := run([]string{"verify", file}, vars, &out, &errOut); code != 1 || !strings.Contains(out.String(), "signature: BROKEN") {
		t.Fatalf("tampered: exit %d\n%s", code, out.String())
	}
	other := t.TempDir()
	_ = os.WriteFile(file, signed.PDF, 0o600)
	out.Reset()
	if _, _, err := signkey.LoadOrCreate(other, "Another", time.Now()); err != nil {
		t.Fatal(err)
	}
	if code := run([]string{"verify", file}, env(map[string]string{"SIGNOFF_DATA": other}), &out, &errOut); code != 0 ||
		!strings.Contains(out.String(), "certificate: NOT this installation's") {
		t.Fatalf("another installation: exit %d\n%s", code, out.String())
	}
}

// rewriteChain changes the detail of one audit entry of school and
// recomputes the hash of it and of every later entry, as an attacker who
// knows the (public) algorithm would: the chain alone then looks intact.
// The attacker's tool is the linker itself: the entries from the changed
// one on are unlinked, then audit.Link chains them again, hashing each
// with the algorithm it always uses.
func rewriteChain(t *testing.T, pool *pgxpool.Pool, db *database.DB, school, from int64) {
	t.Helper()
	tamper(t, pool, `UPDATE audit_log SET detail = CASE WHEN id = (SELECT min(id) FROM audit_log WHERE school_id = $1 AND id >= $2) THEN detail || '{"rewritten": "yes"}' ELSE detail END,
		seq = NULL, prev_hash = NULL, hash = NULL WHERE school_id = $1 AND id >= $2`, school, from)
	n, err := audit.Link(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	var rest, rewritten int
	if err := pool.QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE detail ? 'rewritten')
		FROM audit_log WHERE school_id = $1 AND id >= $2`, school, from).Scan(&rest, &rewritten); err != nil {
		t.Fatal(err)
	}
	if n < rest || rest < 2 || rewritten != 1 {
		t.Fatalf("the rewrite changed %d entries and relinked %d of %d", rewritten, n, rest)
	}
}

// TestAnchorsFindARewrittenOrCutChain: anchors are made (time-stamped by a
// real authority, or pending while it is down and stamped on a retry),
// emailed, made hourly only when the chain changed, and `signoff audit
// verify` reports the newest that matches; a chain rewritten with every
// later hash recomputed, or cut short, fails naming the anchor.
func TestAnchorsFindARewrittenOrCutChain(t *testing.T) {
	for _, attack := range []string{"rewrite", "cut"} {
		t.Run(attack, func(t *testing.T) {
			t.Parallel()
			url := dbtest.NewURL(t)
			data := t.TempDir()
			vars := env(map[string]string{"DATABASE_URL": dbtest.AppURL(t, url), "SIGNOFF_MIGRATE_DATABASE_URL": url, "SIGNOFF_DATA": data})
			var out, errOut bytes.Buffer
			if code := run([]string{"demo"}, vars, &out, &errOut); code != 0 {
				t.Fatalf("demo: exit %d\n%s", code, errOut.String())
			}
			ctx := context.Background()
			db, err := database.Open(ctx, dbtest.AppURL(t, url))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			key, _, err := signkey.LoadOrCreate(data, "Signoff", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			authority := tsatest.Start(t)
			an := &evidence.Anchorer{DB: db, Key: key, TSA: &tsa.Client{URL: authority.URL}}
			var school int64
			_ = db.Pool.QueryRow(ctx, `SELECT id FROM schools`).Scan(&school)
			if err := evidence.SetAnchorEmail(ctx, db, school, "Chair@Governors.example.org", audit.System("test")); err != nil {
				t.Fatal(err)
			}
			first, created, err := an.Anchor(ctx, school, evidence.AnchorOnDemand, audit.System("test"))
			if err != nil || !created || first.TSAToken == nil {
				t.Fatalf("anchor: %v %v %+v", created, err, first)
			}
			var emailed int
			_ = db.Pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE kind = 'audit_anchor' AND to_address = 'chair@governors.example.org'`).Scan(&emailed)
			if emailed != 1 {
				t.Fatalf("anchors emailed: %d", emailed)
			}
			// Hourly: nothing changed but the anchoring itself, so no new anchor.
			if n, err := an.AnchorAll(ctx); err != nil || n != 0 {
				t.Fatalf("hourly with no change: %d %v", n, err)
			}
			// The authority is down: the next anchor waits, then is stamped on a retry.
			if _, err := db.Pool.Exec(ctx, `SELECT 1`); err != nil {
				t.Fatal(err)
			}
			if err := evidence.SetAnchorEmail(ctx, db, school, "", audit.System("test")); err != nil {
				t.Fatal(err)
			}
			authority.Down.Store(true)
			pending, created, err := an.Anchor(ctx, school, evidence.AnchorHourly, audit.System("test"))
			if err != nil || !created || pending.TSAToken != nil || pending.TSAAttempts != 1 || pending.TSANextAt == nil {
				t.Fatalf("pending anchor: %v %v %+v", created, err, pending)
			}
			out.Reset()
			if code := run([]string{"audit", "verify"}, vars, &out, &errOut); code != 0 || !strings.Contains(out.String(), "1 waiting for a time stamp") {
				t.Fatalf("verify with a pending anchor: exit %d\n%s%s", code, out.String(), errOut.String())
			}
			authority.Down.Store(false)
			if n, _ := an.RetryPending(ctx); n != 0 {
				t.Fatal("retried before the back-off was over")
			}
			later := time.Now().Add(10 * time.Minute)
			db.Now = func() time.Time { return later }
			if n, err := an.RetryPending(ctx); err != nil || n != 1 {
				t.Fatalf("retry: %d %v", n, err)
			}
			db.Now = func() time.Time { return time.Now().UTC() }
			out.Reset()
			if code := run([]string{"audit", "verify"}, vars, &out, &errOut); code != 0 ||
				!strings.Contains(out.String(), "anchors: 2 (2 time-stamped, 0 waiting") ||
				!strings.Contains(out.String(), fmt.Sprintf("newest anchor that matches: %d of", pending.ID)) {
				t.Fatalf("verify: exit %d\n%s%s", code, out.String(), errOut.String())
			}

			// An anchor made with another key (an earlier one, say) is
			// counted, not failed, and never the newest that matches.
			other, err := signkey.Generate("Another installation", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := (&evidence.Anchorer{DB: db, Key: other}).Anchor(ctx, school, evidence.AnchorOnDemand, audit.System("test")); err != nil {
				t.Fatal(err)
			}
			out.Reset()
			if code := run([]string{"audit", "verify"}, vars, &out, &errOut); code != 0 ||
				!strings.Contains(out.String(), "not this installation's (an earlier key?): 1") ||
				!strings.Contains(out.String(), fmt.Sprintf("newest anchor that matches: %d of", pending.ID)) {
				t.Fatalf("verify with a foreign anchor: exit %d\n%s%s", code, out.String(), errOut.String())
			}

			pool, err := openTestDB(url)
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Close()
			switch attack {
			case "rewrite":
				rewriteChain(t, pool, db, school, first.EntryID-5)
			case "cut":
				tamper(t, pool, `DELETE FROM audit_log WHERE school_id = $1 AND id >= $2`, school, first.EntryID-2)
			}
			out.Reset()
			code := run([]string{"audit", "verify"}, vars, &out, &errOut)
			got := out.String()
			if code != 1 || !strings.Contains(got, fmt.Sprintf("anchor %d (entry %d", first.ID, first.EntryID)) {
				t.Fatalf("%s: exit %d\n%s", attack, code, got)
			}
			if strings.Contains(got, "audit entry ") && attack == "rewrite" && strings.Contains(got, ": its contents do not match its hash") {
				t.Fatalf("the rewritten chain should look intact on its own:\n%s", got)
			}
		})
	}
}
