// Package audit keeps the append-only, hash-chained record of every change
// anyone makes. Each school has its own chain: every entry carries the
// hash of the entry before it, so a changed or removed entry breaks the
// chain and Verify finds it. The database refuses UPDATE and DELETE, but
// for erasure and for linking an entry into its chain once.
//
// An entry is written by Record in the transaction of the change it
// records, with no place in the chain yet: no lock is taken, so people
// making changes at one school never wait for one another. Once it has
// committed, Link (run by a Chainer on every server, and by Walk, Verify
// and the anchors before they read a chain) gives each waiting entry, in
// id order, the next place in its chain (seq), the hash of the entry
// before it and its own hash. One chainer at a time links a chain (an
// advisory lock held only while linking), and the database refuses two
// entries at one place, so two servers linking at once cannot fork it.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
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

// lockSpace is the first key of the advisory lock that one chainer holds
// while it links a chain (the second is the school's id).
const lockSpace = 0x617564 // "aud"

// linkBatch is the most entries one linking transaction chains.
const linkBatch = 1000

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
	// Seq is the entry's place in its chain (1 for the first), PrevHash
	// the hash of the entry before it and Hash its own: all three are
	// empty until the entry is linked, soon after it commits.
	Seq      int64
	PrevHash string
	Hash     string
}

const insertEntry = `INSERT INTO audit_log (school_id, at, actor_id, actor, action, subject, detail, ip)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`

// insertArgs tidies e (the time truncated to the microsecond PostgreSQL
// stores, the texts clipped to their limits) and returns insertEntry's
// arguments.
func insertArgs(e Entry) []any {
	if e.Detail == nil {
		e.Detail = map[string]string{}
	}
	detail, _ := json.Marshal(e.Detail)
	return []any{database.NullID(e.SchoolID), e.At.UTC().Truncate(time.Microsecond), database.NullID(e.Actor.AccountID),
		limits.Clip(e.Actor.Name, maxActor), e.Action, limits.Clip(e.Subject, maxSubject), detail, limits.Clip(e.Actor.IP, maxIP)}
}

// Record appends e to the log inside tx; it is linked into its school's
// chain once tx has committed.
func Record(ctx context.Context, tx pgx.Tx, e Entry) error {
	if _, err := tx.Exec(ctx, insertEntry, insertArgs(e)...); err != nil {
		return fmt.Errorf("audit: append %s: %w", e.Action, err)
	}
	return nil
}

// Queue adds Record's statement for e to b, so that it travels with the
// other statements of a transaction in one round trip; its error comes
// back from the batch's results (their Close), in its turn.
func Queue(b *pgx.Batch, e Entry) { b.Queue(insertEntry, insertArgs(e)...) }

// computeHash is the hash an entry must carry: every field of the entry
// with its previous hash, encoded as a JSON array so no field can bleed
// into another (the algorithm is no secret: the chain proves order and
// completeness only together with anchors held elsewhere).
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

// entryColumns is the column list scanEntry reads.
const entryColumns = `id, coalesce(school_id, 0), at, coalesce(actor_id, 0), actor, action, subject, detail, ip,
	coalesce(seq, 0), coalesce(prev_hash, ''), coalesce(hash, '')`

func scanEntry(r pgx.Row, extra ...any) (Entry, error) {
	var e Entry
	err := r.Scan(append([]any{&e.ID, &e.SchoolID, &e.At, &e.Actor.AccountID, &e.Actor.Name, &e.Action, &e.Subject,
		&e.Detail, &e.Actor.IP, &e.Seq, &e.PrevHash, &e.Hash}, extra...)...)
	return e, err
}

// Link chains every entry waiting to be chained (in each chain in id
// order) and returns how many it linked.
func Link(ctx context.Context, db *database.DB) (int, error) {
	linked := 0
	for {
		// Which chains have entries waiting, in the order of the index of
		// waiting entries (so that it is read, not the table, however stale
		// the planner's statistics are).
		const look = 10 * linkBatch
		rows, err := db.Pool.Query(ctx, `SELECT coalesce(school_id, 0) FROM audit_log WHERE seq IS NULL
			ORDER BY coalesce(school_id, 0), id LIMIT $1`, look)
		if err != nil {
			return linked, fmt.Errorf("audit: link: %w", err)
		}
		waiting, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return linked, fmt.Errorf("audit: link: %w", err)
		}
		for _, school := range slices.Compact(waiting) {
			for {
				n, err := linkChain(ctx, db, school)
				linked += n
				if err != nil {
					return linked, err
				}
				if n < linkBatch {
					break
				}
			}
		}
		if len(waiting) < look {
			return linked, nil
		}
	}
}

// errChainMoved is returned when an entry was linked by someone else
// while this chainer held the lock: it never happens while every chainer
// takes the lock, and the transaction is rolled back if it does.
var errChainMoved = errors.New("audit: link: an entry was linked by another chainer")

