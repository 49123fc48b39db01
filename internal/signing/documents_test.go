package signing_test

import (
	"context"
	"reflect"
	"testing"

	"signoff/internal/apperr"
	"signoff/internal/people"
)

// DocumentsOf, read in one round trip, is what Get, ToSign and
// SignaturesOf read one by one: before and after signing, for someone
// outside the audience, for a leaver (who owes nothing) and for nobody.
func TestDocumentsOfIsWhatTheThreeReadsGive(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	check := func(step string, p people.Person, wantOwed, wantSigned int) {
		t.Helper()
		d, err := f.sign.DocumentsOf(ctx, f.school.ID, p.ID)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		got, err := people.NewStore(f.db).Get(ctx, f.school.ID, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		sigs, err := f.sign.SignaturesOf(ctx, f.school.ID, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(d.Person, got) || !reflect.DeepEqual(d.Owed, f.owes(t, got)) || !reflect.DeepEqual(d.Signed, sigs) {
			t.Errorf("%s: DocumentsOf %+v\nwant person %+v, owed %+v, signed %+v", step, d, got, f.owes(t, got), sigs)
		}
		if len(d.Owed) != wantOwed || len(d.Signed) != wantSigned {
			t.Errorf("%s: %d owed and %d signed, want %d and %d", step, len(d.Owed), len(d.Signed), wantOwed, wantSigned)
		}
	}
	check("before signing", f.teacher, 1, 0)
	check("outside the audience", f.governor, 0, 0)
	leave := func(at string) {
		if _, err := f.db.Pool.Exec(ctx, `UPDATE people SET left_at = `+at+` WHERE id = $1`, f.teacher.ID); err != nil {
			t.Fatal(err)
		}
	}
	leave("now()")
	check("a leaver", f.teacher, 0, 0)
	leave("NULL")
	if _, _, err := f.sign.Sign(ctx, f.input(f.teacher, f.version.ID)); err != nil {
		t.Fatal(err)
	}
	check("after signing", f.teacher, 0, 1)
	if _, err := f.sign.DocumentsOf(ctx, f.school.ID, f.teacher.ID+1000); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("nobody: %v, want not found", err)
	}
}

// SignPageOf, read in one round trip, is what the page read one by one:
// the person, the form, its current version and the signature that
// counts; not found for someone the form is not addressed to, a leaver,
// and a form of another school.
func TestSignPageOfIsWhatTheReadsGive(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	check := func(step string, wantSigned bool) {
		t.Helper()
		pg, err := f.sign.SignPageOf(ctx, f.school.ID, f.teacher.ID, f.form.ID)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		form, err := f.sign.Form(ctx, f.school.ID, f.form.ID)
		if err != nil {
			t.Fatal(err)
		}
		versionID, _, err := f.sign.CurrentVersion(ctx, f.form.ID)
		if err != nil {
			t.Fatal(err)
		}
		ver, err := f.pol.Version(ctx, f.school.ID, versionID)
		if err != nil {
			t.Fatal(err)
		}
		sig, ok, err := f.sign.CurrentSignature(ctx, f.teacher, f.form.ID)
		if err != nil {
			t.Fatal(err)
		}
		if pg.Person.ID != f.teacher.ID || !reflect.DeepEqual(pg.Form, form) || !reflect.DeepEqual(pg.Version, ver) ||
			pg.HasSigned != ok || !reflect.DeepEqual(pg.Signed, sig) || ok != wantSigned || ver.ID != f.version.ID {
			t.Errorf("%s: SignPageOf %+v\nwant form %+v, version %+v, signed %v %+v", step, pg, form, ver, ok, sig)
		}
	}
	check("before signing", false)
	if _, _, err := f.sign.Sign(ctx, f.input(f.teacher, f.version.ID)); err != nil {
		t.Fatal(err)
	}
	check("after signing", true)
	if _, err := f.sign.SignPageOf(ctx, f.school.ID, f.governor.ID, f.form.ID); apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("outside the audience: %v, want not found", err)
	}
	if _, err := f.sign.SignPageOf(ctx, f.school.ID+1, f.teacher.ID, f.form.ID); apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("another school: %v, want not found", err)
	}
	if _, err := f.db.Pool.Exec(ctx, `UPDATE people SET left_at = now() WHERE id = $1`, f.teacher.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.sign.SignPageOf(ctx, f.school.ID, f.teacher.ID, f.form.ID); apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("a leaver: %v, want not found", err)
	}
}
