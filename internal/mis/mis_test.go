package mis_test

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/text/encoding/charmap"
	xunicode "golang.org/x/text/encoding/unicode"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/database"
	"signoff/internal/database/dbtest"
	"signoff/internal/mis"
	"signoff/internal/people"
	"signoff/internal/schools"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var actor = audit.System("mis test")

// samplesDir holds our own MIS-shaped exports of a fictional school
// (Larkrise Primary), as messy as real ones: staff.csv is UTF-8 with a byte
// order mark and CRLF, with blank lines, quoted commas and an apostrophe in
// a staff code; pupils.csv is Windows-1252 (Zoë, Inès) with CRLF, mixed
// year spellings (Reception, Year 1, Y2, 4) and unused columns; contacts.csv
// is UTF-8 with LF, blank lines, and mobiles written with and without +44.
func samplesDir(testing.TB) string { return "testdata" }

func must[T any](v T, _ error) T { return v }

// sampleFiles returns the three sample exports, contacts first to show
// that the order given does not matter.
func sampleFiles(t testing.TB) []mis.File {
	t.Helper()
	dir := samplesDir(t)
	var out []mis.File
	for _, n := range []string{"contacts.csv", "staff.csv", "pupils.csv"} {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, mis.File{Name: n, Data: data})
	}
	return out
}

