// Package people holds everyone a school knows: staff with their roles,
// and (with the import work) pupils and their parents and carers.
package people

import (
	"context"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/database"
	"signoff/internal/limits"
)

// Kind is what a person is to the school.
type Kind string

// The kinds.
const (
	Staff  Kind = "staff"
	Pupil  Kind = "pupil"
	Parent Kind = "parent"
)

// StaffRole is a member of staff's role, which decides what they are asked
// to sign.
type StaffRole string

// The staff roles.
const (
	Teacher           StaffRole = "teacher"
	TeachingAssistant StaffRole = "teaching_assistant"
	Support           StaffRole = "support"
	Governor          StaffRole = "governor"
	Volunteer         StaffRole = "volunteer"
	Contractor        StaffRole = "contractor"
	Visitor           StaffRole = "visitor"
)

// StaffRoles lists every staff role in display order.
var StaffRoles = []StaffRole{Teacher, TeachingAssistant, Support, Governor, Volunteer, Contractor, Visitor}

// Label is the role as a school writes it.
func (r StaffRole) Label() string {
	switch r {
	case Teacher:
		return "Teacher"
	case TeachingAssistant:
		return "Teaching assistant"
	case Support:
		return "Support staff"
	case Governor:
		return "Governor"
	case Volunteer:
		return "Volunteer"
	case Contractor:
		return "Contractor"
	case Visitor:
		return "Visitor"
	}
	return string(r)
}

// Valid reports whether r is a known role.
func (r StaffRole) Valid() bool {
	for _, k := range StaffRoles {
		if k == r {
			return true
		}
	}
	return false
}

// ParseStaffRole reads a role as an MIS export or a person writes it
// ("Teaching Assistant", "Support Staff", "teaching_assistant", "TA").
func ParseStaffRole(s string) (StaffRole, bool) {
	k := strings.ToLower(strings.TrimSpace(s))
	k = strings.NewReplacer("_", " ", "-", " ").Replace(k)
	switch k {
	case "teacher", "teaching staff", "headteacher", "head teacher", "deputy headteacher", "supply teacher":
		return Teacher, true
	case "teaching assistant", "ta", "hlta", "learning support assistant", "lsa":
		return TeachingAssistant, true
	case "support", "support staff", "admin", "administrator", "office", "site", "caretaker":
		return Support, true
	case "governor", "trustee":
		return Governor, true
	case "volunteer":
		return Volunteer, true
	case "contractor":
		return Contractor, true
	case "visitor":
		return Visitor, true
	}
	return "", false
}

// Person is someone the school knows.
type Person struct {
	ID         int64
	SchoolID   int64
	Kind       Kind
	MISID      string // staff code, UPN
	Title      string
	GivenName  string
	FamilyName string
	Email      string
	StaffRole  StaffRole
	JobTitle   string
	StartedOn  *time.Time
	LeftAt     *time.Time

	// Pupils.
	PreferredName string
	YearGroup     *YearGroup
	RegClass      string
	DateOfBirth   *time.Time
	// Parents and carers.
	Mobile string
}

// YearGroup is a pupil's year: -2 N1, -1 N2 (nursery), 0 reception, 1 to 14.
type YearGroup int

// Label is the year group as a school writes it.
func (y YearGroup) Label() string {
	switch {
	case y == -2:
		return "Nursery 1"
	case y == -1:
		return "Nursery"
	case y == 0:
		return "Reception"
	}
	return "Year " + strconv.Itoa(int(y))
}

// ParseYearGroup reads "Reception", "R", "Year 3", "Y3", "3", "N2", "Nursery".
func ParseYearGroup(s string) (YearGroup, bool) {
	k := strings.ToLower(strings.Join(strings.Fields(s), ""))
	switch k {
	case "n1", "nursery1":
		return -2, true
	case "n", "n2", "nursery", "nursery2":
		return -1, true
	case "r", "rec", "reception", "yr", "yearr":
		return 0, true
	}
	k = strings.TrimPrefix(strings.TrimPrefix(k, "year"), "y")
	n, err := strconv.Atoi(k)
	if err != nil || n < 1 || n > 14 {
		return 0, false
	}
	return YearGroup(n), true
}

// FirstName is the first name a person goes by: the preferred one when
// the MIS has it.
func (p Person) FirstName() string {
	if p.PreferredName != "" {
		return p.PreferredName
	}
	return p.GivenName
}

