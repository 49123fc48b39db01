package tracking

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// Who owes what is kept as data: the obligations table, which triggers of
// migration 0012 maintain in the same transaction as each change that
// alters it (signoff_obligations_refresh), and the figures the dashboards
// read are its sums, kept by triggers on it (migration 0017). The nightly
// check recomputes it from scratch (signoff_obligations_derive), compares,
// puts right any difference, then compares the figures with the table's
// sums and rebuilds any form's that differ, does the same for the last
// reminder kept per request (reminder_totals, migration 0020), and records
// how many it found: the derivation is the rule, the tables its maintained answer.

// CheckResult is what one check found.
type CheckResult struct {
	Rows        int64 // obligations compared
	Differences int64 // rows missing, extra or different (and now put right)
	// Figures is how many rows of the figures kept from the obligations
	// (obligation_counts, obligation_days: migration 0017) differed from
	// the obligations' own sums; their forms' figures are rebuilt.
	Figures int64
	// Reminders is how many rows of reminder_totals (migration 0020: the
	// last reminder and the count sent per request) differed from the
	// reminders themselves; their forms' rows are rebuilt.
	Reminders int64
	Forms     []int64
	Took      time.Duration
}

// obligationsDiff yields the rows that differ between the table and the
// derivation (a row of either side that the other lacks).
const obligationsDiff = `
	WITH d AS (SELECT * FROM signoff_obligations_derive(NULL, NULL)),
	t AS (SELECT school_id, form_id, person_id, pupil_id, subject_id, grp, signature_id, signed_at, reference, sig_year, withdrawn
	      FROM obligations)
	SELECT form_id FROM (SELECT * FROM d EXCEPT ALL SELECT * FROM t) missing
	UNION ALL
	SELECT form_id FROM (SELECT * FROM t EXCEPT ALL SELECT * FROM d) extra`

// figuresDiff yields the form of each row of the kept figures that
// differs from the sums of the obligations table (either side's extra
// rows; slots summed, rows of nothing left out).
const figuresDiff = `
	WITH c AS (SELECT school_id, form_id, grp, sig_year, sum(requests)::int, sum(signed)::int, sum(withdrawn)::int
	           FROM obligation_counts GROUP BY 1, 2, 3, 4
	           HAVING sum(requests) <> 0 OR sum(signed) <> 0 OR sum(withdrawn) <> 0),
	d AS (SELECT school_id, form_id, day, sig_year, sum(signed)::int FROM obligation_days GROUP BY 1, 2, 3, 4 HAVING sum(signed) <> 0)
	SELECT form_id FROM (SELECT * FROM obligation_counts_derived EXCEPT ALL SELECT * FROM c) missing
	UNION ALL SELECT form_id FROM (SELECT * FROM c EXCEPT ALL SELECT * FROM obligation_counts_derived) extra
	UNION ALL SELECT form_id FROM (SELECT * FROM obligation_days_derived EXCEPT ALL SELECT * FROM d) missing
	UNION ALL SELECT form_id FROM (SELECT * FROM d EXCEPT ALL SELECT * FROM obligation_days_derived) extra`

// remindersDerived is reminder_totals derived from the reminders (the
// sums migration 0020's triggers keep), before its GROUP BY 1, 2, 3: the
// nightly check's one statement of them, compared and rebuilt from.
const remindersDerived = `SELECT form_id, person_id, coalesce(pupil_id, 0) AS pupil_id, max(created_at) AS last_at, count(*)::int AS sent
	FROM reminders`

// remindersDiff yields the form of each row of reminder_totals that
// differs from the reminders it sums (either side's extra rows).
const remindersDiff = `
	WITH d AS (` + remindersDerived + ` GROUP BY 1, 2, 3),
	t AS (SELECT form_id, person_id, pupil_id, last_at, sent FROM reminder_totals)
	SELECT form_id FROM (SELECT * FROM d EXCEPT ALL SELECT * FROM t) missing
	UNION ALL SELECT form_id FROM (SELECT * FROM t EXCEPT ALL SELECT * FROM d) extra`

