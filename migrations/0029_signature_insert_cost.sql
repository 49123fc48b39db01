-- Issue 15: what PostgreSQL spends on one staff signature's INSERT, the
-- statement every web signature runs. Measured with callgrind on a
-- single-user backend (instructions, which do not vary with the load on
-- the machine) over the bench trust: one INSERT of a staff signature
-- that counts, in its own transaction (BEGIN, the INSERT, ROLLBACK):
--
--                                        figures' trigger   with it
--                                        (0017) turned off
--   before this migration                     1,740 k       2,310 k
--   with the obligations trigger (1.) and
--   the rules (2.) below                        926 k       1,490 k
--
-- 1. alone takes about 270 k off the 2,310 k, each INSERT by a different
-- signer (docs/obligations.md). A first measure of 1. (1,368 k with the
-- figures' trigger off) had one signer repeated, whose rolled-back rows
-- piled up in the index the trigger reads.
--
-- 1. The obligations trigger's way for one staff signature (0026) set the
-- request's signature to signoff_staff_current, a plan of eighteen nodes
-- (the person's signatures of the form, sorted, each joined to its form,
-- form_current and its version) that PostgreSQL starts afresh for every
-- call, though the new row itself is almost always the answer. It now
-- first tries the common case, with the same locks taken first and in a
-- new statement as before: the new signature is of the form's published
-- version (so no older than its last major one: it counts) and is later
-- (signed_at, then id, the rule's order) than the signature the request
-- holds, or the request holds none. Then the rule's answer is the new
-- signature, and one UPDATE by the primary key, joined to the form and
-- that version, sets it. If that UPDATE changes no row (the signer is not
-- asked, the signature is of another version, or is not the latest), the
-- statement of 0026 runs as before and derives the row from every
-- signature, so every case but the common one is decided as it was.
-- This reads the request's signature as the one that counts, which every
-- writer of the row keeps true under the same locks (the nightly check
-- compares); the trigger's tests compare the whole table with the
-- derivation after each kind of signature.
--
-- 2. The signatures table's fourteen CHECK constraints (0001, 0004,
-- 0007, 0008, 0010) were the largest part of the INSERT's own work:
-- PostgreSQL reads each one's stored expression back from text and plans
-- it at the start of every statement that writes the table
-- (ExecConstraints: some 520 k instructions per INSERT), and the two
-- regular expressions with {64} took about 100 k each to match a 64
-- character value. The same rules, in the same order, are now one BEFORE
-- INSERT OR UPDATE trigger, ENABLE ALWAYS so it fires as a constraint
-- would even with session_replication_role = replica. Its CASE is one
-- expression that PL/pgSQL keeps prepared for the session; a row that
-- breaks a rule is refused as the constraint did: SQLSTATE 23514
-- (check_violation), the same message and the constraint's name as the
-- error's constraint. The hexadecimal rules are written as a regular
-- expression without a count plus a length (the same strings; about a
-- tenth of the work). The limits stay as they were (internal/limits and
-- each domain's Validate stay the first check); "NOT VALID" no longer
-- applies: the trigger, as those constraints did, checks only rows written
-- or changed from now on.
CREATE OR REPLACE FUNCTION signoff_obligations_signatures() RETURNS trigger
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    n int;
    staff boolean;
    f_id bigint;
    p_id bigint;
    v_id bigint;
    s_id bigint;
    s_at timestamptz;
    s_ref text;
    s_year int;
BEGIN
    SELECT count(*), bool_and(r.pupil_id IS NULL), min(r.form_id), min(r.person_id), min(r.version_id),
           min(r.id), min(r.signed_at), min(r.reference), min(r.academic_year)
    INTO n, staff, f_id, p_id, v_id, s_id, s_at, s_ref, s_year FROM new_rows r;
    IF n = 0 THEN
        RETURN NULL;
    END IF;
    IF n = 1 AND staff THEN
        PERFORM pg_advisory_xact_lock_shared(15001, hashint8(f_id));
        PERFORM pg_advisory_xact_lock(15002, hashint8(p_id));
        UPDATE obligations o
        SET signature_id = s_id, signed_at = s_at, reference = s_ref,
            sig_year = CASE WHEN f.renewal = 'each_year' THEN s_year END
        FROM forms f
        JOIN policy_versions cv ON cv.policy_id = f.policy_id AND cv.status = 'published'
        WHERE f.id = f_id AND cv.id = v_id
          AND o.form_id = f_id AND o.person_id = p_id AND o.pupil_id = 0
          AND (o.signature_id IS NULL OR (o.signed_at, o.signature_id) < (s_at, s_id));
        IF FOUND THEN
            RETURN NULL;
        END IF;
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

-- The rules of a signature row, each under the name of the constraint it
-- was (a NULL passes, as in a CHECK: NOT NULL is NULL, and the WHEN is
-- not taken).
CREATE FUNCTION signatures_valid() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    failed text := CASE
        WHEN NOT (NEW.version_sha256 ~ '^[0-9a-f]+$' AND octet_length(NEW.version_sha256) = 64)
            THEN 'signatures_version_sha256_check'
        WHEN NOT (btrim(NEW.typed_name) <> '') THEN 'signatures_typed_name_check'
        WHEN NOT (NEW.method IN ('web', 'class', 'paper')) THEN 'signatures_method_check'
        WHEN NOT (NEW.part IN ('', 'school', 'parent', 'child')) THEN 'signatures_part_check'
        WHEN NOT ((NEW.method = 'paper') = (NEW.recorded_by IS NOT NULL AND NEW.paper_date IS NOT NULL))
            THEN 'signatures_paper'
        WHEN NOT (NEW.method <> 'class' OR NEW.witness_id IS NOT NULL) THEN 'signatures_class'
        WHEN NOT (NEW.seal IS NULL OR (NEW.seal ~ '^[0-9]+:[0-9a-f]+$' AND octet_length(NEW.seal) - strpos(NEW.seal, ':') = 64))
            THEN 'signatures_seal_check'
        WHEN NOT (char_length(NEW.statement) <= 2000) THEN 'signatures_statement_length'
        WHEN NOT (char_length(NEW.typed_name) <= 200) THEN 'signatures_typed_name_length'
        WHEN NOT (char_length(NEW.ip) <= 100) THEN 'signatures_ip_length'
        WHEN NOT (char_length(NEW.user_agent) <= 500) THEN 'signatures_user_agent_length'
        WHEN NOT (char_length(NEW.reference) <= 100) THEN 'signatures_reference_length'
        WHEN NOT (char_length(NEW.language) <= 10) THEN 'signatures_language_length'
        WHEN NOT (NEW.identified_by IS NULL OR length(NEW.identified_by) <= 500) THEN 'signatures_identified_by_check'
    END;
BEGIN
    IF failed IS NOT NULL THEN
        RAISE EXCEPTION 'new row for relation "%" violates check constraint "%"', TG_TABLE_NAME, failed
            USING ERRCODE = 'check_violation', SCHEMA = TG_TABLE_SCHEMA, TABLE = TG_TABLE_NAME, CONSTRAINT = failed;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER signatures_valid BEFORE INSERT OR UPDATE ON signatures
    FOR EACH ROW EXECUTE FUNCTION signatures_valid();
ALTER TABLE signatures ENABLE ALWAYS TRIGGER signatures_valid;
ALTER TABLE signatures
    DROP CONSTRAINT signatures_version_sha256_check, DROP CONSTRAINT signatures_typed_name_check,
    DROP CONSTRAINT signatures_method_check, DROP CONSTRAINT signatures_part_check,
    DROP CONSTRAINT signatures_paper, DROP CONSTRAINT signatures_class, DROP CONSTRAINT signatures_seal_check,
    DROP CONSTRAINT signatures_statement_length, DROP CONSTRAINT signatures_typed_name_length,
    DROP CONSTRAINT signatures_ip_length, DROP CONSTRAINT signatures_user_agent_length,
    DROP CONSTRAINT signatures_reference_length, DROP CONSTRAINT signatures_language_length,
    DROP CONSTRAINT signatures_identified_by_check;
