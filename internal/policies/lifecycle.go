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
	"signoff/internal/mail"
	"signoff/internal/schooltime"
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
	err := s.db.Pool.QueryRow(ctx, `SELECT approval_rule, approval_count, review_window_days FROM schools WHERE id = $1`, schoolID).
		Scan(&r.Kind, &r.Count, &r.WindowDays)
	if err != nil {
		return Rule{}, fmt.Errorf("policies: school rule: %w", err)
	}
	return r, nil
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

// Today is the date in London at t, as midnight UTC (how dates are held).
func Today(t time.Time) time.Time {
	l := t.In(schooltime.London)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
}

// NextReview is the date a review is next due after one on reviewed.
func NextReview(reviewed time.Time, cycleYears int) time.Time {
	return reviewed.AddDate(cycleYears, 0, 0)
}

// ReviewStatus is where a policy stands against its review date.
type ReviewStatus string

// The review statuses.
const (
	UpToDate   ReviewStatus = "up_to_date"
	DueSoon    ReviewStatus = "due_soon"
	Overdue    ReviewStatus = "overdue"
	InRevision ReviewStatus = "in_revision"
	NotYet     ReviewStatus = "not_published"
)

// Label is the status in words.
func (s ReviewStatus) Label() string {
	switch s {
	case UpToDate:
		return "Up to date"
	case DueSoon:
		return "Review due soon"
	case Overdue:
		return "Review overdue"
	case InRevision:
		return "In revision"
	case NotYet:
		return "Not published"
	}
	return string(s)
}

// DateStatus is the status from the dates alone: overdue after the review
// date, due soon within window days of it.
func DateStatus(next *time.Time, today time.Time, windowDays int) ReviewStatus {
	switch {
	case next == nil:
		return NotYet
	case next.Before(today):
		return Overdue
	case !next.After(today.AddDate(0, 0, windowDays)):
		return DueSoon
	}
	return UpToDate
}

// StatusOf is a policy's status: in revision while a new version is being
// written or approved, otherwise its DateStatus.
func StatusOf(next *time.Time, today time.Time, windowDays int, inRevision bool) ReviewStatus {
	if inRevision {
		return InRevision
	}
	return DateStatus(next, today, windowDays)
}

// Querier runs a query: the pool, or a transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Due is a published policy due for review soon or overdue on a day.
type Due struct {
	School       string
	SchoolID     int64
	PolicyID     int64
	Title        string
	NextReviewOn time.Time
	Status       ReviewStatus // DueSoon or Overdue
}

// DueForReview is the one list of policies due for review: the published
// policies of school schoolID (of every school when 0) whose DateStatus on
// day, under their school's window, is DueSoon or Overdue, by school, date
// and title. The review scheduler, `signoff reviews` and the governors'
// compliance report read it.
func DueForReview(ctx context.Context, q Querier, day time.Time, schoolID int64) ([]Due, error) {
	rows, err := q.Query(ctx, `SELECT sc.name, sc.id, p.id, p.title, p.next_review_on, sc.review_window_days
		FROM policies p JOIN schools sc ON sc.id = p.school_id
		WHERE p.next_review_on IS NOT NULL AND ($1 = 0 OR p.school_id = $1)
		  AND EXISTS (SELECT 1 FROM policy_versions v WHERE v.policy_id = p.id AND v.status = 'published')
		ORDER BY lower(sc.name), sc.id, p.next_review_on, lower(p.title), p.id`, schoolID)
	if err != nil {
		return nil, fmt.Errorf("policies: due for review: %w", err)
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Due, error) {
		var d Due
		var window int
		err := r.Scan(&d.School, &d.SchoolID, &d.PolicyID, &d.Title, &d.NextReviewOn, &window)
		d.Status = DateStatus(&d.NextReviewOn, day, window)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("policies: due for review: %w", err)
	}
	out := all[:0]
	for _, d := range all {
		if d.Status == DueSoon || d.Status == Overdue {
			out = append(out, d)
		}
	}
	return out, nil
}