// remindersRebuild recounts reminder_totals of the forms in $1 from the
// reminders (after their rows are deleted: two statements, as one
// statement's INSERT would not see its own DELETE).
const remindersRebuild = `
	INSERT INTO reminder_totals (form_id, person_id, pupil_id, last_at, sent)
	` + remindersDerived + ` WHERE form_id = ANY ($1::bigint[]) GROUP BY 1, 2, 3`

// formsOf runs a query yielding form ids and returns how many rows it
// yielded and the distinct forms.
func formsOf(ctx context.Context, tx pgx.Tx, sql string) (n int64, forms []int64, err error) {
	rows, err := tx.Query(ctx, sql)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	seen := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return 0, nil, err
		}
		n++
		if !seen[id] {
			seen[id] = true
			forms = append(forms, id)
		}
	}
	return n, forms, rows.Err()
}

// CheckObligations compares the obligations table with the derivation
// from scratch and, when fix is set, refreshes the forms that differ, in
// one transaction; it records the run (when fix is set) and returns what
// it found.
func (s *Store) CheckObligations(ctx context.Context, fix bool) (CheckResult, error) {
	var res CheckResult
	start := time.Now()
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM obligations`).Scan(&res.Rows); err != nil {
			return err
		}
		var err error
		if res.Differences, res.Forms, err = formsOf(ctx, tx, obligationsDiff); err != nil {
			return err
		}
		if fix && len(res.Forms) > 0 {
			if _, err := tx.Exec(ctx, `SELECT signoff_obligations_refresh($1, NULL)`, res.Forms); err != nil {
				return err
			}
		}
		// The figures are compared with the obligations as they are now
		// (put right first, when fixing): they are the table's sums.
		var figForms, remForms []int64
		if res.Figures, figForms, err = formsOf(ctx, tx, figuresDiff); err != nil {
			return err
		}
		if res.Reminders, remForms, err = formsOf(ctx, tx, remindersDiff); err != nil {
			return err
		}
		if !fix {
			return nil
		}
		if len(figForms) > 0 {
			if _, err := tx.Exec(ctx, `SELECT signoff_obligation_figures_rebuild($1)`, figForms); err != nil {
				return err
			}
		}
		if len(remForms) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM reminder_totals WHERE form_id = ANY ($1::bigint[])`, remForms); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, remindersRebuild, remForms); err != nil {
				return err
			}
		}
		res.Took = time.Since(start)
		_, err = tx.Exec(ctx, `INSERT INTO obligation_checks (checked_at, rows, differences, took_ms) VALUES ($1, $2, $3, $4)`,
			s.db.Now(), res.Rows, res.Differences+res.Figures+res.Reminders, res.Took.Milliseconds())
		return err
	})
	if err != nil {
		return CheckResult{}, fmt.Errorf("tracking: check obligations: %w", err)
	}
	res.Took = time.Since(start)
	return res, nil
}

// CheckArgs is the nightly check of the obligations table.
type CheckArgs struct{}

// Kind names the job.
func (CheckArgs) Kind() string { return "obligations_check" }

// CheckWorker runs CheckArgs jobs: CheckObligations with fix, logged (a
// warning when anything differed; signoff_obligation_differences has the
// last run's count).
type CheckWorker struct {
	river.WorkerDefaults[CheckArgs]
	Store *Store
	Log   *slog.Logger
}

// Work runs the check.
func (w *CheckWorker) Work(ctx context.Context, _ *river.Job[CheckArgs]) error {
	res, err := w.Store.CheckObligations(ctx, true)
	if err != nil {
		return err
	}
	log := w.Log
	if log == nil {
		log = slog.Default()
	}
	if res.Differences > 0 || res.Figures > 0 || res.Reminders > 0 {
		log.Warn("obligations or their figures differed from the derivation and were put right", "rows", res.Rows, "differences", res.Differences,
			"figures", res.Figures, "reminders", res.Reminders, "forms", res.Forms, "took", res.Took)
	} else {
		log.Info("obligations checked", "rows", res.Rows, "differences", 0, "took", res.Took)
	}
	return nil
}