// DisplayName is the name a pupil goes by: "FirstName FamilyName".
func (p Person) DisplayName() string {
	return strings.TrimSpace(p.FirstName() + " " + p.FamilyName)
}

// FullName is "Given Family".
func (p Person) FullName() string { return strings.TrimSpace(p.GivenName + " " + p.FamilyName) }

// SortName is "Family, Given".
func (p Person) SortName() string { return p.FamilyName + ", " + p.GivenName }

// RoleLabel describes the person's role: the job title when there is one,
// else the staff role.
func (p Person) RoleLabel() string {
	if p.JobTitle != "" {
		return p.JobTitle
	}
	if p.StaffRole != "" {
		return p.StaffRole.Label()
	}
	return string(p.Kind)
}

// Validate tidies and checks the person's fields.
func (p *Person) Validate() error {
	var v apperr.Validation
	p.GivenName = strings.TrimSpace(p.GivenName)
	p.FamilyName = strings.TrimSpace(p.FamilyName)
	p.Email = strings.ToLower(strings.TrimSpace(p.Email))
	p.MISID = strings.TrimSpace(p.MISID)
	v.Check(p.GivenName != "", "given_name", "Enter a first name")
	v.Check(p.FamilyName != "", "family_name", "Enter a last name")
	v.MaxLen("given_name", p.GivenName, limits.Name, "first name")
	v.MaxLen("family_name", p.FamilyName, limits.Name, "last name")
	v.MaxLen("preferred_name", p.PreferredName, limits.Name, "preferred name")
	v.MaxLen("title", p.Title, limits.Short, "title")
	v.MaxLen("job_title", p.JobTitle, limits.Name, "job title")
	v.MaxLen("mis_id", p.MISID, limits.Short, "MIS identifier")
	v.MaxLen("reg_class", p.RegClass, limits.Short, "class")
	v.MaxLen("mobile", p.Mobile, limits.Short, "mobile number")
	v.Check(len(p.Email) <= limits.Email, "email", "The email address must be 254 characters or fewer")
	if p.Email != "" {
		a, err := mail.ParseAddress(p.Email)
		v.Check(err == nil && a.Address == p.Email, "email", "Enter an email address in the right format, like name@example.org")
	}
	switch p.Kind {
	case Staff:
		v.Check(p.StaffRole.Valid(), "staff_role", "Choose a staff role")
		v.Check(p.YearGroup == nil && p.RegClass == "", "year_group", "Only pupils have a year group")
	case Pupil:
		v.Check(p.StaffRole == "", "staff_role", "Only staff have a staff role")
		v.Check(p.YearGroup != nil, "year_group", "Enter the pupil's year group")
	case Parent:
		v.Check(p.StaffRole == "", "staff_role", "Only staff have a staff role")
	default:
		v.Add("kind", "Choose staff, pupil or parent")
	}
	return v.Err()
}

// Columns is the column list that Scan reads, for other packages' queries
// (alias the table as p).
const Columns = `p.id, p.school_id, p.kind, coalesce(p.mis_id, ''), p.title, p.given_name, p.family_name, coalesce(p.email, ''),
	coalesce(p.staff_role, ''), p.job_title, p.started_on, p.left_at,
	p.preferred_name, p.year_group, coalesce(p.reg_class, ''), p.date_of_birth, coalesce(p.mobile, '')`

const columns = Columns

// NameSQL is SQL for the full name (given and family) of the person whose
// id is the SQL expression id (empty for none): for other packages'
// statements that show a witness or a signer, so that they read the name
// in the same statement, with no round trip of its own, without naming
// people's columns.
func NameSQL(id string) string {
	return `coalesce((SELECT np.given_name || ' ' || np.family_name FROM people np WHERE np.id = ` + id + `), '')`
}

// Scan reads a row selected with Columns (and extra destinations after them).
func Scan(r pgx.Row, extra ...any) (Person, error) {
	var p Person
	var year *int16
	dest := append([]any{&p.ID, &p.SchoolID, &p.Kind, &p.MISID, &p.Title, &p.GivenName, &p.FamilyName, &p.Email,
		&p.StaffRole, &p.JobTitle, &p.StartedOn, &p.LeftAt, &p.PreferredName, &year, &p.RegClass, &p.DateOfBirth, &p.Mobile}, extra...)
	err := r.Scan(dest...)
	if year != nil {
		y := YearGroup(*year)
		p.YearGroup = &y
	}
	return p, err
}

