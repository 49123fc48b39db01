package evidence

import (
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/signing"
)

// SealState is what a record's seal says about it.
type SealState string

// The seal states.
const (
	// SealIntact: the record's fields hash to its seal, and its audit
	// entry carries the same seal.
	SealIntact SealState = "intact"
	// SealChanged: the fields no longer hash to the seal (the record was
	// changed after it was made).
	SealChanged SealState = "changed"
	// SealMissing: a record made since seals began has none, or its audit
	// entry is missing or carries another seal.
	SealMissing SealState = "missing"
	// SealBefore: made before seals existed (nothing to check).
	SealBefore SealState = "before seals"
	// SealErased: personal fields erased for retention; the seal is kept
	// but can no longer be recomputed.
	SealErased SealState = "erased"
)

// Good reports whether the state is no sign of tampering.
func (s SealState) Good() bool { return s == SealIntact || s == SealBefore || s == SealErased }

// Reason says in a sentence what is wrong (empty when nothing is).
func (s SealState) Reason() string {
	switch s {
	case SealChanged:
		return "its fields no longer match its seal: the record was changed after it was made"
	case SealMissing:
		return "its seal is missing, or does not match the seal its audit entry recorded"
	}
	return ""
}

// sealRow is a record's seal as stored, with its audit entries' seal.
type sealRow struct {
	ID        int64
	Reference string
	SchoolID  int64
	Seal      string
	ErasedAt  *time.Time
	Unsealed  bool // made before seals existed
	Fields    signing.SealFields
	AuditSeal string // the seal in the audit entry that recorded it ("" when none)
	Erasure   bool   // a signature.erased audit entry names it
	// AuditErased: the entry that recorded it was erased for retention
	// (its details, and so the seal in them, are gone).
	AuditErased bool
}

// sealQuery reads sealRows; the audit entries are found by their subject.
const sealQuery = `SELECT ` + signing.SealColumns + `, s.id, s.reference, s.school_id, coalesce(s.seal, ''), s.erased_at,
		s.id <= (SELECT coalesce(max(last_unsealed_id), 0) FROM seal_epoch),
		coalesce(a.seal, ''), coalesce(a.erased, false), coalesce(a.entry_erased, false)
	FROM signatures s
	LEFT JOIN LATERAL (SELECT max(l.detail->>'seal') FILTER (WHERE l.detail ? 'seal') AS seal,
			bool_or(l.action = 'signature.erased') AS erased,
			bool_or(l.erased_at IS NOT NULL AND l.action <> 'signature.erased') AS entry_erased
		FROM audit_log l WHERE l.school_id = s.school_id AND l.subject = 'signature ' || s.reference) a ON true`

func scanSealRow(r pgx.Row) (sealRow, error) {
	var x sealRow
	f, err := signing.ScanSeal(r, &x.ID, &x.Reference, &x.SchoolID, &x.Seal, &x.ErasedAt, &x.Unsealed, &x.AuditSeal, &x.Erasure, &x.AuditErased)
	x.Fields = f
	return x, err
}

// state checks a record's seal.
func (x sealRow) state() SealState {
	switch {
	case x.Seal == "" && x.Unsealed:
		return SealBefore
	case x.Seal == "" || (x.AuditSeal != x.Seal && !(x.AuditSeal == "" && x.AuditErased)):
		return SealMissing
	case x.ErasedAt != nil:
		if !x.Erasure {
			return SealMissing
		}
		return SealErased
	case x.Fields.Seal() != x.Seal:
		return SealChanged
	}
	return SealIntact
}
