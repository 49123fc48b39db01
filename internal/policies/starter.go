package policies

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
)

// Starter is a common school policy a school can adopt and then edit:
// its usual category, whether schools in England must hold it, how often
// it is usually reviewed and who usually approves it. Schools check
// these against current guidance; the text is theirs to write.
type Starter struct {
	Key       string
	Title     string
	Category  string
	Statutory bool
	Cycle     int
	Level     ApprovalLevel
}

// Starters is the starter set, by category.
var Starters = []Starter{
	{"safeguarding", "Child protection and safeguarding policy", "Safeguarding", true, 1, FullBoard},
	{"staff-code", "Staff code of conduct", "Safeguarding", true, 1, FullBoard},
	{"online-safety", "Online safety policy", "Safeguarding", false, 1, FullBoard},
	{"whistleblowing", "Whistleblowing policy", "Safeguarding", true, 2, FullBoard},
	{"behaviour", "Behaviour policy", "Pupils", true, 1, FullBoard},
	{"anti-bullying", "Anti-bullying policy", "Pupils", false, 1, Headteacher},
	{"send", "Special educational needs and disabilities (SEND) information report", "Pupils", true, 1, FullBoard},
	{"medical", "Supporting pupils with medical conditions", "Pupils", true, 2, FullBoard},
	{"attendance", "Attendance policy", "Pupils", true, 1, FullBoard},
	{"charging", "Charging and remissions policy", "Finance", true, 2, Committee},
	{"complaints", "Complaints procedure", "Governance", true, 2, FullBoard},
	{"data-protection", "Data protection policy", "Data protection", true, 2, FullBoard},
	{"privacy-notice", "Privacy notice for parents and pupils", "Data protection", true, 1, Headteacher},
	{"freedom-of-information", "Freedom of information publication scheme", "Data protection", true, 3, Committee},
	{"it-acceptable-use", "IT acceptable use policy (staff)", "IT and online safety", false, 1, Headteacher},
	{"health-and-safety", "Health and safety policy", "Premises", true, 1, Committee},
	{"first-aid", "First aid policy", "Premises", false, 2, Headteacher},
	{"equality", "Equality information and objectives", "Governance", true, 3, FullBoard},
	{"accessibility", "Accessibility plan", "Premises", true, 3, FullBoard},
	{"rse", "Relationships and sex education policy", "Curriculum", true, 1, FullBoard},
	{"early-years", "Early years foundation stage policy", "Curriculum", true, 2, Headteacher},
	{"pay", "Teachers' pay policy", "Staff", true, 1, Committee},
	{"appraisal", "Appraisal policy", "Staff", true, 2, Committee},
	{"capability", "Staff capability procedure", "Staff", true, 3, FullBoard},
	{"disciplinary", "Staff discipline, conduct and grievance procedures", "Staff", true, 3, FullBoard},
	{"recruitment", "Safer recruitment policy", "Staff", false, 2, Committee},
	{"finance", "Finance policy", "Finance", false, 1, Committee},
	{"mobile-phones", "Mobile phone policy", "Pupils", false, 2, Headteacher},
}

// StarterBody is the placeholder text a starter policy begins with.
func StarterBody(st Starter) string {
	return "# " + st.Title + "\n\n" +
		"*This is a placeholder from Signoff's starter set. Replace it with your school's own policy before you publish it: " +
		"you can paste your text here or import your Word document.*\n\n" +
		"## Purpose\n\nWhat this policy is for and who it applies to.\n\n" +
		"## Roles and responsibilities\n\nWho does what.\n\n" +
		"## Monitoring and review\n\nHow often the policy is reviewed and who approves it.\n"
}

// AdoptStarters creates a draft policy for each chosen starter that the
// school does not have yet (by title), and returns how many it created.
func (s *Store) AdoptStarters(ctx context.Context, schoolID int64, actor audit.Actor, keys []string) (int, error) {
	if len(keys) == 0 {
		return 0, &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "starter", Message: "Choose at least one policy to add"}}}
	}
	chosen := map[string]bool{}
	for _, k := range keys {
		chosen[k] = true
	}
	now := s.db.Now()
	created := 0
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		for _, st := range Starters {
			if !chosen[st.Key] {
				continue
			}
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM policies WHERE school_id = $1 AND lower(title) = lower($2))`,
				schoolID, st.Title).Scan(&exists); err != nil {
				return fmt.Errorf("policies: starter: %w", err)
			}
			if exists {
				continue
			}
			p, _, err := CreateDraftTx(ctx, tx, now, schoolID, actor, DraftInput{Title: st.Title, Category: st.Category,
				ReviewCycleYears: st.Cycle, Body: StarterBody(st)})
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE policies SET statutory = $2, approval_level = $3 WHERE id = $1`, p.ID, st.Statutory, st.Level); err != nil {
				return fmt.Errorf("policies: starter: %w", err)
			}
			created++
		}
		return nil
	})
	return created, err
}
