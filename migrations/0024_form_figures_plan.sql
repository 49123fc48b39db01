-- Issue 15: a form's figures (tracking's formsSQL for one form: its
-- requests, signed and withdrawn from obligation_counts, its version and
-- its last reminder), read by every form dashboard and export, were
-- planned afresh on every call: PostgreSQL chose a custom plan for the
-- prepared statement each time, and planning cost more than running it.
-- In a function the statement's generic plan is kept for the session.
-- This is formsSQL with the form's conditions, for form p_form of school
-- p_school (no row unless it is open); a signature counts in academic
-- year p_year when its sig_year is 0 or p_year (signoff_counts's rule,
-- applied to the sums). (Every form of many schools, the trust's, stays
-- a statement of its own: its generic plan is not good.)
CREATE FUNCTION signoff_form_figures(p_school bigint, p_form bigint, p_year int)
RETURNS TABLE (r_form bigint, r_school bigint, r_school_name text, r_title text, r_kind text, r_version int,
               r_published timestamptz, r_due date, r_audience bigint, r_signed bigint, r_withdrawn bigint,
               r_last_reminder timestamptz, r_for_parents boolean, r_policy bigint)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    RETURN QUERY
    SELECT f.id, f.school_id, sc.name, f.title, f.kind, coalesce(fc.number, 1), coalesce(fc.published_at, f.created_at), f.due_on,
           coalesce(c.audience, 0), coalesce(c.signed, 0), coalesce(c.withdrawn, 0),
           (SELECT max(r.last_at) FROM reminder_totals r WHERE r.form_id = f.id), f.audience = 'parents', coalesce(f.policy_id, 0)
    FROM forms f
    JOIN schools sc ON sc.id = f.school_id
    LEFT JOIN form_current fc ON fc.form_id = f.id
    LEFT JOIN (SELECT c.form_id, sum(c.requests) AS audience,
                      coalesce(sum(c.signed) FILTER (WHERE c.sig_year IN (0, p_year)), 0) AS signed,
                      coalesce(sum(c.withdrawn) FILTER (WHERE c.sig_year IN (0, p_year)), 0) AS withdrawn
               FROM obligation_counts c WHERE c.school_id = p_school AND c.form_id = p_form
               GROUP BY c.form_id) c ON c.form_id = f.id
    WHERE f.school_id = p_school AND f.id = p_form AND f.closed_at IS NULL
      AND (fc.form_id IS NOT NULL OR f.audience = 'parents');
END $$;
