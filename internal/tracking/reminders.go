package tracking

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"signoff/internal/database"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/mail"
	"signoff/internal/schooltime"
)

// Origin says who sent a reminder.
type Origin string

// The origins.
const (
	ByOffice   Origin = "office"
	BySchedule Origin = "schedule"
)

// RemindInput asks for reminders to the outstanding people of a form.
type RemindInput struct {
	SchoolID int64
	FormID   int64
	// PersonIDs are the people ticked; empty means everyone outstanding.
	PersonIDs []int64
	Actor     audit.Actor
	Origin    Origin
	// BaseURL is the site's public address, for the link in each email.
	BaseURL string
}

// RemindResult counts what happened.
type RemindResult struct {
	Queued       int // emails queued now
	AlreadyToday int // reminded today already: not sent again
	NoEmail      int // no email address: print the chase list for them
}

// Remind queues one email to each outstanding person of a form (or each of
// those ticked who is still outstanding) with the link to sign it, and
// records each reminder, in one transaction. Pressing the button twice
// sends nothing more: one reminder per person, form and day (the
// reminders table and the outbox dedupe key both say so).
func (s *Store) Remind(ctx context.Context, in RemindInput) (RemindResult, error) {
	var res RemindResult
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		res, err = s.remindTx(ctx, tx, in)
		return err
	})
	return res, err
}

func (s *Store) remindTx(ctx context.Context, tx pgx.Tx, in RemindInput) (RemindResult, error) {
	var res RemindResult
	now := s.db.Now()
	ay := schooltime.AcademicYear(now)
	var school, title string
	var version int
	var due *time.Time
	var parents bool
	err := tx.QueryRow(ctx, `SELECT sc.name, f.title, coalesce(fc.number, 1), f.due_on, f.audience = 'parents' FROM forms f
		JOIN schools sc ON sc.id = f.school_id LEFT JOIN form_current fc ON fc.form_id = f.id
		WHERE f.school_id = $1 AND f.id = $2 AND f.closed_at IS NULL FOR SHARE OF f`, in.SchoolID, in.FormID).Scan(&school, &title, &version, &due, &parents)
	if errors.Is(err, pgx.ErrNoRows) {
		return res, apperr.New(apperr.NotFound, "There is no such form")
	}
	if err != nil {
		return res, fmt.Errorf("tracking: remind: form: %w", err)
	}
	ids := in.PersonIDs
	if ids == nil {
		ids = []int64{}
	}
	rows, err := tx.Query(ctx, `WITH req AS (`+requests(in.FormID)+`)
		SELECT req.person_id, coalesce(req.pupil_id, 0), p.given_name, p.family_name, coalesce(p.email, '')
		FROM req JOIN people p ON p.id = req.person_id
		WHERE req.signed_at IS NULL AND NOT req.withdrawn AND (cardinality($4::bigint[]) = 0 OR req.person_id = ANY ($4))
		ORDER BY p.id`, []int64{in.SchoolID}, in.FormID, ay, ids)
	if err != nil {
		return res, fmt.Errorf("tracking: remind: outstanding: %w", err)
	}
	type target struct {
		person, pupil       int64
		given, family, mail string
	}
	targets, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (target, error) {
		var t target
		err := r.Scan(&t.person, &t.pupil, &t.given, &t.family, &t.mail)
		return t, err
	})
	if err != nil {
		return res, fmt.Errorf("tracking: remind: outstanding: %w", err)
	}
	day := londonDate(now)
	site := strings.TrimRight(in.BaseURL, "/")
	for _, t := range targets {
		if t.mail == "" {
			res.NoEmail++
			continue
		}
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO reminders (school_id, form_id, person_id, pupil_id, sent_on, origin, sent_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (form_id, person_id, coalesce(pupil_id, 0), sent_on) DO NOTHING RETURNING id`,
			in.SchoolID, in.FormID, t.person, database.NullID(t.pupil), day, string(in.Origin), database.NullID(in.Actor.AccountID), now).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			res.AlreadyToday++
			continue
		}
		if err != nil {
			return res, fmt.Errorf("tracking: remind: record: %w", err)
		}
		var m mail.Message
		if parents {
			m = parentReminder(in.SchoolID, school, title, due, t.given+" "+t.family, t.given, t.mail, site)
		} else {
			m = reminderMessage(in.SchoolID, school, title, version, due, t.given+" "+t.family, t.given, t.mail, fmt.Sprintf("%s/forms/%d", site, in.FormID))
		}
		m.DedupeKey = fmt.Sprintf("school:%d:reminder:form:%d:person:%d:pupil:%d:%s", in.SchoolID, in.FormID, t.person, t.pupil, day.Format("2006-01-02"))
		outboxID, queued, err := mail.Enqueue(ctx, tx, now, m)
		if err != nil {
			return res, fmt.Errorf("tracking: remind: enqueue: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE reminders SET outbox_id = $2 WHERE id = $1`, id, outboxID); err != nil {
			return res, fmt.Errorf("tracking: remind: link outbox: %w", err)
		}
		if queued {
			res.Queued++
		} else {
			res.AlreadyToday++
		}
	}
	if res.Queued > 0 {
		err = audit.Record(ctx, tx, audit.Entry{SchoolID: in.SchoolID, At: now, Actor: in.Actor, Action: "reminders.sent",
			Subject: fmt.Sprintf("form %d", in.FormID), Detail: map[string]string{"title": title, "queued": fmt.Sprint(res.Queued),
				"already_today": fmt.Sprint(res.AlreadyToday), "no_email": fmt.Sprint(res.NoEmail), "origin": string(in.Origin)}})
	}
	return res, err
}

