package people_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/database"
	"signoff/internal/database/dbtest"
	"signoff/internal/limits"
	"signoff/internal/people"
	"signoff/internal/schools"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func year(n int) *people.YearGroup {
	y := people.YearGroup(n)
	return &y
}

func TestParseStaffRole(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]people.StaffRole{
		"Teacher": people.Teacher, " Head Teacher ": people.Teacher, "supply-teacher": people.Teacher,
		"Teaching Assistant": people.TeachingAssistant, "teaching_assistant": people.TeachingAssistant, "TA": people.TeachingAssistant, "HLTA": people.TeachingAssistant,
		"Support Staff": people.Support, "Caretaker": people.Support, "Trustee": people.Governor, "Volunteer": people.Volunteer,
		"contractor": people.Contractor, "VISITOR": people.Visitor,
	} {
		got, ok := people.ParseStaffRole(in)
		if !ok || got != want {
			t.Errorf("%q: %q %v, want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "pupil", "cook and cleaner", "teachers"} {
		if got, ok := people.ParseStaffRole(in); ok {
			t.Errorf("%q read as %q", in, got)
		}
	}
	for _, r := range people.StaffRoles {
		if !r.Valid() || r.Label() == string(r) {
			t.Errorf("%s: valid %v, label %q", r, r.Valid(), r.Label())
		}
	}
	if people.StaffRole("head").Valid() {
		t.Error("an unknown role is valid")
	}
}

func TestParseYearGroup(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int{
		"N1": -2, "Nursery 1": -2, "N2": -1, "N": -1, "Nursery": -1, "Reception": 0, "R": 0, "rec": 0, "YR": 0,
		"Year 3": 3, "Y3": 3, "3": 3, " year  11 ": 11, "Year 14": 14,
	} {
		got, ok := people.ParseYearGroup(in)
		if !ok || int(got) != want {
			t.Errorf("%q: %d %v, want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "0", "15", "Year", "Year -1", "Y3a", "Nursery 3"} {
		if got, ok := people.ParseYearGroup(in); ok {
			t.Errorf("%q read as %d", in, got)
		}
	}
	for n, want := range map[int]string{-2: "Nursery 1", -1: "Nursery", 0: "Reception", 6: "Year 6"} {
		if got := people.YearGroup(n).Label(); got != want {
			t.Errorf("%d: %q, want %q", n, got, want)
		}
	}
}

func TestNames(t *testing.T) {
	t.Parallel()
	p := people.Person{GivenName: "Alexander", PreferredName: "Sasha", FamilyName: "Petrov"}
	if p.FirstName() != "Sasha" || p.DisplayName() != "Sasha Petrov" || p.FullName() != "Alexander Petrov" || p.SortName() != "Petrov, Alexander" {
		t.Fatalf("%q %q %q %q", p.FirstName(), p.DisplayName(), p.FullName(), p.SortName())
	}
	p.PreferredName = ""
	if p.DisplayName() != "Alexander Petrov" {
		t.Fatalf("without a preferred name: %q", p.DisplayName())
	}
	staff := people.Person{Kind: people.Staff, StaffRole: people.TeachingAssistant}
	if staff.RoleLabel() != "Teaching assistant" {
		t.Fatalf("role label %q", staff.RoleLabel())
	}
	staff.JobTitle = "SENCo"
	if staff.RoleLabel() != "SENCo" {
		t.Fatalf("job title: %q", staff.RoleLabel())
	}
	if (people.Person{Kind: people.Parent}).RoleLabel() != "parent" {
		t.Fatal("a parent's role label")
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	p := people.Person{Kind: people.Staff, StaffRole: people.Teacher, GivenName: " Daniel ", FamilyName: " Okafor ", Email: " DOkafor@School.Example ", MISID: " OK12 "}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if p.GivenName != "Daniel" || p.FamilyName != "Okafor" || p.Email != "dokafor@school.example" || p.MISID != "OK12" {
		t.Fatalf("not tidied: %+v", p)
	}
	long := strings.Repeat("x", limits.Name+1)
	short := strings.Repeat("x", limits.Short+1)
	pupil := func(edit func(*people.Person)) people.Person {
		p := people.Person{Kind: people.Pupil, GivenName: "Ada", FamilyName: "Walsh", YearGroup: year(2)}
		edit(&p)
		return p
	}
	cases := []struct {
		name   string
		p      people.Person
		fields string
	}{
		{"no kind", people.Person{GivenName: "A", FamilyName: "B"}, "kind"},
		{"no names", pupil(func(p *people.Person) { p.GivenName, p.FamilyName = " ", "" }), "given_name,family_name"},
		{"long names", pupil(func(p *people.Person) { p.GivenName, p.FamilyName, p.PreferredName = long, long, long }), "given_name,family_name,preferred_name"},
		{"long identifiers", pupil(func(p *people.Person) { p.MISID, p.RegClass, p.Mobile, p.Title = short, short, short, short }), "title,mis_id,reg_class,mobile"},
		{"long job title", people.Person{Kind: people.Staff, StaffRole: people.Support, GivenName: "A", FamilyName: "B", JobTitle: long}, "job_title"},
		{"bad email", pupil(func(p *people.Person) { p.Email = "ada at home" }), "email"},
		{"email with a name", pupil(func(p *people.Person) { p.Email = "Ada <ada@home.example>" }), "email"},
		{"long email", pupil(func(p *people.Person) { p.Email = strings.Repeat("a", 250) + "@home.example" }), "email"},
		{"pupil without a year", pupil(func(p *people.Person) { p.YearGroup = nil }), "year_group"},
		{"pupil with a staff role", pupil(func(p *people.Person) { p.StaffRole = people.Teacher }), "staff_role"},
		{"staff without a role", people.Person{Kind: people.Staff, GivenName: "A", FamilyName: "B"}, "staff_role"},
		{"staff with an unknown role", people.Person{Kind: people.Staff, StaffRole: "head", GivenName: "A", FamilyName: "B"}, "staff_role"},
		{"staff in a class", people.Person{Kind: people.Staff, StaffRole: people.Teacher, GivenName: "A", FamilyName: "B", RegClass: "3B"}, "year_group"},
		{"parent with a staff role", people.Person{Kind: people.Parent, StaffRole: people.Volunteer, GivenName: "A", FamilyName: "B"}, "staff_role"},
	}
	for _, c := range cases {
		err := c.p.Validate()
		if apperr.CodeOf(err) != apperr.Invalid || apperr.FieldNames(err) != c.fields {
			t.Errorf("%s: %v (fields %q, want %q)", c.name, err, apperr.FieldNames(err), c.fields)
		}
	}
	longName := pupil(func(p *people.Person) { p.GivenName = long })
	err := longName.Validate()
	if msg := apperr.FieldsOf(err)[0].Message; msg != "The first name must be 200 characters or fewer" {
		t.Fatalf("message %q", msg)
	}
	// Limits count characters, not bytes.
	accented := pupil(func(p *people.Person) { p.GivenName = strings.Repeat("é", limits.Name) })
	if err := accented.Validate(); err != nil {
		t.Fatalf("200 accented letters: %v", err)
	}
}

// fixture holds two schools: Hollybrook, with staff, pupils and parents,
// and Ashfield, with one pupil whose id Hollybrook must not reach.
type fixture struct {
	t        *testing.T
	db       *database.DB
	st       *people.Store
	school   int64
	other    int64
	ids      map[string]int64
	leftOn   time.Time
	stranger int64 // Ashfield's pupil
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := dbtest.New(t)
	f := &fixture{t: t, db: db, st: people.NewStore(db), ids: map[string]int64{}, leftOn: time.Date(2026, 7, 22, 12, 0, 0, 0, time.UTC)}
	ctx := context.Background()
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		for slug, id := range map[string]*int64{"hollybrook": &f.school, "ashfield": &f.other} {
			sc := schools.School{Slug: slug, Name: slug}
			if err := schools.CreateTx(ctx, tx, &sc); err != nil {
				return err
			}
			*id = sc.ID
		}
		add := func(key string, p people.Person) error {
			if p.SchoolID == 0 {
				p.SchoolID = f.school
			}
			if err := people.CreateTx(ctx, tx, &p); err != nil {
				return err
			}
			f.ids[key] = p.ID
			return nil
		}
		for _, x := range []struct {
			key string
			p   people.Person
		}{
			{"okafor", people.Person{Kind: people.Staff, StaffRole: people.Teacher, GivenName: "Daniel", FamilyName: "Okafor", Email: "dokafor@school.example"}},
			{"ashcroft", people.Person{Kind: people.Staff, StaffRole: people.Teacher, GivenName: "Helen", FamilyName: "ashcroft", Email: "h.100%@school.example", JobTitle: "Headteacher"}},
			{"begum", people.Person{Kind: people.Staff, StaffRole: people.TeachingAssistant, GivenName: "Farah", FamilyName: "Begum"}},
			{"leaver", people.Person{Kind: people.Staff, StaffRole: people.Support, GivenName: "Old", FamilyName: "Caretaker"}},
			{"ada", people.Person{Kind: people.Pupil, GivenName: "Ada", FamilyName: "Walsh", YearGroup: year(3), RegClass: "3B", MISID: "A123"}},
			{"ben", people.Person{Kind: people.Pupil, GivenName: "Benjamin", PreferredName: "Ben", FamilyName: "Walsh", YearGroup: year(0), RegClass: "RA"}},
			{"cleo", people.Person{Kind: people.Pupil, GivenName: "Cleo", FamilyName: "Adams", YearGroup: year(3), RegClass: "3B"}},
			{"dev", people.Person{Kind: people.Pupil, GivenName: "Dev", FamilyName: "Walsh", YearGroup: year(6), RegClass: "6C"}},
			{"nora", people.Person{Kind: people.Pupil, GivenName: "Nora", FamilyName: "Unplaced", YearGroup: year(1)}},
			{"samira", people.Person{Kind: people.Parent, GivenName: "Samira", FamilyName: "Walsh", Email: "samira@home.example", Mobile: "07700 900123"}},
			{"tom", people.Person{Kind: people.Parent, GivenName: "Tom", FamilyName: "Walsh"}},
			{"gran", people.Person{Kind: people.Parent, GivenName: "Rose", FamilyName: "Walsh"}},
			// A parent may share an address with a member of staff (they are one person).
			{"okafor-parent", people.Person{Kind: people.Parent, GivenName: "Daniel", FamilyName: "Okafor", Email: "dokafor@school.example"}},
			{"stranger", people.Person{SchoolID: f.other, Kind: people.Pupil, GivenName: "Zed", FamilyName: "Walsh", YearGroup: year(3), RegClass: "3B", MISID: "A123"}},
		} {
			if err := add(x.key, x.p); err != nil {
				return err
			}
		}
		for _, g := range []struct {
			parent, pupil string
			priority      int
		}{
			{"samira", "ada", 1}, {"samira", "ben", 1}, {"samira", "dev", 1}, {"tom", "ada", 2}, {"gran", "ada", 3},
		} {
			if _, err := tx.Exec(ctx, `INSERT INTO guardianships (school_id, parent_id, pupil_id, relationship, parental_responsibility, priority)
				VALUES ($1, $2, $3, 'Parent', $4, $5)`, f.school, f.ids[g.parent], f.ids[g.pupil], g.priority < 3, g.priority); err != nil {
				return err
			}
		}
		// Dev has left, and so has the caretaker; Rose no longer collects.
		_, err := tx.Exec(ctx, `UPDATE people SET left_at = $2 WHERE id = ANY ($1)`, []int64{f.ids["dev"], f.ids["leaver"], f.ids["gran"]}, f.leftOn)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	f.stranger = f.ids["stranger"]
	return f
}

func names(list []people.Person) string {
	var out []string
	for _, p := range list {
		out = append(out, p.FullName())
	}
	return strings.Join(out, ", ")
}

func linkNames(list []people.Link) string {
	ps := make([]people.Person, len(list))
	for i, l := range list {
		ps[i] = l.Person
	}
	return names(ps)
}

func TestCreateRefusesDuplicates(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	create := func(p people.Person) error {
		p.SchoolID = f.school
		return f.db.InTx(ctx, func(tx pgx.Tx) error { return people.CreateTx(ctx, tx, &p) })
	}
	if err := create(people.Person{Kind: people.Staff, StaffRole: people.Volunteer, GivenName: "D", FamilyName: "O", Email: "DOKAFOR@school.example"}); apperr.FieldNames(err) != "email" {
		t.Fatalf("a second member of staff with the address: %v", err)
	}
	if err := create(people.Person{Kind: people.Pupil, GivenName: "Another", FamilyName: "Ada", YearGroup: year(4), MISID: "A123"}); apperr.FieldNames(err) != "mis_id" {
		t.Fatalf("a second pupil with the MIS id: %v", err)
	}
	// The same MIS id for another kind of person, or at another school, is fine.
	if err := create(people.Person{Kind: people.Staff, StaffRole: people.Teacher, GivenName: "Ann", FamilyName: "Code", MISID: "A123"}); err != nil {
		t.Fatalf("staff code equal to a UPN: %v", err)
	}
	if err := create(people.Person{Kind: people.Pupil, GivenName: "No", FamilyName: "Year"}); apperr.FieldNames(err) != "year_group" {
		t.Fatalf("invalid: %v", err)
	}
	var n int
	if err := f.db.Pool.QueryRow(ctx, `SELECT count(*) FROM people WHERE school_id = $1`, f.school).Scan(&n); err != nil || n != len(f.ids) {
		t.Fatalf("people: %d, want %d (the fixture and one)", n, len(f.ids))
	}
	got, err := f.st.Get(ctx, f.school, f.ids["samira"])
	if err != nil || got.Kind != people.Parent || got.Email != "samira@home.example" || got.Mobile != "07700 900123" || got.LeftAt != nil {
		t.Fatalf("get: %v %+v", err, got)
	}
	if got, err := f.st.Get(ctx, f.school, f.ids["ada"]); err != nil || got.YearGroup == nil || *got.YearGroup != 3 || got.RegClass != "3B" || got.MISID != "A123" {
		t.Fatalf("pupil: %v %+v", err, got)
	}
	if got, _ := f.st.Get(ctx, f.school, f.ids["dev"]); got.LeftAt == nil || !got.LeftAt.Equal(f.leftOn) {
		t.Fatalf("leaver: %+v", got.LeftAt)
	}
}

func TestTenancyAndKind(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.st.Get(ctx, f.school, f.stranger); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("another school's pupil: %v", err)
	}
	if _, err := f.st.GetKind(ctx, f.school, f.ids["samira"], people.Pupil); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("a parent asked for as a pupil: %v", err)
	}
	if p, err := f.st.GetKind(ctx, f.school, f.ids["ada"], people.Pupil); err != nil || p.GivenName != "Ada" {
		t.Fatalf("pupil: %v", err)
	}
	if _, err := f.st.ChildOf(ctx, f.school, f.ids["samira"], f.stranger); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("another school's child: %v", err)
	}
}

func TestListStaff(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	for _, c := range []struct {
		filter people.StaffFilter
		want   string
	}{
		{people.StaffFilter{}, "Helen ashcroft, Farah Begum, Daniel Okafor"},
		{people.StaffFilter{WithLeavers: true}, "Helen ashcroft, Farah Begum, Old Caretaker, Daniel Okafor"},
		{people.StaffFilter{Role: people.Teacher}, "Helen ashcroft, Daniel Okafor"},
		{people.StaffFilter{Search: " okaf "}, "Daniel Okafor"},
		{people.StaffFilter{Search: "helen ASH"}, "Helen ashcroft"},
		{people.StaffFilter{Search: "@school.example"}, "Helen ashcroft, Daniel Okafor"},
		// Search is text, not a pattern: % and _ match only themselves.
		{people.StaffFilter{Search: "100%"}, "Helen ashcroft"},
		{people.StaffFilter{Search: "%"}, "Helen ashcroft"},
		{people.StaffFilter{Search: "_"}, ""},
		{people.StaffFilter{Search: "Caretaker"}, ""},
		{people.StaffFilter{Search: "Caretaker", WithLeavers: true}, "Old Caretaker"},
		{people.StaffFilter{Search: "Samira"}, ""},
	} {
		got, err := f.st.ListStaff(ctx, f.school, c.filter)
		if err != nil || names(got) != c.want {
			t.Errorf("%+v: %v %q, want %q", c.filter, err, names(got), c.want)
		}
	}
}

func TestPupilsAndClasses(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	for _, c := range []struct {
		filter people.PupilFilter
		want   string
	}{
		// By year group, class, then family name; leavers and other schools never.
		{people.PupilFilter{}, "Benjamin Walsh, Nora Unplaced, Cleo Adams, Ada Walsh"},
		{people.PupilFilter{YearGroup: year(3)}, "Cleo Adams, Ada Walsh"},
		{people.PupilFilter{YearGroup: year(0)}, "Benjamin Walsh"},
		{people.PupilFilter{YearGroup: year(6)}, ""},
		{people.PupilFilter{RegClass: " 3B "}, "Cleo Adams, Ada Walsh"},
		{people.PupilFilter{Search: "ben"}, "Benjamin Walsh"},
		{people.PupilFilter{Search: "a123"}, "Ada Walsh"},
		{people.PupilFilter{Search: "Walsh", YearGroup: year(3)}, "Ada Walsh"},
	} {
		got, err := f.st.ListPupils(ctx, f.school, c.filter)
		if err != nil || names(got) != c.want {
			t.Errorf("%+v: %v %q, want %q", c.filter, err, names(got), c.want)
		}
	}
	classes, err := f.st.Classes(ctx, f.school)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range classes {
		got = append(got, fmt.Sprintf("%s %s:%d", c.YearGroup.Label(), c.Name, c.Pupils))
	}
	// Dev's 6C is gone with him; Nora has no class; Ashfield's 3B is not counted.
	if strings.Join(got, ", ") != "Reception RA:1, Year 3 3B:2" {
		t.Fatalf("classes: %v", got)
	}
}

func TestGuardians(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	// Samira's current children, youngest year first; Dev has left.
	kids, err := f.st.ChildrenOf(ctx, f.school, f.ids["samira"])
	if err != nil || linkNames(kids) != "Benjamin Walsh, Ada Walsh" {
		t.Fatalf("children: %v %q", err, linkNames(kids))
	}
	if kids[0].Relationship != "Parent" || !kids[0].ParentalResponsibility || kids[0].Priority != 1 {
		t.Fatalf("link: %+v", kids[0])
	}
	// Ada's parents by priority; Rose has left.
	gs, err := f.st.GuardiansOf(ctx, f.school, f.ids["ada"])
	if err != nil || linkNames(gs) != "Samira Walsh, Tom Walsh" || gs[1].Priority != 2 {
		t.Fatalf("guardians: %v %q", err, linkNames(gs))
	}
	if gs, err := f.st.GuardiansOf(ctx, f.other, f.ids["ada"]); err != nil || len(gs) != 0 {
		t.Fatalf("from another school: %v %q", err, linkNames(gs))
	}
	many, err := f.st.GuardiansOfPupils(ctx, f.school, []int64{f.ids["ada"], f.ids["ben"], f.ids["cleo"], f.stranger})
	if err != nil || len(many) != 2 || linkNames(many[f.ids["ada"]]) != "Samira Walsh, Tom Walsh" || linkNames(many[f.ids["ben"]]) != "Samira Walsh" {
		t.Fatalf("guardians of pupils: %v %v", err, many)
	}
	// A parent reaches only their own current children.
	if l, err := f.st.ChildOf(ctx, f.school, f.ids["tom"], f.ids["ada"]); err != nil || l.Person.ID != f.ids["ada"] {
		t.Fatalf("own child: %v", err)
	}
	for _, pupil := range []string{"ben", "cleo"} {
		if _, err := f.st.ChildOf(ctx, f.school, f.ids["tom"], f.ids[pupil]); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("%s is not Tom's: %v", pupil, err)
		}
	}
	if _, err := f.st.ChildOf(ctx, f.school, f.ids["samira"], f.ids["dev"]); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("a child who has left: %v", err)
	}
}

