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