// linkChain links up to linkBatch waiting entries of one chain in one
// short transaction, holding the chain's lock only for that long.
func linkChain(ctx context.Context, db *database.DB, school int64) (int, error) {
	n := 0
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		n = 0
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, int32(lockSpace), int32(school)); err != nil {
			return fmt.Errorf("audit: link: lock chain: %w", err)
		}
		var seq int64
		prev := Genesis
		err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_log WHERE coalesce(school_id, 0) = $1 AND seq IS NOT NULL
			ORDER BY seq DESC LIMIT 1`, school).Scan(&seq, &prev)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("audit: link: chain head: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT `+entryColumns+` FROM audit_log WHERE coalesce(school_id, 0) = $1 AND seq IS NULL
			ORDER BY id LIMIT $2`, school, linkBatch)
		if err != nil {
			return fmt.Errorf("audit: link: waiting entries: %w", err)
		}
		waiting, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Entry, error) { return scanEntry(r) })
		if err != nil {
			return fmt.Errorf("audit: link: waiting entries: %w", err)
		}
		if len(waiting) == 0 {
			return nil
		}
		ids, seqs, prevs, hashes := make([]int64, len(waiting)), make([]int64, len(waiting)), make([]string, len(waiting)), make([]string, len(waiting))
		for i, e := range waiting {
			seq++
			e.PrevHash = prev
			prev = e.computeHash()
			ids[i], seqs[i], prevs[i], hashes[i] = e.ID, seq, e.PrevHash, prev
		}
		tag, err := tx.Exec(ctx, `UPDATE audit_log a SET seq = u.seq, prev_hash = u.prev, hash = u.hash
			FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[]) AS u (id, seq, prev, hash)
			WHERE a.id = u.id AND a.seq IS NULL`, ids, seqs, prevs, hashes)
		if err != nil {
			return fmt.Errorf("audit: link: %w", err)
		}
		if tag.RowsAffected() != int64(len(waiting)) {
			return errChainMoved
		}
		n = len(waiting)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// DefaultChainInterval is how often a Chainer looks for entries waiting
// to be chained.
const DefaultChainInterval = 200 * time.Millisecond

// Chainer links waiting entries soon after they commit, every Interval.
// Every server runs one; any number may run at
// once.
type Chainer struct {
	DB       *database.DB
	Interval time.Duration // DefaultChainInterval when 0
	Log      *slog.Logger  // errors; nil for none
}

// NewChainer returns a Chainer of db.
func NewChainer(db *database.DB, log *slog.Logger) *Chainer {
	return &Chainer{DB: db, Log: log}
}

// Run links waiting entries until ctx ends, then links once more.
func (c *Chainer) Run(ctx context.Context) {
	every := c.Interval
	if every <= 0 {
		every = DefaultChainInterval
	}
	t := time.NewTicker(every)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			c.link(context.WithoutCancel(ctx), failing)
			return
		case <-t.C:
		}
		failing = c.link(ctx, failing)
	}
}

// link links what waits and reports whether it failed. A failure is
// logged when it starts and its end when linking works again, not on
// every tick while the database is away.
func (c *Chainer) link(ctx context.Context, failing bool) bool {
	_, err := Link(ctx, c.DB)
	if ctx.Err() != nil {
		return failing
	}
	switch {
	case err != nil && !failing && c.Log != nil:
		c.Log.Error("audit chain: entries wait to be linked", "err", err)
	case err == nil && failing && c.Log != nil:
		c.Log.Info("audit chain: linking again")
	}
	return err != nil
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

// Walk links every waiting entry, then checks every chain from its start
// (in chain order) and returns every entry at which one breaks (a removed
// entry breaks the entry after it, a changed one its own hash) and each
// school's chain.
func Walk(ctx context.Context, db *database.DB) (broken []Broken, chains map[int64]*Chain, err error) {
	if _, err := Link(ctx, db); err != nil {
		return nil, nil, err
	}
	rows, err := db.Pool.Query(ctx, `SELECT `+entryColumns+`, erased_at IS NOT NULL
		FROM audit_log WHERE seq IS NOT NULL ORDER BY coalesce(school_id, 0), seq`)
	if err != nil {
		return nil, nil, fmt.Errorf("audit: walk: %w", err)
	}
	defer rows.Close()
	chains = map[int64]*Chain{}
	for rows.Next() {
		var erased bool
		e, err := scanEntry(rows, &erased)
		if err != nil {
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
		// An entry erased for retention (internal/retention) has lost the
		// personal fields its hash covered: it still links to the entries
		// either side, so none can be removed or inserted around it.
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
	all, chains, err := Walk(ctx, db)
	if err != nil {
		return nil, 0, fmt.Errorf("audit: verify: %w", err)
	}
	for _, c := range chains {
		checked += c.Entries
	}
	if len(all) > 0 {
		return &all[0], checked, nil
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

// Search returns a school's entries matching f, newest first.
func Search(ctx context.Context, db *database.DB, schoolID int64, f Filter) ([]Entry, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	rows, err := db.Pool.Query(ctx, `SELECT `+entryColumns+`
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
		e, err := scanEntry(rows)
		if err != nil {
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
