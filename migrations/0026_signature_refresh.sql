-- Issue 15: what the obligations trigger does on a staff signature. Until
-- now every INSERT on signatures called signoff_obligations_refresh (0015),
-- whose common-case statement runs the whole rule (derive_known: the staff
-- half and the parents' half, ~100 plan nodes, started for every call) and
-- then a DELETE and an INSERT ... ON CONFLICT on obligations, each firing the
-- figures' trigger: about 1.2 ms of PostgreSQL's CPU per web signature, most
-- of it starting that plan, for one row that changes.
--
-- One staff signature (one row, no pupil: a signature on the web, in class or
-- on paper for a member of staff) can change one obligation only, the
-- (form, person, no pupil) row, and only its signature: whether the person is
-- asked does not depend on their signatures. So it now takes the same locks
-- as the refresh (the form shared, the person), then, in a new statement (a
-- new snapshot: it sees what those locks' holders committed), sets that row's
-- signature to signoff_staff_current (0016), the staff rule's one home, when
-- it differs. No row (the person is not asked) means nothing to do, as the
-- refresh would find. Everything else (several rows, a parent's or a child's
-- record) goes through signoff_obligations_refresh as before. A statement
-- that inserted no row (INSERT ... ON CONFLICT DO NOTHING that did nothing)
-- now does nothing: before, it refreshed every form for everyone (both
-- arrays NULL).
CREATE OR REPLACE FUNCTION signoff_obligations_signatures() RETURNS trigger
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    n int;
    staff boolean;
    f_id bigint;
    p_id bigint;
BEGIN
    SELECT count(*), bool_and(r.pupil_id IS NULL), min(r.form_id), min(r.person_id)
    INTO n, staff, f_id, p_id FROM new_rows r;
    IF n = 0 THEN
        RETURN NULL;
    END IF;
    IF n = 1 AND staff THEN
        PERFORM pg_advisory_xact_lock_shared(15001, hashint8(f_id));
        PERFORM pg_advisory_xact_lock(15002, hashint8(p_id));
        UPDATE obligations o
        SET signature_id = cur.id, signed_at = cur.signed_at, reference = cur.reference, sig_year = cur.sig_year
        FROM (SELECT 1) one
        LEFT JOIN LATERAL signoff_staff_current(f_id, p_id) cur ON true
        WHERE o.form_id = f_id AND o.person_id = p_id AND o.pupil_id = 0
          AND (o.signature_id, o.signed_at, o.reference, o.sig_year)
              IS DISTINCT FROM (cur.id, cur.signed_at, cur.reference, cur.sig_year);
        RETURN NULL;
    END IF;
    PERFORM signoff_obligations_refresh(
        (SELECT array_agg(DISTINCT r.form_id) FROM new_rows r),
        (SELECT array_agg(DISTINCT coalesce(r.pupil_id, r.person_id)) FROM new_rows r));
    RETURN NULL;
END $$;
