package letters_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/database/dbtest"
	"signoff/internal/letters"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// A printed batch is held sealed, for the account that printed it, for
// an hour.
func TestHeldBatchesAreSealedOwnedAndShortLived(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	ctx := context.Background()
	var school, office, other int64
	if err := db.Pool.QueryRow(ctx, `INSERT INTO schools (name, slug) VALUES ('Held School', 'held') RETURNING id`).Scan(&school); err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct {
		email string
		id    *int64
	}{{"office@held.example", &office}, {"other@held.example", &other}} {
		if err := db.Pool.QueryRow(ctx, `INSERT INTO accounts (school_id, email, display_name, roles) VALUES ($1, $2, 'Office', '{admin}') RETURNING id`,
			school, a.email).Scan(a.id); err != nil {
			t.Fatal(err)
		}
	}
	key := bytes.Repeat([]byte{7}, 32)
	held, err := letters.NewHeld(db, key)
	if err != nil {
		t.Fatal(err)
	}
	var pdf bytes.Buffer
	if err := letters.Write(&pdf, sampleBatch()); err != nil {
		t.Fatal(err)
	}
	id, err := held.Hold(ctx, school, office, "letters-photo-consent.pdf", pdf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	name, got, err := held.Get(ctx, school, office, id)
	if err != nil || name != "letters-photo-consent.pdf" || !bytes.Equal(got, pdf.Bytes()) {
		t.Fatalf("the office's own batch: %q, %d bytes, %v", name, len(got), err)
	}
	// Stored sealed: neither the PDF nor a family code in it is readable.
	var sealed []byte
	if err := db.Pool.QueryRow(ctx, `SELECT sealed_pdf FROM held_letters WHERE id = $1`, id).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("%PDF")) || bytes.Contains(sealed, pdf.Bytes()[:64]) {
		t.Fatal("the held PDF is stored in the clear")
	}
	if _, _, err := held.Get(ctx, school, other, id); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("another account's fetch: %v", err)
	}
	// With another key the batch cannot be opened.
	if wrong, _ := letters.NewHeld(db, bytes.Repeat([]byte{8}, 32)); wrong != nil {
		if _, _, err := wrong.Get(ctx, school, office, id); err == nil {
			t.Fatal("a batch opened with another key")
		}
	}
	// An hour on it is gone, and the next batch held deletes it.
	start := time.Now().UTC()
	db.Now = func() time.Time { return start.Add(letters.HeldFor + time.Minute) }
	if _, _, err := held.Get(ctx, school, office, id); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("an expired batch: %v", err)
	}
	if _, err := held.Hold(ctx, school, office, "letters-2.pdf", []byte("%PDF-1.4 second")); err != nil {
		t.Fatal(err)
	}
	var left int
	_ = db.Pool.QueryRow(ctx, `SELECT count(*) FROM held_letters WHERE id = $1`, id).Scan(&left)
	if left != 0 {
		t.Fatal("an expired batch was kept")
	}
	// The periodic clean-up deletes the batches past their time.
	if _, err := held.Hold(ctx, school, office, "letters-3.pdf", []byte("%PDF-1.4 third")); err != nil {
		t.Fatal(err)
	}
	var cleaned int64
	if err := db.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		cleaned, err = letters.CleanUp(ctx, tx, start.Add(3*letters.HeldFor))
		return err
	}); err != nil || cleaned != 2 {
		t.Fatalf("clean-up deleted %d batches (%v), want 2", cleaned, err)
	}
	if _, err := held.Hold(ctx, school, office, "", pdf.Bytes()); err == nil {
		t.Fatal("a batch without a file name was held")
	}
}
