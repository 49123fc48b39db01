package retention

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/database"
	"signoff/internal/schooltime"
)

// Item is one record a run erases or removes.
type Item struct {
	Kind  Kind
	Label string // "SG-ABCD-…: Photo consent by Ann Smith for Tom Smith"
}

// Plan is what a run does (or, previewed, would do) at one school.
type Plan struct {
	SchoolID int64
	At       time.Time
	Counts   map[Kind]int
	// Items lists up to MaxItems records of each kind, for the preview.
	Items map[Kind][]Item
	// Held counts the people whose records a legal hold keeps.
	Held int
}

// Total is the number of records the plan touches.
func (p Plan) Total() int {
	n := 0
	for _, c := range p.Counts {
		n += c
	}
	return n
}

// MaxItems is how many records of each kind a preview names.
const MaxItems = 50

// Origin says who started a run.
type Origin string

// The origins.
const (
	FromSchedule Origin = "schedule"
	FromOffice   Origin = "office"
	FromCommand  Origin = "command"
)

var errPreview = errors.New("preview: roll back")

// Preview works out what a run at at would do, changing nothing: the run
// is done in a transaction that is rolled back, so the preview is exact.
func (s *Store) Preview(ctx context.Context, schoolID int64, at time.Time) (Plan, error) {
	var plan Plan
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		if plan, err = s.run(ctx, tx, schoolID, at, audit.System("retention preview")); err != nil {
			return err
		}
		return errPreview
	})
	if errors.Is(err, errPreview) {
		err = nil
	}
	return plan, err
}

// Report is the record of a run.
type Report struct {
	ID     int64
	RanAt  time.Time
	Origin Origin
	By     string
	Counts map[Kind]int
}

// Apply erases and removes what is due at at (which may not be in the
// future), in one transaction, and records the run's report and an
// audit entry.
func (s *Store) Apply(ctx context.Context, schoolID int64, at time.Time, origin Origin, actor audit.Actor) (Report, error) {
	now := s.db.Now()
	if at.After(now.Add(time.Minute)) {
		return Report{}, apperr.New(apperr.Invalid, "A run can only apply what is due by today; preview a later date instead")
	}
	var rep Report
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		// One run per school at a time, across servers.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, int32(lockSpace), int32(schoolID)); err != nil {
			return fmt.Errorf("retention: lock: %w", err)
		}
		plan, err := s.run(ctx, tx, schoolID, at, actor)
		if err != nil {
			return err
		}
		rep, err = s.reportTx(ctx, tx, schoolID, now, at, origin, actor, plan)
		return err
	})
	return rep, err
}

const lockSpace = 0x726574 // "ret"

func (s *Store) reportTx(ctx context.Context, tx pgx.Tx, schoolID int64, now, at time.Time, origin Origin, actor audit.Actor, plan Plan) (Report, error) {
	rep := Report{RanAt: now, Origin: origin, By: actor.Name, Counts: plan.Counts}
	counts, _ := json.Marshal(plan.Counts)
	if err := tx.QueryRow(ctx, `INSERT INTO retention_runs (school_id, ran_at, origin, counts, run_by) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		schoolID, now, origin, counts, database.NullID(actor.AccountID)).Scan(&rep.ID); err != nil {
		return rep, fmt.Errorf("retention: report: %w", err)
	}
	detail := map[string]string{"origin": string(origin), "as_at": at.UTC().Format(time.RFC3339), "total": strconv.Itoa(plan.Total())}
	for k, n := range plan.Counts {
		detail[string(k)] = strconv.Itoa(n)
	}
	return rep, audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: actor, Action: "retention.applied",
		Subject: "retention run " + strconv.FormatInt(rep.ID, 10), Detail: detail})
}

// Reports returns a school's latest run reports, newest first.
func (s *Store) Reports(ctx context.Context, schoolID int64, limit int) ([]Report, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT r.id, r.ran_at, r.origin, coalesce(a.display_name, ''), r.counts
		FROM retention_runs r LEFT JOIN accounts a ON a.id = r.run_by
		WHERE r.school_id = $1 ORDER BY r.id DESC LIMIT $2`, schoolID, limit)
	if err != nil {
		return nil, fmt.Errorf("retention: reports: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Report, error) {
		var rep Report
		var counts []byte
		if err := r.Scan(&rep.ID, &rep.RanAt, &rep.Origin, &rep.By, &counts); err != nil {
			return rep, err
		}
		if rep.By == "" {
			rep.By = string(rep.Origin)
		}
		return rep, json.Unmarshal(counts, &rep.Counts)
	})
	if err != nil {
		return nil, fmt.Errorf("retention: reports: %w", err)
	}
	return out, nil
}

