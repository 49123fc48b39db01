-- Issue 15: the figures' trigger (0017) on a change of one obligation. A
-- web signature changes one row of obligations, and its figures then cost
-- more than the change itself: two statements to read the transition
-- tables into arrays, then signoff_obligation_figures_add's two INSERT ...
-- SELECT statements over unnest, UNION ALL, GROUP BY, HAVING and a sort,
-- whose executor start-up (not their work: one row) was most of the
-- 0.3 ms of PostgreSQL's CPU the figures took per signature.
--
-- Now the transition tables are read in one statement, and when each side
-- holds at most one row (a signature, a withdrawal, one person's change),
-- the figures are added here with one single-row upsert per row of the
-- figures that changes: the same sums as signoff_obligation_figures_add
-- (which still takes every statement of more rows), keyed the same way,
-- the rows met in the same key order (the counts first, then the days),
-- and nothing written when the change adds nothing (the HAVING there).
-- The nightly check (tracking.CheckObligations) compares both with the
-- obligations' own sums, and the tests run it after every kind of change.
CREATE OR REPLACE FUNCTION signoff_obligation_figures() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    plus obligations[];
    minus obligations[];
    a obligations; -- the row whose figures' key comes first
    b obligations;
    da int;        -- +1: a is the new row, -1: the old one
    db int;
    r obligations;
    d int;
    req int;
    sig int;
    wd int;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN -- only ever by hand
        DELETE FROM obligation_counts;
        DELETE FROM obligation_days;
        RETURN NULL;
    END IF;
    -- (PL/pgSQL reads a statement only when it runs it, so the branch of
    -- another kind of statement may name a transition table this one lacks.)
    IF TG_OP = 'INSERT' THEN
        plus := (SELECT array_agg(n::obligations) FROM new_rows n);
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT (SELECT array_agg(n::obligations) FROM new_rows n), (SELECT array_agg(o::obligations) FROM old_rows o)
        INTO plus, minus;
    ELSE
        minus := (SELECT array_agg(o::obligations) FROM old_rows o);
    END IF;
    IF coalesce(cardinality(plus), 0) > 1 OR coalesce(cardinality(minus), 0) > 1 THEN
        PERFORM signoff_obligation_figures_add(coalesce(plus, '{}'), coalesce(minus, '{}'));
        RETURN NULL;
    END IF;

    -- At most one row each side (a missing one is all NULL: form_id is
    -- never NULL in a row). The counts: a's key first.
    a := minus[1]; da := -1; b := plus[1]; db := 1;
    IF a.form_id IS NULL OR (b.form_id IS NOT NULL
        AND (b.school_id, b.form_id, b.grp, coalesce(b.sig_year, 0), b.subject_id % 4)
          < (a.school_id, a.form_id, a.grp, coalesce(a.sig_year, 0), a.subject_id % 4)) THEN
        a := plus[1]; da := 1; b := minus[1]; db := -1;
    END IF;
    FOR i IN 1..2 LOOP
        IF i = 1 THEN r := a; d := da; ELSE r := b; d := db; END IF;
        CONTINUE WHEN r.form_id IS NULL;
        req := d;
        sig := CASE WHEN r.signature_id IS NOT NULL AND NOT r.withdrawn THEN d ELSE 0 END;
        wd := CASE WHEN r.signature_id IS NOT NULL AND r.withdrawn THEN d ELSE 0 END;
        IF i = 1 AND b.form_id IS NOT NULL
            AND (b.school_id, b.form_id, b.grp, coalesce(b.sig_year, 0), b.subject_id % 4)
              = (a.school_id, a.form_id, a.grp, coalesce(a.sig_year, 0), a.subject_id % 4) THEN
            -- One row of the figures for both: what changed, once.
            req := req + db;
            sig := sig + CASE WHEN b.signature_id IS NOT NULL AND NOT b.withdrawn THEN db ELSE 0 END;
            wd := wd + CASE WHEN b.signature_id IS NOT NULL AND b.withdrawn THEN db ELSE 0 END;
            b := NULL;
        END IF;
        CONTINUE WHEN req = 0 AND sig = 0 AND wd = 0;
        INSERT INTO obligation_counts AS c (school_id, form_id, grp, sig_year, slot, requests, signed, withdrawn)
        VALUES (r.school_id, r.form_id, r.grp, coalesce(r.sig_year, 0), (r.subject_id % 4)::smallint, req, sig, wd)
        ON CONFLICT (school_id, form_id, grp, sig_year, slot) DO UPDATE
            SET requests = c.requests + excluded.requests, signed = c.signed + excluded.signed,
                withdrawn = c.withdrawn + excluded.withdrawn;
    END LOOP;

    -- The days: only rows with a signature that counts and its time.
    a := minus[1]; da := -1; b := plus[1]; db := 1;
    IF a.signature_id IS NULL OR a.withdrawn OR a.signed_at IS NULL THEN
        a := NULL;
    END IF;
    IF b.signature_id IS NULL OR b.withdrawn OR b.signed_at IS NULL THEN
        b := NULL;
    END IF;
    IF a.form_id IS NULL OR (b.form_id IS NOT NULL
        AND (b.school_id, b.form_id, (b.signed_at AT TIME ZONE 'Europe/London')::date, coalesce(b.sig_year, 0), b.subject_id % 4)
          < (a.school_id, a.form_id, (a.signed_at AT TIME ZONE 'Europe/London')::date, coalesce(a.sig_year, 0), a.subject_id % 4)) THEN
        r := a; a := b; b := r; d := da; da := db; db := d;
    END IF;
    IF a.form_id IS NOT NULL AND b.form_id IS NOT NULL
        AND (b.school_id, b.form_id, (b.signed_at AT TIME ZONE 'Europe/London')::date, coalesce(b.sig_year, 0), b.subject_id % 4)
          = (a.school_id, a.form_id, (a.signed_at AT TIME ZONE 'Europe/London')::date, coalesce(a.sig_year, 0), a.subject_id % 4) THEN
        RETURN NULL; -- +1 and -1 on one row of the days
    END IF;
    FOR i IN 1..2 LOOP
        IF i = 1 THEN r := a; d := da; ELSE r := b; d := db; END IF;
        CONTINUE WHEN r.form_id IS NULL;
        INSERT INTO obligation_days AS c (school_id, form_id, day, sig_year, slot, signed)
        VALUES (r.school_id, r.form_id, (r.signed_at AT TIME ZONE 'Europe/London')::date, coalesce(r.sig_year, 0),
                (r.subject_id % 4)::smallint, d)
        ON CONFLICT (school_id, form_id, day, sig_year, slot) DO UPDATE SET signed = c.signed + excluded.signed;
    END LOOP;
    RETURN NULL;
END $$;
