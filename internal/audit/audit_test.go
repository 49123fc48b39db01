package audit_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/audit"
	"signoff/internal/database"
	"signoff/internal/database/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestChainVerifiesAndFindsTampering(t *testing.T) {
	t.Parallel()
	db, owner := dbtest.NewWithOwner(t)
	ctx := context.Background()
	var schools [2]int64
	for i, slug := range []string{"one", "two"} {
		if err := db.Pool.QueryRow(ctx, `INSERT INTO schools (slug, name) VALUES ($1, $1) RETURNING id`, slug).Scan(&schools[i]); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 11, 30, 10, 0, 0, 123456789, time.UTC)
	for i := range 6 {
		err := db.InTx(ctx, func(tx pgx.Tx) error {
			return audit.Record(ctx, tx, audit.Entry{SchoolID: schools[i%2], At: at.Add(time.Duration(i) * time.Minute),
				Actor: audit.Actor{Name: "Zoë O'Brien", IP: "203.0.113.1"}, Action: "policy.published", Subject: "policy 1",
				Detail: map[string]string{"version": "1", "note": `quotes " and | bars`}})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	broken, checked, err := audit.Verify(ctx, db)
	if err != nil || broken != nil || checked != 6 {
		t.Fatalf("intact chain: broken=%+v checked=%d err=%v", broken, checked, err)
	}
	entries, err := audit.Search(ctx, db, schools[0], audit.Filter{Limit: 10})
	if err != nil || len(entries) != 3 {
		t.Fatalf("list: %d %v", len(entries), err)
	}

	// Tamper as the database's superuser would: lift the trigger, change one detail.
	victim := entries[1].ID
	if _, err := owner.Pool.Exec(ctx, `ALTER TABLE audit_log DISABLE TRIGGER audit_log_immutable;
		UPDATE audit_log SET detail = '{"version": "2", "note": "x"}' WHERE id = `+itoa(victim)+`;
		ALTER TABLE audit_log ENABLE TRIGGER audit_log_immutable;`); err != nil {
		t.Fatal(err)
	}
	broken, _, err = audit.Verify(ctx, db)
	if err != nil || broken == nil || broken.ID != victim {
		t.Fatalf("changed entry %d: got %+v %v", victim, broken, err)
	}
}

func TestChainFindsARemovedEntry(t *testing.T) {
	t.Parallel()
	db, owner := dbtest.NewWithOwner(t)
	ctx := context.Background()
	var school int64
	_ = db.Pool.QueryRow(ctx, `INSERT INTO schools (slug, name) VALUES ('one', 'One') RETURNING id`).Scan(&school)
	for i := range 3 {
		if err := db.InTx(ctx, func(tx pgx.Tx) error {
			return audit.Record(ctx, tx, audit.Entry{SchoolID: school, At: time.Now(), Actor: audit.System("test"),
				Action: "signature.created", Subject: "signature " + itoa(int64(i))})
		}); err != nil {
			t.Fatal(err)
		}
	}
	// Once the entries are chained (the chainer does it right after they
	// commit), removing one breaks the chain at the entry after it.
	if n, err := audit.Link(ctx, db); err != nil || n != 3 {
		t.Fatalf("link: %d %v", n, err)
	}
	entries, _ := audit.Search(ctx, db, school, audit.Filter{Limit: 10})
	middle := entries[1].ID
	if _, err := owner.Pool.Exec(ctx, `ALTER TABLE audit_log DISABLE TRIGGER audit_log_immutable;
		DELETE FROM audit_log WHERE id = `+itoa(middle)+`;
		ALTER TABLE audit_log ENABLE TRIGGER audit_log_immutable;`); err != nil {
		t.Fatal(err)
	}
	broken, _, err := audit.Verify(ctx, db)
	if err != nil || broken == nil || broken.ID != entries[0].ID {
		t.Fatalf("removed entry %d: got %+v %v (want the entry after it, %d)", middle, broken, err, entries[0].ID)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Fifty changes at one school commit at once while two servers' chainers
// (two pools, as two servers would have) link them: nobody waits on the
// chain, every entry gets exactly one place, the places run 1…n with no
// gap or fork, and the chain verifies.
func TestConcurrentEntriesAreChainedOnceInOrder(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var servers [2]*database.DB
	for i := range servers {
		db, err := database.Open(ctx, dbtest.AppURL(t, url))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(db.Close)
		servers[i] = db
	}
	db := servers[0]
	var school int64
	if err := db.Pool.QueryRow(ctx, `INSERT INTO schools (slug, name) VALUES ('one', 'One') RETURNING id`).Scan(&school); err != nil {
		t.Fatal(err)
	}
	var chainers sync.WaitGroup
	for _, s := range servers {
		c := audit.NewChainer(s, nil)
		c.Interval = 5 * time.Millisecond
		chainers.Add(1)
		go func() { defer chainers.Done(); c.Run(ctx) }()
	}
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- servers[i%2].InTx(ctx, func(tx pgx.Tx) error {
				// Hold the transaction open a little, as a signature's would,
				// so that many are in flight while the chainers run.
				if err := audit.Record(ctx, tx, audit.Entry{SchoolID: school, At: time.Now(), Actor: audit.System("test"),
					Action: "signature.created", Subject: "signature " + itoa(int64(i))}); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `SELECT pg_sleep(0.01)`)
				return err
			})
		}()
	}
	// One more change is rolled back: it leaves no entry and no gap.
	_ = db.InTx(ctx, func(tx pgx.Tx) error {
		_ = audit.Record(ctx, tx, audit.Entry{SchoolID: school, At: time.Now(), Actor: audit.System("test"), Action: "test.rolled_back"})
		return errors.New("roll back")
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	chainers.Wait()
	var entries, waiting, first, last, places, hashes, links int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE seq IS NULL), coalesce(min(seq), 0), coalesce(max(seq), 0),
			count(DISTINCT seq), count(DISTINCT hash), count(DISTINCT prev_hash)
		FROM audit_log WHERE school_id = $1`, school).Scan(&entries, &waiting, &first, &last, &places, &hashes, &links); err != nil {
		t.Fatal(err)
	}
	if entries != n || waiting != 0 || first != 1 || last != n || places != n || hashes != n || links != n {
		t.Fatalf("entries %d (want %d), waiting %d, places %d…%d (%d distinct), %d distinct hashes, %d distinct previous hashes",
			entries, n, waiting, first, last, places, hashes, links)
	}
	broken, checked, err := audit.Verify(context.Background(), db)
	if err != nil || broken != nil || checked != n {
		t.Fatalf("verify: broken=%+v checked=%d err=%v", broken, checked, err)
	}
}

// An entry waits for its place until it is linked; Walk links it first,
// and a linked entry can be linked no second time, even by the chainer.
func TestWaitingEntryIsLinkedBeforeWalking(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	ctx := context.Background()
	var school int64
	_ = db.Pool.QueryRow(ctx, `INSERT INTO schools (slug, name) VALUES ('one', 'One') RETURNING id`).Scan(&school)
	record := func(what string) {
		t.Helper()
		if err := db.InTx(ctx, func(tx pgx.Tx) error {
			b := &pgx.Batch{}
			audit.Queue(b, audit.Entry{SchoolID: school, At: time.Now(), Actor: audit.System("test"), Action: "test." + what})
			return tx.SendBatch(ctx, b).Close()
		}); err != nil {
			t.Fatal(err)
		}
	}
	record("first")
	entries, err := audit.Search(ctx, db, school, audit.Filter{Limit: 10})
	if err != nil || len(entries) != 1 || entries[0].Seq != 0 || entries[0].Hash != "" {
		t.Fatalf("before linking: %+v %v", entries, err)
	}
	_, chains, err := audit.Walk(ctx, db)
	if err != nil || chains[school] == nil || chains[school].Entries != 1 {
		t.Fatalf("walk: %+v %v", chains, err)
	}
	record("second")
	if n, err := audit.Link(ctx, db); err != nil || n != 1 {
		t.Fatalf("link: %d %v", n, err)
	}
	if n, err := audit.Link(ctx, db); err != nil || n != 0 {
		t.Fatalf("link again: %d %v", n, err)
	}
	entries, _ = audit.Search(ctx, db, school, audit.Filter{Limit: 10})
	if len(entries) != 2 || entries[0].Seq != 2 || entries[0].PrevHash != entries[1].Hash || entries[1].PrevHash != audit.Genesis {
		t.Fatalf("after linking: %+v", entries)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE audit_log SET seq = 3, prev_hash = $2, hash = $3 WHERE id = $1`,
		entries[0].ID, entries[0].Hash, entries[0].Hash+"x"); err == nil {
		t.Fatal("a linked entry was linked again")
	}
	// A chainer that ignored the lock could not fork the chain either: a
	// second entry at a place already taken is refused.
	record("third")
	if _, err := db.Pool.Exec(ctx, `UPDATE audit_log SET seq = 2, prev_hash = $1, hash = repeat('f', 64) WHERE seq IS NULL`,
		entries[1].Hash); !database.IsUniqueViolation(err, "audit_log_chain") {
		t.Fatalf("a second entry at place 2: %v", err)
	}
}

// The guard (migrations 0013 and 0030) lets linking set a waiting entry's
// seq, prev_hash and hash, and erasure blank its actor, IP and detail, each
// once: a change of any other column alongside is refused, even to the
// tables' owner, as is an erasure without its switch or a second one.
func TestGuardLetsOnlyLinkingAndErasureThrough(t *testing.T) {
	t.Parallel()
	_, owner := dbtest.NewWithOwner(t)
	ctx := context.Background()
	var school, entry int64
	if err := owner.Pool.QueryRow(ctx, `INSERT INTO schools (slug, name) VALUES ('one', 'One') RETURNING id`).Scan(&school); err != nil {
		t.Fatal(err)
	}
	if err := owner.Pool.QueryRow(ctx, `INSERT INTO audit_log (school_id, at, actor, action, subject, detail, ip)
		VALUES ($1, now() - interval '2 months', 'Zoë O''Brien', 'policy.published', 'policy 1', '{"version": "1"}', '203.0.113.1')
		RETURNING id`, school).Scan(&entry); err != nil {
		t.Fatal(err)
	}
	const link = `seq = 1, prev_hash = repeat('0', 64), hash = repeat('a', 64)`
	const erase = `actor = '(erased)', ip = '', detail = '{}', erased_at = now()`
	refused := []string{
		link + `, subject = 'policy 2'`,
		link + `, at = now()`,
		link + `, detail = '{"version": "2"}'`,
		link + `, erased_at = now()`,
		link + `, school_id = NULL`,
		`seq = 1`, // the hashes with it, or nothing
		`subject = 'policy 2'`,
		erase, // without the erasure switch
	}
	for _, set := range refused {
		if _, err := owner.Pool.Exec(ctx, `UPDATE audit_log SET `+set+` WHERE id = $1`, entry); err == nil {
			t.Fatalf("SET %s was let through", set)
		}
	}
	erasing := func(set string) error {
		return owner.InTx(ctx, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT set_config('signoff.erasing', 'on', true)`); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `UPDATE audit_log SET `+set+` WHERE id = $1`, entry)
			return err
		})
	}
	for _, set := range []string{erase + `, subject = 'policy 2'`, erase + `, action = 'policy.retired'`, erase + `, seq = 1`} {
		if err := erasing(set); err == nil {
			t.Fatalf("erasing with SET %s was let through", set)
		}
	}
	if _, err := owner.Pool.Exec(ctx, `UPDATE audit_log SET `+link+` WHERE id = $1`, entry); err != nil {
		t.Fatalf("linking: %v", err)
	}
	if _, err := owner.Pool.Exec(ctx, `UPDATE audit_log SET seq = 2, prev_hash = repeat('0', 64), hash = repeat('a', 64) WHERE id = $1`, entry); err == nil {
		t.Fatal("a linked entry was given another place")
	}
	if err := erasing(erase); err != nil {
		t.Fatalf("erasing: %v", err)
	}
	if err := erasing(`actor = '(erased again)', erased_at = now()`); err == nil {
		t.Fatal("an erased entry was erased again")
	}
	var actor, subject, hash string
	var seq int64
	if err := owner.Pool.QueryRow(ctx, `SELECT actor, subject, seq, hash FROM audit_log WHERE id = $1`, entry).Scan(&actor, &subject, &seq, &hash); err != nil ||
		actor != "(erased)" || subject != "policy 1" || seq != 1 || hash != strings.Repeat("a", 64) {
		t.Fatalf("after linking and erasure: %q %q %d %q %v", actor, subject, seq, hash, err)
	}
}
