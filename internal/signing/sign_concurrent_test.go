package signing_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/database"
	"signoff/internal/people"
	"signoff/internal/signing"
)

// Fifty members of staff of one school sign at once: every signature is
// made, each has its one audit entry (carrying its seal), and the school's
// chain verifies once linked, with no entry lost or linked twice.
func TestConcurrentSigningKeepsTheChain(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const n = 50
	staff := make([]people.Person, n)
	if err := f.db.InTx(ctx, func(tx pgx.Tx) error {
		for i := range staff {
			staff[i] = people.Person{SchoolID: f.school.ID, Kind: people.Staff, GivenName: "Sam", FamilyName: fmt.Sprintf("Signer%d", i),
				Email: fmt.Sprintf("sam%d@example.org", i), StaffRole: people.Teacher}
			if err := people.CreateTx(ctx, tx, &staff[i]); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	chainCtx, stop := context.WithCancel(ctx)
	chained := make(chan struct{})
	go func() { defer close(chained); audit.NewChainer(f.db, nil).Run(chainCtx) }()
	var wg sync.WaitGroup
	sigs := make([]signing.Signature, n)
	errs := make([]error, n)
	for i := range staff {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var created bool
			sigs[i], created, errs[i] = f.sign.Sign(ctx, f.input(staff[i], f.version.ID))
			if errs[i] == nil && !created {
				errs[i] = fmt.Errorf("not created")
			}
		}()
	}
	wg.Wait()
	stop()
	<-chained
	for i, err := range errs {
		if err != nil {
			t.Fatalf("signer %d: %v", i, err)
		}
	}
	var signatures, entries, sealed, waiting int
	if err := f.db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM signatures WHERE form_id = $1),
			count(*), count(*) FILTER (WHERE detail->>'seal' = s.seal), count(*) FILTER (WHERE a.seq IS NULL)
		FROM audit_log a JOIN signatures s ON a.subject = 'signature ' || s.reference
		WHERE a.action = 'signature.created'`, f.form.ID).Scan(&signatures, &entries, &sealed, &waiting); err != nil {
		t.Fatal(err)
	}
	if signatures != n || entries != n || sealed != n || waiting != 0 {
		t.Fatalf("%d signatures, %d audit entries (%d with the record's seal, %d not yet chained); want %d of each, all chained",
			signatures, entries, sealed, waiting, n)
	}
	broken, _, err := audit.Verify(ctx, f.db)
	if err != nil || broken != nil {
		t.Fatalf("verify: %+v %v", broken, err)
	}
}

// The same signer submitting twice at once gets one signature and one
// audit entry: the submit that loses the race returns the winner's.
func TestRacingSubmitsMakeOneSignature(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const n = 8
	// Hold the form so that every submit reads it at the same moment,
	// before any has committed.
	hold, err := f.db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = hold.Rollback(ctx) }()
	if _, err := hold.Exec(ctx, `SELECT 1 FROM forms WHERE id = $1 FOR UPDATE`, f.form.ID); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	refs := make([]string, n)
	made := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var sig signing.Signature
			sig, made[i], errs[i] = f.sign.Sign(ctx, f.input(f.teacher, f.version.ID))
			refs[i] = sig.Reference
		}()
	}
	time.Sleep(200 * time.Millisecond)
	if err := hold.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	created := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("submit %d: %v", i, errs[i])
		}
		if refs[i] != refs[0] {
			t.Fatalf("submit %d returned %s, submit 0 %s", i, refs[i], refs[0])
		}
		if made[i] {
			created++
		}
	}
	var signatures, entries int
	_ = f.db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM signatures), (SELECT count(*) FROM audit_log WHERE action = 'signature.created')`).
		Scan(&signatures, &entries)
	if created != 1 || signatures != 1 || entries != 1 {
		t.Fatalf("created %d times, %d signatures, %d audit entries; want 1 of each", created, signatures, entries)
	}
}

// A form that is not the school's is not found; a person who is not the
// school's has nothing to sign; and neither leaves anything behind.
func TestSignUnknownFormOrPerson(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in := f.input(f.teacher, f.version.ID)
	in.FormID += 1000
	if _, _, err := f.sign.Sign(ctx, in); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("unknown form: %v", err)
	}
	in = f.input(f.teacher, f.version.ID)
	in.PersonID += 1000
	if _, _, err := f.sign.Sign(ctx, in); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("unknown person: %v", err)
	}
	var n int
	_ = f.db.Pool.QueryRow(ctx, `SELECT count(*) FROM signatures`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d signatures stored", n)
	}
}

// A signing's read is prepared once per connection (pgx's statement
// cache) and run with one generic plan: PostgreSQL makes no plan for the
// values of each signing.
func TestSigningReadIsPlannedOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	staff := make([]people.Person, 8)
	if err := f.db.InTx(ctx, func(tx pgx.Tx) error {
		for i := range staff {
			staff[i] = people.Person{SchoolID: f.school.ID, Kind: people.Staff, GivenName: "Pat", FamilyName: fmt.Sprintf("Planned%d", i),
				Email: fmt.Sprintf("pat%d@example.org", i), StaffRole: people.Teacher}
			if err := people.CreateTx(ctx, tx, &staff[i]); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// One connection, so that every signing uses the same one.
	cfg := f.db.Pool.Config()
	cfg.MaxConns, cfg.MinConns = 1, 0
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	one := signing.NewStore(&database.DB{Pool: pool, Now: f.db.Now})
	for _, p := range staff {
		if _, _, err := one.Sign(ctx, f.input(p, f.version.ID)); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	var generic, custom int
	if err := conn.QueryRow(ctx, `SELECT coalesce(sum(generic_plans), 0), coalesce(sum(custom_plans), 0) FROM pg_prepared_statements
		WHERE statement LIKE '%FOR SHARE OF p, f%'`).Scan(&generic, &custom); err != nil {
		t.Fatal(err)
	}
	if generic < len(staff) || custom != 0 {
		t.Fatalf("the signing read ran with %d generic and %d custom plans over %d signings", generic, custom, len(staff))
	}
}