func sampleRows(t testing.TB, name string) []map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(samplesDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

// expectedParents is the number of distinct parents and carers in
// testdata/contacts.csv (78 rows): 56 distinct email addresses, and 7
// people without one told apart by name and mobile: 6 fathers, and a
// childminder listed for two pupils with her mobile written two ways.
func expectedParents(testing.TB) int { return 63 }

func newSchool(t testing.TB, db *database.DB, slug string) schools.School {
	t.Helper()
	s := schools.School{Slug: slug, Name: "Oakfield Primary School"}
	if err := db.InTx(context.Background(), func(tx pgx.Tx) error { return schools.CreateTx(context.Background(), tx, &s) }); err != nil {
		t.Fatal(err)
	}
	return s
}

// oakfield is a test's own database with a new school, Oakfield, and the
// MIS store over it.
func oakfield(t *testing.T) (context.Context, *database.DB, schools.School, *mis.Store) {
	t.Helper()
	db := dbtest.New(t)
	return context.Background(), db, newSchool(t, db, "oakfield"), mis.NewStore(db)
}

// snapshot dumps everything an import may touch, timestamps included,
// so that "nothing changed" can be checked exactly.
func snapshot(t testing.TB, db *database.DB, schoolID int64) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT * FROM people WHERE school_id = $1 ORDER BY id`,
		`SELECT * FROM guardianships WHERE school_id = $1 ORDER BY parent_id, pupil_id`,
		`SELECT * FROM accounts WHERE school_id = $1 ORDER BY id`,
	} {
		rows, err := db.Pool.Query(context.Background(), q, schoolID)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			v, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, v...)
		}
		rows.Close()
	}
	return b.String()
}

func count(t testing.TB, db *database.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func fileReport(t testing.TB, r mis.Report, k mis.Kind) mis.FileReport {
	t.Helper()
	for _, f := range r.Files {
		if f.Kind == k {
			return f
		}
	}
	t.Fatalf("no %s file in the report: %+v", k, r)
	return mis.FileReport{}
}

func wantCounts(t testing.TB, r mis.Report, k mis.Kind, want mis.Counts) {
	t.Helper()
	if got := fileReport(t, r, k).Counts; got != want {
		t.Errorf("%s: got %v, want %v", k, got, want)
	}
}

func TestSampleUPNsPassTheCheckLetter(t *testing.T) {
	for _, r := range sampleRows(t, "pupils.csv") {
		upn := r["UPN"]
		if l, ok := mis.UPNCheckLetter(upn[1:]); !ok || l != upn[0] {
			t.Errorf("%s: check letter %c, ok %v", upn, l, ok)
		}
	}
	// 207000016049: 2×2 + 7×4 + 1×9 + 6×10 + 4×12 + 9×13 = 266, and
	// 266 mod 23 = 13, which is P (A=0 … H=7, J=8 … N=12, P=13).
	if l, _ := mis.UPNCheckLetter("207000016049"); l != 'P' {
		t.Errorf("207000016049: got %c, want P", l)
	}
	// A temporary UPN ends in a letter, counted as its place in the list.
	if _, ok := mis.UPNCheckLetter("20700001604A"); !ok {
		t.Error("a temporary UPN was refused")
	}
	if _, ok := mis.UPNCheckLetter("20700001604I"); ok {
		t.Error("a UPN ending in I (never used) was accepted")
	}
}

func TestSamplesImportCleanlyAndAgainChangesNothing(t *testing.T) {
	t.Parallel()
	ctx, db, s, store := oakfield(t)
	files := sampleFiles(t)
	parents := expectedParents(t)

	prev, err := store.Preview(ctx, s.ID, files)
	if err != nil {
		t.Fatal(err)
	}
	if !prev.OK() {
		t.Fatalf("bad rows in the samples: %v", prev.BadRows())
	}
	if got := []mis.Kind{prev.Files[0].Kind, prev.Files[1].Kind, prev.Files[2].Kind}; !slices.Equal(got, []mis.Kind{mis.Staff, mis.Pupils, mis.Contacts}) {
		t.Fatalf("files not in staff, pupils, contacts order: %v", got)
	}
	for _, f := range prev.Files {
		if len(f.UnknownHeaders) > 0 {
			t.Errorf("%s: unknown headers %v", f.Name, f.UnknownHeaders)
		}
	}
	wantCounts(t, prev, mis.Staff, mis.Counts{New: 24})
	wantCounts(t, prev, mis.Pupils, mis.Counts{New: 42})
	wantCounts(t, prev, mis.Contacts, mis.Counts{New: parents})
	if n := count(t, db, `SELECT count(*) FROM people`); n != 0 {
		t.Fatalf("preview wrote %d people", n)
	}

	rep, err := store.Apply(ctx, s.ID, actor, files)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary() != fmt.Sprintf("new %d, changed 0, unchanged 0, leavers 0", 24+42+parents) {
		t.Fatalf("summary %q", rep.Summary())
	}
	for q, want := range map[string]int{
		`SELECT count(*) FROM people WHERE kind = 'staff' AND left_at IS NULL`:                        24,
		`SELECT count(*) FROM people WHERE kind = 'pupil' AND left_at IS NULL`:                        42,
		`SELECT count(*) FROM people WHERE kind = 'parent' AND left_at IS NULL`:                       parents,
		`SELECT count(*) FROM guardianships`:                                                          len(sampleRows(t, "contacts.csv")),
		`SELECT count(*) FROM people p JOIN accounts a ON a.id = p.account_id WHERE p.kind = 'staff'`: 24,
		`SELECT count(*) FROM accounts WHERE 'governor' = ANY(roles)`:                                 3,
		`SELECT count(*) FROM accounts WHERE NOT 'staff' = ANY(roles)`:                                0,
		`SELECT count(*) FROM audit_log WHERE action = 'import.applied'`:                              3,
		// Siblings share one parent record: parents with two or more links
		// (the Carricks' and the Lindqvists' two parents each, and the childminder).
		`SELECT count(*) FROM (SELECT parent_id FROM guardianships GROUP BY parent_id HAVING count(*) > 1) x`: 5,
	} {
		if got := count(t, db, q); got != want {
			t.Errorf("%s: got %d, want %d", q, got, want)
		}
	}

	// Names, dates and links as the files have them (Zoë's ë is one byte
	// in the Windows-1252 file).
	ps := people.NewStore(db)
	var id int64
	if err := db.Pool.QueryRow(ctx, `SELECT id FROM people WHERE mis_id = 'M938402124001'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	pupil, err := ps.Get(ctx, s.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	if pupil.GivenName != "Zoë" || pupil.FamilyName != "Ashdown" || pupil.YearGroup == nil || *pupil.YearGroup != 0 ||
		pupil.RegClass != "RW" || pupil.DateOfBirth == nil || pupil.DateOfBirth.Format("2006-01-02") != "2020-06-08" {
		t.Errorf("pupil: %+v", pupil)
	}
	guardians, err := ps.GuardiansOf(ctx, s.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(guardians) != 2 || guardians[0].Person.GivenName != "Rowena" || guardians[0].Relationship != "Mother" ||
		!guardians[0].ParentalResponsibility || guardians[0].Priority != 1 || guardians[1].Priority != 2 ||
		guardians[1].Person.GivenName != "Anwar" || guardians[1].ParentalResponsibility {
		t.Errorf("guardians: %+v", guardians)
	}
	var staffName, code string
	if err := db.Pool.QueryRow(ctx, `SELECT family_name, mis_id FROM people WHERE email = 'godonoghue3@larkrise-primary.example.sch.uk'`).
		Scan(&staffName, &code); err != nil || staffName != "O'Donoghue" || code != "O'03" {
		t.Errorf("O'Donoghue: %q %q %v", staffName, code, err)
	}
	// Quoted commas stay inside their field.
	var jobTitle, surname string
	if err := db.Pool.QueryRow(ctx, `SELECT job_title FROM people WHERE mis_id = 'PK02'`).Scan(&jobTitle); err != nil || jobTitle != "Teacher, Year 6 lead" {
		t.Errorf("job title with a comma: %q %v", jobTitle, err)
	}
	if err := db.Pool.QueryRow(ctx, `SELECT family_name FROM people WHERE mis_id = 'H938402124006'`).Scan(&surname); err != nil || surname != "Fairbairn, Hollis" {
		t.Errorf("surname with a comma: %q %v", surname, err)
	}
	if n := count(t, db, `SELECT count(*) FROM people WHERE given_name = 'Aleksandra' AND family_name = 'Dvořák'`); n != 1 {
		t.Errorf("Dvořák from the UTF-8 file: %d people", n)
	}
	// A childminder without an email, listed for two pupils with her
	// mobile written two ways, is one person.
	if n := count(t, db, `SELECT count(*) FROM people WHERE kind = 'parent' AND given_name = 'Verity' AND family_name = 'Ashgrove'`); n != 1 {
		t.Errorf("Verity Ashgrove: %d people", n)
	}
	if n := count(t, db, `SELECT count(*) FROM guardianships g JOIN people p ON p.id = g.parent_id WHERE p.given_name = 'Verity' AND p.family_name = 'Ashgrove' AND p.email IS NULL`); n != 2 {
		t.Errorf("Verity Ashgrove: %d links", n)
	}

	before := snapshot(t, db, s.ID)
	again, err := store.Apply(ctx, s.ID, actor, sampleFiles(t))
	if err != nil {
		t.Fatal(err)
	}
	wantCounts(t, again, mis.Staff, mis.Counts{Unchanged: 24})
	wantCounts(t, again, mis.Pupils, mis.Counts{Unchanged: 42})
	wantCounts(t, again, mis.Contacts, mis.Counts{Unchanged: parents})
	if after := snapshot(t, db, s.ID); after != before {
		t.Fatal("importing the same files again changed the database")
	}
}

// crlf joins lines with CRLF, after a UTF-8 byte order mark.
func crlf(lines ...string) []byte {
	return []byte("\ufeff" + strings.Join(lines, "\r\n") + "\r\n")
}

func TestBrokenFilesAreRefusedWholeWithEveryRowExplained(t *testing.T) {
	t.Parallel()
	ctx, db, s, store := oakfield(t)
	if _, err := store.Apply(ctx, s.ID, actor, sampleFiles(t)); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, db, s.ID)
	audits := count(t, db, `SELECT count(*) FROM audit_log`)

	staff := crlf(
		"Staff Code,Title,Forename,Surname,Work Email,Role,Start Date",                            // 1
		`WE01,Miss,Wren,"Ellery, Jr",wellery1@oakfield-primary.example.sch.uk,Teacher,21/09/2013`, // 2: a quoted comma, fine
		"", // 3: blank
		"XX01,Mr,Dup,Licate,WELLERY1@oakfield-primary.example.sch.uk,Teacher,01/01/2020", // 4: duplicate email
		"XX02,Ms,Noah,Mail,,Teacher,01/01/2020",                                          // 5: no email
		"XX03,Dr,Bad,Date,bdate@oakfield-primary.example.sch.uk,Teacher,31/02/2020",      // 6: no such day
		"XX04,Mr,Odd,Role,orole@oakfield-primary.example.sch.uk,Chief Whistler,1/1/2020", // 7: unknown role
	)
	pupils := crlf(
		"UPN,Legal Surname,Legal Forename,Year,Reg Group,Date of Birth", // 1
		"M871234525001,Okoro,Tamsin,Reception,RB,12/03/2020",            // 2: fine
		"A871234525001,Wrong,Check,Reception,RB,12/03/2020",             // 3: wrong check letter
		"", // 4: blank
		`B871234525002,"O'Rourke, Lamb",Máire,Year 15,RB,01/01/2020`, // 5: no such year
		"Q871234525003,Lamb,Perpetua,Reception,RB,2020-13-45",        // 6: bad date
	)
	l, _ := mis.UPNCheckLetter("871234599999")
	unknownUPN := string(l) + "871234599999"
	contacts := crlf(
		"Pupil UPN,Forename,Surname,Relationship,Parental Responsibility,Priority,Email,Mobile,Address",          // 1
		"M871234525001,Ngozi,Okoro,Mother,Yes,1,ngozi.okoro@example.net,07700900123,\"4 Mill Lane\r\nLarkrise\"", // 2-3
		unknownUPN+",Ann,Other,Mother,Yes,1,ann.other@example.net,07700900001,",                                  // 4: unknown pupil
		"M871234525001,Felix,Okoro,Father,Maybe,2,felix.okoro@example.net,,",                                     // 5: bad PR
	)
	files := []mis.File{{Name: "contacts-broken.csv", Data: contacts}, {Name: "staff-broken.csv", Data: staff}, {Name: "pupils-broken.csv", Data: pupils}}

	want := []struct {
		file string
		line int
		says string
	}{
		{"staff-broken.csv", 4, "duplicate email address wellery1@oakfield-primary.example.sch.uk: it is also on line 2"},
		{"staff-broken.csv", 5, "no email address for Noah Mail: staff need one to sign in"},
		{"staff-broken.csv", 6, `the start date "31/02/2020" is not a date`},
		{"staff-broken.csv", 7, `unknown staff role "Chief Whistler"`},
		{"pupils-broken.csv", 3, "malformed UPN A871234525001: its check letter does not match its digits"},
		{"pupils-broken.csv", 5, `invalid year group "Year 15"`},
		{"pupils-broken.csv", 6, `the date of birth "2020-13-45" is not a date`},
		{"contacts-broken.csv", 4, "unknown pupil UPN " + unknownUPN},
		{"contacts-broken.csv", 5, `parental responsibility "Maybe" should be Yes or No`},
	}
	check := func(rep mis.Report) {
		t.Helper()
		bad := rep.BadRows()
		if len(bad) != len(want) {
			t.Errorf("got %d bad rows, want %d:\n%s", len(bad), len(want), joinBad(bad))
		}
		for i, w := range want {
			if i >= len(bad) {
				break
			}
			if b := bad[i]; b.File != w.file || b.Line != w.line || !strings.Contains(b.Reason, w.says) {
				t.Errorf("bad row %d: got %s\nwant %s:%d: …%s…", i, b, w.file, w.line, w.says)
			}
		}
		if u := fileReport(t, rep, mis.Contacts).UnknownHeaders; !slices.Equal(u, []string{"Address"}) {
			t.Errorf("unknown headers: %v", u)
		}
	}
	prev, err := store.Preview(ctx, s.ID, files)
	if err != nil {
		t.Fatal(err)
	}
	check(prev)
	rep, err := store.Apply(ctx, s.ID, actor, files)
	if apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("apply of broken files: %v", err)
	}
	check(rep)
	if snapshot(t, db, s.ID) != before || count(t, db, `SELECT count(*) FROM audit_log`) != audits {
		t.Fatal("a refused import changed the database")
	}
}

