// Package demo loads Hollybrook Primary School, a fictional school with
// forty staff, two published staff policies and some signatures already
// made, so that a fresh `make run` has something to show. The text and
// names in content/ are written for Signoff.
package demo

import (
	"bytes"
	"context"
	"embed"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/audit"
	"signoff/internal/auth"
	"signoff/internal/consent"
	"signoff/internal/database"
	"signoff/internal/mis"
	"signoff/internal/people"
	"signoff/internal/policies"
	"signoff/internal/schools"
	"signoff/internal/schooltime"
	"signoff/internal/signing"
)

//go:embed content/*.md content/*.csv
var content embed.FS

// The demo's sign-in details, printed by `signoff demo` and `make run`.
const (
	SchoolSlug    = "hollybrook"
	Password      = "hollybrook-demo"
	AdminEmail    = "kholloway@hollybrook.example.sch.uk" // Karen Holloway, school business manager
	StaffEmail    = "dokafor@hollybrook.example.sch.uk"   // Daniel Okafor, teacher, has not signed the AUP yet
	HeadEmail     = "hashcroft@hollybrook.example.sch.uk" // Helen Ashcroft, headteacher (staff code AS01)
	GovernorEmail = "rstanton@hollybrook.example.sch.uk"  // Richard Stanton, chair of governors
	HeadStaffCode = "AS01"
)

// jobTitles gives some staff a job title beyond their MIS role.
var jobTitles = map[string]string{
	"AS01": "Headteacher",
	"HO24": "School business manager",
	"BA25": "Site manager",
	"AD27": "IT technician",
	"FA26": "Office administrator",
	"ST30": "Chair of governors",
}

// Result says what Load did.
type Result struct {
	School       schools.School
	AlreadyThere bool
	Staff        int
	Pupils       int
	Signatures   int
}

