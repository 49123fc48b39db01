package database_test

import (
	"context"
	"strings"
	"testing"

	"signoff/internal/database"
	"signoff/internal/database/dbtest"
)

// The application's role owns nothing: it cannot disable a trigger, and
// cannot change or remove a signature, a consent record, a published text,
// an audit entry or an anchor, even though the owner made them.
func TestAppRoleCannotChangeEvidence(t *testing.T) {
	t.Parallel()
	app, owner := dbtest.NewWithOwner(t)
	ctx := context.Background()
	var user string
	if err := app.Pool.QueryRow(ctx, `SELECT current_user`).Scan(&user); err != nil || user != database.AppRole {
		t.Fatalf("the test connection is %q (%v), want %s", user, err, database.AppRole)
	}
	// The owner is told it could change evidence; the application's role is not.
	if owns, err := owner.OwnsEvidence(ctx); err != nil || !owns {
		t.Fatalf("the owner owns the evidence: %v (%v)", owns, err)
	}
	if owns, err := app.OwnsEvidence(ctx); err != nil || owns {
		t.Fatalf("the application's role owns the evidence: %v (%v)", owns, err)
	}
	// A published policy, a staff signature and a consent record, made by the owner.
	_, err := owner.Pool.Exec(ctx, `
		INSERT INTO schools (slug, name) VALUES ('grants', 'Grants School');
		INSERT INTO people (school_id, kind, given_name, family_name, staff_role) VALUES (1, 'staff', 'Ann', 'Lee', 'teacher');
		INSERT INTO people (school_id, kind, given_name, family_name) VALUES (1, 'pupil', 'Kit', 'Lee'), (1, 'parent', 'Bo', 'Lee');
		INSERT INTO policies (school_id, title) VALUES (1, 'IT');
		INSERT INTO policy_versions (school_id, policy_id, number, body_md, sha256, status, published_at)
			VALUES (1, 1, 1, 'text', repeat('a', 64), 'published', now());
		INSERT INTO forms (school_id, policy_id, kind, title, statement) VALUES (1, 1, 'acknowledgement', 'IT', 'I agree');
		INSERT INTO signatures (school_id, form_id, person_id, version_id, version_sha256, statement, typed_name, academic_year, reference, signed_at)
			VALUES (1, 1, 1, 1, repeat('a', 64), 'I agree', 'Ann Lee', 2026, 'SG-TEST-0001', now());
		INSERT INTO signatures (school_id, form_id, person_id, pupil_id, statement, typed_name, answers, academic_year, reference, signed_at)
			VALUES (1, 1, 3, 2, 'I agree', 'Bo Lee', '{"1": true}', 2026, 'SG-TEST-0002', now());
		INSERT INTO audit_log (school_id, at, actor, action, seq, prev_hash, hash) VALUES (1, now(), 'x', 'policy.published', 1, '0', '1');
		INSERT INTO audit_log (school_id, at, actor, action) VALUES (1, now(), 'x', 'policy.published');
		INSERT INTO audit_anchors (school_id, entry_id, head_hash, entries, created_at, certificate, signature, reason)
			VALUES (1, 1, repeat('b', 64), 1, now(), '\x00', '\x00', 'hourly');`)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`ALTER TABLE signatures DISABLE TRIGGER ALL`,
		`ALTER TABLE signatures DISABLE TRIGGER signatures_immutable`,
		`ALTER TABLE audit_log DISABLE TRIGGER ALL`,
		`ALTER TABLE policy_versions DISABLE TRIGGER ALL`,
		`DROP TRIGGER signatures_immutable ON signatures`,
		`SET session_replication_role = replica`,
		`UPDATE signatures SET typed_name = 'Someone Else' WHERE reference = 'SG-TEST-0001'`,
		`UPDATE signatures SET signed_at = signed_at - interval '45 days' WHERE reference = 'SG-TEST-0001'`,
		`UPDATE signatures SET answers = '{"1": false}' WHERE reference = 'SG-TEST-0002'`,
		`DELETE FROM signatures WHERE reference = 'SG-TEST-0002'`,
		`TRUNCATE signatures CASCADE`,
		`UPDATE policy_versions SET body_md = 'other text' WHERE id = 1`,
		`UPDATE audit_log SET actor = 'y'`,
		`UPDATE audit_log SET seq = 5, prev_hash = '2', hash = '3' WHERE seq = 1`,
		`UPDATE audit_log SET seq = NULL, prev_hash = NULL, hash = NULL WHERE seq = 1`,
		`DELETE FROM audit_log`,
		`UPDATE audit_anchors SET head_hash = repeat('c', 64)`,
		`DELETE FROM audit_anchors`,
		`UPDATE seal_epoch SET last_unsealed_id = 1000`,
		`INSERT INTO schema_migrations (version, name) VALUES (999, 'x')`,
		`CREATE TABLE sneaky (id int)`,
		`CREATE OR REPLACE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$`,
	} {
		_, err := app.Pool.Exec(ctx, q)
		if err == nil {
			t.Errorf("the application's role could run %s", q)
			continue
		}
		if !strings.Contains(err.Error(), "permission denied") && !strings.Contains(err.Error(), "must be owner") &&
			!strings.Contains(err.Error(), "cannot be changed") && !strings.Contains(err.Error(), "cannot change") {
			t.Errorf("%s: unexpected error %v", q, err)
		}
	}
	var n int
	if err := owner.Pool.QueryRow(ctx, `SELECT count(*) FROM signatures WHERE typed_name IN ('Ann Lee', 'Bo Lee')`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("signatures after the attempts: %d (%v)", n, err)
	}
	// What the design does change, the role may: a late time stamp on an anchor.
	if _, err := app.Pool.Exec(ctx, `UPDATE audit_anchors SET tsa_attempts = 1, tsa_error = 'down'`); err != nil {
		t.Fatalf("recording a failed time stamp: %v", err)
	}
	// And linking a waiting audit entry into its chain, once.
	if _, err := app.Pool.Exec(ctx, `UPDATE audit_log SET seq = 2, prev_hash = '1', hash = '2' WHERE seq IS NULL`); err != nil {
		t.Fatalf("linking a waiting entry: %v", err)
	}
	if _, err := app.Pool.Exec(ctx, `UPDATE audit_log SET seq = 3, prev_hash = '1', hash = '4' WHERE seq = 2`); err == nil {
		t.Fatal("the application's role could link an entry twice")
	}
	// Erasure goes through the owner's function, which keeps the seal.
	var erased bool
	if err := app.Pool.QueryRow(ctx, `SELECT signoff_erase_signature(2, now())`).Scan(&erased); err != nil || !erased {
		t.Fatalf("erase: %v %v", erased, err)
	}
	var typed, ip string
	if err := owner.Pool.QueryRow(ctx, `SELECT typed_name, ip FROM signatures WHERE id = 2`).Scan(&typed, &ip); err != nil || typed != "(erased)" {
		t.Fatalf("after erasure: %q %q %v", typed, ip, err)
	}
	// The erasure switch does not open other changes, even to the owner.
	if _, err := owner.Pool.Exec(ctx, `BEGIN; SELECT set_config('signoff.erasing', 'on', true);
		UPDATE signatures SET person_id = 3, erased_at = now() WHERE id = 1; COMMIT`); err == nil {
		t.Fatal("the erasure switch let the signer change")
	}
}
