-- Issue 15: one home for "a signature of academic year sig_year counts in
-- academic year y", which was written four times (signoff_counts, the sums
-- in signoff_forms_figures, and tracking's group and trend reads).
--
-- signoff_counts_in_year is the rule: a signature counts in academic year
-- academic_year when it has no year (sig_year 0: a form not renewed each
-- year) or was given in that year. The figures' tables keep 0 for "no
-- year" (obligation_counts, obligation_days: migration 0017); the
-- obligations table keeps NULL, which signoff_counts turns into 0. One
-- expression, IMMUTABLE and not STRICT, so PostgreSQL inlines it where it
-- is called: on the sums it is the same "sig_year = ANY ('{0,y}')" it was
-- when written in place, and an index on sig_year can still be used.
CREATE FUNCTION signoff_counts_in_year(sig_year int, academic_year int) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT sig_year IN (0, academic_year)
$$;

-- signoff_counts (migration 0012) as before, stated with the rule above:
-- an obligation's signature counts when there is one and its year counts.
-- No trigger function calls it; tracking's and signing's reads do, through
-- signoff_obligation_counts.
CREATE OR REPLACE FUNCTION signoff_counts(signature_id bigint, sig_year int, academic_year int) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT signature_id IS NOT NULL AND signoff_counts_in_year(coalesce(sig_year, 0), academic_year)
$$;

-- signoff_obligation_counts is whether obligation o's signature counts in
-- academic_year: the one spelling of signoff_counts on an obligations row,
-- which tracking and signing each wrote as a Go constant. Inlined: the
-- planner turns o's fields into the row's columns.
CREATE FUNCTION signoff_obligation_counts(o obligations, academic_year int) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT signoff_counts(o.signature_id, o.sig_year, academic_year)
$$;

-- signoff_forms_figures as in migration 0024, its sums counting with
-- signoff_counts_in_year (signoff_form_figures, which reads it, is
-- unchanged; neither is called by a trigger).
CREATE OR REPLACE FUNCTION signoff_forms_figures(p_schools bigint[], p_year int)
RETURNS SETOF signoff_form_figures_row
LANGUAGE sql STABLE AS $$
    SELECT f.id, f.school_id, sc.name, f.title, f.kind, coalesce(fc.number, 1), coalesce(fc.published_at, f.created_at), f.due_on,
           coalesce(c.audience, 0), coalesce(c.signed, 0), coalesce(c.withdrawn, 0),
           (SELECT max(r.last_at) FROM reminder_totals r WHERE r.form_id = f.id), f.audience = 'parents', coalesce(f.policy_id, 0)
    FROM forms f
    JOIN schools sc ON sc.id = f.school_id
    LEFT JOIN form_current fc ON fc.form_id = f.id
    LEFT JOIN (SELECT c.form_id, sum(c.requests) AS audience,
                      coalesce(sum(c.signed) FILTER (WHERE signoff_counts_in_year(c.sig_year, p_year)), 0) AS signed,
                      coalesce(sum(c.withdrawn) FILTER (WHERE signoff_counts_in_year(c.sig_year, p_year)), 0) AS withdrawn
               FROM obligation_counts c WHERE c.school_id = ANY (p_schools)
               GROUP BY c.form_id) c ON c.form_id = f.id
    WHERE f.school_id = ANY (p_schools) AND f.closed_at IS NULL
      AND (fc.form_id IS NOT NULL OR f.audience = 'parents')
    ORDER BY lower(sc.name), f.due_on NULLS LAST, lower(f.title)
$$;
