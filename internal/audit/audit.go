// Package audit keeps the append-only, hash-chained record of every change
// anyone makes. Each school has its own chain: every entry carries the
// hash of the entry before it, so a changed or removed entry breaks the
// chain and Verify finds it. The database refuses UPDATE and DELETE.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/database"
	"signoff/internal/limits"
)

// The longest actor, subject and IP address kept (migrations/0007).
const (
	maxActor   = 500
	maxSubject = 1000
	maxIP      = 100
)

// Genesis is the previous hash of the first entry of a chain.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// lockSpace is the first key of the advisory lock that serialises appends
// to one school's chain.
const lockSpace = 0x617564 // "aud"

// Actor is who makes a change: a signed-in account, or the system.
type Actor struct {
	AccountID int64  // 0 for the system or a command-line run
	Name      string // shown in the log: "Helen Ashcroft (admin)", "signoff demo"
	IP        string
}

// System is the actor of command-line and scheduled changes.
func System(what string) Actor { return Actor{Name: what} }

// Entry is one audit row.
type Entry struct {
	ID       int64
	SchoolID int64 // 0 for changes that belong to no school
	At       time.Time
	Actor    Actor
	Action   string // "policy.published", "signature.created", ...
	Subject  string // "policy 12", "signature SG-..."
	Detail   map[string]string
	PrevHash string
	Hash     string
}