// Load creates the demo school unless a school with its slug exists.
// Signatures are spread over the weeks before now; now is db.Now().
func Load(ctx context.Context, db *database.DB) (Result, error) {
	sc, err := schools.NewStore(db).BySlug(ctx, SchoolSlug)
	if err == nil {
		return Result{School: sc, AlreadyThere: true}, nil
	}
	now := db.Now()
	actor := audit.System("signoff demo")
	res := Result{School: schools.School{Slug: SchoolSlug, Name: "Hollybrook Primary School", Colour: "#00594f",
		PrivacyNoticeURL: "https://hollybrook.example.sch.uk/privacy-notice", URN: "900001", ReplyTo: "office@hollybrook.example.sch.uk"}}
	staff, err := readStaff()
	if err != nil {
		return Result{}, err
	}
	hash, err := auth.HashPassword(Password)
	if err != nil {
		return Result{}, err
	}
	var aupID, confID int64
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		if err := schools.CreateTx(ctx, tx, &res.School); err != nil {
			return err
		}
		for i := range staff {
			p := &staff[i]
			p.SchoolID = res.School.ID
			if err := people.CreateTx(ctx, tx, p); err != nil {
				return fmt.Errorf("demo: %s: %w", p.FullName(), err)
			}
			roles := []auth.Role{auth.Staff}
			if p.StaffRole == people.Governor {
				roles = append(roles, auth.Governor)
			}
			if p.MISID == HeadStaffCode {
				roles = append(roles, auth.Head)
			}
			if p.Email == AdminEmail {
				roles = append(roles, auth.Admin)
			}
			a := auth.Account{SchoolID: res.School.ID, PersonID: p.ID, Email: p.Email, DisplayName: p.FullName(), Roles: roles}
			if err := auth.CreateAccountTx(ctx, tx, &a, ""); err != nil {
				return fmt.Errorf("demo: account for %s: %w", p.FullName(), err)
			}
			if _, err := tx.Exec(ctx, `UPDATE accounts SET password_hash = $2 WHERE id = $1`, a.ID, hash); err != nil {
				return fmt.Errorf("demo: password: %w", err)
			}
		}
		res.Staff = len(staff)
		for _, d := range []struct {
			file, title, category string
			id                    *int64
		}{
			{"content/it-acceptable-use.md", "IT acceptable use policy (staff)", "IT and online safety", &aupID},
			{"content/data-confidentiality.md", "Data confidentiality agreement", "Data protection", &confID},
		} {
			body, err := content.ReadFile(d.file)
			if err != nil {
				return fmt.Errorf("demo: %w", err)
			}
			_, v, err := policies.CreateDraftTx(ctx, tx, now.AddDate(0, 0, -40), res.School.ID, actor,
				policies.DraftInput{Title: d.title, Category: d.category, ReviewCycleYears: 1, Body: string(body)})
			if err != nil {
				return fmt.Errorf("demo: %s: %w", d.title, err)
			}
			*d.id = v.ID
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: res.School.ID, At: now, Actor: actor, Action: "school.created",
			Subject: "school " + res.School.Slug, Detail: map[string]string{"staff": fmt.Sprint(len(staff))}})
	})
	if err != nil {
		return Result{}, err
	}

	// Pupils and their parents and carers arrive the way a school's do:
	// through the MIS import.
	var files []mis.File
	for _, name := range []string{"pupils.csv", "contacts.csv"} {
		data, err := content.ReadFile("content/" + name)
		if err != nil {
			return Result{}, fmt.Errorf("demo: %w", err)
		}
		files = append(files, mis.File{Name: name, Data: data})
	}
	rep, err := mis.NewStore(db).Apply(ctx, res.School.ID, actor, files)
	if err != nil {
		return Result{}, fmt.Errorf("demo: import pupils: %w (%v)", err, rep.BadRows())
	}
	for _, f := range rep.Files {
		if f.Kind == mis.Pupils {
			res.Pupils = f.New
		}
	}

	if err := loadConsent(ctx, db, res.School.ID, actor); err != nil {
		return Result{}, err
	}

	// Publish both policies a month ago, then sign as staff would have
	// done over the weeks since, each at their own time.
	// Keep it all inside the current academic year, so that yearly forms
	// count the signatures.
	start := now.AddDate(0, 0, -30)
	if ayStart := time.Date(schooltime.AcademicYear(now), time.September, 1, 9, 0, 0, 0, schooltime.London); start.Before(ayStart) {
		start = ayStart
	}
	span := now.Sub(start)
	past := *db
	clock := start
	past.Now = func() time.Time { return clock }
	sign := signing.NewStore(&past)
	due := now.AddDate(0, 0, 14)
	aupForm, err := sign.Publish(ctx, res.School.ID, aupID, actor, signing.FormInput{
		Statement:     "I have read and understood the IT acceptable use policy and I will follow it.",
		AudienceRoles: []people.StaffRole{people.Teacher, people.TeachingAssistant, people.Support, people.Governor, people.Volunteer, people.Contractor},
		Renewal:       signing.EachYear, DueOn: &due,
	}, "") // first versions: nobody is emailed
	if err != nil {
		return Result{}, fmt.Errorf("demo: publish AUP: %w", err)
	}
	confForm, err := sign.Publish(ctx, res.School.ID, confID, actor, signing.FormInput{
		Statement:     "I agree to keep the information I handle at Hollybrook confidential, as this agreement sets out.",
		AudienceRoles: []people.StaffRole{people.Teacher, people.TeachingAssistant, people.Support, people.Volunteer, people.Contractor},
		Renewal:       signing.EachVersion,
	}, "")
	if err != nil {
		return Result{}, fmt.Errorf("demo: publish confidentiality agreement: %w", err)
	}
	for i, p := range staff {
		if p.Email == StaffEmail {
			continue // the demo teacher still has both to sign
		}
		for _, f := range []struct {
			form  signing.Form
			every int
		}{{aupForm, 3}, {confForm, 2}} {
			// About two in three have signed the AUP, one in two the agreement.
			if i%f.every == 0 {
				continue
			}
			if !f.form.InAudience(p.StaffRole) {
				continue
			}
			clock = start.Add(span * time.Duration(1+(i*7)%28) / 30)
			versionID, _, err := sign.CurrentVersion(ctx, f.form.ID)
			if err != nil {
				return Result{}, err
			}
			_, created, err := sign.Sign(ctx, signing.SignInput{SchoolID: res.School.ID, FormID: f.form.ID, PersonID: p.ID,
				VersionID: versionID, Agreed: true, TypedName: p.FullName(),
				Actor: audit.Actor{Name: p.FullName() + " (demo)", IP: "192.0.2.10"}, UserAgent: "Mozilla/5.0 (demo data)"})
			if err != nil {
				return Result{}, fmt.Errorf("demo: sign as %s: %w", p.FullName(), err)
			}
			if created {
				res.Signatures++
			}
		}
	}
	return res, nil
}