func joinBad(b []mis.BadRow) string {
	var s []string
	for _, r := range b {
		s = append(s, r.String())
	}
	return strings.Join(s, "\n")
}

// without returns the sample file with the rows matching drop removed.
func without(t testing.TB, name string, drop func(line string) bool) mis.File {
	data, err := os.ReadFile(filepath.Join(samplesDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for i, l := range strings.Split(string(data), "\n") {
		if i == 0 || !drop(l) {
			keep = append(keep, l)
		}
	}
	return mis.File{Name: name, Data: []byte(strings.Join(keep, "\n"))}
}

func TestLeaversAreMarkedThenComeBack(t *testing.T) {
	t.Parallel()
	ctx, db, s, store := oakfield(t)
	if _, err := store.Apply(ctx, s.ID, actor, sampleFiles(t)); err != nil {
		t.Fatal(err)
	}
	// Tomasz Pawlak (PK02) leaves; so does Zoë Ashdown with her parents,
	// who have no other child at the school.
	const upn = "M938402124001"
	leaving := []mis.File{
		without(t, "staff.csv", func(l string) bool { return strings.HasPrefix(l, "PK02,") }),
		without(t, "pupils.csv", func(l string) bool { return strings.HasPrefix(l, upn) }),
		without(t, "contacts.csv", func(l string) bool { return strings.HasPrefix(l, upn) }),
	}
	// The school's first administrator, made at set-up rather than by the
	// MIS, is in no export: the import must not mark her as having left.
	var adminID int64
	if err := db.Pool.QueryRow(ctx, `INSERT INTO people (school_id, kind, given_name, family_name, email, staff_role)
		VALUES ($1, 'staff', 'Grace', 'Setup', 'grace.setup@oakfield.example', 'support') RETURNING id`, s.ID).Scan(&adminID); err != nil {
		t.Fatal(err)
	}
	db.Now = func() time.Time { return time.Date(2026, 7, 20, 15, 0, 0, 0, time.UTC) }
	rep, err := store.Apply(ctx, s.ID, actor, leaving)
	if err != nil {
		t.Fatal(err)
	}
	var adminLeft *time.Time
	if err := db.Pool.QueryRow(ctx, `SELECT left_at FROM people WHERE id = $1`, adminID).Scan(&adminLeft); err != nil || adminLeft != nil {
		t.Fatalf("a member of staff the MIS never supplied was marked as left (%v, %v)", adminLeft, err)
	}
	parents := expectedParents(t)
	wantCounts(t, rep, mis.Staff, mis.Counts{Unchanged: 23, Leavers: 1})
	wantCounts(t, rep, mis.Pupils, mis.Counts{Unchanged: 41, Leavers: 1})
	wantCounts(t, rep, mis.Contacts, mis.Counts{Unchanged: parents - 2, Leavers: 2})

	var leftAt *time.Time
	var disabled bool
	if err := db.Pool.QueryRow(ctx, `SELECT p.left_at, a.disabled_at IS NOT NULL FROM people p JOIN accounts a ON a.id = p.account_id
		WHERE p.mis_id = 'PK02'`).Scan(&leftAt, &disabled); err != nil {
		t.Fatal(err)
	}
	if leftAt == nil || !leftAt.Equal(db.Now()) || !disabled {
		t.Fatalf("leaver: left %v, account disabled %v", leftAt, disabled)
	}
	staff, err := people.NewStore(db).ListStaff(ctx, s.ID, people.StaffFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(staff) != 23+1 || slices.ContainsFunc(staff, func(p people.Person) bool { return p.MISID == "PK02" }) { // 23 from the MIS and the administrator
		t.Fatalf("the leaver is still listed: %d staff", len(staff))
	}
	if n := count(t, db, `SELECT count(*) FROM people WHERE left_at IS NOT NULL`); n != 4 {
		t.Fatalf("%d leavers", n)
	}
	// Nobody is deleted, and the leaving pupil keeps their links.
	if n := count(t, db, `SELECT count(*) FROM guardianships g JOIN people p ON p.id = g.pupil_id WHERE p.mis_id = $1`, upn); n != 2 {
		t.Fatalf("the leaver's links: %d", n)
	}

	// Importing the leavers' files again changes nothing more.
	again, err := store.Preview(ctx, s.ID, leaving)
	if err != nil {
		t.Fatal(err)
	}
	if again.Summary() != fmt.Sprintf("new 0, changed 0, unchanged %d, leavers 0", 23+41+parents-2) {
		t.Fatalf("again: %s", again.Summary())
	}

	// They come back.
	back, err := store.Apply(ctx, s.ID, actor, sampleFiles(t))
	if err != nil {
		t.Fatal(err)
	}
	wantCounts(t, back, mis.Staff, mis.Counts{Changed: 1, Unchanged: 23})
	wantCounts(t, back, mis.Pupils, mis.Counts{Changed: 1, Unchanged: 41})
	wantCounts(t, back, mis.Contacts, mis.Counts{Changed: 2, Unchanged: parents - 2})
	if n := count(t, db, `SELECT count(*) FROM people WHERE left_at IS NOT NULL`); n != 0 {
		t.Fatalf("%d still marked as leavers", n)
	}
	if n := count(t, db, `SELECT count(*) FROM accounts WHERE disabled_at IS NOT NULL`); n != 0 {
		t.Fatalf("%d accounts still disabled", n)
	}
	if n := count(t, db, `SELECT count(*) FROM people`); n != 24+42+parents+1 { // and the administrator
		t.Fatalf("returners were duplicated: %d people", n)
	}
}

func TestChangesAreMatchedByCodeThenEmail(t *testing.T) {
	t.Parallel()
	ctx, db, s, store := oakfield(t)
	if _, err := store.Apply(ctx, s.ID, actor, sampleFiles(t)); err != nil {
		t.Fatal(err)
	}
	staff := must(os.ReadFile(filepath.Join(samplesDir(t), "staff.csv")))
	text := string(staff)
	// A new address for PK02 (matched by code; the account follows), a
	// new code for AD04 (matched by email), and a governor no longer.
	text = strings.Replace(text, "tpawlak2@larkrise-primary.example.sch.uk", "tomasz.pawlak@larkrise-primary.example.sch.uk", 1)
	text = strings.Replace(text, "AD04,", "ZA04,", 1)
	text = strings.Replace(text, "RT20,Mrs,Farida,Rahmat,frahmat20@larkrise-primary.example.sch.uk,Governor", "RT20,Mrs,Farida,Rahmat,frahmat20@larkrise-primary.example.sch.uk,Volunteer", 1)
	contacts := string(must(os.ReadFile(filepath.Join(samplesDir(t), "contacts.csv"))))
	// A relationship changes, and a pupil loses a contact.
	contacts = strings.Replace(contacts, "M938402124001,Mr,Anwar,Ashdown,Father,No,2", "M938402124001,Mr,Anwar,Ashdown,Stepfather,No,2", 1)
	contacts = strings.Replace(contacts, "U938402124005,Mr,Ignatius,Ingram,Father,No,2,ignatius4@example.net,+44 7700 900167\n", "", 1)
	files := []mis.File{{Name: "staff.csv", Data: []byte(text)}, {Name: "contacts.csv", Data: []byte(contacts)}}
	rep, err := store.Apply(ctx, s.ID, actor, files)
	if err != nil {
		t.Fatal(err)
	}
	parents := expectedParents(t)
	wantCounts(t, rep, mis.Staff, mis.Counts{Changed: 3, Unchanged: 21})
	wantCounts(t, rep, mis.Contacts, mis.Counts{Changed: 1, Unchanged: parents - 2, Leavers: 1})
	if n := count(t, db, `SELECT count(*) FROM people WHERE kind = 'staff'`); n != 24 {
		t.Fatalf("%d staff", n)
	}
	var accountEmail string
	if err := db.Pool.QueryRow(ctx, `SELECT a.email FROM people p JOIN accounts a ON a.id = p.account_id WHERE p.mis_id = 'PK02'`).Scan(&accountEmail); err != nil ||
		accountEmail != "tomasz.pawlak@larkrise-primary.example.sch.uk" {
		t.Fatalf("account email %q %v", accountEmail, err)
	}
	if n := count(t, db, `SELECT count(*) FROM people WHERE mis_id = 'ZA04' AND email = 'yadeyemi4@larkrise-primary.example.sch.uk'`); n != 1 {
		t.Fatal("the new staff code was not matched by email")
	}
	if n := count(t, db, `SELECT count(*) FROM people p JOIN accounts a ON a.id = p.account_id WHERE p.mis_id = 'RT20' AND 'governor' = ANY(a.roles)`); n != 0 {
		t.Fatal("a former governor kept the governor role")
	}
	if n := count(t, db, `SELECT count(*) FROM guardianships WHERE relationship = 'Stepfather'`); n != 1 {
		t.Fatal("the relationship did not change")
	}
	if n := count(t, db, `SELECT count(*) FROM guardianships g JOIN people p ON p.id = g.pupil_id WHERE p.mis_id = 'U938402124005'`); n != 1 {
		t.Fatalf("the removed contact is still linked: %d links", n)
	}
}

func TestUnrecognisedHeaderCanBeMapped(t *testing.T) {
	t.Parallel()
	ctx, db, s, store := oakfield(t)
	data := []byte("Staff Code,Forename,Surname,Adresse électronique,Role,Shoe Size\n" +
		"AB01,Élodie,Dubois,edubois@oakfield-primary.example.sch.uk,Teacher,5\n")
	f := mis.File{Name: "staff.csv", Data: data}
	rep, err := store.Preview(ctx, s.ID, []mis.File{f})
	if err != nil {
		t.Fatal(err)
	}
	fr := rep.Files[0]
	if fr.Kind != mis.Staff || !slices.Equal(fr.UnknownHeaders, []string{"Adresse électronique", "Shoe Size"}) {
		t.Fatalf("report: %+v", fr)
	}
	if bad := rep.BadRows(); len(bad) != 1 || bad[0].Line != 1 || !strings.Contains(bad[0].Reason, "no column for the email address") {
		t.Fatalf("bad rows: %v", bad)
	}
	if _, err := store.Apply(ctx, s.ID, actor, []mis.File{f}); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("apply without the email column: %v", err)
	}

	f.Mapping = map[string]string{"adresse électronique": "email", "Shoe Size": "ignore"}
	rep, err = store.Apply(ctx, s.ID, actor, []mis.File{f})
	if err != nil {
		t.Fatal(err)
	}
	if fr := rep.Files[0]; fr.New != 1 || len(fr.UnknownHeaders) != 0 {
		t.Fatalf("mapped: %+v", fr)
	}
	if n := count(t, db, `SELECT count(*) FROM people WHERE email = 'edubois@oakfield-primary.example.sch.uk' AND given_name = 'Élodie'`); n != 1 {
		t.Fatal("the mapped column was not imported")
	}

	f.Mapping = map[string]string{"Adresse électronique": "shoe size"}
	rep, _ = store.Preview(ctx, s.ID, []mis.File{f})
	if bad := rep.BadRows(); len(bad) == 0 || !strings.Contains(bad[0].Reason, "not something Signoff reads") {
		t.Fatalf("a mapping to nothing: %v", bad)
	}
}

func TestMessyEncodingsRoundTrip(t *testing.T) {
	t.Parallel()
	ctx, db, s, store := oakfield(t)
	names := []struct{ first, last string }{
		{"Chloé", "O'Brien"}, {"Siobhán", "Ní Bhriain"}, {"Zoë", "Nuñez-García"}, {"Łucja", "Wiśniewska"},
		{"Chloe\u0301", "D'Souza"}, // decomposed accent: kept exactly as written
	}
	var lines []string
	lines = append(lines, "Forename,Surname,Work Email,Role,Staff Code")
	for i, n := range names {
		lines = append(lines, fmt.Sprintf("%q,%q,p%d@oakfield-primary.example.sch.uk,Teacher,T%02d", n.first, n.last, i, i))
	}
	utf8File := crlf(lines...)

	// The same people from Excel: Windows-1252 (which has no Ł or ś, so
	// those two are left out) and UTF-16 with tabs.
	var latin []string
	latin = append(latin, "Forename;Surname;Work Email;Role;Staff Code")
	for i, n := range names[:3] {
		latin = append(latin, fmt.Sprintf("%s;%s;p%d@oakfield-primary.example.sch.uk;Teacher;T%02d", n.first, n.last, i, i))
	}
	cp1252, err := charmap.Windows1252.NewEncoder().Bytes([]byte(strings.Join(latin, "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	utf16 := strings.ReplaceAll(strings.ReplaceAll(string(utf8File), ",", "\t"), "\ufeff", "")
	utf16File, err := xunicode.UTF16(xunicode.LittleEndian, xunicode.UseBOM).NewEncoder().Bytes([]byte(utf16))
	if err != nil {
		t.Fatal(err)
	}

	if _, err := store.Apply(ctx, s.ID, actor, []mis.File{{Name: "staff.csv", Data: utf8File}}); err != nil {
		t.Fatal(err)
	}
	got := func() []string {
		rows, err := db.Pool.Query(ctx, `SELECT given_name || '|' || family_name FROM people ORDER BY mis_id`)
		if err != nil {
			t.Fatal(err)
		}
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	var want []string
	for _, n := range names {
		want = append(want, n.first+"|"+n.last)
	}
	if g := got(); !slices.Equal(g, want) {
		t.Fatalf("names:\n got %q\nwant %q", g, want)
	}
	for _, f := range []mis.File{{Name: "excel.csv", Data: cp1252}, {Name: "unicode.txt", Data: utf16File}} {
		rep, err := store.Preview(ctx, s.ID, []mis.File{f})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() {
			t.Fatalf("%s: %v", f.Name, rep.BadRows())
		}
		wantLeavers := 0
		if f.Name == "excel.csv" {
			wantLeavers = 2
		}
		if c := rep.Files[0].Counts; c.Unchanged != len(names)-wantLeavers || c.Changed != 0 || c.Leavers != wantLeavers {
			t.Errorf("%s read differently: %v", f.Name, c)
		}
	}
}

func TestDatesYearsAndTemporaryUPNs(t *testing.T) {
	t.Parallel()
	ctx, db, s, store := oakfield(t)
	upn := func(rest string) string { l, _ := mis.UPNCheckLetter(rest); return string(l) + rest }
	data := strings.Join([]string{
		"UPN,Forename,Surname,NC Year,Form,DOB,Known As",
		upn("871234525901") + ",Ann,One,N1,N,1/2/2022,",
		upn("871234525902") + ",Ben,Two,Nursery,N,2021-02-01,Benny",
		upn("871234525903") + ",Cat,Three,R,RB,01.02.2020,",
		upn("87123452590A") + ",Dev,Four,Y14,6A,01/02/2008 00:00,",
		strings.ToLower(upn("871234525905")) + ",Eve,Five,Year 3,3B,,",
	}, "\n")
	rep, err := store.Apply(ctx, s.ID, actor, []mis.File{{Name: "pupils.csv", Data: []byte(data)}})
	if err != nil {
		t.Fatalf("%v %v", err, rep.BadRows())
	}
	rows, err := db.Pool.Query(ctx, `SELECT year_group || ' ' || reg_class || ' ' || coalesce(to_char(date_of_birth, 'YYYY-MM-DD'), '-') || ' ' || preferred_name
		FROM people ORDER BY given_name`)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := pgx.CollectRows(rows, pgx.RowTo[string])
	want := []string{"-2 N 2022-02-01 ", "-1 N 2021-02-01 Benny", "0 RB 2020-02-01 ", "14 6A 2008-02-01 ", "3 3B - "}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if n := count(t, db, `SELECT count(*) FROM people WHERE mis_id = $1`, upn("871234525905")); n != 1 {
		t.Fatal("a lower-case UPN was not stored in capitals")
	}
}

func TestParentsSharingAnAddressStayTwoPeople(t *testing.T) {
	t.Parallel()
	ctx, db, s, store := oakfield(t)
	upn := func(rest string) string { l, _ := mis.UPNCheckLetter(rest); return string(l) + rest }
	a, b := upn("871234525801"), upn("871234525802")
	pupils := "UPN,Forename,Surname,Year\n" + a + ",Amy,Smith,Year 1\n" + b + ",Bob,Smith,Year 3\n"
	contacts := "Pupil UPN,Forename,Surname,Relationship,PR,Priority,Email Address,Telephone\n" +
		a + ",Sam,Smith,Mother,Y,1,smiths@example.net,07700 900123\n" +
		a + ",Alex,Smith,Father,Y,2,smiths@example.net,07700900124\n" +
		b + ",Sam,Smith,Mother,Y,1,SMITHS@example.net,+44 7700 900123\n" +
		b + ",Alex,Smith,Father,Y,2,smiths@example.net,07700900124\n" +
		b + ",Gran,Jones,Grandmother,N,3,,07700900125\n"
	files := []mis.File{{Name: "c.csv", Data: []byte(contacts)}, {Name: "p.csv", Data: []byte(pupils)}}
	rep, err := store.Apply(ctx, s.ID, actor, files)
	if err != nil {
		t.Fatalf("%v %v", err, rep.BadRows())
	}
	wantCounts(t, rep, mis.Contacts, mis.Counts{New: 3})
	if n := count(t, db, `SELECT count(*) FROM guardianships`); n != 5 {
		t.Fatalf("%d links", n)
	}
	// Gran gets an email address: matched by name and mobile, not new.
	contacts = strings.Replace(contacts, "Grandmother,N,3,,", "Grandmother,N,3,gran@example.net,", 1)
	rep, err = store.Apply(ctx, s.ID, actor, []mis.File{{Name: "c.csv", Data: []byte(contacts)}})
	if err != nil {
		t.Fatal(err)
	}
	wantCounts(t, rep, mis.Contacts, mis.Counts{Changed: 1, Unchanged: 2})
}

// TestAColumnAFileLacksLeavesWhatIsHeld: a later file without an optional
// column (reg group, date of birth, job title, mobile) changes nobody's
// value of it, and one with the column replaces it.
func TestAColumnAFileLacksLeavesWhatIsHeld(t *testing.T) {
	t.Parallel()
	ctx, db, s, store := oakfield(t)
	l, _ := mis.UPNCheckLetter("871234525811")
	upn := string(l) + "871234525811"
	apply := func(files ...mis.File) {
		t.Helper()
		if rep, err := store.Apply(ctx, s.ID, actor, files); err != nil {
			t.Fatalf("%v %v", err, rep.BadRows())
		}
	}
	held := func() string {
		t.Helper()
		var out string
		err := db.Pool.QueryRow(ctx, `SELECT string_agg(concat_ws('|', given_name, coalesce(nullif(reg_class, ''), '-'),
				coalesce(date_of_birth::text, '-'), coalesce(nullif(job_title, ''), '-'), coalesce(nullif(mobile, ''), '-')), ' ' ORDER BY id)
			FROM people WHERE school_id = $1`, s.ID).Scan(&out)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	apply(mis.File{Name: "p.csv", Data: []byte("UPN,Forename,Surname,Year,Reg Group,Date of Birth\n" + upn + ",Amy,Smith,Year 1,1K,02/03/2019\n")},
		mis.File{Name: "s.csv", Data: []byte("Staff Code,Forename,Surname,Email,Role,Job Title\nT1,Jo,Hale,jo@example.org,Teacher,Class teacher\n")},
		mis.File{Name: "c.csv", Data: []byte("Pupil UPN,Forename,Surname,Relationship,Email,Mobile\n" + upn + ",Sam,Smith,Mother,sam@example.net,07700 900123\n")})
	want := held()
	for _, w := range []string{"Amy|1K|2019-03-02|-|-", "Jo|-|-|Class teacher|-", "Sam|-|-|-|07700 900123"} {
		if !strings.Contains(want, w) {
			t.Fatalf("after the first import: %q lacks %q", want, w)
		}
	}
	apply(mis.File{Name: "p.csv", Data: []byte("UPN,Forename,Surname,Year\n" + upn + ",Amy,Smith,Year 1\n")},
		mis.File{Name: "s.csv", Data: []byte("Staff Code,Forename,Surname,Email,Role\nT1,Jo,Hale,jo@example.org,Teacher\n")},
		mis.File{Name: "c.csv", Data: []byte("Pupil UPN,Forename,Surname,Relationship,Email\n" + upn + ",Sam,Smith,Mother,sam@example.net\n")})
	if got := held(); got != want {
		t.Fatalf("files without the columns changed what is held:\n got %q\nwant %q", got, want)
	}
	apply(mis.File{Name: "p.csv", Data: []byte("UPN,Forename,Surname,Year,Reg Group\n" + upn + ",Amy,Smith,Year 1,1M\n")})
	if got := held(); !strings.Contains(got, "Amy|1M|2019-03-02|") {
		t.Fatalf("a file with the column did not replace it: %q", got)
	}
}

func TestApplyRefusesNothingAndUnknownFiles(t *testing.T) {
	t.Parallel()
	ctx, _, s, store := oakfield(t)
	if _, err := store.Apply(ctx, s.ID, actor, nil); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("no files: %v", err)
	}
	rep, err := store.Apply(ctx, s.ID, actor, []mis.File{
		{Name: "empty.csv"},
		{Name: "what.csv", Data: []byte("Colour,Shape\nred,round\n")},
		{Name: "header-only.csv", Data: []byte("UPN,Forename,Surname,Year\r\n\r\n,,,\r\n")},
		{Name: "quote.csv", Data: []byte("Staff Code,Forename,Surname,Email,Role\nA1,Jo \"JJ\" ,Smith,j@example.org,Teacher\nA2,Al,Smith,a@example.org,Teacher\n")},
	})
	var e *apperr.Error
	if !errors.As(err, &e) || e.Code != apperr.Invalid {
		t.Fatalf("err %v", err)
	}
	got := joinBad(rep.BadRows())
	for _, w := range []string{"quote.csv:2: a quote mark inside a value", "empty.csv:1: the file is empty", "what.csv:1: cannot tell whether",
		"header-only.csv:1: the file has no rows under its header"} {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in\n%s", w, got)
		}
	}
	// Reading goes on after a broken line: A2 is still read.
	if f := fileReport(t, rep, mis.Staff); f.Rows != 1 || f.New != 1 || len(f.BadRows) != 1 {
		t.Errorf("quote.csv: %+v", f)
	}
}

// ---- the benchmark ----

// bigExport returns pupils and contacts exports of a large school:
// pupils pupils, about 1.75 contacts each, siblings sharing parents.
func bigExport(pupils int) (pupilsCSV, contactsCSV []byte, contacts int) {
	var p, c strings.Builder
	p.WriteString("UPN,Legal Surname,Legal Forename,Preferred Forename,Year,Reg Group,Date of Birth\n")
	c.WriteString("Pupil UPN,Title,Forename,Surname,Relationship,Parental Responsibility,Priority,Email,Mobile\n")
	for i := range pupils {
		rest := fmt.Sprintf("8712%08d", i)
		l, _ := mis.UPNCheckLetter(rest)
		upn := string(l) + rest
		fam := i / 2 // two siblings a family
		year := 7 + i%7
		fmt.Fprintf(&p, "%s,Family%d,Child%d,,Year %d,%d%c,%02d/%02d/%d\n", upn, fam, i, year, year, 'A'+rune(i%4), 1+i%28, 1+i%12, 2019-year)
		fmt.Fprintf(&c, "%s,Mrs,Mum%d,Family%d,Mother,Yes,1,mum%d@example.net,07700%06d\n", upn, fam, fam, fam, fam)
		contacts++
		if i%4 != 0 {
			fmt.Fprintf(&c, "%s,Mr,Dad%d,Family%d,Father,Yes,2,dad%d@example.net,07800%06d\n", upn, fam, fam, fam, fam)
			contacts++
		}
	}
	return []byte(p.String()), []byte(c.String()), contacts
}

func BenchmarkApplyPupils(b *testing.B) {
	ctx := context.Background()
	db := dbtest.New(b)
	pupilsCSV, contactsCSV, n := bigExport(8000)
	files := []mis.File{{Name: "pupils.csv", Data: pupilsCSV}, {Name: "contacts.csv", Data: contactsCSV}}
	store := mis.NewStore(db)
	b.Logf("8000 pupils, %d contacts", n)
	b.Run("new", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			s := newSchool(b, db, fmt.Sprintf("bench-%d-%d", b.N, i))
			b.StartTimer()
			if _, err := store.Apply(ctx, s.ID, actor, files); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unchanged", func(b *testing.B) {
		s := newSchool(b, db, fmt.Sprintf("bench-again-%d", b.N))
		if _, err := store.Apply(ctx, s.ID, actor, files); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			rep, err := store.Apply(ctx, s.ID, actor, files)
			if err != nil {
				b.Fatal(err)
			}
			if rep.Total().Unchanged == 0 || rep.Total().New != 0 {
				b.Fatalf("re-import: %s", rep.Summary())
			}
		}
	})
}
