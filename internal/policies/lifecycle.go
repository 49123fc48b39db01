package policies

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/auth"
	"signoff/internal/database"
	"signoff/internal/limits"
)

// ApprovalLevel is who approves a policy's revisions.
type ApprovalLevel string

// The approval levels.
const (
	FullBoard   ApprovalLevel = "governing_board" // the full governing board
	Committee   ApprovalLevel = "committee"       // a committee of governors
	Headteacher ApprovalLevel = "headteacher"     // delegated to the headteacher
)

// ApprovalLevels in the order they are offered.
var ApprovalLevels = []ApprovalLevel{FullBoard, Committee, Headteacher}

// Label is the level as shown to people.
func (l ApprovalLevel) Label() string {
	switch l {
	case FullBoard:
		return "Full governing board"
	case Committee:
		return "Governors' committee"
	case Headteacher:
		return "Headteacher"
	}
	return string(l)
}

// Valid reports whether l is a known level.
func (l ApprovalLevel) Valid() bool { return l == FullBoard || l == Committee || l == Headteacher }

// Rule is a school's approval rule and review window.
type Rule struct {
	Kind       string // "majority" or "count"
	Count      int    // approvals needed when Kind is "count"
	WindowDays int    // a review is "due soon" this many days before its date
}

// Describe says the rule in words.
func (r Rule) Describe() string {
	if r.Kind == "count" {
		if r.Count == 1 {
			return "1 approval"
		}
		return fmt.Sprintf("%d approvals", r.Count)
	}
	return "a majority of the approvers"
}

// Met reports whether approvals out of approvers meet the rule. A count
// larger than the number of approvers needs every approver.
func (r Rule) Met(approvals, approvers int) bool {
	if approvers == 0 {
		return false
	}
	if r.Kind == "count" {
		need := min(r.Count, approvers)
		return approvals >= need
	}
	return approvals*2 > approvers
}

// SchoolRule returns the school's approval rule.
func (s *Store) SchoolRule(ctx context.Context, schoolID int64) (Rule, error) {
	var r Rule
	err := ruleInto(&r)(s.db.Pool.QueryRow(ctx, schoolRuleSQL, schoolID))
	return r, err
}

const schoolRuleSQL = `SELECT approval_rule, approval_count, review_window_days FROM schools WHERE id = $1`

func ruleInto(r *Rule) func(pgx.Row) error {
	return func(row pgx.Row) error {
		if err := row.Scan(&r.Kind, &r.Count, &r.WindowDays); err != nil {
			return fmt.Errorf("policies: school rule: %w", err)
		}
		return nil
	}
}