func reminderMessage(schoolID int64, school, title string, version int, due *time.Time, name, given, to, link string) mail.Message {
	var b strings.Builder
	fmt.Fprintf(&b, "Dear %s,\n\n", given)
	fmt.Fprintf(&b, "%s asks you to read and sign \"%s\" (version %d).", school, title, version)
	if due != nil {
		fmt.Fprintf(&b, " Please sign it by %s.", due.Format("Monday 2 January 2006"))
	}
	fmt.Fprintf(&b, "\n\nOpen it here (sign in with your school email address if asked):\n%s\n\n", link)
	b.WriteString("If you have signed it since this email was sent, thank you: there is nothing more to do.\n\n")
	b.WriteString(school + "\n")
	return mail.Message{SchoolID: schoolID, To: to, ToName: name, Subject: "Please sign: " + title, Text: b.String(), Kind: "reminder"}
}

// parentReminder asks a parent to complete a form for their child: they
// use their family link (never sent again here: a new one replaces the
// old), or ask for a new one.
func parentReminder(schoolID int64, school, title string, due *time.Time, name, given, to, site string) mail.Message {
	var b strings.Builder
	fmt.Fprintf(&b, "Dear %s,\n\n", given)
	fmt.Fprintf(&b, "%s asks you to complete \"%s\" for your child.", school, title)
	if due != nil {
		fmt.Fprintf(&b, " Please do it by %s.", due.Format("Monday 2 January 2006"))
	}
	fmt.Fprintf(&b, "\n\nUse the link the school sent you by email or on a letter. No password is needed.\n")
	fmt.Fprintf(&b, "Lost it? Ask for a new one here:\n%s/family/lost\n\n", site)
	b.WriteString("If you have completed it since this email was sent, thank you: there is nothing more to do.\n\n")
	b.WriteString(school + "\n")
	return mail.Message{SchoolID: schoolID, To: to, ToName: name, Subject: "Please complete: " + title, Text: b.String(), Kind: "reminder"}
}

// Schedule is a school's automatic reminders: DaysAfter publication, then
// (ThenWeekly) every week until the due date, or for WeeksMax weeks when
// the form has no due date.
type Schedule struct {
	Enabled    bool
	DaysAfter  []int
	ThenWeekly bool
	WeeksMax   int
}

// DefaultSchedule is offered before a school chooses: 7 and 14 days, then weekly.
var DefaultSchedule = Schedule{Enabled: false, DaysAfter: []int{7, 14}, ThenWeekly: true, WeeksMax: 6}