// TestParentAndChildren: the family page's one statement for the parent
// and their children reads what Get and ChildrenOf read, in ChildrenOf's
// order, for a parent with children, one with none, and nobody.
func TestParentAndChildren(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	for _, who := range []string{"samira", "tom", "okafor-parent"} {
		var parent people.Person
		var kids []people.Link
		var r database.Reads
		people.QueueParentAndChildren(&r, f.school, f.ids[who], &parent, &kids)
		if err := f.db.Send(ctx, &r); err != nil {
			t.Fatalf("%s: %v", who, err)
		}
		wantParent, err := f.st.Get(ctx, f.school, f.ids[who])
		if err != nil {
			t.Fatal(err)
		}
		wantKids, err := f.st.ChildrenOf(ctx, f.school, f.ids[who])
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(parent, wantParent) || len(kids) != len(wantKids) || len(kids) > 0 && !reflect.DeepEqual(kids, wantKids) {
			t.Errorf("%s: %+v with %q; want %+v with %q", who, parent, linkNames(kids), wantParent, linkNames(wantKids))
		}
		if who == "samira" && linkNames(kids) != "Benjamin Walsh, Ada Walsh" {
			t.Errorf("Samira's children: %q", linkNames(kids))
		}
	}
	for _, at := range []struct {
		school, id int64
	}{{f.other, f.ids["samira"]}, {f.school, f.ids["samira"] + 10000}} {
		var parent people.Person
		var kids []people.Link
		var r database.Reads
		people.QueueParentAndChildren(&r, at.school, at.id, &parent, &kids)
		if err := f.db.Send(ctx, &r); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("school %d, person %d: %v, want not found", at.school, at.id, err)
		}
	}
}

// TestNameSQL: the name fragment other packages' statements embed reads
// the person's given and family names, and empty text for none.
func TestNameSQL(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if got := dbtest.Scalar[string](t, f.db, `SELECT `+people.NameSQL("$1::bigint"), f.ids["ben"]); got != "Benjamin Walsh" {
		t.Errorf("NameSQL = %q", got)
	}
	if got := dbtest.Scalar[string](t, f.db, `SELECT `+people.NameSQL("NULL::bigint")); got != "" {
		t.Errorf("no one: %q", got)
	}
}