// SaveSchoolRule changes the school's approval rule and review window.
func (s *Store) SaveSchoolRule(ctx context.Context, schoolID int64, actor audit.Actor, r Rule) error {
	var v apperr.Validation
	v.Check(r.Kind == "majority" || r.Kind == "count", "rule", "Choose how a revision is approved")
	if r.Kind == "count" {
		v.Check(r.Count >= 1 && r.Count <= 50, "count", "Enter how many approvals are needed, from 1 to 50")
	}
	v.Check(r.WindowDays >= 1 && r.WindowDays <= 180, "window", "Enter a number of days from 1 to 180")
	if err := v.Err(); err != nil {
		return err
	}
	if r.Count < 1 {
		r.Count = 2
	}
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE schools SET approval_rule = $2, approval_count = $3, review_window_days = $4 WHERE id = $1`,
			schoolID, r.Kind, r.Count, r.WindowDays); err != nil {
			return fmt.Errorf("policies: save rule: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: s.db.Now(), Actor: actor, Action: "school.approval_rule",
			Detail: map[string]string{"rule": r.Kind, "count": fmt.Sprint(r.Count), "window_days": fmt.Sprint(r.WindowDays)}})
	})
}

var policyColumns = `p.id, p.school_id, p.title, p.category, p.review_cycle_years, p.created_at,
	coalesce(p.owner_account_id, 0), ` + auth.NameSQL("p.owner_account_id") + `,
	p.statutory, p.approval_level, p.next_review_on`

func policyDest(p *Policy) []any {
	return []any{&p.ID, &p.SchoolID, &p.Title, &p.Category, &p.ReviewCycleYears, &p.CreatedAt,
		&p.OwnerAccountID, &p.OwnerName, &p.Statutory, &p.ApprovalLevel, &p.NextReviewOn}
}

// LibraryRow is one policy in the library.
type LibraryRow struct {
	Policy
	Current    *Version // published version with its approval, if any
	Open       *Version // the revision being written or approved, if any
	Related    []string // titles
	Status     ReviewStatus
	DateStatus ReviewStatus // ignoring a revision in progress
}

// Library returns the school's policies by title with what the library
// page shows.
func (s *Store) Library(ctx context.Context, schoolID int64) ([]LibraryRow, Rule, error) {
	rule, err := s.SchoolRule(ctx, schoolID)
	if err != nil {
		return nil, Rule{}, err
	}
	today := Today(s.db.Now())
	rows, err := s.db.Pool.Query(ctx, `SELECT `+policyColumns+`,
			coalesce((SELECT array_agg(r.title ORDER BY lower(r.title)) FROM policy_relations pr JOIN policies r ON r.id = pr.related_id
				WHERE pr.policy_id = p.id), '{}')
		FROM policies p WHERE p.school_id = $1 ORDER BY lower(p.title)`, schoolID)
	if err != nil {
		return nil, Rule{}, fmt.Errorf("policies: library: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (LibraryRow, error) {
		var l LibraryRow
		err := r.Scan(append(policyDest(&l.Policy), &l.Related)...)
		return l, err
	})
	if err != nil {
		return nil, Rule{}, fmt.Errorf("policies: library: %w", err)
	}
	vrows, err := s.db.Pool.Query(ctx, `SELECT `+versionColumns+` FROM policy_versions
		WHERE school_id = $1 AND status IN ('draft', 'awaiting_approval', 'approved', 'published')`, schoolID)
	if err != nil {
		return nil, Rule{}, fmt.Errorf("policies: library versions: %w", err)
	}
	versions, err := pgx.CollectRows(vrows, func(r pgx.CollectableRow) (Version, error) { return scanVersion(r) })
	if err != nil {
		return nil, Rule{}, fmt.Errorf("policies: library versions: %w", err)
	}
	byPolicy := map[int64]int{}
	for i := range out {
		byPolicy[out[i].ID] = i
	}
	for _, v := range versions {
		i, ok := byPolicy[v.PolicyID]
		if !ok {
			continue
		}
		v.Body = ""
		if v.Status == Published {
			out[i].Current = &v
		} else {
			out[i].Open = &v
		}
	}
	for i := range out {
		l := &out[i]
		l.DateStatus = DateStatus(l.NextReviewOn, today, rule.WindowDays)
		l.Status = StatusOf(l.NextReviewOn, today, rule.WindowDays, l.Open != nil && l.Current != nil)
		if l.Current == nil {
			l.Status = NotYet
		}
	}
	return out, rule, nil
}

// SettingsInput is a policy's details that an admin may change at any time.
type SettingsInput struct {
	Title            string
	Category         string
	ReviewCycleYears int
	OwnerAccountID   int64
	Statutory        bool
	ApprovalLevel    ApprovalLevel
	NextReviewOn     *time.Time
	NextReviewError  string // set by the caller when the typed date was not a date
	Related          []int64
}

// SaveSettings changes a policy's details (not its text).
func (s *Store) SaveSettings(ctx context.Context, schoolID, policyID int64, actor audit.Actor, in SettingsInput) error {
	var v apperr.Validation
	in.Title = strings.TrimSpace(in.Title)
	in.Category = strings.TrimSpace(in.Category)
	v.Check(in.Title != "", "title", "Enter the policy's title")
	v.Check(utf8.RuneCountInString(in.Title) <= MaxTitle, "title", fmt.Sprintf("The title must be %d characters or fewer", MaxTitle))
	v.MaxLen("category", in.Category, limits.Category, "category")
	v.Check(in.ReviewCycleYears >= 1 && in.ReviewCycleYears <= 3, "review_cycle_years", "Choose how often the policy is reviewed: every 1, 2 or 3 years")
	v.Check(in.ApprovalLevel.Valid(), "approval_level", "Choose who approves the policy")
	if in.NextReviewError != "" {
		v.Add("next_review", in.NextReviewError)
	}
	if err := v.Err(); err != nil {
		return err
	}
	now := s.db.Now()
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		if in.OwnerAccountID != 0 {
			ok, err := auth.IsMemberTx(ctx, tx, schoolID, in.OwnerAccountID)
			if err != nil {
				return fmt.Errorf("policies: owner: %w", err)
			}
			if !ok {
				return &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "owner", Message: "Choose the owner from the list"}}}
			}
		}
		tag, err := tx.Exec(ctx, `UPDATE policies SET title = $3, category = $4, review_cycle_years = $5, owner_account_id = $6,
				statutory = $7, approval_level = $8, next_review_on = $9
			WHERE school_id = $1 AND id = $2`,
			schoolID, policyID, in.Title, in.Category, in.ReviewCycleYears, database.NullID(in.OwnerAccountID), in.Statutory, in.ApprovalLevel, in.NextReviewOn)
		if database.IsUniqueViolation(err, "policies_title") {
			return &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "title", Message: "There is already a policy with this title"}}}
		}
		if err != nil {
			return fmt.Errorf("policies: settings: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return apperr.New(apperr.NotFound, "There is no such policy")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM policy_relations WHERE school_id = $1 AND (policy_id = $2 OR related_id = $2)`, schoolID, policyID); err != nil {
			return fmt.Errorf("policies: relations: %w", err)
		}
		for _, r := range in.Related {
			if r == policyID {
				continue
			}
			if _, err := tx.Exec(ctx, `INSERT INTO policy_relations (school_id, policy_id, related_id)
				SELECT $1, a, b FROM (VALUES ($2::bigint, $3::bigint), ($3, $2)) AS x (a, b)
				WHERE EXISTS (SELECT 1 FROM policies WHERE school_id = $1 AND id = $3)
				ON CONFLICT DO NOTHING`, schoolID, policyID, r); err != nil {
				return fmt.Errorf("policies: relate: %w", err)
			}
		}
		detail := map[string]string{"title": in.Title, "statutory": fmt.Sprint(in.Statutory), "approval_level": string(in.ApprovalLevel),
			"cycle": fmt.Sprint(in.ReviewCycleYears)}
		if in.NextReviewOn != nil {
			detail["next_review_on"] = in.NextReviewOn.Format(time.DateOnly)
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: actor, Action: "policy.settings_changed",
			Subject: fmt.Sprintf("policy %d", policyID), Detail: detail})
	})
}

