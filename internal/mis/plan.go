package mis

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/auth"
	"signoff/internal/limits"
	"signoff/internal/people"
)

// current is a person the school holds now, with their account.
type current struct {
	people.Person
	accountID       int64
	accountEmail    string
	accountName     string
	accountDisabled bool
	accountRoles    []string
	claimed         bool // matched by a row of this import
}

type linkKey struct{ parentID, pupilID int64 }

// linkAttrs is what a guardianship link says.
type linkAttrs struct {
	relationship string
	pr           bool
	priority     int
}

// state is the school's people now.
type state struct {
	staff, pupils, parents []*current
	pupilByUPN             map[string]*current
	pupilByID              map[int64]*current
	links                  map[linkKey]linkAttrs
}

// plan is everything an import would do, worked out before anything is
// written: Preview reports it, Apply writes it.
type plan struct {
	schoolID int64
	now      time.Time
	tables   []*table
	state    *state
	staff    *staffPlan
	pupils   *pupilPlan
	contacts *contactPlan
}

func kindRank(k Kind) int {
	if r, ok := kindOrder[k]; ok {
		return r
	}
	return len(kindOrder)
}

func makePlan(ctx context.Context, tx pgx.Tx, schoolID int64, files []File, now time.Time) (*plan, error) {
	p := &plan{schoolID: schoolID, now: now}
	for _, f := range files {
		p.tables = append(p.tables, readTable(f))
	}
	slices.SortStableFunc(p.tables, func(a, b *table) int { return cmp.Compare(kindRank(a.kind), kindRank(b.kind)) })
	first := map[Kind]*table{}
	for _, t := range p.tables {
		if !t.ok {
			continue
		}
		if f, dup := first[t.kind]; dup {
			t.addBad(t.headerLine, "this is a second %s export (after %s): import one file of each kind at a time", t.kind, f.name)
			t.ok = false
			continue
		}
		first[t.kind] = t
	}
	st, err := loadState(ctx, tx, schoolID, first[Contacts] != nil)
	if err != nil {
		return nil, err
	}
	p.state = st
	for _, t := range p.tables {
		if !t.ok {
			continue
		}
		switch t.kind {
		case Staff:
			if p.staff, err = planStaff(ctx, tx, schoolID, t, st); err != nil {
				return nil, err
			}
		case Pupils:
			p.pupils = planPupils(schoolID, t, st, now)
		case Contacts:
			p.contacts = planContacts(schoolID, t, st, p.pupils)
		}
	}
	return p, nil
}

func (p *plan) report() Report {
	var r Report
	for _, t := range p.tables {
		fr := FileReport{Name: t.name, Kind: t.kind, Rows: len(t.rows), UnknownHeaders: t.unknown}
		if !t.ok {
			fr.Kind = kindOrEmpty(t.kind)
		}
		switch {
		case p.staff != nil && p.staff.t == t:
			fr.Counts = p.staff.counts
			p.staff.people(&fr, p.state)
		case p.pupils != nil && p.pupils.t == t:
			fr.Counts = p.pupils.counts
			p.pupils.people(&fr, p.state)
		case p.contacts != nil && p.contacts.t == t:
			fr.Counts = p.contacts.counts
			p.contacts.people(&fr, p.state)
		}
		fr.BadRows = slices.Clone(t.bad)
		sortBad(fr.BadRows)
		r.Files = append(r.Files, fr)
	}
	return r
}

func kindOrEmpty(k Kind) Kind {
	if _, ok := kindOrder[k]; ok {
		return k
	}
	return ""
}

