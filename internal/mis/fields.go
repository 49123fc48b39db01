package mis

import (
	"strings"
	"unicode"
)

// Field is a piece of information Signoff reads from an export. A
// File's Mapping names fields by Name ("email", "first_name", ...).
type Field struct {
	Name  string // "first_name"
	Label string // "first name"
	// aliases are the normalised headers (see normHeader) that mean this
	// field, best first: when two headers of a file mean the same field,
	// the better one is used.
	aliases []string
	// examples are headers as MIS exports spell them, for messages.
	examples string
}

// The field names.
const (
	FieldStaffCode     = "staff_code"
	FieldUPN           = "upn"
	FieldTitle         = "title"
	FieldFirstName     = "first_name"
	FieldLastName      = "last_name"
	FieldPreferredName = "preferred_name"
	FieldEmail         = "email"
	FieldRole          = "role"
	FieldJobTitle      = "job_title"
	FieldStartDate     = "start_date"
	FieldYearGroup     = "year_group"
	FieldRegClass      = "reg_class"
	FieldDateOfBirth   = "date_of_birth"
	FieldRelationship  = "relationship"
	FieldPR            = "parental_responsibility"
	FieldPriority      = "priority"
	FieldMobile        = "mobile"
	// FieldIgnore in a Mapping says a header is read by nobody (it is then
	// not reported as unrecognised).
	FieldIgnore = "ignore"
)

var fields = []Field{
	{FieldStaffCode, "staff code", []string{"staffcode", "code", "staffid", "staffref", "staffreference", "staffnumber", "staffno"}, "Staff Code, Code or Staff ID"},
	{FieldUPN, "UPN", []string{"upn", "pupilupn", "studentupn", "uniquepupilnumber"}, "UPN or Pupil UPN"},
	{FieldTitle, "title", []string{"title", "contacttitle"}, "Title"},
	{FieldFirstName, "first name", []string{"forename", "legalforename", "firstname", "legalfirstname", "givenname", "contactforename", "contactfirstname"}, "Forename, First Name or Legal Forename"},
	{FieldLastName, "last name", []string{"surname", "legalsurname", "lastname", "legallastname", "familyname", "contactsurname", "contactlastname"}, "Surname, Last Name or Legal Surname"},
	{FieldPreferredName, "preferred first name", []string{"preferredforename", "preferredname", "preferredfirstname", "knownas", "chosenname"}, "Preferred Forename or Known As"},
	{FieldEmail, "email address", []string{"workemail", "workemailaddress", "email", "emailaddress", "contactemail", "contactemailaddress", "primaryemail"}, "Work Email, Email or Email Address"},
	{FieldRole, "staff role", []string{"role", "staffrole", "stafftype"}, "Role or Staff Role"},
	{FieldJobTitle, "job title", []string{"jobtitle", "post", "position"}, "Job Title"},
	{FieldStartDate, "start date", []string{"startdate", "employmentstartdate", "contractstartdate", "employmentstart"}, "Start Date"},
	{FieldYearGroup, "year group", []string{"year", "yeargroup", "ncyear", "ncyearactual", "curriculumyear"}, "Year, Year Group or NC Year"},
	{FieldRegClass, "registration group", []string{"reggroup", "registrationgroup", "regclass", "registrationclass", "form", "formgroup", "class", "tutorgroup"}, "Reg Group, Registration Group, Form or Class"},
	{FieldDateOfBirth, "date of birth", []string{"dateofbirth", "dob", "birthdate"}, "Date of Birth or DOB"},
	{FieldRelationship, "relationship", []string{"relationship", "relation", "relationshiptopupil", "relationshiptostudent"}, "Relationship or Relation"},
	{FieldPR, "parental responsibility", []string{"parentalresponsibility", "pr", "hasparentalresponsibility"}, "Parental Responsibility or PR"},
	{FieldPriority, "contact priority", []string{"priority", "contactpriority", "contactorder"}, "Priority or Contact Priority"},
	{FieldMobile, "mobile number", []string{"mobile", "mobilephone", "mobilenumber", "mobiletelephone", "telephone", "telephonenumber", "phone", "contactmobile"}, "Mobile, Mobile Phone or Telephone"},
}

// knownUnused are headers MIS exports often carry that Signoff has no use
// for; they are not reported as unrecognised.
var knownUnused = map[string]bool{
	"admissionnumber": true, "admno": true, "adno": true, "gender": true, "sex": true,
	"middlename": true, "middlenames": true, "legalmiddlename": true, "legalmiddlenames": true,
}

// kindFields lists, for each kind, the fields it reads and which of them
// are required.
var kindFields = map[Kind]struct{ required, optional []string }{
	Staff: {
		required: []string{FieldFirstName, FieldLastName, FieldEmail, FieldRole},
		optional: []string{FieldStaffCode, FieldTitle, FieldJobTitle, FieldStartDate},
	},
	Pupils: {
		required: []string{FieldUPN, FieldFirstName, FieldLastName, FieldYearGroup},
		optional: []string{FieldPreferredName, FieldRegClass, FieldDateOfBirth},
	},
	Contacts: {
		required: []string{FieldUPN, FieldFirstName, FieldLastName},
		optional: []string{FieldTitle, FieldEmail, FieldMobile, FieldRelationship, FieldPR, FieldPriority},
	},
}

// FieldsFor returns the fields a file of kind k may hold, required ones
// first: the choices for mapping an unrecognised header.
func FieldsFor(k Kind) []Field {
	var out []Field
	kf := kindFields[k]
	for _, name := range append(append([]string{}, kf.required...), kf.optional...) {
		out = append(out, fieldByName(name))
	}
	return out
}

func fieldByName(name string) Field {
	for _, f := range fields {
		if f.Name == name {
			return f
		}
	}
	return Field{Name: name, Label: name}
}

// aliasIndex maps a normalised header to its field and rank among the
// field's aliases.
var aliasIndex = func() map[string]struct {
	field string
	rank  int
} {
	m := map[string]struct {
		field string
		rank  int
	}{}
	for _, f := range fields {
		for i, a := range f.aliases {
			m[a] = struct {
				field string
				rank  int
			}{f.Name, i}
		}
	}
	return m
}()

// normHeader folds a header for matching: lower case, letters and digits
// only ("Reg. Group" and "reg_group" are both "reggroup").
func normHeader(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mappedField reads the field name a caller wrote in a Mapping: a field
// name in any case or spacing ("first_name", "First name"), or "ignore"
// (or nothing). ok is false for anything else.
func mappedField(v string) (string, bool) {
	n := normHeader(v)
	if n == "" || n == "ignore" || n == "ignored" || n == "none" {
		return FieldIgnore, true
	}
	for _, f := range fields {
		if normHeader(f.Name) == n || normHeader(f.Label) == n {
			return f.Name, true
		}
	}
	return "", false
}