// Related returns the ids of a policy's related policies.
func (s *Store) Related(ctx context.Context, schoolID, policyID int64) ([]int64, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT related_id FROM policy_relations WHERE school_id = $1 AND policy_id = $2`, schoolID, policyID)
	if err != nil {
		return nil, fmt.Errorf("policies: related: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("policies: related: %w", err)
	}
	return ids, nil
}

// OpenRevision returns the policy's version being written or approved.
func (s *Store) OpenRevision(ctx context.Context, schoolID, policyID int64) (Version, bool, error) {
	v, err := scanVersion(s.db.Pool.QueryRow(ctx, `SELECT `+versionColumns+` FROM policy_versions
		WHERE school_id = $1 AND policy_id = $2 AND status IN ('draft', 'awaiting_approval', 'approved')
		ORDER BY number DESC LIMIT 1`, schoolID, policyID))
	if errors.Is(err, pgx.ErrNoRows) {
		return Version{}, false, nil
	}
	if err != nil {
		return Version{}, false, fmt.Errorf("policies: open revision: %w", err)
	}
	return v, true, nil
}

// Current returns the policy's published version.
func (s *Store) Current(ctx context.Context, schoolID, policyID int64) (Version, bool, error) {
	v, err := scanVersion(s.db.Pool.QueryRow(ctx, `SELECT `+versionColumns+` FROM policy_versions
		WHERE school_id = $1 AND policy_id = $2 AND status = 'published'`, schoolID, policyID))
	if errors.Is(err, pgx.ErrNoRows) {
		return Version{}, false, nil
	}
	if err != nil {
		return Version{}, false, fmt.Errorf("policies: current: %w", err)
	}
	return v, true, nil
}

// RevisionInput is the text of a revision as its author writes it.
type RevisionInput struct {
	Body       string
	Major      bool
	ChangeNote string // what changed, for the approvers
}

func (in *RevisionInput) validate() error {
	var v apperr.Validation
	in.ChangeNote = strings.TrimSpace(in.ChangeNote)
	v.Check(strings.TrimSpace(in.Body) != "", "body", "Enter the policy's text")
	v.MaxLen("body", in.Body, MaxBody, "policy's text")
	v.Check(utf8.ValidString(in.Body), "body", "The text has characters that are not valid UTF-8; paste it again as plain text")
	v.Check(utf8.RuneCountInString(in.ChangeNote) <= 2000, "change_note", "The summary of changes must be 2,000 characters or fewer")
	return v.Err()
}

// SaveRevision starts a new draft version of a published policy, or
// saves the draft already started. A draft can be edited until it is
// submitted for approval.
func (s *Store) SaveRevision(ctx context.Context, schoolID, policyID int64, actor audit.Actor, in RevisionInput) (Version, error) {
	if err := in.validate(); err != nil {
		return Version{}, err
	}
	open, ok, err := s.OpenRevision(ctx, schoolID, policyID)
	if err != nil {
		return Version{}, err
	}
	if !ok {
		if _, err := s.Get(ctx, schoolID, policyID); err != nil {
			return Version{}, err
		}
		v, err := s.CreateRevision(ctx, schoolID, policyID, actor, in.Body, in.Major)
		if err != nil {
			return Version{}, err
		}
		if in.ChangeNote != "" {
			if _, err := s.db.Pool.Exec(ctx, `UPDATE policy_versions SET change_note = $2 WHERE id = $1`, v.ID, in.ChangeNote); err != nil {
				return Version{}, fmt.Errorf("policies: change note: %w", err)
			}
		}
		return s.Version(ctx, schoolID, v.ID)
	}
	now := s.db.Now()
	err = s.db.InTx(ctx, func(tx pgx.Tx) error {
		v, err := versionTx(ctx, tx, schoolID, open.ID, true)
		if err != nil {
			return err
		}
		if v.Status != Draft {
			return apperr.New(apperr.Conflict, "Version %d has been sent for approval and can no longer be edited", v.Number)
		}
		body := NormaliseText(in.Body)
		if _, err := tx.Exec(ctx, `UPDATE policy_versions SET body_md = $2, sha256 = $3, major = $4, change_note = $5 WHERE id = $1`,
			v.ID, body, Hash(body), in.Major || v.Number == 1, in.ChangeNote); err != nil {
			return fmt.Errorf("policies: save revision: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: actor, Action: "policy.draft_edited",
			Subject: fmt.Sprintf("policy %d", policyID), Detail: map[string]string{"version": fmt.Sprint(v.Number), "sha256": Hash(body), "major": fmt.Sprint(in.Major)}})
	})
	if err != nil {
		return Version{}, err
	}
	return s.Version(ctx, schoolID, open.ID)
}

// DiscardRevision deletes a draft that was never published.
func (s *Store) DiscardRevision(ctx context.Context, schoolID, versionID int64, actor audit.Actor) error {
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		v, err := versionTx(ctx, tx, schoolID, versionID, true)
		if err != nil {
			return err
		}
		if v.Status != Draft || v.Number == 1 {
			return apperr.New(apperr.Conflict, "Only a draft revision can be discarded")
		}
		var decided bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM policy_decisions WHERE version_id = $1)`, v.ID).Scan(&decided); err != nil {
			return fmt.Errorf("policies: discard: %w", err)
		}
		if decided {
			return apperr.New(apperr.Conflict, "This revision has approvers' decisions on record and is kept; edit it instead")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM policy_approvers WHERE version_id = $1`, v.ID); err != nil {
			return fmt.Errorf("policies: discard: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM policy_versions WHERE id = $1`, v.ID); err != nil {
			return fmt.Errorf("policies: discard: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: s.db.Now(), Actor: actor, Action: "policy.revision_discarded",
			Subject: fmt.Sprintf("policy %d", v.PolicyID), Detail: map[string]string{"version": fmt.Sprint(v.Number)}})
	})
}
