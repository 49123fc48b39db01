package mis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"signoff/internal/database"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
)

// Batch is a set of uploaded files kept between preview and apply, so
// that what is applied is exactly what was previewed.
type Batch struct {
	ID        int64
	SchoolID  int64
	CreatedAt time.Time
	AppliedAt *time.Time
	Summary   string
	Files     []File
}

// MaxUpload is the most an upload of files may hold.
const MaxUpload = 20 << 20

// SaveBatch stores uploaded files for a later preview and apply.
func (s *Store) SaveBatch(ctx context.Context, schoolID int64, actor audit.Actor, files []File) (int64, error) {
	if len(files) == 0 {
		return 0, &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "files", Message: "Choose at least one CSV file to upload"}}}
	}
	var id int64
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO import_batches (school_id, created_by, created_at) VALUES ($1, $2, $3) RETURNING id`,
			schoolID, database.NullID(actor.AccountID), s.db.Now()).Scan(&id); err != nil {
			return fmt.Errorf("mis: save batch: %w", err)
		}
		for i, f := range files {
			if _, err := tx.Exec(ctx, `INSERT INTO import_files (batch_id, position, filename, content) VALUES ($1, $2, $3, $4)`,
				id, i, f.Name, f.Data); err != nil {
				return fmt.Errorf("mis: save file: %w", err)
			}
		}
		return nil
	})
	return id, err
}

// Batch returns a stored batch of the school with its files.
func (s *Store) Batch(ctx context.Context, schoolID, id int64) (Batch, error) {
	b := Batch{ID: id, SchoolID: schoolID}
	err := s.db.Pool.QueryRow(ctx, `SELECT created_at, applied_at, summary FROM import_batches WHERE school_id = $1 AND id = $2`, schoolID, id).
		Scan(&b.CreatedAt, &b.AppliedAt, &b.Summary)
	if errors.Is(err, pgx.ErrNoRows) {
		return Batch{}, apperr.New(apperr.NotFound, "There is no such import")
	}
	if err != nil {
		return Batch{}, fmt.Errorf("mis: batch: %w", err)
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT filename, content, mapping FROM import_files WHERE batch_id = $1 ORDER BY position`, id)
	if err != nil {
		return Batch{}, fmt.Errorf("mis: batch files: %w", err)
	}
	b.Files, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (File, error) {
		var f File
		var mapping []byte
		if err := r.Scan(&f.Name, &f.Data, &mapping); err != nil {
			return f, err
		}
		return f, json.Unmarshal(mapping, &f.Mapping)
	})
	if err != nil {
		return Batch{}, fmt.Errorf("mis: batch files: %w", err)
	}
	if b.AppliedAt == nil && len(b.Files) == 0 {
		return Batch{}, apperr.New(apperr.NotFound, "These files were uploaded more than a day ago and not imported, so they have been deleted: upload them again")
	}
	return b, nil
}

// SetMapping records what a batch file's unrecognised headers hold.
func (s *Store) SetMapping(ctx context.Context, schoolID, id int64, position int, mapping map[string]string) error {
	data, _ := json.Marshal(mapping)
	tag, err := s.db.Pool.Exec(ctx, `UPDATE import_files f SET mapping = $4 FROM import_batches b
		WHERE b.id = f.batch_id AND b.school_id = $1 AND b.id = $2 AND f.position = $3 AND b.applied_at IS NULL`, schoolID, id, position, data)
	if err != nil {
		return fmt.Errorf("mis: set mapping: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return apperr.New(apperr.NotFound, "There is no such import")
	}
	return nil
}

// ApplyBatch applies a stored batch once: a second apply of the same
// batch is refused, so pressing the button twice imports once. A batch
// whose report has warnings needs confirmed (the office ticked that they
// have checked the people it changes).
func (s *Store) ApplyBatch(ctx context.Context, schoolID, id int64, actor audit.Actor, confirmed bool) (Report, error) {
	b, err := s.Batch(ctx, schoolID, id)
	if err != nil {
		return Report{}, err
	}
	if b.AppliedAt != nil {
		return Report{}, apperr.New(apperr.Conflict, "This import has been applied already")
	}
	rep, err := s.apply(ctx, schoolID, actor, b.Files, confirmed, func(tx pgx.Tx) error {
		var claimed bool
		err := tx.QueryRow(ctx, `UPDATE import_batches SET applied_at = $3 WHERE school_id = $1 AND id = $2 AND applied_at IS NULL RETURNING true`,
			schoolID, id, s.db.Now()).Scan(&claimed)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.Conflict, "This import has been applied already")
		}
		if err != nil {
			return fmt.Errorf("mis: claim batch: %w", err)
		}
		// Once applied, the uploaded files are not needed: the people hold
		// what they said, and the batch keeps its summary.
		if _, err := tx.Exec(ctx, `DELETE FROM import_files WHERE batch_id = $1`, id); err != nil {
			return fmt.Errorf("mis: delete applied files: %w", err)
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	if _, err := s.db.Pool.Exec(ctx, `UPDATE import_batches SET summary = $2 WHERE id = $1`, id, rep.Summary()); err != nil {
		return rep, fmt.Errorf("mis: batch summary: %w", err)
	}
	return rep, nil
}