const policyColumns = `p.id, p.school_id, p.title, p.category, p.review_cycle_years, p.created_at,
	coalesce(p.owner_account_id, 0), coalesce((SELECT display_name FROM accounts o WHERE o.id = p.owner_account_id), ''),
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
			var ok bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE id = $1 AND school_id = $2 AND disabled_at IS NULL
				AND roles && ARRAY['admin', 'head', 'governor', 'staff'])`, in.OwnerAccountID, schoolID).Scan(&ok); err != nil {
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

// Submit sends a draft for approval: the approvers are the governors (or,
// for a policy the headteacher approves, the heads) and anyone named,
// never the revision's author. Each is emailed a link to the changes.
// link is the address of the policy's page.
func (s *Store) Submit(ctx context.Context, schoolID, versionID int64, actor audit.Actor, named []int64, link string) (Version, error) {
	now := s.db.Now()
	var out Version
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		v, err := versionTx(ctx, tx, schoolID, versionID, true)
		if err != nil {
			return err
		}
		if v.Status != Draft {
			return apperr.New(apperr.Conflict, "Version %d is %s: only a draft can be sent for approval", v.Number, strings.ToLower(v.Status.Label()))
		}
		var title string
		var level ApprovalLevel
		if err := tx.QueryRow(ctx, `SELECT title, approval_level FROM policies WHERE id = $1`, v.PolicyID).Scan(&title, &level); err != nil {
			return fmt.Errorf("policies: submit: %w", err)
		}
		role := string(ApproverRole(level))
		round := v.Round + 1
		_, err = tx.Exec(ctx, `INSERT INTO policy_approvers (school_id, version_id, round, account_id, named)
			SELECT $1, $2, $3, a.id, NOT ($4 = ANY (a.roles)) FROM accounts a
			WHERE a.school_id = $1 AND a.disabled_at IS NULL AND a.id <> coalesce($5, 0) AND a.id <> coalesce($7, 0)
			  AND ($4 = ANY (a.roles) OR (a.id = ANY ($6) AND a.roles && ARRAY['admin', 'head', 'governor', 'staff']))`,
			schoolID, v.ID, round, role, database.NullID(v.CreatedBy), named, database.NullID(actor.AccountID))
		if err != nil {
			return fmt.Errorf("policies: approvers: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE policy_versions SET status = 'awaiting_approval', round = $2, submitted_at = $3, submitted_by = $4 WHERE id = $1`,
			v.ID, round, now, database.NullID(actor.AccountID)); err != nil {
			return fmt.Errorf("policies: submit: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT a.id, a.display_name, coalesce(a.email, '') FROM policy_approvers pa JOIN accounts a ON a.id = pa.account_id
			WHERE pa.version_id = $1 AND pa.round = $2`, v.ID, round)
		if err != nil {
			return fmt.Errorf("policies: approvers: %w", err)
		}
		approvers, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (auth.Member, error) {
			var m auth.Member
			return m, r.Scan(&m.AccountID, &m.Name, &m.Email)
		})
		if err != nil {
			return fmt.Errorf("policies: approvers: %w", err)
		}
		kind := "a major revision: staff will be asked to sign it again"
		if !v.Major {
			kind = "a minor revision: staff will not be asked to sign again"
		}
		for _, a := range approvers {
			if a.Email == "" {
				continue
			}
			text := fmt.Sprintf("Dear %s,\n\nVersion %d of the %s has been sent for your approval. It is %s.\n\n", a.Name, v.Number, title, kind)
			if v.ChangeNote != "" {
				text += "What has changed, in the author's words:\n" + v.ChangeNote + "\n\n"
			}
			text += "Read it with the changes marked, then approve it or say what needs to change:\n" + link + "\n"
			if _, _, err := mail.Enqueue(ctx, tx, now, mail.Message{SchoolID: schoolID, To: a.Email, ToName: a.Name,
				Subject: "For approval: " + title + " (version " + fmt.Sprint(v.Number) + ")", Text: text, Kind: "policy_approval",
				DedupeKey: fmt.Sprintf("school:%d:policy-version:%d:round:%d:approver:%d", schoolID, v.ID, round, a.AccountID)}); err != nil {
				return err
			}
		}
		v.Status, v.Round, v.SubmittedAt = AwaitingApproval, round, &now
		out = v
		return audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: actor, Action: "policy.submitted",
			Subject: fmt.Sprintf("policy %d", v.PolicyID), Detail: map[string]string{"version": fmt.Sprint(v.Number), "round": fmt.Sprint(round),
				"approvers": fmt.Sprint(len(approvers))}})
	})
	return out, err
}

// Approver is one person asked to approve a round, with their decision.
type Approver struct {
	AccountID int64
	Name      string
	Named     bool
	Decision  string // "approve", "reject" or "" (not yet)
	Comment   string
	DecidedAt *time.Time
}

// Approvers returns the approvers of a version's round and their decisions.
func (s *Store) Approvers(ctx context.Context, schoolID, versionID int64, round int) ([]Approver, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT a.id, a.display_name, pa.named, coalesce(d.decision, ''), coalesce(d.comment, ''), d.decided_at
		FROM policy_approvers pa JOIN accounts a ON a.id = pa.account_id
		LEFT JOIN policy_decisions d ON d.version_id = pa.version_id AND d.round = pa.round AND d.account_id = pa.account_id
		WHERE pa.school_id = $1 AND pa.version_id = $2 AND pa.round = $3
		ORDER BY lower(a.display_name)`, schoolID, versionID, round)
	if err != nil {
		return nil, fmt.Errorf("policies: approvers: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Approver, error) {
		var a Approver
		return a, r.Scan(&a.AccountID, &a.Name, &a.Named, &a.Decision, &a.Comment, &a.DecidedAt)
	})
	if err != nil {
		return nil, fmt.Errorf("policies: approvers: %w", err)
	}
	return out, nil
}

// Decision is one approver's decision on a version.
type Decision struct {
	Round     int
	Name      string
	Decision  string
	Comment   string
	DecidedAt time.Time
}

// Decisions returns every decision on a version, oldest first.
func (s *Store) Decisions(ctx context.Context, schoolID, versionID int64) ([]Decision, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT d.round, a.display_name, d.decision, d.comment, d.decided_at
		FROM policy_decisions d JOIN accounts a ON a.id = d.account_id
		WHERE d.school_id = $1 AND d.version_id = $2 ORDER BY d.decided_at, d.id`, schoolID, versionID)
	if err != nil {
		return nil, fmt.Errorf("policies: decisions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Decision, error) {
		var d Decision
		return d, r.Scan(&d.Round, &d.Name, &d.Decision, &d.Comment, &d.DecidedAt)
	})
	if err != nil {
		return nil, fmt.Errorf("policies: decisions: %w", err)
	}
	return out, nil
}

// DecisionInput is an approver's decision.
type DecisionInput struct {
	Approve bool
	Reject  bool
	Comment string
}

// Decide records an approver's decision on a version awaiting approval.
// The author cannot approve their own revision, and only the round's
// approvers decide. A rejection returns the version to draft; approval
// that meets the school's rule approves it. link is the policy's page,
// for the email to the author.
func (s *Store) Decide(ctx context.Context, schoolID, versionID, accountID int64, actor audit.Actor, in DecisionInput, link string) (Version, error) {
	in.Comment = strings.TrimSpace(in.Comment)
	var v apperr.Validation
	v.Check(in.Approve != in.Reject, "decision", "Choose whether you approve this version")
	v.Check(!in.Reject || in.Comment != "", "comment", "Say what needs to change, so the author can revise it")
	v.Check(utf8.RuneCountInString(in.Comment) <= 5000, "comment", "The comment must be 5,000 characters or fewer")
	if err := v.Err(); err != nil {
		return Version{}, err
	}
	now := s.db.Now()
	var out Version
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		ver, err := versionTx(ctx, tx, schoolID, versionID, true)
		if err != nil {
			return err
		}
		if ver.Status != AwaitingApproval {
			return apperr.New(apperr.Conflict, "Version %d is not waiting for approval (it is %s)", ver.Number, strings.ToLower(ver.Status.Label()))
		}
		if ver.CreatedBy == accountID {
			return apperr.New(apperr.Forbidden, "You wrote this revision, so you cannot approve or reject it: the other approvers decide")
		}
		var isApprover bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM policy_approvers WHERE version_id = $1 AND round = $2 AND account_id = $3)`,
			ver.ID, ver.Round, accountID).Scan(&isApprover); err != nil {
			return fmt.Errorf("policies: decide: %w", err)
		}
		if !isApprover {
			return apperr.New(apperr.Forbidden, "You are not one of the approvers of this revision")
		}
		decision := "approve"
		if in.Reject {
			decision = "reject"
		}
		_, err = tx.Exec(ctx, `INSERT INTO policy_decisions (school_id, version_id, round, account_id, decision, comment, decided_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, schoolID, ver.ID, ver.Round, accountID, decision, in.Comment, now)
		if database.IsUniqueViolation(err, "") {
			return apperr.New(apperr.Conflict, "You have already given your decision on this version")
		}
		if err != nil {
			return fmt.Errorf("policies: decide: %w", err)
		}
		if err := audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: actor, Action: "policy." + decision + "d",
			Subject: fmt.Sprintf("policy %d", ver.PolicyID), Detail: map[string]string{"version": fmt.Sprint(ver.Number), "round": fmt.Sprint(ver.Round), "comment": in.Comment}}); err != nil {
			return err
		}
		var title, author, authorEmail string
		if err := tx.QueryRow(ctx, `SELECT p.title, coalesce(a.display_name, ''), coalesce(a.email, '') FROM policies p
			LEFT JOIN accounts a ON a.id = $2 WHERE p.id = $1`, ver.PolicyID, database.NullID(ver.CreatedBy)).Scan(&title, &author, &authorEmail); err != nil {
			return fmt.Errorf("policies: decide: %w", err)
		}
		tell := func(subject, text string) error {
			if authorEmail == "" {
				return nil
			}
			_, _, err := mail.Enqueue(ctx, tx, now, mail.Message{SchoolID: schoolID, To: authorEmail, ToName: author, Subject: subject,
				Text: "Dear " + author + ",\n\n" + text + "\n\n" + link + "\n", Kind: "policy_approval",
				DedupeKey: fmt.Sprintf("school:%d:policy-version:%d:round:%d:outcome", schoolID, ver.ID, ver.Round)})
			return err
		}
		if in.Reject {
			if _, err := tx.Exec(ctx, `UPDATE policy_versions SET status = 'draft' WHERE id = $1`, ver.ID); err != nil {
				return fmt.Errorf("policies: reject: %w", err)
			}
			ver.Status = Draft
			out = ver
			return tell("Changes asked for: "+title+" (version "+fmt.Sprint(ver.Number)+")",
				fmt.Sprintf("%s did not approve version %d of the %s. Their comment:\n\n%s\n\nThe version is a draft again: revise it and send it for approval again.",
					actor.Name, ver.Number, title, in.Comment))
		}
		var approvals, approvers int
		var rule Rule
		if err := tx.QueryRow(ctx, `SELECT
				(SELECT count(*) FROM policy_decisions WHERE version_id = $1 AND round = $2 AND decision = 'approve'),
				(SELECT count(*) FROM policy_approvers WHERE version_id = $1 AND round = $2),
				s.approval_rule, s.approval_count FROM schools s WHERE s.id = $3`, ver.ID, ver.Round, schoolID).
			Scan(&approvals, &approvers, &rule.Kind, &rule.Count); err != nil {
			return fmt.Errorf("policies: count approvals: %w", err)
		}
		out = ver
		if !rule.Met(approvals, approvers) {
			return nil
		}
		today := Today(now)
		body := fmt.Sprintf("Approvers online (%d of %d)", approvals, approvers)
		if _, err := tx.Exec(ctx, `UPDATE policy_versions SET status = 'approved', approved_at = $2, approved_on = $3, approved_by_body = $4,
				approval_method = 'approvers' WHERE id = $1`, ver.ID, now, today, body); err != nil {
			return fmt.Errorf("policies: approve: %w", err)
		}
		out.Status, out.ApprovedAt, out.ApprovedOn, out.ApprovedByBody, out.ApprovalMethod = Approved, &now, &today, body, "approvers"
		if err := audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: audit.System("approval rule"), Action: "policy.approved",
			Subject: fmt.Sprintf("policy %d", ver.PolicyID), Detail: map[string]string{"version": fmt.Sprint(ver.Number),
				"approvals": fmt.Sprint(approvals), "approvers": fmt.Sprint(approvers), "rule": rule.Describe()}}); err != nil {
			return err
		}
		return tell("Approved: "+title+" (version "+fmt.Sprint(ver.Number)+")",
			fmt.Sprintf("Version %d of the %s has been approved (%d of %d approvers). The office can now publish it.", ver.Number, title, approvals, approvers))
	})
	return out, err
}

// MeetingInput is the board's decision recorded by an admin.
type MeetingInput struct {
	Date      *time.Time
	DateError string // set by the caller when the typed date was not a date
	Body      string // "Full Governing Body", "Resources committee"
	Meeting   string // "Spring term meeting"
	MinuteRef string
}

func (in *MeetingInput) validate(today time.Time) error {
	var v apperr.Validation
	in.Body = strings.TrimSpace(in.Body)
	in.Meeting = strings.TrimSpace(in.Meeting)
	in.MinuteRef = strings.TrimSpace(in.MinuteRef)
	switch {
	case in.DateError != "":
		v.Add("date", in.DateError)
	case in.Date == nil:
		v.Add("date", "Enter the date of the meeting")
	case in.Date.After(today):
		v.Add("date", "The date of the meeting must be today or in the past")
	case in.Date.Before(today.AddDate(-5, 0, 0)):
		v.Add("date", "The date of the meeting must be within the last 5 years")
	}
	v.Check(in.Body != "", "body", "Enter who approved it, for example Full Governing Body")
	v.Check(utf8.RuneCountInString(in.Body) <= 200, "body", "Who approved it must be 200 characters or fewer")
	v.Check(utf8.RuneCountInString(in.Meeting) <= 200, "meeting", "The meeting must be 200 characters or fewer")
	v.Check(utf8.RuneCountInString(in.MinuteRef) <= 100, "minute_ref", "The minute reference must be 100 characters or fewer")
	return v.Err()
}

// RecordMeeting records that the board approved a version at a meeting:
// the version is approved whatever the online approvals say.
func (s *Store) RecordMeeting(ctx context.Context, schoolID, versionID int64, actor audit.Actor, in MeetingInput) (Version, error) {
	now := s.db.Now()
	if err := in.validate(Today(now)); err != nil {
		return Version{}, err
	}
	var out Version
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		v, err := versionTx(ctx, tx, schoolID, versionID, true)
		if err != nil {
			return err
		}
		if v.Status != Draft && v.Status != AwaitingApproval {
			return apperr.New(apperr.Conflict, "Version %d is %s: only a draft or a version awaiting approval can be approved", v.Number, strings.ToLower(v.Status.Label()))
		}
		if _, err := tx.Exec(ctx, `UPDATE policy_versions SET status = 'approved', approved_at = $2, approved_on = $3, approved_by_body = $4,
				approval_meeting = $5, minute_ref = $6, approval_method = 'meeting' WHERE id = $1`,
			v.ID, now, *in.Date, in.Body, in.Meeting, in.MinuteRef); err != nil {
			return fmt.Errorf("policies: record meeting: %w", err)
		}
		v.Status, v.ApprovedAt, v.ApprovedOn, v.ApprovedByBody, v.ApprovalMeeting, v.MinuteRef, v.ApprovalMethod =
			Approved, &now, in.Date, in.Body, in.Meeting, in.MinuteRef, "meeting"
		out = v
		return audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: actor, Action: "policy.approved",
			Subject: fmt.Sprintf("policy %d", v.PolicyID), Detail: map[string]string{"version": fmt.Sprint(v.Number),
				"date": in.Date.Format(time.DateOnly), "body": in.Body, "meeting": in.Meeting, "minute_ref": in.MinuteRef}})
	})
	return out, err
}

// CheckPublishable is the publishing rule: whether v may be published
// now. An approved version may (approved by its approvers under the
// school's rule, or by the board at a meeting). A first version may also
// be published as a draft: the school adopting a policy its governors
// approved before it came to Signoff; it can equally be sent for approval
// first. A later version only once approved; one sent for approval waits
// for the decision, whatever its number. PublishVersionTx applies it.
func CheckPublishable(v Version) error {
	switch {
	case v.Status == Approved:
		return nil
	case v.Status == Draft && v.Number == 1:
		return nil
	case v.Status == Draft || v.Status == AwaitingApproval:
		return apperr.New(apperr.Conflict, "Version %d must be approved before it is published", v.Number)
	case v.Status == Published:
		return apperr.New(apperr.Conflict, "Version %d is already published", v.Number)
	}
	return apperr.New(apperr.Conflict, "Version %d is %s and cannot be published", v.Number, strings.ToLower(v.Status.Label()))
}

// recordPublishedTx moves the review date on when a version is published
// (from its approval date, else today) and, for an approved version,
// records the review that ended in it. Called by PublishVersionTx.
func recordPublishedTx(ctx context.Context, tx pgx.Tx, now time.Time, v Version, actor audit.Actor) error {
	var cycle int
	if err := tx.QueryRow(ctx, `SELECT review_cycle_years FROM policies WHERE id = $1`, v.PolicyID).Scan(&cycle); err != nil {
		return fmt.Errorf("policies: publish review: %w", err)
	}
	reviewed := Today(now)
	if v.ApprovedOn != nil {
		reviewed = *v.ApprovedOn
	}
	next := NextReview(reviewed, cycle)
	if _, err := tx.Exec(ctx, `UPDATE policies SET next_review_on = $2 WHERE id = $1`, v.PolicyID, next); err != nil {
		return fmt.Errorf("policies: publish review: %w", err)
	}
	if v.ApprovalMethod == "" {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO policy_reviews (school_id, policy_id, version_id, outcome, reviewed_on, approved_by_body, meeting, minute_ref,
			note, next_review_on, recorded_by, recorded_at)
		VALUES ($1, $2, $3, 'new_version', $4, $5, $6, $7, $8, $9, $10, $11)`,
		v.SchoolID, v.PolicyID, v.ID, reviewed, v.ApprovedByBody, v.ApprovalMeeting, v.MinuteRef, v.ChangeNote, next, database.NullID(actor.AccountID), now)
	if err != nil {
		return fmt.Errorf("policies: publish review: %w", err)
	}
	return nil
}

// ReviewInput records a review that made no changes.
type ReviewInput struct {
	MeetingInput
	Note string
}

// RecordNoChangeReview records that a policy was reviewed and kept as it
// is: who, when, the board's approval; the next review date moves on.
func (s *Store) RecordNoChangeReview(ctx context.Context, schoolID, policyID int64, actor audit.Actor, in ReviewInput) (time.Time, error) {
	now := s.db.Now()
	in.Note = strings.TrimSpace(in.Note)
	err := in.validate(Today(now))
	if utf8.RuneCountInString(in.Note) > 2000 {
		fields := append(apperr.FieldsOf(err), apperr.FieldError{Field: "note", Message: "The note must be 2,000 characters or fewer"})
		err = &apperr.Error{Code: apperr.Invalid, Fields: fields}
	}
	if err != nil {
		return time.Time{}, err
	}
	var next time.Time
	err = s.db.InTx(ctx, func(tx pgx.Tx) error {
		var cycle int
		var current *int64
		err := tx.QueryRow(ctx, `SELECT p.review_cycle_years, (SELECT id FROM policy_versions v WHERE v.policy_id = p.id AND v.status = 'published')
			FROM policies p WHERE p.school_id = $1 AND p.id = $2 FOR UPDATE`, schoolID, policyID).Scan(&cycle, &current)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "There is no such policy")
		}
		if err != nil {
			return fmt.Errorf("policies: review: %w", err)
		}
		if current == nil {
			return apperr.New(apperr.Conflict, "This policy has not been published yet, so there is nothing to review")
		}
		next = NextReview(*in.Date, cycle)
		if _, err := tx.Exec(ctx, `INSERT INTO policy_reviews (school_id, policy_id, version_id, outcome, reviewed_on, approved_by_body, meeting, minute_ref,
				note, next_review_on, recorded_by, recorded_at)
			VALUES ($1, $2, $3, 'no_changes', $4, $5, $6, $7, $8, $9, $10, $11)`,
			schoolID, policyID, *current, *in.Date, in.Body, in.Meeting, in.MinuteRef, in.Note, next, database.NullID(actor.AccountID), now); err != nil {
			return fmt.Errorf("policies: review: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE policies SET next_review_on = $2 WHERE id = $1`, policyID, next); err != nil {
			return fmt.Errorf("policies: review: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: actor, Action: "policy.reviewed",
			Subject: fmt.Sprintf("policy %d", policyID), Detail: map[string]string{"outcome": "no_changes", "date": in.Date.Format(time.DateOnly),
				"body": in.Body, "minute_ref": in.MinuteRef, "next_review_on": next.Format(time.DateOnly)}})
	})
	return next, err
}

// Review is one review of a policy.
type Review struct {
	ID             int64
	VersionNumber  int
	Outcome        string // "no_changes" or "new_version"
	ReviewedOn     time.Time
	ApprovedByBody string
	Meeting        string
	MinuteRef      string
	Note           string
	NextReviewOn   time.Time
	RecordedBy     string
}

// Reviews returns a policy's reviews, newest first.
func (s *Store) Reviews(ctx context.Context, schoolID, policyID int64) ([]Review, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT r.id, coalesce(v.number, 0), r.outcome, r.reviewed_on, r.approved_by_body, r.meeting, r.minute_ref, r.note,
			r.next_review_on, coalesce(a.display_name, '')
		FROM policy_reviews r LEFT JOIN policy_versions v ON v.id = r.version_id LEFT JOIN accounts a ON a.id = r.recorded_by
		WHERE r.school_id = $1 AND r.policy_id = $2 ORDER BY r.reviewed_on DESC, r.id DESC`, schoolID, policyID)
	if err != nil {
		return nil, fmt.Errorf("policies: reviews: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Review, error) {
		var x Review
		return x, r.Scan(&x.ID, &x.VersionNumber, &x.Outcome, &x.ReviewedOn, &x.ApprovedByBody, &x.Meeting, &x.MinuteRef, &x.Note, &x.NextReviewOn, &x.RecordedBy)
	})
	if err != nil {
		return nil, fmt.Errorf("policies: reviews: %w", err)
	}
	return out, nil
}

// ClaimNoticeTx marks that the audience of published version versionID
// is being told, inside the transaction that tells them, and returns the
// version and its policy's title. ok is false when there is nobody to
// tell: the version is not published, is a first version (announced by
// the request to sign itself) or was told before. The version's row is
// locked, so two callers never both tell.
func ClaimNoticeTx(ctx context.Context, tx pgx.Tx, now time.Time, schoolID, versionID int64) (v Version, title string, ok bool, err error) {
	v, err = versionTx(ctx, tx, schoolID, versionID, true)
	if err != nil {
		return Version{}, "", false, err
	}
	var notified bool
	if err := tx.QueryRow(ctx, `SELECT v.notified_at IS NOT NULL, p.title FROM policy_versions v JOIN policies p ON p.id = v.policy_id WHERE v.id = $1`, v.ID).
		Scan(&notified, &title); err != nil {
		return Version{}, "", false, fmt.Errorf("policies: notice: %w", err)
	}
	if v.Status != Published || v.Number == 1 || notified {
		return v, title, false, nil
	}
	if _, err := tx.Exec(ctx, `UPDATE policy_versions SET notified_at = $2 WHERE id = $1`, v.ID, now); err != nil {
		return Version{}, "", false, fmt.Errorf("policies: notice: %w", err)
	}
	return v, title, true, nil
}

// Unannounced lists the revisions published since since whose audience
// has not been told (a server stopped between publishing and telling),
// as school and version ids.
func Unannounced(ctx context.Context, db *database.DB, since time.Time) ([][2]int64, error) {
	rows, err := db.Pool.Query(ctx, `SELECT school_id, id FROM policy_versions
		WHERE status = 'published' AND number > 1 AND notified_at IS NULL AND published_at > $1 ORDER BY id`, since)
	if err != nil {
		return nil, fmt.Errorf("policies: unannounced: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]int64, error) {
		var p [2]int64
		return p, r.Scan(&p[0], &p[1])
	})
	if err != nil {
		return nil, fmt.Errorf("policies: unannounced: %w", err)
	}
	return out, nil
}