// readStaff parses the embedded MIS-shaped staff export.
func readStaff() ([]people.Person, error) {
	data, err := content.ReadFile("content/staff.csv")
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	r := csv.NewReader(bytes.NewReader(data))
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("demo: staff header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	var out []people.Person
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("demo: staff: %w", err)
		}
		role, ok := people.ParseStaffRole(rec[col["Role"]])
		if !ok {
			return nil, fmt.Errorf("demo: staff: unknown role %q", rec[col["Role"]])
		}
		code := rec[col["Staff Code"]]
		p := people.Person{Kind: people.Staff, MISID: code, Title: rec[col["Title"]], GivenName: rec[col["Forename"]],
			FamilyName: rec[col["Surname"]], Email: rec[col["Work Email"]], StaffRole: role, JobTitle: jobTitles[code]}
		if d, err := time.Parse("02/01/2006", rec[col["Start Date"]]); err == nil {
			p.StartedOn = &d
		}
		out = append(out, p)
	}
	return out, nil
}

// Parent returns the demo's example parent: one with two children at the
// school and an email address.
func Parent(ctx context.Context, db *database.DB, schoolID int64) (id int64, name string, err error) {
	err = db.Pool.QueryRow(ctx, `SELECT p.id, p.given_name || ' ' || p.family_name FROM people p
		JOIN guardianships g ON g.parent_id = p.id
		WHERE p.school_id = $1 AND p.kind = 'parent' AND p.email IS NOT NULL
		GROUP BY p.id ORDER BY count(*) DESC, p.id LIMIT 1`, schoolID).Scan(&id, &name)
	if err != nil {
		return 0, "", fmt.Errorf("demo: parent: %w", err)
	}
	return id, name, nil
}

