package schools

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // logos may be JPEG
	"image/png"
	"sync"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/database"
)

// Limits on a logo, checked before its pixels are decoded.
const (
	MaxLogoBytes     = 512 << 10
	MaxLogoDimension = 2000
	minLogoDimension = 16
)

// Logo is a school's logo as stored.
type Logo struct {
	ContentType   string // "image/png" or "image/jpeg"
	Data          []byte
	Width, Height int
	SHA256        string
}

// CheckLogo checks an uploaded logo: PNG or JPEG, at most MaxLogoBytes,
// each side between 16 and MaxLogoDimension pixels (read from its header
// before any pixel is decoded), and then that it decodes whole.
func CheckLogo(data []byte) (Logo, error) {
	bad := func(msg string) (Logo, error) {
		return Logo{}, &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "logo", Message: msg}}}
	}
	switch {
	case len(data) == 0:
		return bad("Choose the logo's file: a PNG or JPEG image")
	case len(data) > MaxLogoBytes:
		return bad(fmt.Sprintf("The logo must be %d KB or smaller: this file is %d KB", MaxLogoBytes>>10, (len(data)+1023)>>10))
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || (format != "png" && format != "jpeg") {
		return bad("The logo must be a PNG or JPEG image")
	}
	if cfg.Width < minLogoDimension || cfg.Height < minLogoDimension || cfg.Width > MaxLogoDimension || cfg.Height > MaxLogoDimension {
		return bad(fmt.Sprintf("The logo must be between %d and %d pixels on each side: this one is %d × %d", minLogoDimension, MaxLogoDimension, cfg.Width, cfg.Height))
	}
	if _, _, err := image.Decode(bytes.NewReader(data)); err != nil {
		return bad("The logo's file is damaged: it could not be read as an image")
	}
	sum := sha256.Sum256(data)
	return Logo{ContentType: "image/" + format, Data: data, Width: cfg.Width, Height: cfg.Height, SHA256: hex.EncodeToString(sum[:])}, nil
}

// SetLogo checks and saves a school's logo, replacing any earlier one.
func (s *Store) SetLogo(ctx context.Context, schoolID int64, data []byte, actor audit.Actor) error {
	l, err := CheckLogo(data)
	if err != nil {
		return err
	}
	now := s.db.Now()
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO school_logos (school_id, content_type, data, width, height, sha256, updated_at, updated_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (school_id) DO UPDATE SET content_type = excluded.content_type, data = excluded.data, width = excluded.width,
				height = excluded.height, sha256 = excluded.sha256, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			schoolID, l.ContentType, l.Data, l.Width, l.Height, l.SHA256, now, database.NullID(actor.AccountID)); err != nil {
			return fmt.Errorf("schools: set logo: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: actor, Action: "school.logo_changed",
			Subject: fmt.Sprintf("school %d", schoolID), Detail: map[string]string{"sha256": l.SHA256, "size": fmt.Sprintf("%d×%d", l.Width, l.Height)}})
	})
}

// RemoveLogo removes a school's logo.
func (s *Store) RemoveLogo(ctx context.Context, schoolID int64, actor audit.Actor) error {
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM school_logos WHERE school_id = $1`, schoolID)
		if err != nil {
			return fmt.Errorf("schools: remove logo: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: s.db.Now(), Actor: actor, Action: "school.logo_removed",
			Subject: fmt.Sprintf("school %d", schoolID)})
	})
}

// GetLogo returns a school's logo; NotFound when it has none.
func (s *Store) GetLogo(ctx context.Context, schoolID int64) (Logo, error) {
	var l Logo
	err := s.db.Pool.QueryRow(ctx, `SELECT content_type, data, width, height, sha256 FROM school_logos WHERE school_id = $1`, schoolID).
		Scan(&l.ContentType, &l.Data, &l.Width, &l.Height, &l.SHA256)
	if errors.Is(err, pgx.ErrNoRows) {
		return Logo{}, apperr.New(apperr.NotFound, "This school has no logo")
	}
	if err != nil {
		return Logo{}, fmt.Errorf("schools: logo: %w", err)
	}
	return l, nil
}

// PNG returns the logo as an 8-bit PNG, whatever form it was uploaded in
// (JPEG, interlaced or 16-bit PNG), for the PDF writers, which read
// only plain PNGs.
func (l Logo) PNG() ([]byte, error) {
	img, _, err := image.Decode(bytes.NewReader(l.Data))
	if err != nil {
		return nil, fmt.Errorf("schools: logo: %w", err)
	}
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&b, img); err != nil {
		return nil, fmt.Errorf("schools: logo: %w", err)
	}
	return b.Bytes(), nil
}

// plainLogos keeps the plain PNG made from each logo, by the SHA-256 of
// the logo as uploaded: every signed copy (a ZIP of a form's: a thousand)
// and letter prints it, and making it is a decode and an encode. Keyed by
// content, it is never stale; emptied when it holds more than
// plainLogosMax, so it stays a few schools' worth.
var plainLogos struct {
	sync.Mutex
	png map[string][]byte
}

const plainLogosMax = 64

// LogoPNG returns a school's logo as a plain PNG for PDFs, or nil when it
// has none. The bytes are shared: the caller must not change them.
func (s *Store) LogoPNG(ctx context.Context, schoolID int64) ([]byte, error) {
	l, err := s.GetLogo(ctx, schoolID)
	if apperr.CodeOf(err) == apperr.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	plainLogos.Lock()
	b, ok := plainLogos.png[l.SHA256]
	plainLogos.Unlock()
	if ok {
		return b, nil
	}
	if b, err = l.PNG(); err != nil {
		return nil, err
	}
	plainLogos.Lock()
	if plainLogos.png == nil || len(plainLogos.png) >= plainLogosMax {
		plainLogos.png = map[string][]byte{}
	}
	plainLogos.png[l.SHA256] = b
	plainLogos.Unlock()
	return b, nil
}