// Validate checks a schedule.
func (sc *Schedule) Validate() error {
	var v apperr.Validation
	seen := map[int]bool{}
	var days []int
	for _, d := range sc.DaysAfter {
		if d < 1 || d > 365 {
			v.Add("days_after", "Enter days after publication as whole numbers from 1 to 365, for example 7, 14")
			break
		}
		if !seen[d] {
			seen[d] = true
			days = append(days, d)
		}
	}
	sortFunc(days, func(a, b int) bool { return a < b })
	sc.DaysAfter = days
	v.Check(!sc.Enabled || len(days) > 0, "days_after", "Enter at least one number of days after publication")
	v.Check(sc.WeeksMax >= 0 && sc.WeeksMax <= 52, "weeks_max", "Enter a number of weeks from 0 to 52")
	return v.Err()
}

// Schedule returns a school's schedule (the default when never set).
func (s *Store) Schedule(ctx context.Context, schoolID int64) (Schedule, error) {
	sc := DefaultSchedule
	err := s.db.Pool.QueryRow(ctx, `SELECT enabled, days_after, then_weekly, weeks_max FROM reminder_schedules WHERE school_id = $1`, schoolID).
		Scan(&sc.Enabled, &sc.DaysAfter, &sc.ThenWeekly, &sc.WeeksMax)
	if errors.Is(err, pgx.ErrNoRows) {
		return DefaultSchedule, nil
	}
	if err != nil {
		return sc, fmt.Errorf("tracking: schedule: %w", err)
	}
	return sc, nil
}

