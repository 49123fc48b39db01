package database

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// AppRole is the name of the role the server connects as with the private
// cluster (and in the tests): it owns nothing, so it can neither change a
// table nor disable a trigger, and holds only the privileges below.
const AppRole = "signoff_app"

// AppPrivileges is what the application's role may do on each table the
// migrations create: exactly the statements the code runs. The evidential
// tables are SELECT and INSERT only, so that no row of a signature,
// consent record, scan, issued copy, approval decision, audit entry or
// anchor can be changed through the application (an audit entry's and an
// anchor's few late columns aside, as the triggers allow). A table this list does
// not name (added since, or created by a library such as River) gets
// SELECT, INSERT, UPDATE and DELETE so that it keeps working: name it here
// to narrow it. Column lists narrow UPDATE to those columns.
var AppPrivileges = map[string]string{
	// Evidence: never changed through the application.
	"signatures":      "SELECT, INSERT",
	"signature_scans": "SELECT, INSERT",
	"signed_copies":   "SELECT, INSERT",
	// The bytes of issued copies: removed only by erasure's trigger.
	"signed_copy_files": "SELECT, INSERT",
	"policy_decisions":  "SELECT, INSERT",
	"seal_epoch":        "SELECT",
	// A view (migrations/0022): read only.
	"signatures_current": "SELECT",
	"schema_migrations":  "SELECT",
	// Audit entries: only linked into their chain afterwards, once (the
	// trigger of migrations/0013 refuses any other change).
	"audit_log": "SELECT, INSERT, UPDATE (seq, prev_hash, hash)",
	// Anchors: only a late time stamp is written afterwards.
	"audit_anchors": "SELECT, INSERT, UPDATE (tsa_token, tsa_time, tsa_attempts, tsa_error, tsa_next_at)",
	// Published policy texts are frozen by a trigger the role cannot
	// disable; drafts are edited and deleted.
	"policy_versions": "SELECT, INSERT, UPDATE, DELETE",
	"forms":           "SELECT, INSERT, UPDATE",
	"form_items":      "SELECT, INSERT, UPDATE, DELETE",
	// Everything else, as the code uses it.
	"trusts":               "SELECT, INSERT, UPDATE",
	"schools":              "SELECT, INSERT, UPDATE",
	"people":               "SELECT, INSERT, UPDATE",
	"accounts":             "SELECT, INSERT, UPDATE",
	"sessions":             "SELECT, INSERT, UPDATE, DELETE",
	"guardianships":        "SELECT, INSERT, UPDATE, DELETE",
	"access_links":         "SELECT, INSERT, UPDATE, DELETE",
	"outbox":               "SELECT, INSERT, UPDATE, DELETE",
	"outbox_attachments":   "SELECT, INSERT, DELETE",
	"rate_limits":          "SELECT, INSERT, UPDATE, DELETE",
	"rate_failures":        "SELECT, INSERT, UPDATE, DELETE",
	"import_batches":       "SELECT, INSERT, UPDATE, DELETE",
	"import_files":         "SELECT, INSERT, UPDATE, DELETE",
	"policies":             "SELECT, INSERT, UPDATE",
	"policy_approvers":     "SELECT, INSERT, UPDATE, DELETE",
	"policy_reviews":       "SELECT, INSERT",
	"policy_relations":     "SELECT, INSERT, UPDATE, DELETE",
	"policy_review_alerts": "SELECT, INSERT",
	"job_runs":             "SELECT, INSERT, UPDATE",
	"calendar_feeds":       "SELECT, INSERT, UPDATE",
	"reminders":            "SELECT, INSERT, UPDATE",
	"reminder_schedules":   "SELECT, INSERT, UPDATE",
	"reminder_rounds":      "SELECT, INSERT, UPDATE",
	"school_logos":         "SELECT, INSERT, UPDATE, DELETE",
	"setup_codes":          "SELECT, INSERT, UPDATE, DELETE",
	// Data protection: erasure itself goes through owner-owned functions
	// (migrations/0011_data_protection.sql).
	"retention_periods": "SELECT, INSERT, UPDATE",
	"legal_holds":       "SELECT, INSERT, UPDATE (lifted_at, lifted_by)",
	"retention_runs":    "SELECT, INSERT",
	"erased_scans":      "SELECT",
	"sso_connections":   "SELECT, INSERT, UPDATE, DELETE",
	"sso_identities":    "SELECT, INSERT, UPDATE, DELETE",
	"sso_attempts":      "SELECT, INSERT, UPDATE, DELETE",
}

