package web_test

import (
	"archive/zip"
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
)

// tamper runs sql as the database's superuser with every trigger off, as
// an attacker holding it could.
func (a *app) tamper(sql string, args ...any) {
	a.t.Helper()
	ctx := context.Background()
	tx, err := a.owner.Pool.Begin(ctx)
	if err != nil {
		a.t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
		a.t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, sql, args...); err != nil {
		a.t.Fatalf("tamper: %v", err)
	}
	if err := tx.Commit(ctx); err != nil {
		a.t.Fatal(err)
	}
}

// TestVerifyFindsARecordChangedAfterIssue: a copy downloaded before its
// record was edited in place (signer, typed name, date, IP) no longer
// verifies, by upload or by link, and the page says the record was changed.
func TestVerifyFindsARecordChangedAfterIssue(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	office := a.signedIn("kholloway@hollybrook.example.sch.uk")
	form := a.formID(aup)
	res := office.get("/admin/tracking/forms/" + itoa(form) + "/copies.zip")
	zr, err := zip.NewReader(strings.NewReader(res.body), int64(len(res.body)))
	if res.status != 200 || err != nil || len(zr.File) < 4 {
		t.Fatalf("zip: %d %v", res.status, err)
	}
	refRE := regexp.MustCompile(`SG-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}`)
	anon := a.client()
	edits := []string{
		`UPDATE signatures SET person_id = (SELECT id FROM people WHERE kind = 'staff' AND id <> signatures.person_id LIMIT 1) WHERE reference = $1`,
		`UPDATE signatures SET typed_name = 'Somebody Else' WHERE reference = $1`,
		`UPDATE signatures SET signed_at = signed_at - interval '45 days' WHERE reference = $1`,
		`UPDATE signatures SET ip = '198.51.100.66' WHERE reference = $1`,
	}
	for i, edit := range edits {
		rc, _ := zr.File[i].Open()
		copyPDF, _ := io.ReadAll(rc)
		rc.Close()
		ref := refRE.FindString(zr.File[i].Name)
		if r := upload(t, anon, copyPDF); !strings.Contains(r.body, "This signed copy is genuine") {
			t.Fatalf("before the change, copy %s: %d\n%s", ref, r.status, r.body)
		}
		a.tamper(edit, ref)
		r := upload(t, anon, copyPDF)
		if !strings.Contains(r.body, "This copy does not match the record") || strings.Contains(r.body, "govuk-panel--confirmation") {
			t.Fatalf("edit %d (%s): the copy still verifies:\n%s", i, edit, r.body)
		}
		byLink := anon.get("/verify/" + ref)
		if !strings.Contains(byLink.body, "The record does not match its seal") || strings.Contains(byLink.body, "Somebody Else") {
			t.Fatalf("edit %d by link:\n%s", i, byLink.body)
		}
	}
	// No fresh copy is issued from a changed record: the ZIP says so instead.
	res = office.get("/admin/tracking/forms/" + itoa(form) + "/copies.zip")
	zr2, err := zip.NewReader(strings.NewReader(res.body), int64(len(res.body)))
	if res.status != 200 || err != nil {
		t.Fatalf("second zip: %d %v", res.status, err)
	}
	notIssued := 0
	for _, f := range zr2.File {
		if strings.HasSuffix(f.Name, "-NOT-ISSUED.txt") {
			notIssued++
		}
	}
	if notIssued != len(edits) || len(zr2.File) != len(zr.File) {
		t.Fatalf("second zip: %d of %d not issued, want %d", notIssued, len(zr2.File), len(edits))
	}
}