// SetSchedule saves a school's schedule, audited.
func (s *Store) SetSchedule(ctx context.Context, schoolID int64, sc Schedule, actor audit.Actor) error {
	if err := sc.Validate(); err != nil {
		return err
	}
	now := s.db.Now()
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO reminder_schedules (school_id, enabled, days_after, then_weekly, weeks_max, updated_at, updated_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (school_id) DO UPDATE SET enabled = $2, days_after = $3, then_weekly = $4, weeks_max = $5, updated_at = $6, updated_by = $7`,
			schoolID, sc.Enabled, sc.DaysAfter, sc.ThenWeekly, sc.WeeksMax, now, database.NullID(actor.AccountID))
		if err != nil {
			return fmt.Errorf("tracking: set schedule: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: actor, Action: "reminders.schedule_changed",
			Subject: "reminder schedule", Detail: map[string]string{"enabled": fmt.Sprint(sc.Enabled), "days_after": fmt.Sprint(sc.DaysAfter),
				"then_weekly": fmt.Sprint(sc.ThenWeekly), "weeks_max": fmt.Sprint(sc.WeeksMax)}})
	})
}

// Rounds returns the dates of a form's scheduled reminder rounds, from
// its publication date (London dates as midnight UTC).
func (sc Schedule) Rounds(published time.Time, due *time.Time) []time.Time {
	if !sc.Enabled || len(sc.DaysAfter) == 0 {
		return nil
	}
	start := londonDate(published)
	var out []time.Time
	for _, d := range sc.DaysAfter {
		out = append(out, start.AddDate(0, 0, d))
	}
	if sc.ThenWeekly {
		last := out[len(out)-1]
		for k := 1; k <= 52; k++ {
			next := last.AddDate(0, 0, 7*k)
			if due != nil {
				if next.After(*due) {
					break
				}
			} else if k > sc.WeeksMax {
				break
			}
			out = append(out, next)
		}
	}
	if due != nil {
		// No reminder rounds after the due date.
		kept := out[:0]
		for _, d := range out {
			if !d.After(*due) {
				kept = append(kept, d)
			}
		}
		out = kept
	}
	return out
}

// catchUp is how long after its date a missed round (servers down) still runs.
const catchUp = 3 * 24 * time.Hour

// Scheduler sends the schools' automatic reminders. RunOnce is safe with
// several servers at once: each round is a unique row written in the same
// transaction as its emails (a second server waits on that row's key, then
// skips), so no round is ever sent twice. It runs as River's periodic
// "reminder_scan" job (ReminderArgs, worked by ReminderWorker).
type Scheduler struct {
	Store   *Store
	BaseURL string
	Log     *slog.Logger
}

// ReminderArgs is the periodic job that sends the rounds that are due.
type ReminderArgs struct{}

// Kind names the job.
func (ReminderArgs) Kind() string { return "reminder_scan" }

// ReminderWorker runs ReminderArgs jobs: Scheduler.RunOnce.
type ReminderWorker struct {
	river.WorkerDefaults[ReminderArgs]
	Scheduler *Scheduler
}

// Work sends the due rounds.
func (w *ReminderWorker) Work(ctx context.Context, _ *river.Job[ReminderArgs]) error {
	rounds, queued, err := w.Scheduler.RunOnce(ctx)
	if err != nil {
		return err
	}
	if rounds > 0 {
		log := w.Scheduler.Log
		if log == nil {
			log = slog.Default()
		}
		log.Info("scheduled reminders queued", "rounds", rounds, "emails", queued)
	}
	return nil
}

// RunOnce runs every scheduled round that is due today (or was missed in
// the last three days) and has not run yet. It returns how many rounds ran
// and how many emails they queued.
func (sch *Scheduler) RunOnce(ctx context.Context) (rounds, queued int, err error) {
	db := sch.Store.db
	now := db.Now()
	today := londonDate(now)
	type candidate struct {
		school    int64
		form      int64
		published time.Time
		renewal   string
		due       *time.Time
		sc        Schedule
	}
	rows, err := db.Pool.Query(ctx, `SELECT f.school_id, f.id, coalesce(fc.published_at, f.created_at), f.renewal, f.due_on,
			rs.days_after, rs.then_weekly, rs.weeks_max
		FROM reminder_schedules rs
		JOIN forms f ON f.school_id = rs.school_id AND f.closed_at IS NULL
		LEFT JOIN form_current fc ON fc.form_id = f.id
		WHERE rs.enabled AND (fc.form_id IS NOT NULL OR f.audience = 'parents') ORDER BY f.id`)
	if err != nil {
		return 0, 0, fmt.Errorf("tracking: scheduler: forms: %w", err)
	}
	cands, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (candidate, error) {
		var c candidate
		c.sc.Enabled = true
		err := r.Scan(&c.school, &c.form, &c.published, &c.renewal, &c.due, &c.sc.DaysAfter, &c.sc.ThenWeekly, &c.sc.WeeksMax)
		return c, err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("tracking: scheduler: forms: %w", err)
	}
	for _, c := range cands {
		start := c.published
		if c.renewal == "each_year" {
			// A yearly form asks again from 1 September.
			ay := time.Date(schooltime.AcademicYear(now), time.September, 1, 12, 0, 0, 0, schooltime.London)
			if ay.After(start) {
				start = ay
			}
		}
		var round time.Time
		for _, d := range c.sc.Rounds(start, c.due) {
			if !d.After(today) {
				round = d
			}
		}
		if round.IsZero() || today.Sub(round) > catchUp {
			continue
		}
		err := db.InTx(ctx, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, `INSERT INTO reminder_rounds (form_id, round_on, school_id, queued, created_at)
				VALUES ($1, $2, $3, 0, $4) ON CONFLICT DO NOTHING`, c.form, round, c.school, now)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return nil // this round has run
			}
			res, err := sch.Store.remindTx(ctx, tx, RemindInput{SchoolID: c.school, FormID: c.form, Actor: audit.System("reminder schedule"),
				Origin: BySchedule, BaseURL: sch.BaseURL})
			if err != nil {
				return err
			}
			rounds++
			queued += res.Queued
			_, err = tx.Exec(ctx, `UPDATE reminder_rounds SET queued = $3 WHERE form_id = $1 AND round_on = $2`, c.form, round, res.Queued)
			return err
		})
		if err != nil {
			return rounds, queued, fmt.Errorf("tracking: scheduler: form %d: %w", c.form, err)
		}
	}
	return rounds, queued, nil
}
