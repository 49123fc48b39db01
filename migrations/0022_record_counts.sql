-- Issue 10: one home each for "record s is not superseded" and for "does a
-- parents' form record still count", which consent judged again in Go
-- (consent.counts and consent.KeyStage, held equal to the SQL by tests).
--
-- signatures_current is the signatures that no later record supersedes (a
-- consent change or withdrawal is a new record naming the one it replaces
-- in supersedes_id; nothing is overwritten). It is the one statement of
-- "not superseded": the obligations rule below, consent's record reads and
-- the subject access export read it. A view whose WHERE is the NOT EXISTS:
-- PostgreSQL flattens it into the statement that reads it, and the NOT
-- EXISTS becomes the same anti-join it was when written in place. Its
-- columns are signatures' columns as of this migration (a view keeps the
-- list it was made with: a column added to signatures later is added here
-- by recreating the view). security_invoker: read with the reader's rights.
CREATE VIEW signatures_current WITH (security_invoker = true) AS
    SELECT s.* FROM signatures s
    WHERE NOT EXISTS (SELECT 1 FROM signatures n WHERE n.supersedes_id = s.id);

-- signoff_record_counts is whether a current record of a parents' form
-- still counts under the form's renewal rule: for a form renewed each
-- year, when it was given in academic_year; each key stage, when it was
-- given in the key stage of the child's year group now (signoff_key_stage,
-- 0012, the one home of key stages); until withdrawn (a withdrawal is a
-- record too), always. academic_year NULL leaves the year aside: the
-- obligations table keeps the record's year as sig_year and signoff_counts
-- applies it when the table is read. A single expression, IMMUTABLE and
-- not STRICT, so PostgreSQL inlines it where it is called.
CREATE FUNCTION signoff_record_counts(renewal text, record_year int, record_key_stage smallint, year_group smallint, academic_year int)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE renewal
        WHEN 'each_year' THEN academic_year IS NULL OR record_year = academic_year
        WHEN 'each_key_stage' THEN coalesce(record_key_stage = signoff_key_stage(year_group), false)
        ELSE true END
$$;

-- signoff_obligations_derive_known as in 0016, its parents' half reading
-- signatures_current and signoff_record_counts: the same rows (the nightly
-- check, tracking.CheckWorker, compares the table with it).
CREATE OR REPLACE FUNCTION signoff_obligations_derive_known(forms bigint[], who bigint[])
RETURNS TABLE (school_id bigint, form_id bigint, person_id bigint, pupil_id bigint, subject_id bigint, grp text,
               signature_id bigint, signed_at timestamptz, reference text, sig_year int, withdrawn boolean)
LANGUAGE sql STABLE AS $$
    SELECT f.school_id, f.id, p.id, 0::bigint, p.id, p.staff_role,
        cur.id, cur.signed_at, cur.reference, cur.sig_year, false
    FROM forms f
    JOIN form_current fc ON fc.form_id = f.id
    JOIN people p ON p.school_id = f.school_id AND p.kind = 'staff' AND p.left_at IS NULL
        AND p.staff_role = ANY (f.audience_staff_roles)
    LEFT JOIN LATERAL signoff_staff_current(f.id, p.id) cur ON true
    WHERE f.closed_at IS NULL AND f.id = ANY (forms) AND p.id = ANY (who)
    UNION ALL
    SELECT f.school_id, f.id, g.parent_id, c.id, c.id, coalesce(c.reg_class, ''),
        cur.id, cur.signed_at, cur.reference, CASE WHEN f.renewal = 'each_year' THEN cur.academic_year END,
        coalesce(cur.withdrawn, false)
    FROM forms f
    JOIN people c ON c.school_id = f.school_id AND c.kind = 'pupil' AND c.left_at IS NULL
        AND (cardinality(f.audience_year_groups) = 0 OR c.year_group = ANY (f.audience_year_groups))
        AND (cardinality(f.audience_classes) = 0 OR c.reg_class = ANY (f.audience_classes))
    JOIN LATERAL (SELECT gg.parent_id FROM guardianships gg JOIN people pp ON pp.id = gg.parent_id AND pp.left_at IS NULL
        WHERE gg.pupil_id = c.id AND gg.parental_responsibility
        ORDER BY gg.priority, gg.parent_id LIMIT CASE WHEN f.signer = 'each_parent' THEN NULL ELSE 1 END) g ON true
    LEFT JOIN LATERAL (SELECT s.id, s.signed_at, s.reference, s.academic_year,
            (s.supersedes_id IS NOT NULL AND EXISTS (SELECT 1 FROM jsonb_each(s.answers) a WHERE a.value = 'false'::jsonb)) AS withdrawn
        FROM signatures_current s
        WHERE s.form_id = f.id AND s.pupil_id = c.id AND s.part IN ('', 'parent')
          AND (f.signer <> 'each_parent' OR s.person_id = g.parent_id)
          AND signoff_record_counts(f.renewal, s.academic_year, s.key_stage, c.year_group, NULL)
        ORDER BY s.signed_at DESC, s.id DESC LIMIT 1) cur ON true
    WHERE f.audience = 'parents' AND f.closed_at IS NULL AND f.id = ANY (forms) AND c.id = ANY (who)
$$;

-- 0012's note on signoff_key_stage named its Go mirror, gone now.
COMMENT ON FUNCTION signoff_key_stage(smallint) IS
    'The key stage of a year group: 0 early years, 1 (years 1-2), 2 (3-6), 3 (7-9), 4 (10-11), 5 (sixth form). The one home of key stages.';
