-- Who owes what, as maintained data (issue 15). One row per request: a
-- member of staff asked to sign an open staff form, or, for a parents'
-- form, a child (with the parent chased: one row per child when one
-- parent signs, per child and parent when each parent signs), with the
-- signature that counts for it. Triggers keep it in the same transaction
-- as every change that alters it (a signature, consent change or paper
-- record; a person joining, leaving, changing role, year group or class;
-- a guardianship; a form's audience, rule or closing; publishing a
-- version), so the dashboards read it instead of deriving it on every
-- request. signoff_obligations_derive is the one statement of the rule;
-- the nightly check (tracking.CheckWorker) compares the table with it.

-- The key stage of a year group: 0 early years (nursery and reception),
-- 1 (years 1–2), 2 (3–6), 3 (7–9), 4 (10–11), 5 (sixth form). The same
-- as consent.KeyStage (a test holds them equal).
CREATE FUNCTION signoff_key_stage(year_group smallint) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (CASE WHEN year_group <= 0 THEN 0 WHEN year_group <= 2 THEN 1 WHEN year_group <= 6 THEN 2
                 WHEN year_group <= 9 THEN 3 WHEN year_group <= 11 THEN 4 ELSE 5 END)::smallint
$$;

-- Whether an obligation's signature counts in an academic year: a yearly
-- form's signature counts only in the year it was given. With
-- signoff_obligations_derive, the one statement of "does this signature
-- still count", read by tracking and signing alike.
CREATE FUNCTION signoff_counts(signature_id bigint, sig_year int, academic_year int) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT signature_id IS NOT NULL AND (sig_year IS NULL OR sig_year = academic_year)
$$;

CREATE TABLE obligations (
    school_id    bigint NOT NULL,
    form_id      bigint NOT NULL REFERENCES forms (id) ON DELETE CASCADE,
    person_id    bigint NOT NULL,           -- who is asked (the parent, for parents' forms)
    pupil_id     bigint NOT NULL DEFAULT 0, -- the child, 0 for staff forms
    subject_id   bigint NOT NULL,           -- the pupil, else the person: what a change is keyed by
    grp          text NOT NULL,             -- the staff role, or the child's class
    -- The latest signature that counts, academic year aside; sig_year is
    -- its academic year when the form is renewed each year (it counts
    -- only in that year), NULL otherwise.
    signature_id bigint,
    signed_at    timestamptz,
    reference    text,
    sig_year     int,
    withdrawn    boolean NOT NULL DEFAULT false, -- that record withdraws a consent
    PRIMARY KEY (form_id, person_id, pupil_id)
);
CREATE INDEX obligations_school ON obligations (school_id, form_id) INCLUDE (signature_id, sig_year, withdrawn, grp, signed_at);
CREATE INDEX obligations_subject ON obligations (subject_id);
CREATE INDEX obligations_person ON obligations (person_id);

-- signoff_obligations_derive computes the rows from scratch for the forms
-- in forms (NULL: every form) and the subjects in who (NULL: everyone).
-- A signature counts when it is of a version no older than the last major
-- one (staff forms); for parents' forms, when no later record replaces
-- it, of the parent's part, from the parent who is asked when each parent
-- signs, and of the child's key stage now for forms renewed each key
-- stage; for forms renewed each year, only in its academic year (sig_year).
CREATE FUNCTION signoff_obligations_derive(forms bigint[], who bigint[])
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
    WHERE f.closed_at IS NULL AND (forms IS NULL OR f.id = ANY (forms)) AND (who IS NULL OR p.id = ANY (who))
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
    WHERE f.audience = 'parents' AND f.closed_at IS NULL AND (forms IS NULL OR f.id = ANY (forms))
      AND (who IS NULL OR c.id = ANY (who))
$$;

-- signoff_obligations_refresh makes the rows of forms × who (NULL: all)
-- what signoff_obligations_derive says, touching only rows that differ.
-- It first takes transaction locks, in id order: the forms (shared; for a
-- person's change, every open form of their school; exclusive when every
-- subject of a form is refreshed), then each subject; so two changes to
-- the same request wait for each other and the second sees the first.
CREATE FUNCTION signoff_obligations_refresh(forms bigint[], who bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
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
    -- those locks committed.
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

-- The triggers: each statement refreshes what its rows can change.
CREATE FUNCTION signoff_obligations_signatures() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM signoff_obligations_refresh(
        (SELECT array_agg(DISTINCT n.form_id) FROM new_rows n),
        (SELECT array_agg(DISTINCT coalesce(n.pupil_id, n.person_id)) FROM new_rows n));
    RETURN NULL;
END $$;
CREATE TRIGGER obligations_signatures AFTER INSERT ON signatures
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION signoff_obligations_signatures();

-- People: staff and pupils are subjects themselves; a parent's change
-- (leaving) reaches their children. Only the columns the rule reads count.
CREATE FUNCTION signoff_obligations_people() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(n.id) INTO changed FROM new_rows n;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(o.id) INTO changed FROM old_rows o;
    ELSE
        SELECT array_agg(n.id) INTO changed FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (n.school_id, n.kind, n.staff_role, n.left_at IS NULL, n.year_group, n.reg_class)
              IS DISTINCT FROM (o.school_id, o.kind, o.staff_role, o.left_at IS NULL, o.year_group, o.reg_class);
    END IF;
    IF changed IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM signoff_obligations_refresh(NULL,
        changed || coalesce((SELECT array_agg(g.pupil_id) FROM guardianships g WHERE g.parent_id = ANY (changed)), '{}'));
    RETURN NULL;
END $$;
CREATE TRIGGER obligations_people_insert AFTER INSERT ON people
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION signoff_obligations_people();
CREATE TRIGGER obligations_people_update AFTER UPDATE ON people
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION signoff_obligations_people();
CREATE TRIGGER obligations_people_delete AFTER DELETE ON people
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION signoff_obligations_people();

CREATE FUNCTION signoff_obligations_guardianships() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT n.pupil_id) INTO changed FROM new_rows n;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT o.pupil_id) INTO changed FROM old_rows o;
    ELSE
        SELECT array_agg(DISTINCT x) INTO changed FROM (SELECT pupil_id FROM new_rows UNION SELECT pupil_id FROM old_rows) u(x);
    END IF;
    IF changed IS NOT NULL THEN
        PERFORM signoff_obligations_refresh(NULL, changed);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER obligations_guardianships_insert AFTER INSERT ON guardianships
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION signoff_obligations_guardianships();
CREATE TRIGGER obligations_guardianships_update AFTER UPDATE ON guardianships
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION signoff_obligations_guardianships();
CREATE TRIGGER obligations_guardianships_delete AFTER DELETE ON guardianships
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION signoff_obligations_guardianships();