// run erases and removes, inside tx, what is due at at, and says what.
func (s *Store) run(ctx context.Context, tx pgx.Tx, schoolID int64, at time.Time, actor audit.Actor) (Plan, error) {
	plan := Plan{SchoolID: schoolID, At: at, Counts: map[Kind]int{}, Items: map[Kind][]Item{}}
	periods, err := schedule(ctx, tx, schoolID)
	if err != nil {
		return plan, err
	}
	months := map[Kind]int{}
	for _, p := range periods {
		months[p.Kind] = p.Months
	}
	cutoff := func(k Kind) time.Time { return at.AddDate(0, -months[k], 0) }

	// Who is held: their person ids, accounts and addresses.
	var held, heldAccounts []int64
	var heldEmails []string
	if err := tx.QueryRow(ctx, `SELECT coalesce(array_agg(p.id), '{}'), coalesce(array_agg(p.account_id) FILTER (WHERE p.account_id IS NOT NULL), '{}'),
			coalesce(array_agg(lower(p.email)) FILTER (WHERE p.email IS NOT NULL), '{}')
		FROM legal_holds h JOIN people p ON p.id = h.person_id
		WHERE h.school_id = $1 AND h.lifted_at IS NULL`, schoolID).Scan(&held, &heldAccounts, &heldEmails); err != nil {
		return plan, fmt.Errorf("retention: holds: %w", err)
	}
	plan.Held = len(held)
	if len(heldAccounts) > 0 {
		var more []string
		if err := tx.QueryRow(ctx, `SELECT coalesce(array_agg(DISTINCT lower(email)), '{}') FROM accounts WHERE id = ANY ($1) AND email IS NOT NULL`,
			heldAccounts).Scan(&more); err != nil {
			return plan, fmt.Errorf("retention: held accounts: %w", err)
		}
		heldEmails = append(heldEmails, more...)
	}
	add := func(k Kind, label string) {
		plan.Counts[k]++
		if len(plan.Items[k]) < MaxItems {
			plan.Items[k] = append(plan.Items[k], Item{Kind: k, Label: label})
		}
	}

	// Signature and consent records: staff signatures by the signer's
	// leaving; parents' consents and the agreement by the pupil's.
	sigQueries := []struct {
		kind  Kind
		where string
	}{
		{StaffSignatures, `sp.kind = 'staff' AND s.pupil_id IS NULL AND sp.left_at IS NOT NULL AND sp.left_at <= $2`},
		{ParentConsents, `f.kind = 'consent' AND s.pupil_id IS NOT NULL AND c.left_at IS NOT NULL AND c.left_at <= $2`},
		{HomeSchoolAgreement, `f.kind = 'agreement' AND s.pupil_id IS NOT NULL AND c.left_at IS NOT NULL AND c.left_at <= $2`},
	}
	for _, sq := range sigQueries {
		rows, err := tx.Query(ctx, `SELECT s.id, s.reference, f.title, sp.given_name || ' ' || sp.family_name,
				coalesce(c.given_name || ' ' || c.family_name, '')
			FROM signatures s JOIN forms f ON f.id = s.form_id JOIN people sp ON sp.id = s.person_id
			LEFT JOIN people c ON c.id = s.pupil_id
			WHERE s.school_id = $1 AND s.erased_at IS NULL AND `+sq.where+`
			  AND NOT (s.person_id = ANY ($3)) AND NOT (coalesce(s.pupil_id, 0) = ANY ($3))
			ORDER BY s.id`, schoolID, cutoff(sq.kind), held)
		if err != nil {
			return plan, fmt.Errorf("retention: %s: %w", sq.kind, err)
		}
		type due struct {
			id                     int64
			ref, form, who, forWho string
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (due, error) {
			var d due
			return d, r.Scan(&d.id, &d.ref, &d.form, &d.who, &d.forWho)
		})
		if err != nil {
			return plan, fmt.Errorf("retention: %s: %w", sq.kind, err)
		}
		for part := range slices.Chunk(list, s.batch) {
			erased, err := eraseAll(ctx, tx, `signoff_erase_signature`, part, func(d due) int64 { return d.id }, s.db.Now())
			if err != nil {
				return plan, fmt.Errorf("retention: erase %s: %w", sq.kind, err)
			}
			b := &pgx.Batch{}
			for _, d := range erased {
				audit.Queue(b, audit.Entry{SchoolID: schoolID, At: s.db.Now(), Actor: actor, Action: "signature.erased",
					Subject: "signature " + d.ref, Detail: map[string]string{"kind": string(sq.kind)}})
				label := d.ref + ": " + d.form + " by " + d.who
				if d.forWho != "" {
					label += " for " + d.forWho
				}
				add(sq.kind, label)
			}
			if b.Len() == 0 {
				continue
			}
			if err := tx.SendBatch(ctx, b).Close(); err != nil {
				return plan, fmt.Errorf("retention: audit %s: %w", sq.kind, err)
			}
		}
	}

	// Scans of paper forms, by the leaving of the pupil (or signer).
	rows, err := tx.Query(ctx, `SELECT s.id, s.reference, f.title, who.given_name || ' ' || who.family_name
		FROM signature_scans sc JOIN signatures s ON s.id = sc.signature_id JOIN forms f ON f.id = s.form_id
		JOIN people who ON who.id = coalesce(s.pupil_id, s.person_id)
		WHERE sc.school_id = $1 AND who.left_at IS NOT NULL AND who.left_at <= $2
		  AND NOT (s.person_id = ANY ($3)) AND NOT (coalesce(s.pupil_id, 0) = ANY ($3))
		ORDER BY s.id`, schoolID, cutoff(PaperScans), held)
	if err != nil {
		return plan, fmt.Errorf("retention: scans: %w", err)
	}
	type scan struct {
		id              int64
		ref, form, whom string
	}
	scans, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (scan, error) {
		var x scan
		return x, r.Scan(&x.id, &x.ref, &x.form, &x.whom)
	})
	if err != nil {
		return plan, fmt.Errorf("retention: scans: %w", err)
	}
	for part := range slices.Chunk(scans, s.batch) {
		erased, err := eraseAll(ctx, tx, `signoff_erase_scan`, part, func(x scan) int64 { return x.id }, s.db.Now())
		if err != nil {
			return plan, fmt.Errorf("retention: erase scans: %w", err)
		}
		for _, x := range erased {
			add(PaperScans, x.ref+": the paper "+x.form+" of "+x.whom)
		}
	}

	// Audit entries: the names, IP addresses and details go; the chain stays.
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE signoff_erase_audit(id, $4)) FROM audit_log
		WHERE school_id = $1 AND erased_at IS NULL AND at <= $2 AND NOT (coalesce(actor_id, 0) = ANY ($3))`,
		schoolID, cutoff(Audit), heldAccounts, s.db.Now()).Scan(&n); err != nil {
		return plan, fmt.Errorf("retention: audit: %w", err)
	}
	if n > 0 {
		plan.Counts[Audit] = n
		plan.Items[Audit] = []Item{{Kind: Audit, Label: fmt.Sprintf("%d audit entries from before %s", n, schooltime.Date(cutoff(Audit)))}}
	}

	// Sign-ins: ended sessions, and links that can no longer be used.
	var signIns int
	if err := tx.QueryRow(ctx, `SELECT signoff_delete_sign_ins($1, $1, $2)`, cutoff(SignIns), heldAccounts).Scan(&signIns); err != nil {
		return plan, fmt.Errorf("retention: sign-ins: %w", err)
	}
	if signIns > 0 {
		plan.Counts[SignIns] = signIns
		plan.Items[SignIns] = []Item{{Kind: SignIns, Label: fmt.Sprintf("%d sessions and links that ended before %s", signIns, schooltime.Date(cutoff(SignIns)))}}
	}

	// Emails, sent (or given up on), queued before the cutoff.
	rows, err = tx.Query(ctx, `SELECT id, to_address, subject FROM outbox
		WHERE school_id = $1 AND created_at <= $2 AND (sent_at IS NOT NULL OR failed_at IS NOT NULL)
		  AND NOT (lower(to_address) = ANY ($3)) ORDER BY id`, schoolID, cutoff(Outbox), heldEmails)
	if err != nil {
		return plan, fmt.Errorf("retention: outbox: %w", err)
	}
	type msg struct {
		id          int64
		to, subject string
	}
	msgs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (msg, error) {
		var m msg
		return m, r.Scan(&m.id, &m.to, &m.subject)
	})
	if err != nil {
		return plan, fmt.Errorf("retention: outbox: %w", err)
	}
	if len(msgs) > 0 {
		ids := make([]int64, len(msgs))
		for i, m := range msgs {
			ids[i] = m.id
		}
		var deleted int
		if err := tx.QueryRow(ctx, `SELECT signoff_delete_messages($1)`, ids).Scan(&deleted); err != nil {
			return plan, fmt.Errorf("retention: delete messages: %w", err)
		}
		for i, m := range msgs {
			if i < deleted {
				add(Outbox, "To "+m.to+": "+m.subject)
			}
		}
	}

	// People who left, once none of their records is kept (run last, so
	// records erased above count).
	rows, err = tx.Query(ctx, `SELECT p.id, p.given_name || ' ' || p.family_name, p.kind FROM people p
		WHERE p.school_id = $1 AND p.left_at IS NOT NULL AND p.left_at <= $2 AND p.anonymised_at IS NULL
		  AND NOT (p.id = ANY ($3))
		  AND NOT EXISTS (SELECT 1 FROM signatures s WHERE (s.person_id = p.id OR s.pupil_id = p.id) AND s.erased_at IS NULL)
		ORDER BY p.id`, schoolID, cutoff(Leavers), held)
	if err != nil {
		return plan, fmt.Errorf("retention: leavers: %w", err)
	}
	type leaver struct {
		id         int64
		name, kind string
	}
	leavers, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (leaver, error) {
		var l leaver
		return l, r.Scan(&l.id, &l.name, &l.kind)
	})
	if err != nil {
		return plan, fmt.Errorf("retention: leavers: %w", err)
	}
	for part := range slices.Chunk(leavers, s.batch) {
		done, err := eraseAll(ctx, tx, `signoff_anonymise_person`, part, func(l leaver) int64 { return l.id }, s.db.Now())
		if err != nil {
			return plan, fmt.Errorf("retention: anonymise people: %w", err)
		}
		for _, l := range done {
			add(Leavers, l.name+" ("+l.kind+")")
		}
	}
	return plan, nil
}

// Args is River's periodic job that runs the day's retention at every
// school (see internal/background).
type Args struct{}

// Kind names the job.
func (Args) Kind() string { return "retention_run" }

// Worker runs Args jobs: Scheduler.RunOnce.
type Worker struct {
	river.WorkerDefaults[Args]
	Scheduler *Scheduler
}

// Work does today's run unless it has been done.
func (w *Worker) Work(ctx context.Context, _ *river.Job[Args]) error {
	ran, err := w.Scheduler.RunOnce(ctx)
	if err == nil && ran && w.Scheduler.Log != nil {
		w.Scheduler.Log.Info("retention run done")
	}
	return err
}

// Scheduler runs each school's retention once a day: a row in job_runs
// per day, inserted in the same transaction as the work, makes it happen
// once however often the job runs and on however many servers (a second
// run waits on that row's unique key, then skips).
type Scheduler struct {
	Store *Store
	DB    *database.DB
	Log   *slog.Logger
}

// Job is the scheduler's name in job_runs.
const Job = "retention"

// RunOnce does today's run at every school unless it has been done.
// It reports whether it ran.
func (s *Scheduler) RunOnce(ctx context.Context) (bool, error) {
	now := s.DB.Now()
	day := now.In(schooltime.London).Format("2006-01-02")
	ran := false
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO job_runs (job, run_on, started_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, Job, day, now)
		if err != nil {
			return fmt.Errorf("retention: claim run: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		ran = true
		rows, err := tx.Query(ctx, `SELECT id FROM schools ORDER BY id`)
		if err != nil {
			return fmt.Errorf("retention: schools: %w", err)
		}
		schools, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("retention: schools: %w", err)
		}
		var total int
		for _, id := range schools {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, int32(lockSpace), int32(id)); err != nil {
				return fmt.Errorf("retention: lock: %w", err)
			}
			plan, err := s.Store.run(ctx, tx, id, now, audit.System("retention schedule"))
			if err != nil {
				return err
			}
			if plan.Total() == 0 {
				continue
			}
			total += plan.Total()
			if _, err := s.Store.reportTx(ctx, tx, id, now, now, FromSchedule, audit.System("retention schedule"), plan); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `UPDATE job_runs SET detail = $3 WHERE job = $1 AND run_on = $2`, Job, day, fmt.Sprintf("erased or removed %d", total))
		return err
	})
	return ran, err
}

// eraseAll erases the records, scans or people of part with the
// database's erasure function for one (fn: signoff_erase_signature,
// signoff_erase_scan or signoff_anonymise_person, migrations 0008 and
// 0011), called for each id by one statement (a batch is one round trip,
// not one per item), and returns those it erased, in part's order (one
// already erased is left out, as the function says).
func eraseAll[T any](ctx context.Context, tx pgx.Tx, fn string, part []T, id func(T) int64, at time.Time) ([]T, error) {
	ids := make([]int64, len(part))
	for i, x := range part {
		ids[i] = id(x)
	}
	var done []int64
	if err := tx.QueryRow(ctx, `SELECT coalesce(array_agg(x.id), '{}') FROM unnest($1::bigint[]) x (id) WHERE `+fn+`(x.id, $2)`,
		ids, at).Scan(&done); err != nil {
		return nil, err
	}
	erased := make(map[int64]bool, len(done))
	for _, d := range done {
		erased[d] = true
	}
	return slices.DeleteFunc(slices.Clone(part), func(x T) bool { return !erased[id(x)] }), nil
}
