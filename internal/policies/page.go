package policies

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/auth"
	"signoff/internal/database"
)

// Page is what a policy's page shows, assembled for one viewer: the
// policy, its versions (the published one and the open revision), its
// status, who is deciding the open revision and whether the viewer may,
// and its history.
type Page struct {
	Policy   Policy
	Versions []Version // newest first
	Current  *Version  // the published version, if any
	Open     *Version  // the revision being written or approved, if any
	Rule     Rule
	Status   ReviewStatus
	Related  []string // related policies' titles
	// The open revision's round: its approvers and their decisions (while
	// awaiting approval or approved), and the comments that sent it back
	// to draft.
	Approvers  []Approver
	Rejections []Decision
	// The viewer's part.
	CanDecide bool          // an approver of the round who has not decided
	WroteIt   bool          // the viewer wrote the open revision
	Nameable  []auth.Member // who else may be named to approve a draft
	History   []HistoryEntry
}

// HistoryEntry is one line of a policy's history, newest first: a version
// (with the number it is compared from, 0 for the first) or a review that
// made no changes.
type HistoryEntry struct {
	At         time.Time
	Version    *Version
	ComparedTo int
	Review     *Review
}

// Page assembles a policy's page for the account viewerID.
func (s *Store) Page(ctx context.Context, schoolID, policyID, viewerID int64) (Page, error) {
	var pg Page
	var reviews []Review
	// The policy, its versions, reviews and related policies, and the
	// school's rule depend only on the request: one round trip.
	var r database.Reads
	args := []any{schoolID, policyID}
	r.Row(getSQL, args, getInto(&pg.Policy))
	r.Rows(versionsSQL, args, func(rows pgx.Rows) (err error) {
		pg.Versions, err = collectVersions(rows)
		return err
	})
	r.Rows(reviewsSQL, args, func(rows pgx.Rows) (err error) {
		reviews, err = collectReviews(rows)
		return err
	})
	r.Row(schoolRuleSQL, []any{schoolID}, ruleInto(&pg.Rule))
	r.Row(relatedTitlesSQL, args, relatedInto(&pg.Related))
	if err := s.db.Send(ctx, &r); err != nil {
		return Page{}, err
	}
	pg.Current, pg.Open = CurrentAndOpen(pg.Versions)
	pg.Status = StatusOf(pg.Policy.NextReviewOn, Today(s.db.Now()), pg.Rule.WindowDays, pg.Open != nil && pg.Current != nil)
	if pg.Current == nil {
		pg.Status = NotYet
	}
	if open := pg.Open; open != nil {
		pg.WroteIt = open.CreatedBy == viewerID
		if open.Round > 0 {
			approvers, err := s.Approvers(ctx, schoolID, open.ID, open.Round)
			if err != nil {
				return Page{}, err
			}
			if open.Status == AwaitingApproval || open.Status == Approved {
				pg.Approvers = approvers
			}
			for _, a := range approvers {
				if a.AccountID == viewerID && a.Decision == "" && open.Status == AwaitingApproval && !pg.WroteIt {
					pg.CanDecide = true
				}
			}
			if open.Status == Draft {
				decisions, err := s.Decisions(ctx, schoolID, open.ID)
				if err != nil {
					return Page{}, err
				}
				for _, d := range decisions {
					if d.Decision == "reject" && d.Round == open.Round {
						pg.Rejections = append(pg.Rejections, d)
					}
				}
			}
		}
		if open.Status == Draft {
			nameable, err := s.nameable(ctx, schoolID, pg.Policy, *open)
			if err != nil {
				return Page{}, err
			}
			pg.Nameable = nameable
		}
	}
	pg.History = history(pg.Versions, reviews)
	return pg, nil
}

// ApproverRole is the role whose every holder is asked to approve a
// revision of a policy at level l: the governors, or for a policy
// delegated to the headteacher, the heads.
func ApproverRole(l ApprovalLevel) auth.Role {
	if l == Headteacher {
		return auth.Head
	}
	return auth.Governor
}

// nameable are the people who may be named to approve a draft besides
// those asked already (every holder of the approver role) and its author:
// heads, the office and governors; staff are named as leads elsewhere.
func (s *Store) nameable(ctx context.Context, schoolID int64, p Policy, open Version) ([]auth.Member, error) {
	members, err := auth.Members(ctx, s.db, schoolID)
	if err != nil {
		return nil, err
	}
	role := ApproverRole(p.ApprovalLevel)
	var out []auth.Member
	for _, m := range members {
		if m.Has(role) || m.AccountID == open.CreatedBy {
			continue
		}
		if m.Has(auth.Head) || m.Has(auth.Admin) || m.Has(auth.Governor) {
			out = append(out, m)
		}
	}
	return out, nil
}

// relatedTitlesSQL reads the titles of a policy's related policies, by title.
const relatedTitlesSQL = `SELECT coalesce(array_agg(r.title ORDER BY lower(r.title)), '{}') FROM policy_relations pr JOIN policies r ON r.id = pr.related_id
	WHERE pr.school_id = $1 AND pr.policy_id = $2`

func relatedInto(out *[]string) func(pgx.Row) error {
	return func(row pgx.Row) error {
		if err := row.Scan(out); err != nil {
			return fmt.Errorf("policies: related titles: %w", err)
		}
		return nil
	}
}

// history is a policy's versions and its reviews with no changes, newest
// first (a review counts at the end of its day).
func history(versions []Version, reviews []Review) []HistoryEntry {
	var out []HistoryEntry
	for i := range versions {
		e := HistoryEntry{At: versions[i].CreatedAt, Version: &versions[i]}
		if versions[i].PublishedAt != nil {
			e.At = *versions[i].PublishedAt
		}
		if i+1 < len(versions) {
			e.ComparedTo = versions[i+1].Number
		}
		out = append(out, e)
	}
	for i := range reviews {
		if reviews[i].Outcome != "no_changes" {
			continue // shown with its version
		}
		out = append(out, HistoryEntry{At: reviews[i].ReviewedOn.Add(23 * time.Hour), Review: &reviews[i]})
	}
	slices.SortStableFunc(out, func(a, b HistoryEntry) int { return b.At.Compare(a.At) })
	return out
}
