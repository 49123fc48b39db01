package policies

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/auth"
	"signoff/internal/database"
	"signoff/internal/mail"
)

// Approval: sending a draft to its approvers, their decisions under the
// school's rule, and the board's decision recorded at a meeting.

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
		role := ApproverRole(level)
		round := v.Round + 1
		// The approvers: every member holding the role, and the members
		// named, but never the author nor whoever sends it.
		members, err := auth.MembersTx(ctx, tx, schoolID)
		if err != nil {
			return err
		}
		var approvers []auth.Member
		var ids []int64
		var isNamed []bool
		for _, m := range members {
			holds := m.Has(role)
			if m.AccountID == v.CreatedBy || m.AccountID == actor.AccountID || !holds && !slices.Contains(named, m.AccountID) {
				continue
			}
			approvers = append(approvers, m)
			ids, isNamed = append(ids, m.AccountID), append(isNamed, !holds)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO policy_approvers (school_id, version_id, round, account_id, named)
			SELECT $1, $2, $3, a.id, a.named FROM unnest($4::bigint[], $5::bool[]) a (id, named)`,
			schoolID, v.ID, round, ids, isNamed); err != nil {
			return fmt.Errorf("policies: approvers: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE policy_versions SET status = 'awaiting_approval', round = $2, submitted_at = $3, submitted_by = $4 WHERE id = $1`,
			v.ID, round, now, database.NullID(actor.AccountID)); err != nil {
			return fmt.Errorf("policies: submit: %w", err)
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
	rows, err := s.db.Pool.Query(ctx, `SELECT * FROM (SELECT pa.account_id, `+auth.NameSQL("pa.account_id")+` AS name, pa.named,
			coalesce(d.decision, ''), coalesce(d.comment, ''), d.decided_at
		FROM policy_approvers pa
		LEFT JOIN policy_decisions d ON d.version_id = pa.version_id AND d.round = pa.round AND d.account_id = pa.account_id
		WHERE pa.school_id = $1 AND pa.version_id = $2 AND pa.round = $3) x
		ORDER BY lower(x.name)`, schoolID, versionID, round)
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
	rows, err := s.db.Pool.Query(ctx, `SELECT d.round, `+auth.NameSQL("d.account_id")+`, d.decision, d.comment, d.decided_at
		FROM policy_decisions d
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
		if err := tx.QueryRow(ctx, `SELECT p.title, `+auth.NameSQL("$2::bigint")+`, `+auth.EmailSQL("$2::bigint")+` FROM policies p
			WHERE p.id = $1`, ver.PolicyID, database.NullID(ver.CreatedBy)).Scan(&title, &author, &authorEmail); err != nil {
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
