-- Issue 15: the obligations trigger's cost on a signature. Migration
-- 0012's signoff_obligations_refresh ran one EXECUTE, planned afresh on
-- every call (about 4 ms of planning for 0.3 ms of work, per signature).
-- The common case, known forms × known subjects (every signature, and
-- every change that names both), is now static SQL with a generic plan
-- PL/pgSQL keeps for the session; it reads signoff_obligations_derive_known,
-- the rule with no "NULL means everyone" conditions, so that generic plan
-- looks forms, people and obligations up by id. signoff_obligations_derive (NULL: every form, everyone) is the same
-- rule applied form by form, so the rule is still written once.

-- The rule, for the forms in forms and the subjects in who (neither NULL):
-- a signature counts when it is of a version no older than the last major
-- one (staff forms); for parents' forms, when no later record replaces
-- it, of the parent's part, from the parent who is asked when each parent
-- signs, and of the child's key stage now for forms renewed each key
-- stage; for forms renewed each year, only in its academic year (sig_year).
CREATE FUNCTION signoff_obligations_derive_known(forms bigint[], who bigint[])
RETURNS TABLE (school_id bigint, form_id bigint, person_id bigint, pupil_id bigint, subject_id bigint, grp text,
               signature_id bigint, signed_at timestamptz, reference text, sig_year int, withdrawn boolean)
LANGUAGE sql STABLE AS $$
    SELECT f.school_id, f.id, p.id, 0::bigint, p.id, p.staff_role,
        cur.id, cur.signed_at, cur.reference, CASE WHEN f.renewal = 'each_year' THEN cur.academic_year END, false
    FROM forms f
    JOIN form_current fc ON fc.form_id = f.id
    JOIN people p ON p.school_id = f.school_id AND p.kind = 'staff' AND p.left_at IS NULL
        AND p.staff_role = ANY (f.audience_staff_roles)
    LEFT JOIN LATERAL (SELECT s.id, s.signed_at, s.reference, s.academic_year
        FROM signatures s JOIN policy_versions sv ON sv.id = s.version_id
        WHERE s.form_id = f.id AND s.person_id = p.id AND s.pupil_id IS NULL AND sv.number >= fc.floor_number
        ORDER BY s.signed_at DESC, s.id DESC LIMIT 1) cur ON true
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

-- signoff_obligations_derive computes the rows from scratch for the forms
-- in forms (NULL: every form) and the subjects in who (NULL: everyone),
-- by applying the rule to each open form with its school's staff and
-- pupils (or who).
CREATE OR REPLACE FUNCTION signoff_obligations_derive(forms bigint[], who bigint[])
RETURNS TABLE (school_id bigint, form_id bigint, person_id bigint, pupil_id bigint, subject_id bigint, grp text,
               signature_id bigint, signed_at timestamptz, reference text, sig_year int, withdrawn boolean)
LANGUAGE sql STABLE AS $$
    SELECT d.*
    FROM forms f0
    CROSS JOIN LATERAL signoff_obligations_derive_known(ARRAY[f0.id],
        coalesce(who, ARRAY(SELECT p.id FROM people p
                            WHERE p.school_id = f0.school_id AND p.kind IN ('staff', 'pupil') AND p.left_at IS NULL))) d
    WHERE f0.closed_at IS NULL AND (forms IS NULL OR f0.id = ANY (forms))
      AND (who IS NULL OR f0.school_id IN (SELECT p.school_id FROM people p WHERE p.id = ANY (who)))
$$;