// loadConsent publishes a photo consent form and the home-school
// agreement to parents, and answers them for about two families in three
// (with a few "no"s and one disagreement), leaving the demo parent's
// children to do.
func loadConsent(ctx context.Context, db *database.DB, schoolID int64, actor audit.Actor) error {
	store := consent.NewStore(db)
	photo, err := store.Create(ctx, schoolID, actor, consent.NewForm{
		Kind: signing.Consent, Title: "Photo consent", Signer: signing.OneParent, Renewal: signing.UntilWithdrawn,
		Intro: "We like to celebrate what our children do. Please tell us where we may use photos of your child. You can change your answers at any time, and we will stop at once.",
		Items: []consent.Item{
			{Label: "Photos in class and corridor displays", Explanation: "Seen only by people in school.", Photo: true},
			{Label: "Photos on the school website", Explanation: "Anyone can see the website. We never put a child's full name next to a photo.", Photo: true},
			{Label: "Photos in the newsletter and prospectus", Photo: true},
			{Label: "Photos on the school's social media", Photo: true},
			{Label: "Photos in local newspapers", Explanation: "Newspapers may print first names.", Photo: true},
			{Label: "I have read the school's privacy notice", Kind: consent.AckItem},
		},
	})
	if err != nil {
		return fmt.Errorf("demo: photo consent: %w", err)
	}
	agreement, err := store.Create(ctx, schoolID, actor, consent.NewForm{
		Kind: signing.Agreement, Title: "Home-school agreement", Signer: signing.OneParent, Renewal: signing.EachYear,
		Intro:      "Children do best when home and school work together. This agreement says what each of us will do.",
		SchoolPart: "The school will:\n\n- care for your child's safety and happiness\n- teach a broad curriculum and help your child do their best\n- tell you how your child is getting on, and listen to you",
		ParentPart: "I will:\n\n- make sure my child comes to school every day, on time\n- read with my child and support their homework\n- tell the school about anything that might affect my child",
		ChildPart:  "I will:\n\n- be kind and helpful\n- listen and try my best\n- look after our school",
	})
	if err != nil {
		return fmt.Errorf("demo: agreement: %w", err)
	}
	demoParent, _, err := Parent(ctx, db, schoolID)
	if err != nil {
		return err
	}
	_, items, err := store.Form(ctx, schoolID, photo.ID)
	if err != nil {
		return err
	}
	rows, err := db.Pool.Query(ctx, `SELECT g.pupil_id, g.parent_id, p.given_name || ' ' || p.family_name, row_number() OVER (ORDER BY g.pupil_id)
		FROM guardianships g JOIN people p ON p.id = g.parent_id
		WHERE g.school_id = $1 AND g.parental_responsibility AND g.priority = 1
		  AND g.pupil_id NOT IN (SELECT pupil_id FROM guardianships WHERE parent_id = $2)
		ORDER BY g.pupil_id`, schoolID, demoParent)
	if err != nil {
		return fmt.Errorf("demo: families: %w", err)
	}
	type pair struct {
		pupil, parent int64
		name          string
		n             int
	}
	pairs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pair, error) {
		var p pair
		return p, r.Scan(&p.pupil, &p.parent, &p.name, &p.n)
	})
	if err != nil {
		return fmt.Errorf("demo: families: %w", err)
	}
	for _, p := range pairs {
		if p.n%3 == 0 {
			continue // not returned yet
		}
		answers, acks := map[int64]bool{}, map[int64]bool{}
		for i, it := range items {
			if it.Kind == consent.AckItem {
				acks[it.ID] = true
				continue
			}
			// Most say yes; some refuse the press or social media; a few refuse everything.
			answers[it.ID] = !(p.n%11 == 1 || (p.n%4 == 1 && i >= 3) || (p.n%7 == 2 && i == 1))
		}
		if _, err := store.Submit(ctx, consent.Submission{SchoolID: schoolID, FormID: photo.ID, PupilID: p.pupil, ParentID: p.parent,
			Answers: answers, Acks: acks, TypedName: p.name, Actor: audit.Actor{Name: p.name + " (demo)", IP: "192.0.2.20"}}); err != nil {
			return fmt.Errorf("demo: photo consent for pupil %d: %w", p.pupil, err)
		}
		if p.n%2 == 0 {
			if _, err := store.Submit(ctx, consent.Submission{SchoolID: schoolID, FormID: agreement.ID, PupilID: p.pupil, ParentID: p.parent,
				Agreed: true, TypedName: p.name, Actor: audit.Actor{Name: p.name + " (demo)", IP: "192.0.2.20"}}); err != nil {
				return fmt.Errorf("demo: agreement for pupil %d: %w", p.pupil, err)
			}
		}
	}
	var headID int64
	var headName string
	if err := db.Pool.QueryRow(ctx, `SELECT id, given_name || ' ' || family_name FROM people WHERE school_id = $1 AND mis_id = $2`,
		schoolID, HeadStaffCode).Scan(&headID, &headName); err == nil {
		head := people.Person{ID: headID, GivenName: headName}
		if _, err := store.SignSchool(ctx, schoolID, agreement.ID, head, headName, audit.Actor{Name: headName + " (demo)"}); err != nil {
			return fmt.Errorf("demo: school part: %w", err)
		}
	}
	return nil
}
