package mis

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"signoff/internal/apperr"
	"signoff/internal/people"
)

// PersonChange is one person an import adds, changes or marks as leaving.
type PersonChange struct {
	Name   string
	Ref    string // staff code, UPN or email address
	Line   int    // the file's line; 0 for a leaver
	Fields []FieldChange
	// Suspect: matched by staff code or UPN, yet the name changes with the
	// date of birth (or both names change): perhaps somebody else.
	Suspect bool
}

// FieldChange is one field's value before and after.
type FieldChange struct {
	Field string
	Old   string
	New   string
}

// Warning is a reason to stop and check a file before applying it.
type Warning struct {
	File    string
	Message string
}

// A large share is more than one in five.
func largeShare(n, of int) bool { return n > 0 && n*5 > of }

// Warnings are the reasons to check the files before applying them: more
// than a fifth of the school's people of a kind leaving or renamed, or a
// person matched by staff code or UPN whose name changes with their date
// of birth (or whose whole name changes).
func (r Report) Warnings() []Warning {
	var out []Warning
	for _, f := range r.Files {
		who := map[Kind]string{Staff: "staff", Pupils: "pupils", Contacts: "parents and carers"}[f.Kind]
		if who == "" {
			continue
		}
		if largeShare(f.Leavers, f.Current) {
			out = append(out, Warning{File: f.Name, Message: fmt.Sprintf("%s would mark %d of the school's %d %s as leavers: more than a fifth. Check it is your full, current export of %s.",
				f.Name, f.Leavers, f.Current, who, who)})
		}
		renamed, suspect := 0, 0
		for _, c := range f.ChangedPeople {
			if c.renamed() {
				renamed++
			}
			if c.Suspect {
				suspect++
			}
		}
		if largeShare(renamed, f.Current) {
			out = append(out, Warning{File: f.Name, Message: fmt.Sprintf("%s would rename %d of the school's %d %s: more than a fifth. Check the file is this school's.", f.Name, renamed, f.Current, who)})
		}
		if suspect > 0 {
			key := map[Kind]string{Staff: "staff code", Pupils: "UPN", Contacts: "email address"}[f.Kind]
			out = append(out, Warning{File: f.Name, Message: fmt.Sprintf("In %s, %s matched by %s would change their name and date of birth (or their whole name) at once: check they are the same %s, marked “check” below.",
				f.Name, pluralN(suspect, "person", "people"), key, map[bool]string{true: "person", false: "people"}[suspect == 1])})
		}
	}
	return out
}

// NeedsConfirmation reports whether applying the files needs the office's
// explicit confirmation that they are right.
func (r Report) NeedsConfirmation() bool { return len(r.Warnings()) > 0 }

// errUnconfirmed is the error of an apply that needed confirmation.
func errUnconfirmed() error {
	var v apperr.Validation
	v.Add("confirm", "Tick the box to confirm you have checked the people this import changes")
	return v.Err()
}

func (c PersonChange) renamed() bool {
	for _, f := range c.Fields {
		if f.Field == "First name" || f.Field == "Last name" {
			return true
		}
	}
	return false
}

