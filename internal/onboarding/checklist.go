package onboarding

import (
	"context"
	"fmt"
	"strings"
)

// Step is one step of going live, ticked when the school's data shows it done.
type Step struct {
	Key   string // "details", "import", "policies", "publish", "invite"
	Title string
	Done  bool
	// Hint says what is still missing, or what was done.
	Hint string
	Href string // the page that does it
}

// Checklist is a school's way to going live.
type Checklist struct {
	Steps []Step
}

// Done reports whether every step is done.
func (c Checklist) Done() bool {
	for _, s := range c.Steps {
		if !s.Done {
			return false
		}
	}
	return true
}

// DoneCount is how many steps are done.
func (c Checklist) DoneCount() int {
	n := 0
	for _, s := range c.Steps {
		if s.Done {
			n++
		}
	}
	return n
}

// Checklist works out which of the going-live steps a school has done,
// from its data, in one query. It is on every view of the school's
// dashboard: the staff who never signed in are counted by looking each
// one's account up (a join let PostgreSQL read every account of every
// school, 12 ms on the bench's trust), and the invited through
// accounts_invited (migration 0017).
func (s *Store) Checklist(ctx context.Context, schoolID int64) (Checklist, error) {
	var urn, replyTo, privacy string
	var logo bool
	var imports, staff, policies, forms, invited, neverSignedIn int
	err := s.db.Pool.QueryRow(ctx, `SELECT sc.urn, sc.reply_to, sc.privacy_notice_url,
			EXISTS (SELECT 1 FROM school_logos l WHERE l.school_id = sc.id),
			(SELECT count(*) FROM import_batches b WHERE b.school_id = sc.id AND b.applied_at IS NOT NULL),
			(SELECT count(*) FROM people p WHERE p.school_id = sc.id AND p.kind = 'staff' AND p.left_at IS NULL),
			(SELECT count(*) FROM policies p WHERE p.school_id = sc.id),
			(SELECT count(*) FROM forms f WHERE f.school_id = sc.id),
			(SELECT count(*) FROM accounts a WHERE a.school_id = sc.id AND a.invited_at IS NOT NULL),
			(SELECT count(*) FROM people p
			  WHERE p.school_id = sc.id AND p.kind = 'staff' AND p.left_at IS NULL
			    AND (SELECT a.last_signed_in_at IS NULL AND a.disabled_at IS NULL FROM accounts a WHERE a.id = p.account_id))
		FROM schools sc WHERE sc.id = $1`, schoolID).
		Scan(&urn, &replyTo, &privacy, &logo, &imports, &staff, &policies, &forms, &invited, &neverSignedIn)
	if err != nil {
		return Checklist{}, fmt.Errorf("onboarding: checklist: %w", err)
	}
	var missing []string
	if urn == "" {
		missing = append(missing, "the DfE URN")
	}
	if replyTo == "" {
		missing = append(missing, "the reply-to address for emails")
	}
	if privacy == "" {
		missing = append(missing, "the privacy notice's address")
	}
	details := Step{Key: "details", Title: "Enter the school's details", Done: len(missing) == 0, Href: "/admin/school",
		Hint: "Name, DfE URN, colour, logo, the address emails come from and go back to, and the privacy notice."}
	if len(missing) > 0 {
		details.Hint = "Still to enter: " + strings.Join(missing, ", ") + "."
		if !logo {
			details.Hint += " You can add a logo too."
		}
	}
	imp := Step{Key: "import", Title: "Import staff, pupils and parents from your MIS", Done: imports > 0 || staff > 1, Href: "/admin/import",
		Hint: "Upload the CSV exports from SIMS, Arbor or Bromcom; you see every change before it is made."}
	if imp.Done {
		imp.Hint = fmt.Sprintf("%d staff so far.", staff)
	}
	pol := Step{Key: "policies", Title: "Adopt policies from the starter set, or import your own Word files", Done: policies > 0, Href: "/policies",
		Hint: "28 common school policies to start from, or your .docx files."}
	if policies > 0 {
		pol.Hint = fmt.Sprintf("%d policies in the library.", policies)
	}
	pub := Step{Key: "publish", Title: "Choose who signs what, and publish", Done: forms > 0, Href: "/policies",
		Hint: "Publish a policy to the staff roles that must sign it, or a parents' form to the year groups it is for."}
	if forms > 0 {
		pub.Hint = fmt.Sprintf("%d forms published.", forms)
	}
	inv := Step{Key: "invite", Title: "Send the first invitations", Done: invited > 0, Href: "/admin/staff/invite",
		Hint: "Each member of staff gets an email with a sign-in link."}
	if invited > 0 {
		inv.Hint = fmt.Sprintf("%d invited; %d of the staff have never signed in.", invited, neverSignedIn)
	}
	return Checklist{Steps: []Step{details, imp, pol, pub, inv}}, nil
}