// loadState reads every person of the school (leavers too, so that a
// returner is recognised) and, for a contacts import, the links.
func loadState(ctx context.Context, tx pgx.Tx, schoolID int64, withLinks bool) (*state, error) {
	rows, err := tx.Query(ctx, `SELECT `+people.Columns+`, coalesce(p.account_id, 0), coalesce(a.email, ''), coalesce(a.display_name, ''),
			a.disabled_at IS NOT NULL, coalesce(a.roles::text[], '{}')
		FROM people p LEFT JOIN accounts a ON a.id = p.account_id
		WHERE p.school_id = $1 ORDER BY p.id`, schoolID)
	if err != nil {
		return nil, fmt.Errorf("mis: load people: %w", err)
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*current, error) {
		c := &current{}
		var err error
		c.Person, err = people.Scan(r, &c.accountID, &c.accountEmail, &c.accountName, &c.accountDisabled, &c.accountRoles)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("mis: load people: %w", err)
	}
	st := &state{pupilByUPN: map[string]*current{}, pupilByID: map[int64]*current{}, links: map[linkKey]linkAttrs{}}
	for _, c := range all {
		switch c.Kind {
		case people.Staff:
			st.staff = append(st.staff, c)
		case people.Pupil:
			st.pupils = append(st.pupils, c)
			st.pupilByID[c.ID] = c
			if c.MISID != "" {
				st.pupilByUPN[strings.ToUpper(c.MISID)] = c
			}
		case people.Parent:
			st.parents = append(st.parents, c)
		}
	}
	if !withLinks {
		return st, nil
	}
	lrows, err := tx.Query(ctx, `SELECT parent_id, pupil_id, relationship, parental_responsibility, priority
		FROM guardianships WHERE school_id = $1`, schoolID)
	if err != nil {
		return nil, fmt.Errorf("mis: load links: %w", err)
	}
	defer lrows.Close()
	for lrows.Next() {
		var k linkKey
		var a linkAttrs
		if err := lrows.Scan(&k.parentID, &k.pupilID, &a.relationship, &a.pr, &a.priority); err != nil {
			return nil, fmt.Errorf("mis: load links: %w", err)
		}
		st.links[k] = a
	}
	if err := lrows.Err(); err != nil {
		return nil, fmt.Errorf("mis: load links: %w", err)
	}
	return st, nil
}

// samePerson reports whether a and b hold the same imported fields.
func samePerson(a, b people.Person) bool {
	yearEq := (a.YearGroup == nil) == (b.YearGroup == nil) && (a.YearGroup == nil || *a.YearGroup == *b.YearGroup)
	return a.MISID == b.MISID && a.Title == b.Title && a.GivenName == b.GivenName && a.FamilyName == b.FamilyName &&
		a.Email == b.Email && a.StaffRole == b.StaffRole && a.JobTitle == b.JobTitle && sameDate(a.StartedOn, b.StartedOn) &&
		a.PreferredName == b.PreferredName && yearEq && a.RegClass == b.RegClass && sameDate(a.DateOfBirth, b.DateOfBirth) &&
		a.Mobile == b.Mobile
}

// optionalFields are the columns a file of its kind may lack, and how each
// sets a person's field from a row.
var optionalFields = map[string]func(dst *people.Person, row people.Person){
	FieldTitle:         func(d *people.Person, r people.Person) { d.Title = r.Title },
	FieldJobTitle:      func(d *people.Person, r people.Person) { d.JobTitle = r.JobTitle },
	FieldStartDate:     func(d *people.Person, r people.Person) { d.StartedOn = r.StartedOn },
	FieldPreferredName: func(d *people.Person, r people.Person) { d.PreferredName = r.PreferredName },
	FieldRegClass:      func(d *people.Person, r people.Person) { d.RegClass = r.RegClass },
	FieldDateOfBirth:   func(d *people.Person, r people.Person) { d.DateOfBirth = r.DateOfBirth },
	FieldEmail:         func(d *people.Person, r people.Person) { d.Email = r.Email },
	FieldMobile:        func(d *people.Person, r people.Person) { d.Mobile = r.Mobile },
}

// updated is a person we hold as a row of the file has them, for the
// optional fields named: a column the file has replaces what we hold, one
// it lacks leaves it. The person is current again (a leaver who is back).
// The caller sets the fields every file of its kind has.
func (t *table) updated(held, row people.Person, optional ...string) people.Person {
	for _, f := range optional {
		if t.has(f) {
			optionalFields[f](&held, row)
		}
	}
	held.LeftAt = nil
	return held
}

// rowProblems collects the reasons one row cannot be imported.
type rowProblems []string

