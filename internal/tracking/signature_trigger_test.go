package tracking_test

import (
	"context"
	"testing"
	"time"
)

// TestStaffSignatureTrigger: the obligations trigger's way for one staff
// signature (migration 0026: it sets the one request the signature can
// change) keeps the table equal to the derivation whatever the signature
// is, written as psql would: one that counts; one given earlier than the
// one that counts (it does not replace it); one by someone not asked (no
// request appears); two in one statement (the full refresh); a
// statement that inserts nothing (no change); and two signatures at once.
func TestStaffSignatureTrigger(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	db, d, st := demoSchool(t, &now)
	ctx := context.Background()
	school := d.School.ID

	// A staff form, two members of staff it asks who have not signed it,
	// and a member of staff it does not ask.
	var formID, versionID, asked, other int64
	var sha string
	err := db.Pool.QueryRow(ctx, `SELECT f.id, fc.version_id, fc.sha256,
			(SELECT min(p.id) FROM people p WHERE p.school_id = f.school_id AND p.kind = 'staff' AND p.left_at IS NULL
			   AND p.staff_role = ANY (f.audience_staff_roles) AND NOT EXISTS (SELECT 1 FROM signatures s WHERE s.form_id = f.id AND s.person_id = p.id)),
			(SELECT max(p.id) FROM people p WHERE p.school_id = f.school_id AND p.kind = 'staff' AND p.left_at IS NULL
			   AND p.staff_role = ANY (f.audience_staff_roles) AND NOT EXISTS (SELECT 1 FROM signatures s WHERE s.form_id = f.id AND s.person_id = p.id))
		FROM forms f JOIN form_current fc ON fc.form_id = f.id
		WHERE f.school_id = $1 AND f.closed_at IS NULL AND f.audience = 'staff'
		  AND EXISTS (SELECT 1 FROM people p WHERE p.school_id = f.school_id AND p.kind = 'staff' AND p.left_at IS NULL
		              AND NOT (p.staff_role = ANY (f.audience_staff_roles)))
		ORDER BY f.id LIMIT 1`, school).Scan(&formID, &versionID, &sha, &asked, &other)
	if err != nil {
		t.Fatal(err)
	}
	var outsider int64
	if err := db.Pool.QueryRow(ctx, `SELECT min(p.id) FROM people p JOIN forms f ON f.id = $2
		WHERE p.school_id = $1 AND p.kind = 'staff' AND p.left_at IS NULL AND NOT (p.staff_role = ANY (f.audience_staff_roles))`,
		school, formID).Scan(&outsider); err != nil {
		t.Fatal(err)
	}
	if asked == 0 || other == 0 || asked == other || outsider == 0 {
		t.Fatalf("demo: form %d, staff asked %d and %d, not asked %d; want two asked and one not", formID, asked, other, outsider)
	}
	const insert = `INSERT INTO signatures (school_id, form_id, person_id, version_id, version_sha256, statement, typed_name,
			academic_year, method, ip, user_agent, reference, signed_at)
		SELECT $1, $2, w.person, $3, $4, 'I agree.', 'Test Signer', w.year, 'web', '', '', w.ref, w.at
		FROM unnest($5::bigint[], $6::text[], $7::timestamptz[], $8::int[]) AS w(person, ref, at, year)`
	sign := func(after string, people []int64, refs []string, at []time.Time, years []int) {
		t.Helper()
		if _, err := db.Pool.Exec(ctx, insert, school, formID, versionID, sha, people, refs, at, years); err != nil {
			t.Fatalf("%s: %v", after, err)
		}
		consistent(t, st, after)
	}
	held := func(person int64) (ref string) {
		t.Helper()
		if err := db.Pool.QueryRow(ctx, `SELECT coalesce(reference, '') FROM obligations WHERE form_id = $1 AND person_id = $2 AND pupil_id = 0`,
			formID, person).Scan(&ref); err != nil {
			t.Fatalf("the request of person %d: %v", person, err)
		}
		return ref
	}
	before := figures(t, st, school, formID)

	sign("a signature that counts", []int64{asked}, []string{"SG-T-1"}, []time.Time{now}, []int{2026})
	if got := held(asked); got != "SG-T-1" {
		t.Fatalf("after a signature that counts: the request holds %q, want SG-T-1", got)
	}
	want(t, st, figures(t, st, school, formID), before.Audience, before.Signed+1, 0, "a signature that counts")

	sign("a signature given earlier", []int64{asked}, []string{"SG-T-2"}, []time.Time{now.AddDate(-1, 0, 0)}, []int{2025})
	if got := held(asked); got != "SG-T-1" {
		t.Fatalf("after a signature given earlier: the request holds %q, want the later SG-T-1", got)
	}

	sign("a signature by someone not asked", []int64{outsider}, []string{"SG-T-3"}, []time.Time{now}, []int{2026})
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM obligations WHERE form_id = $1 AND person_id = $2`, formID, outsider).Scan(&n); err != nil || n != 0 {
		t.Fatalf("after a signature by someone not asked: %d requests (%v), want none", n, err)
	}

	sign("two signatures in one statement", []int64{other, other}, []string{"SG-T-4", "SG-T-5"}, []time.Time{now.AddDate(-1, 0, 0), now}, []int{2025, 2026})
	if got := held(other); got != "SG-T-5" {
		t.Fatalf("after two signatures in one statement: the request holds %q, want the later SG-T-5", got)
	}
	want(t, st, figures(t, st, school, formID), before.Audience, before.Signed+2, 0, "two signatures in one statement")

	// Nothing inserted: nothing changes.
	tag, err := db.Pool.Exec(ctx, insert+` ON CONFLICT DO NOTHING`, school, formID, versionID, sha, []int64{asked}, []string{"SG-T-1"}, []time.Time{now}, []int{2026})
	if err != nil || tag.RowsAffected() != 0 {
		t.Fatalf("an insert of nothing: %v, %d rows", err, tag.RowsAffected())
	}
	consistent(t, st, "an insert of nothing")

	// Two signatures of one person at once, the later one first: the
	// second's trigger waits for the first's locks, then, in a statement
	// of its own (a new snapshot), sees the first's signature, so the
	// request keeps the later one rather than what the second saw when it
	// started.
	first, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = first.Rollback(ctx) }()
	if _, err := first.Exec(ctx, insert, school, formID, versionID, sha, []int64{asked}, []string{"SG-T-6"}, []time.Time{now.Add(time.Hour)}, []int{2024}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := db.Pool.Exec(ctx, insert, school, formID, versionID, sha, []int64{asked}, []string{"SG-T-7"}, []time.Time{now.AddDate(-2, 0, 0)}, []int{2023})
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("the second signature did not wait for the first's locks (%v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := first.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := held(asked); got != "SG-T-6" {
		t.Fatalf("after two signatures at once: the request holds %q, want the later SG-T-6", got)
	}
	consistent(t, st, "two signatures at once")
}
