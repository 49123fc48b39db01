package tracking_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"signoff/internal/database/dbtest"
)

// TestCountingRuleInOneHome: migration 0027's counting rule gives, for a
// signature's year (NULL on obligations, 0 on the figures' tables: no
// year) and the academic year read (NULL too), what 0012's signoff_counts
// and 0024's sums said (a signature counts when it has no year or was
// given in that year); the one difference is an obligation whose sig_year
// is 0, which 0012 counted only in year 0 and which now counts as "no
// year", as the figures' tables always took it. And PostgreSQL inlines
// the rule where tracking and signing call it: no plan calls a signoff_
// function, so their plans are those of the rule written in place.
func TestCountingRuleInOneHome(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	ctx := context.Background()
	rows, err := db.Pool.Query(ctx, `SELECT s, y, ay, signoff_counts(s, y, ay), s IS NOT NULL AND (y IS NULL OR y = ay),
			signoff_counts_in_year(coalesce(y, 0), ay), coalesce(y, 0) IN (0, ay)
		FROM (VALUES (NULL::bigint), (7)) a (s), (VALUES (NULL::int), (0), (2025), (2026)) b (y), (VALUES (NULL::int), (0), (2026)) c (ay)`)
	if err != nil {
		t.Fatal(err)
	}
	cases := 0
	for rows.Next() {
		var s *int64
		var y, ay *int
		var counts, was, inYear, sums *bool
		if err := rows.Scan(&s, &y, &ay, &counts, &was, &inYear, &sums); err != nil {
			t.Fatal(err)
		}
		cases++
		str := func(b *bool) string {
			if b == nil {
				return "NULL"
			}
			if *b {
				return "true"
			}
			return "false"
		}
		zeroYear := y != nil && *y == 0
		if str(inYear) != str(sums) {
			t.Errorf("signature %v, year %v, academic year %v: signoff_counts_in_year %s, 0024's sums %s", s, y, ay, str(inYear), str(sums))
		}
		if !zeroYear && str(counts) != str(was) {
			t.Errorf("signature %v, year %v, academic year %v: signoff_counts %s, 0012's %s", s, y, ay, str(counts), str(was))
		}
		if signed := s != nil; zeroYear && str(counts) != str(&signed) {
			t.Errorf("signature %v, year 0, academic year %v: signoff_counts %s, want %v (whether there is a signature)", s, ay, str(counts), signed)
		}
	}
	if err := rows.Err(); err != nil || cases != 24 {
		t.Fatalf("%d cases (%v), want 24", cases, err)
	}

	call := regexp.MustCompile(`signoff_\w+\(`) // a call; signoff_forms_figures.r_form is the inlined subquery's column
	for _, q := range []string{
		`SELECT o.person_id, count(*) FROM obligations o WHERE o.school_id = 1 AND o.pupil_id = 0 AND NOT signoff_obligation_counts(o, 2026) GROUP BY 1`,
		`SELECT count(*) FROM obligations o WHERE o.form_id = 1 AND signoff_counts(o.signature_id, o.sig_year, 2026)`,
		`SELECT coalesce(sum(c.signed) FILTER (WHERE signoff_counts_in_year(c.sig_year, 2026)), 0) FROM obligation_counts c WHERE c.school_id = 1`,
		`SELECT d.day, sum(d.signed) FROM obligation_days d WHERE d.school_id = 1 AND d.form_id = 1 AND signoff_counts_in_year(d.sig_year, 2026) GROUP BY 1`,
		`SELECT * FROM signoff_forms_figures(ARRAY[1::bigint], 2026)`,
	} {
		var plan []string
		rows, err := db.Pool.Query(ctx, `EXPLAIN (VERBOSE, COSTS OFF) `+q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if text := strings.Join(plan, "\n"); call.MatchString(text) || strings.Contains(text, "Function Scan") {
			t.Errorf("%s: the rule is not inlined:\n%s", q, text)
		}
	}
}
