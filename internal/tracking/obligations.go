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
// alters it (signoff_obligations_refresh). The nightly check recomputes
// it from scratch (signoff_obligations_derive), compares, puts right any
// difference and records how many it found: the derivation is the rule,
// the table its maintained answer.

// CheckResult is what one check found.
type CheckResult struct {
	Rows        int64 // obligations compared
	Differences int64 // rows missing, extra or different (and now put right)
	Forms       []int64
	Took        time.Duration
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
		rows, err := tx.Query(ctx, obligationsDiff)
		if err != nil {
			return err
		}
		seen := map[int64]bool{}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			res.Differences++
			if !seen[id] {
				seen[id] = true
				res.Forms = append(res.Forms, id)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if !fix {
			return nil
		}
		if len(res.Forms) > 0 {
			if _, err := tx.Exec(ctx, `SELECT signoff_obligations_refresh($1, NULL)`, res.Forms); err != nil {
				return err
			}
		}
		res.Took = time.Since(start)
		_, err = tx.Exec(ctx, `INSERT INTO obligation_checks (checked_at, rows, differences, took_ms) VALUES ($1, $2, $3, $4)`,
			s.db.Now(), res.Rows, res.Differences, res.Took.Milliseconds())
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
	if res.Differences > 0 {
		log.Warn("obligations differed from the derivation and were put right", "rows", res.Rows, "differences", res.Differences, "forms", res.Forms, "took", res.Took)
	} else {
		log.Info("obligations checked", "rows", res.Rows, "differences", 0, "took", res.Took)
	}
	return nil
}