// Record appends e to its school's chain inside tx. At is truncated to
// the microsecond PostgreSQL stores.
func Record(ctx context.Context, tx pgx.Tx, e Entry) error {
	e.At = e.At.UTC().Truncate(time.Microsecond)
	if e.Detail == nil {
		e.Detail = map[string]string{}
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, int32(lockSpace), int32(e.SchoolID)); err != nil {
		return fmt.Errorf("audit: lock chain: %w", err)
	}
	err := tx.QueryRow(ctx, `SELECT hash FROM audit_log WHERE school_id IS NOT DISTINCT FROM $1 ORDER BY id DESC LIMIT 1`,
		database.NullID(e.SchoolID)).Scan(&e.PrevHash)
	if err == pgx.ErrNoRows {
		e.PrevHash = Genesis
	} else if err != nil {
		return fmt.Errorf("audit: read chain head: %w", err)
	}
	e.Actor.Name = limits.Clip(e.Actor.Name, maxActor)
	e.Subject = limits.Clip(e.Subject, maxSubject)
	e.Actor.IP = limits.Clip(e.Actor.IP, maxIP)
	e.Hash = e.computeHash()
	detail, _ := json.Marshal(e.Detail)
	_, err = tx.Exec(ctx, `INSERT INTO audit_log (school_id, at, actor_id, actor, action, subject, detail, ip, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		database.NullID(e.SchoolID), e.At, database.NullID(e.Actor.AccountID), e.Actor.Name, e.Action, e.Subject, detail, e.Actor.IP, e.PrevHash, e.Hash)
	if err != nil {
		return fmt.Errorf("audit: append %s: %w", e.Action, err)
	}
	return nil
}

// ComputeHash is the hash an entry must carry: its fields with its previous
// hash (the algorithm is no secret: the chain proves order and
// completeness only together with anchors held elsewhere).
func (e Entry) ComputeHash() string { return e.computeHash() }

// computeHash hashes every field of the entry with its previous hash,
// encoded as a JSON array so no field can bleed into another.
func (e Entry) computeHash() string {
	payload, _ := json.Marshal([]any{
		strconv.FormatInt(e.SchoolID, 10),
		e.At.UTC().Format(time.RFC3339Nano),
		strconv.FormatInt(e.Actor.AccountID, 10),
		e.Actor.Name, e.Action, e.Subject, e.Detail, e.Actor.IP, e.PrevHash,
	})
	sum := sha256.Sum256(payload)
	return hex.EncodeToString(sum[:])
}

// Broken describes the first entry at which a chain fails.
type Broken struct {
	ID       int64
	SchoolID int64
	Reason   string
}

// Chain is one school's chain as Walk found it.
type Chain struct {
	SchoolID int64
	Entries  int    // entries in the chain
	HeadID   int64  // its newest entry
	HeadHash string // and that entry's hash
	// Positions maps each entry's id to its place in the chain (1 for the
	// first) and its stored hash, so that an anchored head can be found.
	Positions map[int64]Position
}

// Position is an entry's place in its chain and its stored hash.
type Position struct {
	N    int
	Hash string
}

// Walk checks every chain from its start and returns every entry at which
// one breaks (in id order; a removed entry breaks the entry after it, a
// changed one its own hash) and each school's chain.
func Walk(ctx context.Context, db *database.DB) (broken []Broken, chains map[int64]*Chain, err error) {
	rows, err := db.Pool.Query(ctx, `SELECT id, coalesce(school_id, 0), at, coalesce(actor_id, 0), actor, action, subject, detail, ip, prev_hash, hash,
			erased_at IS NOT NULL
		FROM audit_log ORDER BY id`)
	if err != nil {
		return nil, nil, fmt.Errorf("audit: walk: %w", err)
	}
	defer rows.Close()
	chains = map[int64]*Chain{}
	for rows.Next() {
		var e Entry
		var erased bool
		if err := rows.Scan(&e.ID, &e.SchoolID, &e.At, &e.Actor.AccountID, &e.Actor.Name, &e.Action, &e.Subject,
			&e.Detail, &e.Actor.IP, &e.PrevHash, &e.Hash, &erased); err != nil {
			return nil, nil, fmt.Errorf("audit: walk: %w", err)
		}
		c := chains[e.SchoolID]
		if c == nil {
			c = &Chain{SchoolID: e.SchoolID, HeadHash: Genesis, Positions: map[int64]Position{}}
			chains[e.SchoolID] = c
		}
		if e.PrevHash != c.HeadHash {
			broken = append(broken, Broken{e.ID, e.SchoolID, "its previous-entry hash does not match the entry before it (an entry was removed or changed)"})
		}
		// An entry erased for retention has lost the fields its hash
		// covered; it still links to the entries either side.
		if !erased && e.computeHash() != e.Hash {
			broken = append(broken, Broken{e.ID, e.SchoolID, "its contents do not match its hash (the entry was changed)"})
		}
		c.Entries++
		c.HeadID, c.HeadHash = e.ID, e.Hash
		c.Positions[e.ID] = Position{N: c.Entries, Hash: e.Hash}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("audit: walk: %w", err)
	}
	return broken, chains, nil
}

// Verify walks every chain from its start and returns the first broken
// entry, or nil when all chains are intact. checked counts the entries.
func Verify(ctx context.Context, db *database.DB) (broken *Broken, checked int, err error) {
	rows, err := db.Pool.Query(ctx, `SELECT id, coalesce(school_id, 0), at, coalesce(actor_id, 0), actor, action, subject, detail, ip, prev_hash, hash,
			erased_at IS NOT NULL
		FROM audit_log ORDER BY id`)
	if err != nil {
		return nil, 0, fmt.Errorf("audit: verify: %w", err)
	}
	defer rows.Close()
	heads := map[int64]string{}
	for rows.Next() {
		var e Entry
		var erased bool
		if err := rows.Scan(&e.ID, &e.SchoolID, &e.At, &e.Actor.AccountID, &e.Actor.Name, &e.Action, &e.Subject,
			&e.Detail, &e.Actor.IP, &e.PrevHash, &e.Hash, &erased); err != nil {
			return nil, checked, fmt.Errorf("audit: verify: %w", err)
		}
		checked++
		want, ok := heads[e.SchoolID]
		if !ok {
			want = Genesis
		}
		if e.PrevHash != want {
			return &Broken{e.ID, e.SchoolID, "its previous-entry hash does not match the entry before it (an entry was removed or changed)"}, checked, nil
		}
		// An entry erased for retention (internal/retention) has lost the
		// personal fields its hash covered: it still links to the entries
		// either side, so none can be removed or inserted around it.
		if !erased && e.computeHash() != e.Hash {
			return &Broken{e.ID, e.SchoolID, "its contents do not match its hash (the entry was changed)"}, checked, nil
		}
		heads[e.SchoolID] = e.Hash
	}
	if err := rows.Err(); err != nil {
		return nil, checked, fmt.Errorf("audit: verify: %w", err)
	}
	return nil, checked, nil
}

// Filter narrows a search of the log.
type Filter struct {
	Action string // an action ("policy.published") or its first part ("policy")
	Text   string // part of the actor, subject or details
	Before int64  // entries older than this id (paging); 0 for the newest
	Limit  int
}

// List returns a school's latest entries, newest first.
func List(ctx context.Context, db *database.DB, schoolID int64, limit int) ([]Entry, error) {
	return Search(ctx, db, schoolID, Filter{Limit: limit})
}

// Search returns a school's entries matching f, newest first.
func Search(ctx context.Context, db *database.DB, schoolID int64, f Filter) ([]Entry, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	rows, err := db.Pool.Query(ctx, `SELECT id, coalesce(school_id, 0), at, coalesce(actor_id, 0), actor, action, subject, detail, ip, prev_hash, hash
		FROM audit_log WHERE school_id = $1
		  AND ($2 = '' OR action = $2 OR action LIKE $2 || '.%')
		  AND ($3 = '' OR (actor || ' ' || subject || ' ' || detail::text) ILIKE '%' || $3 || '%')
		  AND ($4::bigint = 0 OR id < $4)
		ORDER BY id DESC LIMIT $5`, schoolID, f.Action, database.LikeEscape(strings.TrimSpace(f.Text)), f.Before, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("audit: search: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		if err := rows.Scan(&e.ID, &e.SchoolID, &e.At, &e.Actor.AccountID, &e.Actor.Name, &e.Action, &e.Subject,
			&e.Detail, &e.Actor.IP, &e.PrevHash, &e.Hash); err != nil {
			return nil, fmt.Errorf("audit: search: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Actions lists the actions a school's log holds, for a filter.
func Actions(ctx context.Context, db *database.DB, schoolID int64) ([]string, error) {
	rows, err := db.Pool.Query(ctx, `SELECT DISTINCT action FROM audit_log WHERE school_id = $1 ORDER BY action`, schoolID)
	if err != nil {
		return nil, fmt.Errorf("audit: actions: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("audit: actions: %w", err)
	}
	return out, nil
}
