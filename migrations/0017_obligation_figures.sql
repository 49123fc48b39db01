-- Issue 15: the dashboards' figures as data. Every figure the office and
-- the trust read (a form's requests, signed and withdrawn; by group; the
-- trend by day) is a sum over the obligations table. These two tables
-- hold those sums, kept by statement-level triggers on obligations in the
-- same transaction as the change (obligations itself is kept the same way
-- by 0012's triggers), so a dashboard adds up a few rows per form instead
-- of judging every request on every page view.
--
-- sig_year is the obligation's sig_year, 0 when it has none (no signature,
-- or a form not renewed each year): only the academic year is applied when
-- reading (a row counts when sig_year is 0 or this year), as
-- signoff_counts does, so a new academic year changes no data here.
-- slot spreads one form's counts over four rows (by the subject), so
-- signers of one form at once do not all wait on one row until commit.
CREATE TABLE obligation_counts (
    school_id bigint NOT NULL,
    form_id   bigint NOT NULL REFERENCES forms (id) ON DELETE CASCADE,
    grp       text NOT NULL,
    sig_year  int NOT NULL,
    slot      smallint NOT NULL,
    requests  int NOT NULL,      -- obligations
    signed    int NOT NULL,      -- with a signature that is not a withdrawal
    withdrawn int NOT NULL,      -- with a record that withdraws a consent
    PRIMARY KEY (school_id, form_id, grp, sig_year, slot)
);

-- Signatures that count (not withdrawals) by the London date they were given.
CREATE TABLE obligation_days (
    school_id bigint NOT NULL,
    form_id   bigint NOT NULL REFERENCES forms (id) ON DELETE CASCADE,
    day       date NOT NULL,
    sig_year  int NOT NULL,
    slot      smallint NOT NULL,
    signed    int NOT NULL,
    PRIMARY KEY (school_id, form_id, day, sig_year, slot)
);