func pluralN(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func dateText(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format("2 January 2006")
}

func yearText(y *people.YearGroup) string {
	if y == nil {
		return ""
	}
	return y.Label()
}

// fieldChanges lists what differs between a person now and after.
func fieldChanges(a, b people.Person, wasLeaver bool) []FieldChange {
	var out []FieldChange
	add := func(field, old, new string) {
		if old != new {
			out = append(out, FieldChange{Field: field, Old: old, New: new})
		}
	}
	if wasLeaver {
		out = append(out, FieldChange{Field: "Status", Old: "Left", New: "Returns"})
	}
	switch a.Kind {
	case people.Staff:
		add("Staff code", a.MISID, b.MISID)
	case people.Pupil:
		add("UPN", a.MISID, b.MISID)
	}
	add("Title", a.Title, b.Title)
	add("First name", a.GivenName, b.GivenName)
	add("Last name", a.FamilyName, b.FamilyName)
	add("Preferred name", a.PreferredName, b.PreferredName)
	add("Date of birth", dateText(a.DateOfBirth), dateText(b.DateOfBirth))
	add("Email", a.Email, b.Email)
	if a.StaffRole != b.StaffRole {
		add("Role", roleText(a.StaffRole), roleText(b.StaffRole))
	}
	add("Job title", a.JobTitle, b.JobTitle)
	add("Start date", dateText(a.StartedOn), dateText(b.StartedOn))
	add("Year group", yearText(a.YearGroup), yearText(b.YearGroup))
	add("Class", a.RegClass, b.RegClass)
	add("Mobile", a.Mobile, b.Mobile)
	return out
}

func roleText(r people.StaffRole) string {
	if r == "" {
		return ""
	}
	return r.Label()
}

// suspect reports whether a person matched by their MIS identifier looks
// like somebody else: both names change, or a name and the date of birth.
func suspect(a, b people.Person) bool {
	given := !strings.EqualFold(a.GivenName, b.GivenName)
	family := !strings.EqualFold(a.FamilyName, b.FamilyName)
	dob := a.DateOfBirth != nil && b.DateOfBirth != nil && !a.DateOfBirth.Equal(*b.DateOfBirth)
	return (given && family) || ((given || family) && dob)
}

func refOf(p people.Person) string {
	if p.MISID != "" {
		return p.MISID
	}
	return p.Email
}

func leaverChanges(cs []*current) []PersonChange {
	out := make([]PersonChange, 0, len(cs))
	for _, c := range cs {
		out = append(out, PersonChange{Name: c.FullName(), Ref: refOf(c.Person)})
	}
	sortChanges(out)
	return out
}

func sortChanges(cs []PersonChange) {
	slices.SortStableFunc(cs, func(a, b PersonChange) int {
		if a.Line != b.Line {
			return cmp.Compare(a.Line, b.Line)
		}
		return cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
}

// people lists who the staff plan adds, changes and marks as leaving.
func (sp *staffPlan) people(fr *FileReport, st *state) {
	for _, r := range sp.rows {
		pc := PersonChange{Name: r.final.FullName(), Ref: refOf(r.final), Line: r.line}
		switch {
		case r.cur == nil:
			fr.NewPeople = append(fr.NewPeople, pc)
		case r.changed:
			pc.Fields = fieldChanges(r.cur.Person, r.final, r.cur.LeftAt != nil)
			pc.Suspect = r.p.MISID != "" && strings.EqualFold(r.cur.MISID, r.p.MISID) && suspect(r.cur.Person, r.final)
			if len(pc.Fields) == 0 {
				pc.Fields = []FieldChange{{Field: "Sign-in account", Old: "", New: "updated"}}
			}
			fr.ChangedPeople = append(fr.ChangedPeople, pc)
		}
	}
	fr.LeavingPeople = leaverChanges(sp.leavers)
	fr.Current = countCurrent(st.staff)
}

func (pp *pupilPlan) people(fr *FileReport, st *state) {
	for _, r := range pp.rows {
		pc := PersonChange{Name: r.final.FullName(), Ref: refOf(r.final), Line: r.line}
		switch {
		case r.cur == nil:
			fr.NewPeople = append(fr.NewPeople, pc)
		case r.changed:
			pc.Fields = fieldChanges(r.cur.Person, r.final, r.cur.LeftAt != nil)
			pc.Suspect = suspect(r.cur.Person, r.final)
			fr.ChangedPeople = append(fr.ChangedPeople, pc)
		}
	}
	fr.LeavingPeople = leaverChanges(pp.leavers)
	fr.Current = countCurrent(st.pupils)
}

func (cp *contactPlan) people(fr *FileReport, st *state) {
	removedBy := map[int64][]string{}
	for _, k := range cp.removed {
		if pu := st.pupilByID[k.pupilID]; pu != nil {
			removedBy[k.parentID] = append(removedBy[k.parentID], pu.FullName())
		}
	}
	for _, pa := range cp.parents {
		pc := PersonChange{Name: pa.final.FullName(), Ref: pa.final.Email, Line: pa.rows[0].line}
		switch {
		case pa.cur == nil:
			fr.NewPeople = append(fr.NewPeople, pc)
		case pa.changed:
			pc.Fields = fieldChanges(pa.cur.Person, pa.final, pa.cur.LeftAt != nil)
			var added []string
			for upn := range pa.links {
				pu := st.pupilByUPN[upn]
				if pu == nil {
					added = append(added, upn)
					continue
				}
				if _, ok := st.links[linkKey{pa.cur.ID, pu.ID}]; !ok {
					added = append(added, pu.FullName())
				}
			}
			slices.Sort(added)
			if len(added) > 0 {
				pc.Fields = append(pc.Fields, FieldChange{Field: "Children added", New: strings.Join(added, ", ")})
			}
			if rm := removedBy[pa.cur.ID]; len(rm) > 0 {
				slices.Sort(rm)
				pc.Fields = append(pc.Fields, FieldChange{Field: "Children removed", Old: strings.Join(rm, ", ")})
			}
			if len(pc.Fields) == 0 {
				pc.Fields = []FieldChange{{Field: "Link to a child", Old: "", New: "relationship or priority updated"}}
			}
			fr.ChangedPeople = append(fr.ChangedPeople, pc)
		}
	}
	sortChanges(fr.NewPeople)
	sortChanges(fr.ChangedPeople)
	fr.LeavingPeople = leaverChanges(cp.leavers)
	fr.Current = countCurrent(st.parents)
}

func countCurrent(cs []*current) int {
	n := 0
	for _, c := range cs {
		if c.LeftAt == nil {
			n++
		}
	}
	return n
}
