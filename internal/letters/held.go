package letters

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/database"
	"signoff/internal/sealed"
)

// HeldFor is how long a printed batch can be fetched again: long enough
// to print it, short enough that family links do not lie about.
const HeldFor = time.Hour

// Held keeps printed batches for a while, so that the request that prints
// them can redirect to an address of the PDF (post/redirect/get). The PDF
// holds new family links: it is sealed with a 32-byte key, and only the
// account that printed a batch may fetch it.
type Held struct {
	db  *database.DB
	box *sealed.Box
}

// NewHeld returns a Held over db sealing with key (32 bytes).
func NewHeld(db *database.DB, key []byte) (*Held, error) {
	box, err := sealed.New(key)
	if err != nil {
		return nil, fmt.Errorf("letters: %w", err)
	}
	return &Held{db: db, box: box}, nil
}

// aad binds a sealed PDF to its school and account.
func aad(schoolID, accountID int64) []byte {
	return []byte("held-letters:" + strconv.FormatInt(schoolID, 10) + ":" + strconv.FormatInt(accountID, 10))
}

// Hold stores a printed PDF for the account that printed it and returns
// its id. Batches past their time are deleted in the same transaction.
func (h *Held) Hold(ctx context.Context, schoolID, accountID int64, name string, pdf []byte) (int64, error) {
	if name == "" || len(name) > 200 {
		return 0, errors.New("letters: a held batch needs a file name of at most 200 bytes")
	}
	box, err := h.box.Seal(pdf, aad(schoolID, accountID))
	if err != nil {
		return 0, fmt.Errorf("letters: %w", err)
	}
	now := h.db.Now()
	var id int64
	err = h.db.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := CleanUp(ctx, tx, now); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO held_letters (school_id, account_id, file_name, sealed_pdf, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, schoolID, accountID, name, box, now, now.Add(HeldFor)).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("letters: hold batch: %w", err)
	}
	return id, nil
}

// Get returns a held batch's file name and PDF, for the account that
// printed it, while it is held.
func (h *Held) Get(ctx context.Context, schoolID, accountID, id int64) (string, []byte, error) {
	var name string
	var box []byte
	err := h.db.Pool.QueryRow(ctx, `SELECT file_name, sealed_pdf FROM held_letters
		WHERE id = $1 AND school_id = $2 AND account_id = $3 AND expires_at > $4`, id, schoolID, accountID, h.db.Now()).Scan(&name, &box)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil, apperr.New(apperr.NotFound, "These letters are no longer held: letters can be fetched for an hour after printing. Print them again")
	}
	if err != nil {
		return "", nil, fmt.Errorf("letters: get batch: %w", err)
	}
	pdf, err := h.box.Open(box, aad(schoolID, accountID))
	if err != nil {
		return "", nil, fmt.Errorf("letters: open held batch: %w", err)
	}
	return name, pdf, nil
}

// CleanUp deletes the batches past their time (the periodic clean-up runs
// it; Hold also does).
func CleanUp(ctx context.Context, tx pgx.Tx, now time.Time) (int64, error) {
	tag, err := tx.Exec(ctx, `DELETE FROM held_letters WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("letters: clean up: %w", err)
	}
	return tag.RowsAffected(), nil
}
