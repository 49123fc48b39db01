package evidence

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/database"
	"signoff/internal/pdf"
	"signoff/internal/signkey"
)

// Issued copies are kept (table signed_copy_files, migration 0014): the
// first issue of a record's copy renders, signs and stores it; every
// later one reads the stored bytes, so the same record gives the same
// file, byte for byte, and a GET writes nothing. The key is what the copy
// prints (contentKey): a record erased, a signer renamed, a new logo or a
// copy without the IP address and browser prints something else, and is
// issued afresh.

// contentKey is the SHA-256 of everything a copy prints.
func contentKey(c pdf.SignedCopy) string {
	b, err := json.Marshal(c)
	if err != nil { // plain data: cannot fail
		panic(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Render writes the signed copy of rec to w: the stored copy when there
// is one, else rendered and signed, with the SHA-256 of the bytes issued
// recorded so that the copy verifies later even if the layout of signed
// copies changes. The bytes are not stored (the ZIP of a form's copies
// and a subject access pack would store a whole form's worth).
func (s *Store) Render(ctx context.Context, w io.Writer, rec Record) (int, error) {
	data, err := s.issue(ctx, s.db.Pool, rec, false)
	if err != nil {
		return 0, err
	}
	return w.Write(data)
}

// Issue returns the signed copy of rec, the same bytes every time: the
// stored copy, read with no write; the first time, it is rendered, signed
// and stored in one transaction.
func (s *Store) Issue(ctx context.Context, rec Record) ([]byte, error) {
	if err := issuable(rec); err != nil {
		return nil, err
	}
	key := contentKey(rec.Copy) // JSON and SHA-256 of the whole copy: once
	if data, err := s.stored(ctx, s.db.Pool, rec, key); err != nil || data != nil {
		return data, err
	}
	// Rendered and signed before the transaction: a connection is not
	// held while the copy waits for its turn to render.
	signed, err := s.make(ctx, rec)
	if err != nil {
		return nil, err
	}
	// The file and its hash are stored by one statement, its own
	// transaction (record): the copy is sent only once both are kept.
	ok, err := s.record(ctx, s.db.Pool, rec.SignatureID, key, signed, true)
	if err != nil {
		return nil, err
	}
	if !ok {
		return s.stored(ctx, s.db.Pool, rec, key) // another issue stored its copy first
	}
	return signed.PDF, nil
}

// IssueTx issues the signed copy of the signature ref (of school
// schoolID) inside tx, the transaction that records it: the copy a
// parent's receipt attaches. It is built, recorded and stored as Issue's
// are, with the IP address and browser (the receipt goes to the one who
// gave them), so the parent's own download later is the same file.
func (s *Store) IssueTx(ctx context.Context, tx pgx.Tx, schoolID int64, ref string) ([]byte, error) {
	rec, err := s.load(ctx, tx, schoolID, ref)
	if err != nil {
		return nil, err
	}
	return s.issue(ctx, tx, rec, true)
}

// issuable refuses a copy of a record that no longer proves itself.
func issuable(rec Record) error {
	if !rec.TextIntact {
		return apperr.New(apperr.Conflict, "The text kept for %s no longer matches the SHA-256 recorded when it was signed, so no copy can be issued. Run signoff audit verify.", rec.Reference)
	}
	if !rec.SealState.Good() {
		return apperr.New(apperr.Conflict, "The record %s no longer matches its seal (%s), so no copy can be issued. Run signoff audit verify.", rec.Reference, rec.SealState)
	}
	return nil
}

// stored returns rec's stored copy (the time-stamped one when there are
// two) of content key, or nil.
func (s *Store) stored(ctx context.Context, q database.Querier, rec Record, key string) ([]byte, error) {
	var data []byte
	err := q.QueryRow(ctx, `SELECT pdf FROM signed_copy_files WHERE signature_id = $1 AND content_sha256 = $2
		ORDER BY time_stamped DESC LIMIT 1`, rec.SignatureID, key).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("evidence: stored copy of %s: %w", rec.Reference, err)
	}
	return data, nil
}

// issue returns rec's stored copy, or renders and signs it and records
// the hash of its bytes, storing the bytes too when keep is set. Two
// first issues at once both render; the one stored first is the copy
// both return.
func (s *Store) issue(ctx context.Context, q database.Querier, rec Record, keep bool) ([]byte, error) {
	if err := issuable(rec); err != nil {
		return nil, err
	}
	key := contentKey(rec.Copy)
	if data, err := s.stored(ctx, q, rec, key); err != nil || data != nil {
		return data, err
	}
	signed, err := s.make(ctx, rec)
	if err != nil {
		return nil, err
	}
	if ok, err := s.record(ctx, q, rec.SignatureID, key, signed, keep); err != nil || !ok {
		if err != nil {
			return nil, err
		}
		return s.stored(ctx, q, rec, key) // another issue stored its copy first
	}
	return signed.PDF, nil
}

// make renders rec's copy and signs it.
func (s *Store) make(ctx context.Context, rec Record) (signkey.Signed, error) {
	var buf bytes.Buffer
	if err := pdf.WriteSignedCopy(&buf, rec.Copy); err != nil {
		return signkey.Signed{}, err
	}
	return s.sign(ctx, buf.Bytes(), rec.Copy.SchoolName, rec.Reference)
}

// record keeps the SHA-256 of an issued file (signed_copies) and, when
// keep is set, the file itself as the copy of content key; it reports
// false, recording nothing, when that copy was stored already. Each is
// one statement (so one round trip, and all or nothing on its own).
func (s *Store) record(ctx context.Context, q database.Querier, signatureID int64, key string, signed signkey.Signed, keep bool) (bool, error) {
	h := sha256.Sum256(signed.PDF)
	sum, now := hex.EncodeToString(h[:]), s.db.Now()
	if !keep {
		if _, err := q.Exec(ctx, `INSERT INTO signed_copies (signature_id, sha256, first_issued) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, signatureID, sum, now); err != nil {
			return false, fmt.Errorf("evidence: record issued copy: %w", err)
		}
		return true, nil
	}
	var stored bool
	err := q.QueryRow(ctx, `WITH f AS (INSERT INTO signed_copy_files (signature_id, content_sha256, time_stamped, sha256, pdf, made_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING signature_id),
		c AS (INSERT INTO signed_copies (signature_id, sha256, first_issued) SELECT signature_id, $4, $6 FROM f ON CONFLICT DO NOTHING)
		SELECT EXISTS (SELECT FROM f)`, signatureID, key, signed.TimeStamped, sum, signed.PDF, now).Scan(&stored)
	if err != nil {
		return false, fmt.Errorf("evidence: store issued copy: %w", err)
	}
	return stored, nil
}

// Sign digitally signs a rendered copy with the installation's key (and
// a time stamp when an authority is set); without a Signer it returns
// the copy as it is.
func (s *Store) Sign(ctx context.Context, data []byte, schoolName, ref string) ([]byte, error) {
	signed, err := s.sign(ctx, data, schoolName, ref)
	return signed.PDF, err
}

// sign is Sign saying whether the copy was time-stamped.
func (s *Store) sign(ctx context.Context, data []byte, schoolName, ref string) (signkey.Signed, error) {
	if s.Signer == nil {
		return signkey.Signed{PDF: data}, nil
	}
	signed, err := s.Signer.Sign(ctx, data, signkey.SignInfo{Name: schoolName, Reason: "Signed copy " + ref,
		Location: schoolName, Contact: s.VerifyURL(ref)})
	if err != nil {
		return signkey.Signed{}, fmt.Errorf("evidence: sign %s: %w", ref, err)
	}
	return signed, nil
}

// RenderAll renders the signed copies of refs (of school schoolID) as
// Load and Render would, a few at once (the copies ahead of the one being
// written, up to one per CPU Go uses), and gives each to each in the order
// of refs, with the error that kept it from being loaded or rendered. It
// stops at the first error each returns, or when ctx ends. The ZIP of a
// form's copies uses it: on two cores the archive is made about twice as
// fast, with a few copies in memory at a time, never the whole form.
func (s *Store) RenderAll(ctx context.Context, schoolID int64, refs []string, each func(rec Record, data []byte, err error) error) error {
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		rec  Record
		data []byte
		err  error
	}
	ahead := make(chan chan result, max(1, runtime.GOMAXPROCS(0)))
	go func() {
		defer close(ahead)
		for _, ref := range refs {
			done := make(chan result, 1)
			select {
			case ahead <- done:
			case <-ctx.Done():
				return
			}
			go func() {
				rec, err := s.Load(ctx, schoolID, ref)
				var data []byte
				if err == nil {
					data, err = s.issue(ctx, s.db.Pool, rec, false)
				}
				done <- result{rec, data, err}
			}()
		}
	}()
	for done := range ahead {
		r := <-done
		if err := each(r.rec, r.data, r.err); err != nil {
			return err
		}
	}
	return parent.Err()
}
