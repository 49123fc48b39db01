package mis_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"signoff/internal/apperr"
	"signoff/internal/mis"
)

func findPerson(cs []mis.PersonChange, name string) (mis.PersonChange, bool) {
	i := slices.IndexFunc(cs, func(c mis.PersonChange) bool { return c.Name == name })
	if i < 0 {
		return mis.PersonChange{}, false
	}
	return cs[i], true
}

func fieldOf(c mis.PersonChange, field string) (mis.FieldChange, bool) {
	i := slices.IndexFunc(c.Fields, func(f mis.FieldChange) bool { return f.Field == field })
	if i < 0 {
		return mis.FieldChange{}, false
	}
	return c.Fields[i], true
}

// Another school's staff file, uploaded by mistake: the preview names
// every person it would add, rename and mark as leaving, warns, and the
// import needs an explicit confirmation; without it nothing is written.
func TestPreviewShowsWhoChangesAndWarnsOfAWrongFile(t *testing.T) {
	t.Parallel()
	ctx, db, s, store := oakfield(t)
	if _, err := store.Apply(ctx, s.ID, actor, sampleFiles(t)); err != nil {
		t.Fatal(err)
	}
	wrong := mis.File{Name: "other-school-staff.csv", Data: must(os.ReadFile(filepath.Join(samplesDir(t), "other-school-staff.csv")))}
	rep, err := store.Preview(ctx, s.ID, []mis.File{wrong})
	if err != nil {
		t.Fatal(err)
	}
	f := fileReport(t, rep, mis.Staff)
	if f.Current != 24 || len(f.NewPeople) != 4 || len(f.ChangedPeople) != 1 || len(f.LeavingPeople) != 23 {
		t.Fatalf("current %d, new %d, changed %d, leaving %d", f.Current, len(f.NewPeople), len(f.ChangedPeople), len(f.LeavingPeople))
	}
	if p, ok := findPerson(f.NewPeople, "Callum Brennan"); !ok || p.Ref != "BR01" || p.Line != 2 {
		t.Errorf("new person: %+v %v", p, ok)
	}
	if _, ok := findPerson(f.LeavingPeople, "Harriet Whitcombe"); !ok {
		t.Errorf("leavers: %+v", f.LeavingPeople)
	}
	// PK02 matched by staff code, but both names change: somebody else.
	renamed, ok := findPerson(f.ChangedPeople, "Siobhan Kearney")
	if !ok || !renamed.Suspect {
		t.Fatalf("renamed person: %+v", f.ChangedPeople)
	}
	if fc, ok := fieldOf(renamed, "Last name"); !ok || fc.Old != "Pawlak" || fc.New != "Kearney" {
		t.Errorf("last name change: %+v", renamed.Fields)
	}
	if fc, ok := fieldOf(renamed, "Email"); !ok || fc.Old != "tpawlak2@larkrise-primary.example.sch.uk" {
		t.Errorf("email change: %+v", renamed.Fields)
	}
	warnings := rep.Warnings()
	var text []string
	for _, w := range warnings {
		text = append(text, w.Message)
	}
	all := strings.Join(text, "\n")
	if !rep.NeedsConfirmation() || !strings.Contains(all, "mark 23 of the school's 24 staff as leavers") || !strings.Contains(all, "1 person matched by staff code") {
		t.Fatalf("warnings:\n%s", all)
	}

	// Applying without the confirmation writes nothing.
	before := snapshot(t, db, s.ID)
	id, err := store.SaveBatch(ctx, s.ID, actor, []mis.File{wrong})
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.ApplyBatch(ctx, s.ID, id, actor, false)
	if apperr.CodeOf(err) != apperr.Invalid || len(apperr.FieldsOf(err)) != 1 || apperr.FieldsOf(err)[0].Field != "confirm" {
		t.Fatalf("unconfirmed apply: %v", err)
	}
	if snapshot(t, db, s.ID) != before {
		t.Fatal("an unconfirmed import changed people")
	}
	if _, err := store.ApplyBatch(ctx, s.ID, id, actor, true); err != nil {
		t.Fatalf("confirmed apply: %v", err)
	}
	if n := count(t, db, `SELECT count(*) FROM people WHERE kind = 'staff' AND left_at IS NOT NULL`); n != 23 {
		t.Fatalf("%d staff marked as leavers", n)
	}

	// A correct re-import with an ordinary change needs no confirmation.
	if _, err := store.Apply(ctx, s.ID, actor, sampleFiles(t)); err != nil {
		t.Fatal(err)
	}
	pupils := must(os.ReadFile(filepath.Join(samplesDir(t), "pupils.csv")))
	moved := bytes.Replace(pupils, []byte("E938402124004,1004,Gallagher,"), []byte("E938402124004,1004,Gallagher-Byrne,"), 1)
	ordinary, err := store.Preview(ctx, s.ID, []mis.File{{Name: "pupils.csv", Data: moved}})
	if err != nil {
		t.Fatal(err)
	}
	pf := fileReport(t, ordinary, mis.Pupils)
	if len(pf.ChangedPeople) != 1 || pf.ChangedPeople[0].Suspect || ordinary.NeedsConfirmation() {
		t.Fatalf("a surname change: %+v, warnings %v", pf.ChangedPeople, ordinary.Warnings())
	}
	// A UPN whose name and date of birth change at once is flagged.
	swapped := bytes.Replace(pupils, []byte("Q938402124003,1003,Carrick,Arlo,,Reception,RW,22/04/2020"), []byte("Q938402124003,1003,Carrick,Maisie,,Reception,RW,03/03/2019"), 1)
	odd, err := store.Preview(ctx, s.ID, []mis.File{{Name: "pupils.csv", Data: swapped}})
	if err != nil {
		t.Fatal(err)
	}
	of := fileReport(t, odd, mis.Pupils)
	if len(of.ChangedPeople) != 1 || !of.ChangedPeople[0].Suspect || !odd.NeedsConfirmation() {
		t.Fatalf("name and birthday changed: %+v", of.ChangedPeople)
	}
	if fc, ok := fieldOf(of.ChangedPeople[0], "Date of birth"); !ok || fc.Old != "22 April 2020" || fc.New != "3 March 2019" {
		t.Errorf("date of birth change: %+v", of.ChangedPeople[0].Fields)
	}
}
