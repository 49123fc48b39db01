package main

import (
	"bytes"
	"context"
	"regexp"
	"signoff/internal/database/dbtest"
	"strings"
	"testing"
)

var setUpLinkRE = regexp.MustCompile(`http://localhost/set-up/[A-Za-z0-9_-]{43}`)

// TestSchoolAndTrustCommands makes a trust of two schools, each with its
// administrator, and a trust administrator, without SQL; and checks the
// refusals say what is wrong and exit 1.
func TestSchoolAndTrustCommands(t *testing.T) {
	url := dbtest.NewURL(t)
	vars := env(map[string]string{"DATABASE_URL": url, "SIGNOFF_BASE_URL": "http://localhost"})
	runIt := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(args, vars, &out, &errOut)
		return code, out.String(), errOut.String()
	}

	code, out, errOut := runIt("trust", "add", "--name", "Oakfield Learning Trust")
	if code != 0 || !strings.Contains(out, "short name: oakfield-learning-trust") {
		t.Fatalf("trust add: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := runIt("trust", "add", "--name", "Oakfield Learning Trust"); code != 1 || !strings.Contains(errOut, "already exists") {
		t.Fatalf("second trust with the same short name: %d %s", code, errOut)
	}
	// No school yet: a trust administrator has nowhere to belong.
	if code, _, errOut := runIt("trust", "admin", "--trust", "oakfield-learning-trust", "--email", "it@oakfield.example.org"); code != 1 || !strings.Contains(errOut, "no school yet") {
		t.Fatalf("trust admin before any school: %d %s", code, errOut)
	}

	code, out, errOut = runIt("school", "add", "--name", "Oakfield Primary School", "--admin-email", "Karen.Holloway@oakfield.example.sch.uk", "--trust", "oakfield-learning-trust")
	if code != 0 || !strings.Contains(out, "short name: oakfield-primary-school") || !strings.Contains(out, "Karen Holloway <karen.holloway@oakfield.example.sch.uk>") ||
		!setUpLinkRE.MatchString(out) || !strings.Contains(out, "7 days") {
		t.Fatalf("school add: %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runIt("school", "add", "--name", "Oakfield Secondary", "--slug", "oakfield-sec", "--admin-name", "Ravi Shah",
		"--admin-email", "rshah@oakfield-sec.example.sch.uk", "--trust", "oakfield-learning-trust")
	if code != 0 || !strings.Contains(out, "short name: oakfield-sec") || !strings.Contains(out, "Ravi Shah") {
		t.Fatalf("second school: %d %s %s", code, out, errOut)
	}
	// The same name again gets a free short name of its own.
	code, out, _ = runIt("school", "add", "--name", "Oakfield Primary School", "--admin-email", "head@other.example.sch.uk")
	if code != 0 || !strings.Contains(out, "short name: oakfield-primary-school-2") {
		t.Fatalf("same name again: %d %s", code, out)
	}

	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"school", "add", "--admin-email", "x@example.org"}, 1, "--name: Enter the school's name"},
		{[]string{"school", "add", "--name", "A School", "--admin-email", "nonsense"}, 1, "--admin-email: Enter the administrator's email address in the right format"},
		{[]string{"school", "add", "--name", "A School", "--admin-email", "x@example.org", "--slug", "Not A Slug"}, 1, "--slug: The short name must be"},
		{[]string{"school", "add", "--name", "A School", "--admin-email", "x@example.org", "--slug", "oakfield-sec"}, 1, "--slug: A school with that short name already exists"},
		{[]string{"school", "add", "--name", "A School", "--admin-email", "rshah@oakfield-sec.example.sch.uk"}, 1, "An account with this email address already exists"},
		{[]string{"school", "add", "--name", "A School", "--admin-email", "x@example.org", "--trust", "nope"}, 1, "There is no trust with the short name nope"},
		{[]string{"school", "add", "--name", "A", "School"}, 2, "put names with spaces in quotes"},
		{[]string{"school"}, 2, "usage: signoff school add"},
		{[]string{"trust", "admin", "--trust", "nope", "--email", "x@example.org"}, 1, "no trust with the short name nope"},
	} {
		code, _, errOut := runIt(c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, want %d with %q:\n%s", c.args, code, c.code, c.want, errOut)
		}
	}

	// A trust administrator: a new account, then an existing one.
	code, out, errOut = runIt("trust", "admin", "--trust", "oakfield-learning-trust", "--email", "it@oakfield.example.org", "--name", "Alex Morgan")
	if code != 0 || !strings.Contains(out, "Alex Morgan <it@oakfield.example.org> is now a trust administrator of Oakfield Learning Trust") || !setUpLinkRE.MatchString(out) {
		t.Fatalf("trust admin: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := runIt("trust", "admin", "--trust", "oakfield-learning-trust", "--email", "it@oakfield.example.org"); code != 1 || !strings.Contains(errOut, "already") {
		t.Fatalf("trust admin twice: %d %s", code, errOut)
	}
	if code, _, errOut := runIt("trust", "admin", "--trust", "oakfield-learning-trust", "--email", "head@other.example.sch.uk"); code != 1 || !strings.Contains(errOut, "outside the trust") {
		t.Fatalf("trust admin from outside the trust: %d %s", code, errOut)
	}

	db, err := openTestDB(url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var schools, admins, trustAdmins int
	_ = db.QueryRow(context.Background(), `SELECT count(*) FROM schools s JOIN trusts t ON t.id = s.trust_id WHERE t.slug = 'oakfield-learning-trust'`).Scan(&schools)
	_ = db.QueryRow(context.Background(), `SELECT count(*) FROM accounts a JOIN people p ON p.account_id = a.id AND p.kind = 'staff' WHERE 'admin' = ANY (a.roles) AND a.school_id = p.school_id`).Scan(&admins)
	_ = db.QueryRow(context.Background(), `SELECT count(*) FROM accounts WHERE roles = '{trust_admin}'`).Scan(&trustAdmins)
	if schools != 2 || admins != 3 || trustAdmins != 1 {
		t.Fatalf("trust schools %d, school administrators with staff records %d, trust admins %d", schools, admins, trustAdmins)
	}

	// The demo is never loaded beside a real school.
	code, out, errOut = runIt("demo")
	if code != 1 || !strings.Contains(errOut, "holds a real school") || strings.Contains(out, "Loaded") {
		t.Fatalf("demo beside a real school: %d %s %s", code, out, errOut)
	}
	var demoSchools int
	_ = db.QueryRow(context.Background(), `SELECT count(*) FROM schools WHERE slug = 'hollybrook'`).Scan(&demoSchools)
	if demoSchools != 0 {
		t.Fatal("the demo school was loaded beside a real one")
	}
}
