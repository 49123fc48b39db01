-- Issue 15: a form's outstanding list reads its page, not every request.
--
-- reminder_totals keeps, for each request (form, person, pupil: 0 for
-- staff forms, as in obligations), when the last reminder went and how
-- many have gone, maintained by triggers on reminders in the same
-- transaction as the reminder: the list reads one row per request on its
-- page instead of aggregating the reminders of every row, and sorts by
-- last reminder from this table. An insert adds (so two transactions that
-- remind the same person on different days both count); a delete, or a
-- change to a reminder's request or time (nothing does either today),
-- recomputes the requests it touched from the reminders themselves.
CREATE TABLE reminder_totals (
    form_id   bigint NOT NULL REFERENCES forms (id) ON DELETE CASCADE,
    person_id bigint NOT NULL,
    pupil_id  bigint NOT NULL DEFAULT 0,
    last_at   timestamptz NOT NULL,
    sent      int NOT NULL,
    PRIMARY KEY (form_id, person_id, pupil_id)
);
CREATE INDEX reminder_totals_last ON reminder_totals (form_id, last_at);

INSERT INTO reminder_totals (form_id, person_id, pupil_id, last_at, sent)
SELECT form_id, person_id, coalesce(pupil_id, 0), max(created_at), count(*) FROM reminders GROUP BY 1, 2, 3;

CREATE FUNCTION signoff_reminder_totals_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO reminder_totals AS t (form_id, person_id, pupil_id, last_at, sent)
    SELECT n.form_id, n.person_id, coalesce(n.pupil_id, 0), max(n.created_at), count(*)
    FROM new_rows n GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (form_id, person_id, pupil_id) DO UPDATE
        SET last_at = greatest(t.last_at, excluded.last_at), sent = t.sent + excluded.sent;
    RETURN NULL;
END $$;
CREATE TRIGGER reminder_totals_insert AFTER INSERT ON reminders
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION signoff_reminder_totals_add();

-- keys are the requests whose reminders changed: their totals again.
CREATE FUNCTION signoff_reminder_totals_recount(keys jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM reminder_totals t USING jsonb_array_elements(keys) e
    WHERE (t.form_id, t.person_id, t.pupil_id) = ((e->>0)::bigint, (e->>1)::bigint, (e->>2)::bigint);
    INSERT INTO reminder_totals (form_id, person_id, pupil_id, last_at, sent)
    SELECT r.form_id, r.person_id, coalesce(r.pupil_id, 0), max(r.created_at), count(*)
    FROM reminders r
    WHERE (r.form_id, r.person_id, coalesce(r.pupil_id, 0)) IN
          (SELECT (e->>0)::bigint, (e->>1)::bigint, (e->>2)::bigint FROM jsonb_array_elements(keys) e)
    GROUP BY 1, 2, 3;
END $$;

CREATE FUNCTION signoff_reminder_totals_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM signoff_reminder_totals_recount(
        (SELECT jsonb_agg(jsonb_build_array(o.form_id, o.person_id, coalesce(o.pupil_id, 0))) FROM old_rows o));
    RETURN NULL;
END $$;
CREATE TRIGGER reminder_totals_delete AFTER DELETE ON reminders
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION signoff_reminder_totals_removed();
-- Only a change to what the totals read (not the outbox link Remind sets).
CREATE FUNCTION signoff_reminder_totals_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.form_id, NEW.person_id, NEW.pupil_id, NEW.created_at) IS DISTINCT FROM (OLD.form_id, OLD.person_id, OLD.pupil_id, OLD.created_at) THEN
        PERFORM signoff_reminder_totals_recount(jsonb_build_array(
            jsonb_build_array(OLD.form_id, OLD.person_id, coalesce(OLD.pupil_id, 0)),
            jsonb_build_array(NEW.form_id, NEW.person_id, coalesce(NEW.pupil_id, 0))));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER reminder_totals_update AFTER UPDATE OF form_id, person_id, pupil_id, created_at ON reminders
    FOR EACH ROW EXECUTE FUNCTION signoff_reminder_totals_update();

-- The outstanding list in name order: the school's staff (or parents) are
-- walked in this order and each one's request looked up, until the page
-- is full.
CREATE INDEX people_by_name ON people (school_id, kind, lower(family_name), lower(given_name), id);
