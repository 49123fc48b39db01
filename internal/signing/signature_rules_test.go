package signing_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"signoff/internal/database/dbtest"
	"signoff/internal/demo"
	"signoff/internal/limits"
)

// TestSignatureRowRules: the rules of a signature row (migration 0029's
// trigger, which took the place of the table's CHECK constraints) refuse
// each kind of bad row as the constraint of the same name did, with
// SQLSTATE 23514, let the values at each limit through, and still fire
// with session_replication_role = replica, as a constraint would.
func TestSignatureRowRules(t *testing.T) {
	t.Parallel()
	db, owner := dbtest.NewWithOwner(t)
	ctx := context.Background()
	if _, err := demo.Load(ctx, db); err != nil {
		t.Fatal(err)
	}
	var school, form, version, person, account, witness int64
	if err := db.Pool.QueryRow(ctx, `SELECT f.school_id, f.id, fc.version_id, p.id, a.id, w.id
		FROM forms f JOIN form_current fc ON fc.form_id = f.id
		JOIN people p ON p.school_id = f.school_id AND p.kind = 'staff'
		JOIN people w ON w.school_id = f.school_id AND w.kind = 'staff' AND w.id <> p.id
		JOIN accounts a ON a.school_id = f.school_id
		WHERE f.audience = 'staff' ORDER BY f.id, p.id, w.id, a.id LIMIT 1`).Scan(&school, &form, &version, &person, &account, &witness); err != nil {
		t.Fatal(err)
	}
	hex64 := strings.Repeat("0123456789abcdef", 4)
	// Every column a rule reads, each a value that passes, then changed
	// one at a time.
	base := map[string]string{
		"version_sha256": "'" + hex64 + "'", "typed_name": "'Zoë O''Brien'", "method": "'web'", "part": "''",
		"recorded_by": "NULL", "paper_date": "NULL", "witness_id": "NULL", "seal": "'1:" + hex64 + "'",
		"statement": "'I agree.'", "ip": "''", "user_agent": "''", "reference": "'SG-RULES-' || $6", "language": "'en'",
		"identified_by": "NULL",
	}
	n := 0
	insert := func(q interface {
		Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
	}, change map[string]string) error {
		n++
		cols := []string{"school_id", "form_id", "person_id", "version_id", "academic_year", "signed_at"}
		vals := []string{"$1", "$2", "$3", "$4", "$5", "now()"}
		for col, v := range base {
			if c, ok := change[col]; ok {
				v = c
			}
			cols = append(cols, col)
			vals = append(vals, v)
		}
		// A year of its own each time: signatures_once allows one per year.
		_, err := q.Exec(ctx, `INSERT INTO signatures (`+strings.Join(cols, ", ")+`) VALUES (`+strings.Join(vals, ", ")+`)`,
			school, form, person, version, 1000+n, fmt.Sprint(n))
		return err
	}
	refused := func(err error) string {
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "23514" {
			return fmt.Sprint(err)
		}
		if want := `new row for relation "signatures" violates check constraint "` + pgErr.ConstraintName + `"`; pgErr.Message != want || pgErr.TableName != "signatures" {
			return "(" + pgErr.Message + ")"
		}
		return pgErr.ConstraintName
	}
	paper := map[string]string{"method": "'paper'", "paper_date": "date '2026-09-01'", "recorded_by": fmt.Sprint(account)}
	for _, c := range []struct {
		name   string
		change map[string]string
	}{
		{"signatures_version_sha256_check", map[string]string{"version_sha256": "'" + hex64[:63] + "'"}},
		{"signatures_version_sha256_check", map[string]string{"version_sha256": "'" + strings.ToUpper(hex64) + "'"}},
		{"signatures_version_sha256_check", map[string]string{"version_sha256": "'" + hex64 + "0'"}},
		{"signatures_version_sha256_check", map[string]string{"version_sha256": "'" + hex64[:63] + "é'"}},
		{"signatures_typed_name_check", map[string]string{"typed_name": "'   '"}},
		{"signatures_method_check", map[string]string{"method": "'email'"}},
		{"signatures_part_check", map[string]string{"part": "'teacher'"}},
		{"signatures_paper", map[string]string{"method": "'paper'"}},
		{"signatures_paper", map[string]string{"paper_date": "date '2026-09-01'", "recorded_by": fmt.Sprint(account)}},
		{"signatures_class", map[string]string{"method": "'class'"}},
		{"signatures_seal_check", map[string]string{"seal": "'" + hex64 + "'"}},
		{"signatures_seal_check", map[string]string{"seal": "':" + hex64 + "'"}},
		{"signatures_seal_check", map[string]string{"seal": "'1:" + hex64[:63] + "'"}},
		{"signatures_seal_check", map[string]string{"seal": "'1:" + hex64 + "0'"}},
		{"signatures_seal_check", map[string]string{"seal": "'1:2:" + hex64[:62] + "'"}},
		{"signatures_seal_check", map[string]string{"seal": "'x1:" + hex64 + "'"}},
		{"signatures_statement_length", map[string]string{"statement": fmt.Sprintf("repeat('a', %d)", limits.Statement+1)}},
		{"signatures_typed_name_length", map[string]string{"typed_name": fmt.Sprintf("repeat('é', %d)", limits.Name+1)}},
		{"signatures_ip_length", map[string]string{"ip": fmt.Sprintf("repeat('1', %d)", limits.Short+1)}},
		{"signatures_user_agent_length", map[string]string{"user_agent": fmt.Sprintf("repeat('a', %d)", limits.UserAgent+1)}},
		{"signatures_reference_length", map[string]string{"reference": fmt.Sprintf("repeat('R', %d) || $6", limits.Short)}},
		{"signatures_language_length", map[string]string{"language": "repeat('e', 11)"}},
		{"signatures_identified_by_check", map[string]string{"identified_by": fmt.Sprintf("repeat('a', %d)", limits.IdentifiedBy+1)}},
	} {
		if got := refused(insert(db.Pool, c.change)); got != c.name {
			t.Errorf("%v: refused as %q, want %s", c.change, got, c.name)
		}
	}
	// At each limit, and the NULLs a rule lets through.
	for _, ok := range []map[string]string{
		{},
		{"version_sha256": "NULL", "seal": "NULL"},
		{"seal": "'12:" + hex64 + "'"},
		{"statement": fmt.Sprintf("repeat('é', %d)", limits.Statement), "typed_name": fmt.Sprintf("repeat('é', %d)", limits.Name),
			"ip": fmt.Sprintf("repeat('1', %d)", limits.Short), "user_agent": fmt.Sprintf("repeat('a', %d)", limits.UserAgent),
			"reference": fmt.Sprintf("repeat('R', %d - length($6)) || $6", limits.Short), "language": "repeat('e', 10)",
			"identified_by": fmt.Sprintf("repeat('a', %d)", limits.IdentifiedBy)},
		paper,
		{"method": "'class'", "witness_id": fmt.Sprint(witness)},
	} {
		if err := insert(db.Pool, ok); err != nil {
			t.Errorf("%v: %v, want it stored", ok, err)
		}
	}
	// The database's owner as a replica (which turns ordinary triggers
	// off): the rules still hold, as a constraint's would.
	tx, err := owner.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
		t.Fatal(err)
	}
	if got := refused(insert(tx, map[string]string{"method": "'class'"})); got != "signatures_class" {
		t.Errorf("as a replica: refused as %q, want signatures_class", got)
	}
}
