-- Issue 15: the figures of open forms (tracking's Forms and Form: each
-- form's requests, signed and withdrawn from obligation_counts, its
-- version and its last reminder) as functions, so that the statement has
-- one home and one form's read keeps its plan.
--
-- signoff_forms_figures is every open form of the schools in p_schools, by
-- school name, then due date, then title; a signature counts in academic
-- year p_year when its sig_year is 0 or p_year (signoff_counts's rule,
-- applied to the sums). It is one SELECT in SQL, so PostgreSQL inlines it
-- into the calling statement and plans it with the caller's values (the
-- school dashboard's and the trust's many forms).
CREATE TYPE signoff_form_figures_row AS (r_form bigint, r_school bigint, r_school_name text, r_title text, r_kind text,
    r_version int, r_published timestamptz, r_due date, r_audience bigint, r_signed bigint, r_withdrawn bigint,
    r_last_reminder timestamptz, r_for_parents boolean, r_policy bigint);

CREATE FUNCTION signoff_forms_figures(p_schools bigint[], p_year int)
RETURNS SETOF signoff_form_figures_row
LANGUAGE sql STABLE AS $$
    SELECT f.id, f.school_id, sc.name, f.title, f.kind, coalesce(fc.number, 1), coalesce(fc.published_at, f.created_at), f.due_on,
           coalesce(c.audience, 0), coalesce(c.signed, 0), coalesce(c.withdrawn, 0),
           (SELECT max(r.last_at) FROM reminder_totals r WHERE r.form_id = f.id), f.audience = 'parents', coalesce(f.policy_id, 0)
    FROM forms f
    JOIN schools sc ON sc.id = f.school_id
    LEFT JOIN form_current fc ON fc.form_id = f.id
    LEFT JOIN (SELECT c.form_id, sum(c.requests) AS audience,
                      coalesce(sum(c.signed) FILTER (WHERE c.sig_year IN (0, p_year)), 0) AS signed,
                      coalesce(sum(c.withdrawn) FILTER (WHERE c.sig_year IN (0, p_year)), 0) AS withdrawn
               FROM obligation_counts c WHERE c.school_id = ANY (p_schools)
               GROUP BY c.form_id) c ON c.form_id = f.id
    WHERE f.school_id = ANY (p_schools) AND f.closed_at IS NULL
      AND (fc.form_id IS NOT NULL OR f.audience = 'parents')
    ORDER BY lower(sc.name), f.due_on NULLS LAST, lower(f.title)
$$;

-- signoff_form_figures is form p_form of school p_school (no row unless
-- it is open), read by every form dashboard and export. As a prepared
-- statement PostgreSQL chose a custom plan for it on every call, and
-- planning cost more than running it; here its generic plan (the form's
-- condition reaches both the forms and the counts' index) is kept for the
-- session.
CREATE FUNCTION signoff_form_figures(p_school bigint, p_form bigint, p_year int)
RETURNS SETOF signoff_form_figures_row LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    RETURN QUERY SELECT * FROM signoff_forms_figures(ARRAY[p_school], p_year) x WHERE x.r_form = p_form;
END $$;
