package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"signoff/internal/demo"
	"signoff/internal/evidence"
	"signoff/internal/pdf/pdftest"
	"signoff/internal/signkey"
	"signoff/internal/tsa/tsatest"
)

// TestSignedCopyIsTheSameFileEveryTime: a member of staff's signed copy
// is made once and stored; every later download (theirs or the office's)
// is the same file, byte for byte, and writes nothing. A copy signed while
// the time-stamping authority was down is time-stamped later by the job,
// and served time-stamped from then on; the first file still verifies.
// Erasing the record removes its stored files.
func TestSignedCopyIsTheSameFileEveryTime(t *testing.T) {
	t.Parallel()
	authority := tsatest.Start(t)
	authority.Down.Store(true)
	signer := &signkey.PDFSigner{Key: testSigningKey(t), TSAURL: authority.URL, Timeout: 5 * time.Second}
	a := newAppSigning(t, signer)
	ctx := context.Background()
	var email, ref string
	var sigID int64
	if err := a.db.Pool.QueryRow(ctx, `SELECT a.email, s.reference, s.id FROM signatures s JOIN people pe ON pe.id = s.person_id
		JOIN accounts a ON a.id = pe.account_id WHERE s.form_id = $1 AND a.password_hash IS NOT NULL ORDER BY s.id LIMIT 1`,
		a.formID(aup)).Scan(&email, &ref, &sigID); err != nil {
		t.Fatal(err)
	}
	rows := func() (copies, files int64) {
		t.Helper()
		if err := a.db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM signed_copies), (SELECT count(*) FROM signed_copy_files)`).Scan(&copies, &files); err != nil {
			t.Fatal(err)
		}
		return copies, files
	}
	staff := a.signedIn(email)
	office := a.signedIn("kholloway@hollybrook.example.sch.uk")
	path := "/signatures/" + ref + "/copy.pdf"

	first := staff.get(path)
	if first.status != 200 || !strings.HasPrefix(first.body, "%PDF-") {
		t.Fatalf("first download: %d", first.status)
	}
	c := signkey.CheckPDF([]byte(first.body))
	if !c.Valid || c.TimeStamped {
		t.Fatalf("with the authority down the copy is signed, not time-stamped: %+v", c)
	}
	// The office's copy prints the IP address and browser (this demo
	// record has no account, so the signer's own copy leaves them out): a
	// second stored file, then the same every time too.
	officeFirst := office.get(path)
	if officeFirst.status != 200 || officeFirst.body == first.body {
		t.Fatalf("the office's copy: %d", officeFirst.status)
	}
	// Someone else's copy is not found for a member of staff (ownership is
	// checked on the record the copy prints), and nothing is stored.
	var otherRef string
	if err := a.db.Pool.QueryRow(ctx, `SELECT s.reference FROM signatures s JOIN people pe ON pe.id = s.person_id
		LEFT JOIN accounts x ON x.id = pe.account_id WHERE s.school_id = (SELECT school_id FROM signatures WHERE id = $1)
		AND x.email IS DISTINCT FROM $2 ORDER BY s.id LIMIT 1`, sigID, demo.StaffEmail).Scan(&otherRef); err != nil {
		t.Fatal(err)
	}
	if res := a.signedIn(demo.StaffEmail).get("/signatures/" + otherRef + "/copy.pdf"); res.status != http.StatusNotFound {
		t.Fatalf("another's copy for a member of staff: %d, want 404", res.status)
	}
	copies, files := rows()
	if files != 2 {
		t.Fatalf("stored files after the first downloads: %d", files)
	}
	for i, who := range []*client{staff, office, staff, office} {
		want := first.body
		if who == office {
			want = officeFirst.body
		}
		if again := who.get(path); again.status != 200 || again.body != want {
			t.Fatalf("download %d is not the same file (%d, %d bytes vs %d)", i, again.status, len(again.body), len(want))
		}
	}
	if c2, f2 := rows(); c2 != copies || f2 != files {
		t.Fatalf("a download wrote: signed_copies %d → %d, signed_copy_files %d → %d", copies, c2, files, f2)
	}
	if r := upload(t, a.client(), []byte(first.body)); !strings.Contains(r.body, "This signed copy is genuine") {
		t.Fatalf("the stored copy does not verify:\n%s", r.body)
	}

	// The authority is back: the job stamps the stored copy.
	ev := evidence.NewStore(a.db, "http://signoff.test")
	ev.Signer = signer
	authority.Down.Store(false)
	n, err := ev.StampCopies(ctx, 10)
	if err != nil || n != 2 {
		t.Fatalf("StampCopies: %d, %v", n, err)
	}
	if n, err := ev.StampCopies(ctx, 10); err != nil || n != 0 {
		t.Fatalf("StampCopies again: %d, %v", n, err)
	}
	stamped := staff.get(path)
	c = signkey.CheckPDF([]byte(stamped.body))
	if stamped.status != 200 || !c.Valid || !c.TimeStamped || stamped.body == first.body {
		t.Fatalf("after the job: %d %+v", stamped.status, c)
	}
	if out := pdftest.Sig(t, []byte(stamped.body)); !strings.Contains(out, "Signature is Valid") || !strings.Contains(out, "Total document signed") {
		t.Fatalf("pdfsig:\n%s", out)
	}
	if again := staff.get(path); again.body != stamped.body {
		t.Fatal("the time-stamped copy is not served every time")
	}
	for what, data := range map[string]string{"the first copy": first.body, "the time-stamped copy": stamped.body} {
		if r := upload(t, a.client(), []byte(data)); !strings.Contains(r.body, "This signed copy is genuine") {
			t.Fatalf("%s does not verify:\n%s", what, r.body)
		}
	}

	// Erasure removes the stored files (they print what it blanks).
	var erased bool
	if err := a.db.Pool.QueryRow(ctx, `SELECT signoff_erase_signature($1, now())`, sigID).Scan(&erased); err != nil || !erased {
		t.Fatalf("erase: %v %v", erased, err)
	}
	if n := a.id(`SELECT count(*) FROM signed_copy_files WHERE signature_id = $1`, sigID); n != 0 {
		t.Fatalf("%d stored files left after erasure", n)
	}
}
