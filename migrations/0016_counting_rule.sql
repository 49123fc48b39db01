-- The staff half of "does this signature still count" in one home (issue
-- 10). signoff_staff_current is the signature of a staff form that counts
-- for a person, the academic year aside: the latest of the same form, by the
-- same person, for no pupil, of a version no older than the form's last
-- major one (form_current.floor_number). sig_year is its academic year when
-- the form is renewed each year (it then counts only in that year, see
-- signoff_counts), NULL otherwise. The rule the obligations table is
-- derived with (signoff_obligations_derive_known, migration 0015, which
-- signoff_obligations_derive applies form by form), the signing
-- transaction and signing's CurrentSignature all read it. LANGUAGE sql,
-- STABLE and not STRICT, so PostgreSQL inlines it where it is called (a
-- LATERAL join plans as if the subquery were written there).
CREATE FUNCTION signoff_staff_current(form_id bigint, person_id bigint)
RETURNS TABLE (id bigint, signed_at timestamptz, reference text, academic_year int, sig_year int)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT s.id, s.signed_at, s.reference, s.academic_year,
        CASE WHEN f.renewal = 'each_year' THEN s.academic_year END
    FROM signatures s
    JOIN forms f ON f.id = s.form_id
    JOIN form_current fc ON fc.form_id = s.form_id
    JOIN policy_versions sv ON sv.id = s.version_id
    WHERE s.form_id = $1 AND s.person_id = $2 AND s.pupil_id IS NULL AND sv.number >= fc.floor_number
    ORDER BY s.signed_at DESC, s.id DESC
    LIMIT 1
$$;

-- signoff_obligations_derive_known as in 0015 (the parents' half
-- unchanged), its staff half reading signoff_staff_current: the same rows.
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
        FROM signatures s
        WHERE s.form_id = f.id AND s.pupil_id = c.id AND s.part IN ('', 'parent')
          AND (f.signer <> 'each_parent' OR s.person_id = g.parent_id)
          AND NOT EXISTS (SELECT 1 FROM signatures n WHERE n.supersedes_id = s.id)
          AND (f.renewal <> 'each_key_stage' OR s.key_stage = signoff_key_stage(c.year_group))
        ORDER BY s.signed_at DESC, s.id DESC LIMIT 1) cur ON true
    WHERE f.audience = 'parents' AND f.closed_at IS NULL AND f.id = ANY (forms) AND c.id = ANY (who)
$$;