-- Forms: a new form, or a change to its audience, rule, policy or state.
CREATE FUNCTION signoff_obligations_forms() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(n.id) INTO changed FROM new_rows n;
    ELSE
        SELECT array_agg(n.id) INTO changed FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (n.school_id, n.policy_id, n.audience, n.audience_staff_roles, n.audience_year_groups, n.audience_classes,
               n.signer, n.renewal, n.closed_at IS NULL)
              IS DISTINCT FROM (o.school_id, o.policy_id, o.audience, o.audience_staff_roles, o.audience_year_groups,
                                o.audience_classes, o.signer, o.renewal, o.closed_at IS NULL);
    END IF;
    IF changed IS NOT NULL THEN
        PERFORM signoff_obligations_refresh(changed, NULL);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER obligations_forms_insert AFTER INSERT ON forms
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION signoff_obligations_forms();
CREATE TRIGGER obligations_forms_update AFTER UPDATE ON forms
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION signoff_obligations_forms();

-- Publishing: a version published (or superseded) changes its policy's
-- forms' current version and which signatures still count.
CREATE FUNCTION signoff_obligations_versions() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(f.id) INTO changed FROM forms f
        WHERE f.policy_id IN (SELECT n.policy_id FROM new_rows n WHERE n.status IN ('published', 'superseded'));
    ELSE
        SELECT array_agg(f.id) INTO changed FROM forms f
        WHERE f.policy_id IN (SELECT n.policy_id FROM new_rows n JOIN old_rows o ON o.id = n.id
                              WHERE (n.status, n.major, n.published_at) IS DISTINCT FROM (o.status, o.major, o.published_at));
    END IF;
    IF changed IS NOT NULL THEN
        PERFORM signoff_obligations_refresh(changed, NULL);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER obligations_versions_insert AFTER INSERT ON policy_versions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION signoff_obligations_versions();
CREATE TRIGGER obligations_versions_update AFTER UPDATE ON policy_versions
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION signoff_obligations_versions();

-- The rows for what is already there.
SELECT signoff_obligations_refresh(NULL, NULL);

-- The nightly check's runs (tracking.CheckWorker): how many rows it
-- compared and how many differed from the derivation (and were put
-- right). Zero differences is the expected answer.
CREATE TABLE obligation_checks (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    checked_at  timestamptz NOT NULL,
    rows        bigint NOT NULL,
    differences bigint NOT NULL,
    took_ms     bigint NOT NULL
);