-- signoff_obligations_refresh makes the rows of forms × who (NULL: all)
-- what the rule says, touching only rows that differ. It first takes
-- transaction locks, in id order: the forms (shared; for a person's
-- change, every open form of their school; exclusive when every subject
-- of a form is refreshed), then each subject; so two changes to the same
-- request wait for each other and the second sees the first. (Unchanged
-- from 0012 but for the statement that follows the locks.)
-- plan_cache_mode: the common case's statement is planned once per
-- session and kept; left to choose, PostgreSQL judged the generic plan
-- (arrays of unknown length) dearer and planned afresh every time, about
-- 4–7 ms, for 0.2 ms of work. (EXECUTE is always planned for its values.)
CREATE OR REPLACE FUNCTION signoff_obligations_refresh(forms bigint[], who bigint[]) RETURNS void
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    id bigint;
BEGIN
    IF forms IS NULL AND who IS NOT NULL THEN
        -- A person's change reaches every open form of their school.
        FOR id IN SELECT f.id FROM forms f
                  WHERE f.closed_at IS NULL AND f.school_id IN (SELECT p.school_id FROM people p WHERE p.id = ANY (who))
                  ORDER BY 1 LOOP
            PERFORM pg_advisory_xact_lock_shared(15001, hashint8(id));
        END LOOP;
    ELSIF forms IS NOT NULL THEN
        FOR id IN SELECT DISTINCT x FROM unnest(forms) x WHERE x IS NOT NULL ORDER BY 1 LOOP
            IF who IS NULL THEN
                PERFORM pg_advisory_xact_lock(15001, hashint8(id));
            ELSE
                PERFORM pg_advisory_xact_lock_shared(15001, hashint8(id));
            END IF;
        END LOOP;
    END IF;
    IF who IS NOT NULL THEN
        FOR id IN SELECT DISTINCT x FROM unnest(who) x WHERE x IS NOT NULL ORDER BY 1 LOOP
            PERFORM pg_advisory_xact_lock(15002, hashint8(id));
        END LOOP;
    END IF;
    -- A new statement, so a new snapshot: it sees what the holders of
    -- those locks committed (PL/pgSQL takes one for each statement of a
    -- VOLATILE function, static or EXECUTEd alike).
    IF forms IS NOT NULL AND who IS NOT NULL THEN
        -- The common case: static SQL, planned once per session.
        WITH d AS (SELECT * FROM signoff_obligations_derive_known(forms, who)),
        gone AS (
            DELETE FROM obligations o
            WHERE o.form_id = ANY (forms) AND o.subject_id = ANY (who)
              AND NOT EXISTS (SELECT 1 FROM d WHERE d.form_id = o.form_id AND d.person_id = o.person_id AND d.pupil_id = o.pupil_id))
        INSERT INTO obligations AS o (school_id, form_id, person_id, pupil_id, subject_id, grp, signature_id, signed_at, reference, sig_year, withdrawn)
        SELECT * FROM d
        ON CONFLICT (form_id, person_id, pupil_id) DO UPDATE
            SET school_id = excluded.school_id, subject_id = excluded.subject_id, grp = excluded.grp,
                signature_id = excluded.signature_id, signed_at = excluded.signed_at, reference = excluded.reference,
                sig_year = excluded.sig_year, withdrawn = excluded.withdrawn
            WHERE (o.school_id, o.subject_id, o.grp, o.signature_id, o.signed_at, o.reference, o.sig_year, o.withdrawn)
                  IS DISTINCT FROM (excluded.school_id, excluded.subject_id, excluded.grp, excluded.signature_id,
                                    excluded.signed_at, excluded.reference, excluded.sig_year, excluded.withdrawn);
        RETURN;
    END IF;
    -- A whole form (publishing, a form's change), a person's change, or
    -- everything: rare, and planned for the values given.
    EXECUTE $q$
        WITH d AS (SELECT * FROM signoff_obligations_derive($1, $2)),
        gone AS (
            DELETE FROM obligations o
            WHERE ($1 IS NULL OR o.form_id = ANY ($1)) AND ($2 IS NULL OR o.subject_id = ANY ($2))
              AND NOT EXISTS (SELECT 1 FROM d WHERE d.form_id = o.form_id AND d.person_id = o.person_id AND d.pupil_id = o.pupil_id))
        INSERT INTO obligations AS o (school_id, form_id, person_id, pupil_id, subject_id, grp, signature_id, signed_at, reference, sig_year, withdrawn)
        SELECT * FROM d
        ON CONFLICT (form_id, person_id, pupil_id) DO UPDATE
            SET school_id = excluded.school_id, subject_id = excluded.subject_id, grp = excluded.grp,
                signature_id = excluded.signature_id, signed_at = excluded.signed_at, reference = excluded.reference,
                sig_year = excluded.sig_year, withdrawn = excluded.withdrawn
            WHERE (o.school_id, o.subject_id, o.grp, o.signature_id, o.signed_at, o.reference, o.sig_year, o.withdrawn)
                  IS DISTINCT FROM (excluded.school_id, excluded.subject_id, excluded.grp, excluded.signature_id,
                                    excluded.signed_at, excluded.reference, excluded.sig_year, excluded.withdrawn)
    $q$ USING forms, who;
END $$;