// GrantSQL is the SQL that gives role exactly AppPrivileges on the tables
// of the current database's public schema, and full row access (no
// TRUNCATE, no TRIGGER, no REFERENCES) on any other table there, now and
// created later by the running role (default privileges). It is run by
// the schema's owner after every migration and printed by `signoff grants`
// for an external PostgreSQL.
func GrantSQL(role string) string {
	r := quoteIdent(role)
	var b strings.Builder
	fmt.Fprintf(&b, "GRANT USAGE ON SCHEMA public TO %s;\n", r)
	fmt.Fprintf(&b, "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %s;\n", r)
	fmt.Fprintf(&b, "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %s;\n", r)
	fmt.Fprintf(&b, "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %s;\n", r)
	fmt.Fprintf(&b, "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %s;\n", r)
	fmt.Fprintf(&b, "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO %s;\n", r)
	tables := make([]string, 0, len(AppPrivileges))
	for t := range AppPrivileges {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	b.WriteString("DO $grants$\nBEGIN\n")
	for _, t := range tables {
		fmt.Fprintf(&b, "  IF to_regclass('public.%s') IS NOT NULL THEN\n", t)
		fmt.Fprintf(&b, "    REVOKE ALL ON public.%s FROM %s;\n", quoteIdent(t), r)
		fmt.Fprintf(&b, "    GRANT %s ON public.%s TO %s;\n", AppPrivileges[t], quoteIdent(t), r)
		b.WriteString("  END IF;\n")
	}
	b.WriteString("END\n$grants$;\n")
	return b.String()
}

// EnsureRole creates the login role name (owning nothing, with no
// special powers) when it does not exist, with password when one is
// given. The connection must be allowed to create roles.
func (db *DB) EnsureRole(ctx context.Context, name, password string) error {
	var exists bool
	if err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("database: look for role %s: %w", name, err)
	}
	if exists {
		return nil
	}
	q := `CREATE ROLE ` + quoteIdent(name) + ` LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS`
	if password != "" {
		q += ` PASSWORD '` + strings.ReplaceAll(password, `'`, `''`) + `'`
	}
	_, err := db.Pool.Exec(ctx, q)
	var pgErr *pgconn.PgError
	if err != nil && errors.As(err, &pgErr) && (pgErr.Code == "42710" || pgErr.Code == "23505") {
		return nil // created meanwhile by another process
	}
	if err != nil {
		return fmt.Errorf("database: create role %s: %w", name, err)
	}
	return nil
}

// OwnsEvidence reports whether the connection's role owns the signatures
// table (or is a superuser), and so could disable the triggers that keep
// evidence unchangeable.
func (db *DB) OwnsEvidence(ctx context.Context) (bool, error) {
	var owns bool
	if err := db.Pool.QueryRow(ctx, `SELECT r.rolsuper OR coalesce(pg_has_role(current_user, c.relowner, 'USAGE'), false)
		FROM pg_roles r LEFT JOIN pg_class c ON c.oid = to_regclass('public.signatures') WHERE r.rolname = current_user`).Scan(&owns); err != nil {
		return false, fmt.Errorf("database: owner of the signatures table: %w", err)
	}
	return owns, nil
}

// Grant gives role the application's privileges (GrantSQL), under the
// migration lock so that it never runs beside a migration.
func (db *DB) Grant(ctx context.Context, role string) error {
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("database: grant: acquire: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrationLock)); err != nil {
		return fmt.Errorf("database: grant: lock: %w", err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrationLock))
	}()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("database: grant: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, GrantSQL(role)); err != nil {
		return fmt.Errorf("database: grant to %s: %w", role, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("database: grant: commit: %w", err)
	}
	return nil
}

// WithUser returns the connection URL raw with its user (and password)
// replaced.
func WithUser(raw, user, password string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("database: parse url: %w", err)
	}
	if password != "" {
		u.User = url.UserPassword(user, password)
	} else {
		u.User = url.User(user)
	}
	q := u.Query()
	if q.Has("user") {
		q.Set("user", user)
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

// UserOf returns the user name of a connection URL ("" when it names none).
func UserOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	if v := u.Query().Get("user"); v != "" {
		return v
	}
	return u.User.Username()
}