func (p *rowProblems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// validatePerson runs the people package's own checks as a last guard.
func (p *rowProblems) validatePerson(pr *people.Person) {
	if len(*p) > 0 {
		return
	}
	if err := pr.Validate(); err != nil {
		for _, f := range apperr.FieldsOf(err) {
			p.add("%s", strings.ToLower(f.Message[:1])+f.Message[1:])
		}
	}
}

func whoOf(first, last, id string) string {
	if n := strings.TrimSpace(first + " " + last); n != "" {
		return n
	}
	if id != "" {
		return id
	}
	return "this row"
}

func roleChoices() string {
	var labels []string
	for _, r := range people.StaffRoles {
		labels = append(labels, r.Label())
	}
	return strings.Join(labels[:len(labels)-1], ", ") + " or " + labels[len(labels)-1]
}

// ---- staff ----

type staffRow struct {
	line    int
	p       people.Person // as the file has it
	cur     *current      // nil for someone new
	final   people.Person // what will be stored
	changed bool
	acct    acctPlan
}

// acctPlan is what happens to a member of staff's sign-in account.
type acctPlan struct {
	create   bool     // create one
	linkTo   int64    // link the person to this existing account of the school
	update   bool     // update the person's account (email, name, roles, re-enable)
	email    string   // the account's email after the import
	name     string   // its display name after
	roles    []string // its roles after
	reenable bool
}

type staffPlan struct {
	t       *table
	rows    []*staffRow
	leavers []*current
	counts  Counts
}

type accountRef struct {
	id       int64
	schoolID int64
	roles    []string
}

func planStaff(ctx context.Context, tx pgx.Tx, schoolID int64, t *table, st *state) (*staffPlan, error) {
	sp := &staffPlan{t: t}
	seenCode, seenEmail := map[string]int{}, map[string]int{}
	mentioned := map[string]bool{}
	for _, r := range t.rows {
		var why rowProblems
		p := people.Person{SchoolID: schoolID, Kind: people.Staff}
		p.MISID = t.get(r, FieldStaffCode)
		p.Title = t.get(r, FieldTitle)
		p.GivenName = t.get(r, FieldFirstName)
		p.FamilyName = t.get(r, FieldLastName)
		p.JobTitle = t.get(r, FieldJobTitle)
		who := whoOf(p.GivenName, p.FamilyName, p.MISID)
		if p.GivenName == "" {
			why.add("no first name")
		}
		if p.FamilyName == "" {
			why.add("no last name")
		}
		if code := strings.ToUpper(p.MISID); code != "" {
			mentioned["code:"+code] = true
			if l, dup := seenCode[code]; dup {
				why.add("staff code %s is also on line %d: each member of staff needs their own", p.MISID, l)
			} else {
				seenCode[code] = r.line
			}
		}
		if raw := t.get(r, FieldEmail); raw == "" {
			why.add("no email address for %s: staff need one to sign in", who)
		} else if e, ok := checkEmail(raw); !ok {
			why.add("the email address %q is not in the right format, like name@example.org", raw)
		} else {
			p.Email = e
			mentioned["email:"+e] = true
			if l, dup := seenEmail[e]; dup {
				why.add("duplicate email address %s: it is also on line %d, and each member of staff needs their own", e, l)
			} else {
				seenEmail[e] = r.line
			}
		}
		if raw := t.get(r, FieldRole); raw == "" {
			why.add("no staff role for %s", who)
		} else if role, ok := people.ParseStaffRole(raw); !ok {
			why.add("unknown staff role %q: use %s", raw, roleChoices())
		} else {
			p.StaffRole = role
		}
		if raw := t.get(r, FieldStartDate); raw != "" {
			if d, ok := parseDate(raw); ok {
				p.StartedOn = &d
			} else {
				why.add("the start date %q is not a date: write it as dd/mm/yyyy", raw)
			}
		}
		why.validatePerson(&p)
		if len(why) > 0 {
			t.addBad(r.line, "%s", strings.Join(why, "; "))
			continue
		}
		sp.rows = append(sp.rows, &staffRow{line: r.line, p: p})
	}

	// Match: by staff code first, then by email.
	byCode, byEmail := map[string]*current{}, map[string]*current{}
	for _, c := range st.staff {
		if c.MISID != "" {
			byCode[strings.ToUpper(c.MISID)] = c
		}
		if c.Email != "" {
			byEmail[c.Email] = c
		}
	}
	for _, r := range sp.rows {
		if c := byCode[strings.ToUpper(r.p.MISID)]; r.p.MISID != "" && c != nil && !c.claimed {
			r.cur, c.claimed = c, true
		}
	}
	for _, r := range sp.rows {
		if c := byEmail[r.p.Email]; r.cur == nil && c != nil && !c.claimed {
			r.cur, c.claimed = c, true
		}
	}
	for _, r := range sp.rows {
		r.final = r.p
		if r.cur == nil {
			continue
		}
		f := t.updated(r.cur.Person, r.p, FieldTitle, FieldJobTitle, FieldStartDate)
		f.GivenName, f.FamilyName, f.Email, f.StaffRole = r.p.GivenName, r.p.FamilyName, r.p.Email, r.p.StaffRole
		if r.p.MISID != "" {
			f.MISID = r.p.MISID
		}
		r.final = f
		r.changed = r.cur.LeftAt != nil || !samePerson(r.cur.Person, f)
	}

	if err := planAccounts(ctx, tx, schoolID, t, sp); err != nil {
		return nil, err
	}
	for _, c := range st.staff {
		// Staff the MIS never supplied (the first administrator, made at set-up)
		// are not the export's to mark as leavers.
		if c.MISID != "" && !c.claimed && c.LeftAt == nil && !mentioned["code:"+strings.ToUpper(c.MISID)] && !mentioned["email:"+c.Email] {
			sp.leavers = append(sp.leavers, c)
		}
	}
	for _, r := range sp.rows {
		switch {
		case r.cur == nil:
			sp.counts.New++
		case r.changed:
			sp.counts.Changed++
		default:
			sp.counts.Unchanged++
		}
	}
	sp.counts.Leavers = len(sp.leavers)
	return sp, nil
}

// planAccounts works out each member of staff's sign-in account: a new
// one (roles staff, and governor for governors), a link to the school's
// existing account with their address, or changes to the one they have.
// A row whose address is another school's sign-in becomes a bad row.
func planAccounts(ctx context.Context, tx pgx.Tx, schoolID int64, t *table, sp *staffPlan) error {
	emails := make([]string, 0, len(sp.rows))
	for _, r := range sp.rows {
		emails = append(emails, r.final.Email)
	}
	rows, err := tx.Query(ctx, `SELECT id, school_id, email, roles::text[] FROM accounts WHERE email = ANY($1)`, emails)
	if err != nil {
		return fmt.Errorf("mis: accounts: %w", err)
	}
	byEmail := map[string]accountRef{}
	for rows.Next() {
		var a accountRef
		var e string
		if err := rows.Scan(&a.id, &a.schoolID, &e, &a.roles); err != nil {
			rows.Close()
			return fmt.Errorf("mis: accounts: %w", err)
		}
		byEmail[e] = a
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("mis: accounts: %w", err)
	}

	// An account whose person changes address follows them (when it had
	// the person's old address); its old address is then free.
	moving := map[int64]bool{}
	for _, r := range sp.rows {
		if c := r.cur; c != nil && c.accountID != 0 && c.Email != r.final.Email && c.accountEmail == c.Email {
			moving[c.accountID] = true
		}
	}
	kept := sp.rows[:0]
	for _, r := range sp.rows {
		wantGov := r.final.StaffRole == people.Governor
		var problem string
		if c := r.cur; c != nil && c.accountID != 0 {
			a := acctPlan{email: c.accountEmail, name: c.accountName, roles: slices.Clone(c.accountRoles)}
			if moving[c.accountID] {
				a.email = r.final.Email
				if h, ok := byEmail[a.email]; ok && h.id != c.accountID && !moving[h.id] {
					problem = fmt.Sprintf("the email address %s is already another sign-in account's", a.email)
				}
			}
			if c.FullName() != r.final.FullName() {
				a.name = r.final.FullName()
			}
			a.roles = withRole(a.roles, auth.Staff, true)
			if wantGov {
				a.roles = withRole(a.roles, auth.Governor, true)
			} else if c.StaffRole == people.Governor {
				a.roles = withRole(a.roles, auth.Governor, false)
			}
			a.reenable = c.LeftAt != nil && c.accountDisabled
			a.update = a.reenable || a.email != c.accountEmail || a.name != c.accountName || !slices.Equal(a.roles, c.accountRoles)
			r.acct = a
		} else if h, ok := byEmail[r.final.Email]; ok && !moving[h.id] {
			if h.schoolID != schoolID {
				problem = fmt.Sprintf("the email address %s is already used to sign in to another school in Signoff", r.final.Email)
			} else {
				roles := withRole(slices.Clone(h.roles), auth.Staff, true)
				if wantGov {
					roles = withRole(roles, auth.Governor, true)
				}
				r.acct = acctPlan{linkTo: h.id, roles: roles, update: !slices.Equal(roles, h.roles)}
			}
		} else {
			r.acct = acctPlan{create: true}
		}
		if problem != "" {
			t.addBad(r.line, "%s", problem)
			continue
		}
		if r.acct.create || r.acct.linkTo != 0 || r.acct.update {
			r.changed = true
		}
		kept = append(kept, r)
	}
	sp.rows = kept
	return nil
}

// withRole returns roles with r added (in) or removed.
func withRole(roles []string, r auth.Role, in bool) []string {
	has := slices.Contains(roles, string(r))
	switch {
	case in && !has:
		return append(roles, string(r))
	case !in && has:
		return slices.DeleteFunc(roles, func(s string) bool { return s == string(r) })
	}
	return roles
}

// ---- pupils ----

type pupilRow struct {
	line    int
	p       people.Person
	cur     *current
	final   people.Person
	changed bool
}

type pupilPlan struct {
	t       *table
	rows    []*pupilRow
	leavers []*current
	upns    map[string]bool // every UPN in the file, bad rows' too
	counts  Counts
}

func planPupils(schoolID int64, t *table, st *state, now time.Time) *pupilPlan {
	pp := &pupilPlan{t: t, upns: map[string]bool{}}
	seen := map[string]int{}
	for _, r := range t.rows {
		var why rowProblems
		p := people.Person{SchoolID: schoolID, Kind: people.Pupil}
		p.GivenName = t.get(r, FieldFirstName)
		p.FamilyName = t.get(r, FieldLastName)
		p.PreferredName = t.get(r, FieldPreferredName)
		p.RegClass = t.get(r, FieldRegClass)
		who := whoOf(p.GivenName, p.FamilyName, "")
		upn, bad := checkUPN(t.get(r, FieldUPN))
		if upn != "" {
			pp.upns[upn] = true
		}
		if bad != "" {
			why.add("%s", bad)
		} else if l, dup := seen[upn]; dup {
			why.add("UPN %s is also on line %d: each pupil has their own", upn, l)
		} else {
			seen[upn] = r.line
			p.MISID = upn
		}
		if p.GivenName == "" {
			why.add("no first name")
		}
		if p.FamilyName == "" {
			why.add("no last name")
		}
		if raw := t.get(r, FieldYearGroup); raw == "" {
			why.add("no year group for %s", who)
		} else if y, ok := people.ParseYearGroup(raw); !ok {
			why.add("invalid year group %q: use Nursery 1 (N1), Nursery, Reception or Year 1 to Year 14", raw)
		} else {
			p.YearGroup = &y
		}
		if raw := t.get(r, FieldDateOfBirth); raw != "" {
			if d, ok := parseDate(raw); !ok {
				why.add("the date of birth %q is not a date: write it as dd/mm/yyyy", raw)
			} else if d.After(now) {
				why.add("the date of birth %s is in the future", raw)
			} else {
				p.DateOfBirth = &d
			}
		}
		why.validatePerson(&p)
		if len(why) > 0 {
			t.addBad(r.line, "%s", strings.Join(why, "; "))
			continue
		}
		pp.rows = append(pp.rows, &pupilRow{line: r.line, p: p})
	}
	for _, r := range pp.rows {
		r.final = r.p
		c := st.pupilByUPN[r.p.MISID]
		if c == nil {
			pp.counts.New++
			continue
		}
		r.cur, c.claimed = c, true
		f := t.updated(c.Person, r.p, FieldPreferredName, FieldRegClass, FieldDateOfBirth)
		f.MISID, f.GivenName, f.FamilyName, f.YearGroup = r.p.MISID, r.p.GivenName, r.p.FamilyName, r.p.YearGroup
		r.final = f
		r.changed = c.LeftAt != nil || !samePerson(c.Person, f)
		if r.changed {
			pp.counts.Changed++
		} else {
			pp.counts.Unchanged++
		}
	}
	for _, c := range st.pupils {
		if !c.claimed && c.LeftAt == nil && !pp.upns[strings.ToUpper(c.MISID)] {
			pp.leavers = append(pp.leavers, c)
		}
	}
	pp.counts.Leavers = len(pp.leavers)
	return pp
}

// ---- contacts ----

type contactRow struct {
	line  int
	upn   string
	p     people.Person // the parent as this row has them
	attrs linkAttrs
}

// parent is one parent or carer of the file: the rows that name them,
// one per child.
type parent struct {
	email   string
	nameKey string
	mobKey  string
	rows    []*contactRow
	links   map[string]linkAttrs // pupil UPN → link
	cur     *current
	final   people.Person
	changed bool
	id      int64 // set when applied
}

type contactPlan struct {
	t       *table
	parents []*parent
	leavers []*current
	// removed are existing links to pupils who are current after the
	// import that the file no longer has (a leaver's links are kept).
	removed []linkKey
	counts  Counts
}

func planContacts(schoolID int64, t *table, st *state, pupils *pupilPlan) *contactPlan {
	cp := &contactPlan{t: t}
	// A contact may name a pupil of this import, or (without a pupils
	// file) one of the school's current pupils.
	knownPupil := func(upn string) bool {
		if pupils != nil {
			return pupils.upns[upn]
		}
		c := st.pupilByUPN[upn]
		return c != nil && c.LeftAt == nil
	}
	byKey := map[string]*parent{}
	lineOf := map[string]int{} // parent key + UPN → line
	mentioned := map[string]bool{}
	for _, r := range t.rows {
		var why rowProblems
		p := people.Person{SchoolID: schoolID, Kind: people.Parent}
		p.Title = t.get(r, FieldTitle)
		p.GivenName = t.get(r, FieldFirstName)
		p.FamilyName = t.get(r, FieldLastName)
		p.Mobile = t.get(r, FieldMobile)
		who := whoOf(p.GivenName, p.FamilyName, "")
		raw := t.get(r, FieldUPN)
		upn, bad := checkUPN(raw)
		switch {
		case raw == "":
			why.add("no pupil UPN: say which pupil %s is a contact of", who)
		case bad != "":
			why.add("unknown pupil reference: %s", bad)
		case !knownPupil(upn):
			why.add("unknown pupil UPN %s: no pupil has it in this import or among the school's current pupils", upn)
		}
		if p.GivenName == "" {
			why.add("no first name")
		}
		if p.FamilyName == "" {
			why.add("no last name")
		}
		if raw := t.get(r, FieldEmail); raw != "" {
			if e, ok := checkEmail(raw); ok {
				p.Email = e
				mentioned[e] = true
			} else {
				why.add("the email address %q is not in the right format, like name@example.org", raw)
			}
		}
		a := linkAttrs{relationship: t.get(r, FieldRelationship), priority: 1}
		if utf8.RuneCountInString(a.relationship) > limits.Short {
			why.add("the relationship must be %d characters or fewer", limits.Short)
		}
		if raw := t.get(r, FieldPR); raw != "" {
			if v, ok := parseYesNo(raw); ok {
				a.pr = v
			} else {
				why.add("parental responsibility %q should be Yes or No", raw)
			}
		}
		if raw := t.get(r, FieldPriority); raw != "" {
			if n, err := strconv.Atoi(raw); err == nil && n >= 1 && n <= 99 {
				a.priority = n
			} else {
				why.add("contact priority %q should be a whole number: 1 for the first contact, 2 for the next", raw)
			}
		}
		why.validatePerson(&p)
		if len(why) > 0 {
			t.addBad(r.line, "%s", strings.Join(why, "; "))
			continue
		}
		nk, mk := nameKey(p.GivenName, p.FamilyName), mobileKey(p.Mobile)
		key := "n\x00" + nk + "\x00" + mk
		if p.Email != "" {
			key = "e\x00" + p.Email + "\x00" + nk
		}
		if l, dup := lineOf[key+"\x00"+upn]; dup {
			t.addBad(r.line, "%s is listed twice for pupil %s (also on line %d)", who, upn, l)
			continue
		}
		lineOf[key+"\x00"+upn] = r.line
		pa := byKey[key]
		if pa == nil {
			pa = &parent{email: p.Email, nameKey: nk, mobKey: mk, links: map[string]linkAttrs{}}
			byKey[key] = pa
			cp.parents = append(cp.parents, pa)
		}
		pa.rows = append(pa.rows, &contactRow{line: r.line, upn: upn, p: p, attrs: a})
		pa.links[upn] = a
	}

	// Match existing parents: by email (and name, when several people
	// share an address), then by name and mobile.
	byEmail, byNameMobile := map[string][]*current{}, map[string][]*current{}
	for _, c := range st.parents {
		if c.Email != "" {
			byEmail[c.Email] = append(byEmail[c.Email], c)
		}
		k := nameKey(c.GivenName, c.FamilyName) + "\x00" + mobileKey(c.Mobile)
		byNameMobile[k] = append(byNameMobile[k], c)
	}
	perEmail := map[string]int{}
	for _, pa := range cp.parents {
		if pa.email != "" {
			perEmail[pa.email]++
		}
	}
	unclaimed := func(cs []*current) []*current {
		return slices.DeleteFunc(slices.Clone(cs), func(c *current) bool { return c.claimed })
	}
	for _, pa := range cp.parents {
		if pa.email == "" {
			continue
		}
		cands := unclaimed(byEmail[pa.email])
		for _, c := range cands {
			if nameKey(c.GivenName, c.FamilyName) == pa.nameKey {
				pa.cur = c
				break
			}
		}
		if pa.cur == nil && len(cands) == 1 && perEmail[pa.email] == 1 {
			pa.cur = cands[0] // one person at this address, whose name has changed
		}
		if pa.cur != nil {
			pa.cur.claimed = true
		}
	}
	for _, pa := range cp.parents {
		if pa.cur != nil {
			continue
		}
		if cands := unclaimed(byNameMobile[pa.nameKey+"\x00"+pa.mobKey]); len(cands) > 0 {
			pa.cur = cands[0]
			pa.cur.claimed = true
		}
	}

	// A pupil is current after the import when the pupils file has them
	// or, without one, when they have not left.
	pupilCurrent := func(c *current) bool {
		if pupils != nil {
			return c.MISID != "" && pupils.upns[strings.ToUpper(c.MISID)]
		}
		return c.LeftAt == nil
	}
	for _, pa := range cp.parents {
		f := firstValues(pa.rows)
		if pa.cur != nil {
			g := t.updated(pa.cur.Person, f, FieldTitle, FieldEmail, FieldMobile)
			g.GivenName, g.FamilyName = f.GivenName, f.FamilyName
			f = g
		}
		pa.final = f
		if pa.cur == nil {
			cp.counts.New++
			continue
		}
		pa.changed = pa.cur.LeftAt != nil || !samePerson(pa.cur.Person, f)
		for upn, a := range pa.links {
			pu := st.pupilByUPN[upn]
			if pu == nil {
				pa.changed = true // a new pupil
				continue
			}
			if old, ok := st.links[linkKey{pa.cur.ID, pu.ID}]; !ok || old != a {
				pa.changed = true
			}
		}
	}
	claimedBy := map[int64]*parent{}
	for _, pa := range cp.parents {
		if pa.cur != nil {
			claimedBy[pa.cur.ID] = pa
		}
	}
	for k := range st.links {
		pu := st.pupilByID[k.pupilID]
		if pu == nil || !pupilCurrent(pu) {
			continue // a leaver's links are kept
		}
		pa := claimedBy[k.parentID]
		if pa != nil {
			if _, ok := pa.links[strings.ToUpper(pu.MISID)]; ok && pu.MISID != "" {
				continue
			}
			pa.changed = true
		}
		cp.removed = append(cp.removed, k)
	}
	for _, pa := range cp.parents {
		if pa.cur == nil {
			continue
		}
		if pa.changed {
			cp.counts.Changed++
		} else {
			cp.counts.Unchanged++
		}
	}
	for _, c := range st.parents {
		if !c.claimed && c.LeftAt == nil && !(c.Email != "" && mentioned[c.Email]) {
			cp.leavers = append(cp.leavers, c)
		}
	}
	cp.counts.Leavers = len(cp.leavers)
	return cp
}

// firstValues is a parent as their rows have them: each field from the
// first row that has it.
func firstValues(rows []*contactRow) people.Person {
	p := rows[0].p
	for _, r := range rows[1:] {
		if p.Title == "" {
			p.Title = r.p.Title
		}
		if p.Mobile == "" {
			p.Mobile = r.p.Mobile
		}
	}
	return p
}