func scan(r pgx.Row) (Person, error) { return Scan(r) }

// CreateTx inserts p inside tx and sets its ID.
func CreateTx(ctx context.Context, tx pgx.Tx, p *Person) error {
	if err := p.Validate(); err != nil {
		return err
	}
	err := tx.QueryRow(ctx, `INSERT INTO people (school_id, kind, mis_id, title, given_name, family_name, email, staff_role, job_title, started_on,
			preferred_name, year_group, reg_class, date_of_birth, mobile)
		VALUES ($1, $2, nullif($3, ''), $4, $5, $6, nullif($7, ''), nullif($8, ''), $9, $10, $11, $12, nullif($13, ''), $14, nullif($15, ''))
		RETURNING id`,
		p.SchoolID, p.Kind, p.MISID, p.Title, p.GivenName, p.FamilyName, p.Email, string(p.StaffRole), p.JobTitle, p.StartedOn,
		p.PreferredName, p.YearGroup, p.RegClass, p.DateOfBirth, p.Mobile).Scan(&p.ID)
	if database.IsUniqueViolation(err, "people_staff_email") {
		return &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "email", Message: "Another member of staff already has this email address"}}}
	}
	if database.IsUniqueViolation(err, "people_mis_id") {
		return &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "mis_id", Message: "Another person already has this MIS identifier"}}}
	}
	if err != nil {
		return fmt.Errorf("people: create: %w", err)
	}
	return nil
}

// Store reads people.
type Store struct{ db *database.DB }

// NewStore returns a Store.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

// Get returns the person id of school schoolID.
func (s *Store) Get(ctx context.Context, schoolID, id int64) (Person, error) {
	var p Person
	err := getInto(&p)(s.db.Pool.QueryRow(ctx, getSQL, schoolID, id))
	return p, err
}

const getSQL = `SELECT ` + columns + ` ` + getFrom

// getFrom is which row Get reads: person $2 of school $1 (p).
const getFrom = `FROM people p WHERE p.school_id = $1 AND p.id = $2`

// QueueGet queues Get's read of a person of a school into dst, for a page
// that sends it with its other reads in one round trip.
func QueueGet(r *database.Reads, schoolID, id int64, dst *Person) {
	r.Row(getSQL, []any{schoolID, id}, getInto(dst))
}

func getInto(dst *Person) func(pgx.Row) error {
	return database.One(func(row pgx.Row) (err error) {
		*dst, err = scan(row)
		return err
	}, apperr.New(apperr.NotFound, "There is no such person"), "people: get")
}

// StaffFilter narrows a staff list.
type StaffFilter struct {
	Role        StaffRole // "" for all
	Search      string    // part of a name or email
	WithLeavers bool
}

// ListStaff returns a school's staff, by family name.
func (s *Store) ListStaff(ctx context.Context, schoolID int64, f StaffFilter) ([]Person, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT `+columns+` FROM people p
		WHERE p.school_id = $1 AND p.kind = 'staff'
		  AND ($2 = '' OR p.staff_role = $2)
		  AND ($3 = '' OR (p.given_name || ' ' || p.family_name || ' ' || coalesce(p.email, '')) ILIKE '%' || $3 || '%')
		  AND ($4 OR p.left_at IS NULL)
		ORDER BY lower(p.family_name), lower(p.given_name), p.id`, schoolID, string(f.Role), database.LikeEscape(strings.TrimSpace(f.Search)), f.WithLeavers)
	if err != nil {
		return nil, fmt.Errorf("people: list staff: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Person, error) { return scan(r) })
	if err != nil {
		return nil, fmt.Errorf("people: list staff: %w", err)
	}
	return out, nil
}

// StaffInRolesTx returns the school's current staff (not left) whose role
// is one of roles, by id, inside tx.
func StaffInRolesTx(ctx context.Context, tx pgx.Tx, schoolID int64, roles []StaffRole) ([]Person, error) {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	rows, err := tx.Query(ctx, `SELECT `+columns+` FROM people p
		WHERE p.school_id = $1 AND p.kind = 'staff' AND p.left_at IS NULL AND p.staff_role = ANY ($2) ORDER BY p.id`, schoolID, names)
	if err != nil {
		return nil, fmt.Errorf("people: staff in roles: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Person, error) { return scan(r) })
	if err != nil {
		return nil, fmt.Errorf("people: staff in roles: %w", err)
	}
	return out, nil
}
