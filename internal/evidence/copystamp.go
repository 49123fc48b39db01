package evidence

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// CopyStampArgs is the job that time-stamps the stored copies signed
// while the time-stamping authority did not answer.
type CopyStampArgs struct{}

// Kind names the job.
func (CopyStampArgs) Kind() string { return "signed_copy_stamp" }

// CopyStampWorker works CopyStampArgs.
type CopyStampWorker struct {
	river.WorkerDefaults[CopyStampArgs]
	Store *Store
}

// Work stamps up to 100 copies; twice at once is harmless (the second
// insert of a stamped copy is ignored).
func (w *CopyStampWorker) Work(ctx context.Context, _ *river.Job[CopyStampArgs]) error {
	_, err := w.Store.StampCopies(ctx, 100)
	return err
}

// StampCopies signs again, with a time stamp, up to limit stored copies
// that have none (oldest first), and stores each as the record's copy
// from now on. The copy without one stays valid (its hash is kept in
// signed_copies). It stops at the first copy the authority still does not
// stamp, and skips a copy whose record prints something else now (erased,
// renamed: the next issue makes a new copy). It says how many it stamped.
func (s *Store) StampCopies(ctx context.Context, limit int) (int, error) {
	if s.Signer == nil || s.Signer.TSAURL == "" {
		return 0, nil
	}
	type unstamped struct {
		id       int64
		key, ref string
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT f.signature_id, f.content_sha256, s.reference
		FROM signed_copy_files f JOIN signatures s ON s.id = f.signature_id
		WHERE NOT f.time_stamped AND NOT EXISTS (SELECT 1 FROM signed_copy_files g
			WHERE g.signature_id = f.signature_id AND g.content_sha256 = f.content_sha256 AND g.time_stamped)
		ORDER BY f.made_at LIMIT $1`, limit)
	if err != nil {
		return 0, fmt.Errorf("evidence: copies to stamp: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (unstamped, error) {
		var u unstamped
		return u, r.Scan(&u.id, &u.key, &u.ref)
	})
	if err != nil {
		return 0, fmt.Errorf("evidence: copies to stamp: %w", err)
	}
	n := 0
	for _, u := range list {
		rec, err := s.Load(ctx, 0, u.ref)
		if err != nil {
			return n, err
		}
		if contentKey(rec.Copy) != u.key {
			if rec = rec.WithoutDevice(); contentKey(rec.Copy) != u.key {
				continue
			}
		}
		if issuable(rec) != nil {
			continue
		}
		signed, err := s.make(ctx, rec)
		if err != nil {
			return n, err
		}
		if !signed.TimeStamped {
			return n, nil // still down: the next run tries again
		}
		err = s.db.InTx(ctx, func(tx pgx.Tx) error {
			_, err := s.record(ctx, tx, u.id, u.key, signed, true)
			return err
		})
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