-- The one statement of how an obligation adds to the figures: the rows in
-- plus are added, those in minus taken away (an update is both), keys in
-- order so that two transactions meet the rows in the same order.
-- A generic plan is kept for the session (left to choose, PostgreSQL
-- planned both statements afresh on each of a connection's first calls).
CREATE FUNCTION signoff_obligation_figures_add(p_plus obligations[], p_minus obligations[]) RETURNS void
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    IF coalesce(cardinality(p_plus), 0) = 0 AND coalesce(cardinality(p_minus), 0) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO obligation_counts AS c (school_id, form_id, grp, sig_year, slot, requests, signed, withdrawn)
    SELECT r.school_id, r.form_id, r.grp, coalesce(r.sig_year, 0), (r.subject_id % 4)::smallint,
           sum(r.d), coalesce(sum(r.d) FILTER (WHERE r.signature_id IS NOT NULL AND NOT r.withdrawn), 0),
           coalesce(sum(r.d) FILTER (WHERE r.signature_id IS NOT NULL AND r.withdrawn), 0)
    FROM (SELECT p.*, 1 AS d FROM unnest(p_plus) p UNION ALL SELECT m.*, -1 FROM unnest(p_minus) m) r
    GROUP BY 1, 2, 3, 4, 5
    HAVING sum(r.d) <> 0 OR coalesce(sum(r.d) FILTER (WHERE r.signature_id IS NOT NULL AND NOT r.withdrawn), 0) <> 0
        OR coalesce(sum(r.d) FILTER (WHERE r.signature_id IS NOT NULL AND r.withdrawn), 0) <> 0
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (school_id, form_id, grp, sig_year, slot) DO UPDATE
        SET requests = c.requests + excluded.requests, signed = c.signed + excluded.signed,
            withdrawn = c.withdrawn + excluded.withdrawn;

    INSERT INTO obligation_days AS c (school_id, form_id, day, sig_year, slot, signed)
    SELECT r.school_id, r.form_id, (r.signed_at AT TIME ZONE 'Europe/London')::date, coalesce(r.sig_year, 0),
           (r.subject_id % 4)::smallint, sum(r.d)
    FROM (SELECT p.*, 1 AS d FROM unnest(p_plus) p UNION ALL SELECT m.*, -1 FROM unnest(p_minus) m) r
    WHERE r.signature_id IS NOT NULL AND NOT r.withdrawn AND r.signed_at IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5
    HAVING sum(r.d) <> 0
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (school_id, form_id, day, sig_year, slot) DO UPDATE SET signed = c.signed + excluded.signed;
END $$;

-- The figures from scratch (what the tables should hold, summed over
-- slots, rows of nothing left out), for the nightly check.
CREATE VIEW obligation_counts_derived AS
SELECT school_id, form_id, grp, coalesce(sig_year, 0) AS sig_year, count(*)::int AS requests,
       (count(*) FILTER (WHERE signature_id IS NOT NULL AND NOT withdrawn))::int AS signed,
       (count(*) FILTER (WHERE signature_id IS NOT NULL AND withdrawn))::int AS withdrawn
FROM obligations GROUP BY 1, 2, 3, 4;

CREATE VIEW obligation_days_derived AS
SELECT school_id, form_id, (signed_at AT TIME ZONE 'Europe/London')::date AS day, coalesce(sig_year, 0) AS sig_year,
       count(*)::int AS signed
FROM obligations WHERE signature_id IS NOT NULL AND NOT withdrawn AND signed_at IS NOT NULL
GROUP BY 1, 2, 3, 4;

-- Rebuilds the figures of the forms in forms from the obligations table
-- (the nightly check's remedy), holding each form's lock exclusively, as a
-- whole form's refresh does, so that no change to it is half counted.
CREATE FUNCTION signoff_obligation_figures_rebuild(forms bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    id bigint;
BEGIN
    FOR id IN SELECT DISTINCT x FROM unnest(forms) x WHERE x IS NOT NULL ORDER BY 1 LOOP
        PERFORM pg_advisory_xact_lock(15001, hashint8(id));
    END LOOP;
    -- New statements, so new snapshots: they see what those locks' holders committed.
    DELETE FROM obligation_counts c WHERE c.form_id = ANY (forms);
    DELETE FROM obligation_days d WHERE d.form_id = ANY (forms);
    PERFORM signoff_obligation_figures_add(
        coalesce((SELECT array_agg(o) FROM obligations o WHERE o.form_id = ANY (forms)), '{}'), '{}');
END $$;

-- One trigger function for every kind of statement; each statement of a
-- refresh fires several, most with no rows. (PL/pgSQL reads a statement
-- only when it runs it, so the branch of another kind of statement may
-- name a transition table this one lacks.)
CREATE FUNCTION signoff_obligation_figures() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    plus obligations[] := '{}';
    minus obligations[] := '{}';
BEGIN
    IF TG_OP = 'TRUNCATE' THEN -- only ever by hand
        DELETE FROM obligation_counts;
        DELETE FROM obligation_days;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        plus := coalesce((SELECT array_agg(n::obligations) FROM new_rows n), '{}');
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        minus := coalesce((SELECT array_agg(o::obligations) FROM old_rows o), '{}');
    END IF;
    PERFORM signoff_obligation_figures_add(plus, minus);
    RETURN NULL;
END $$;
CREATE TRIGGER obligation_figures_inserted AFTER INSERT ON obligations
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION signoff_obligation_figures();
CREATE TRIGGER obligation_figures_updated AFTER UPDATE ON obligations
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION signoff_obligation_figures();
CREATE TRIGGER obligation_figures_deleted AFTER DELETE ON obligations
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION signoff_obligation_figures();
CREATE TRIGGER obligation_figures_truncated AFTER TRUNCATE ON obligations
    FOR EACH STATEMENT EXECUTE FUNCTION signoff_obligation_figures();

-- The figures of the obligations already there.
SELECT signoff_obligation_figures_add(coalesce((SELECT array_agg(o) FROM obligations o), '{}'), '{}');

-- The going-live checklist on the school's dashboard counts the school's
-- invited accounts on every view (it read every account of every school).
CREATE INDEX accounts_invited ON accounts (school_id) WHERE invited_at IS NOT NULL;
