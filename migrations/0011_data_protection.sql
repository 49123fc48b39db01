-- Data protection: each school's retention periods, legal holds, the
-- report of each retention run, and erasure through owner-owned
-- functions. Erasure blanks personal fields and keeps what the evidence
-- chain needs (references, seals, hashes, who-did-what as ids, answers,
-- times), so `signoff audit verify` still passes; the application never
-- needs UPDATE or DELETE on evidential tables for it.

-- A school's period for a kind of record, in months after its trigger
-- (see internal/retention for the kinds, triggers and defaults). No row
-- means the default.
CREATE TABLE retention_periods (
    school_id  bigint NOT NULL REFERENCES schools (id),
    kind       text NOT NULL CHECK (kind IN ('staff_signatures', 'parent_consents', 'paper_scans', 'home_school_agreement',
                                             'sign_ins', 'audit', 'leavers', 'outbox')),
    months     int NOT NULL CHECK (months BETWEEN 1 AND 1200),
    updated_at timestamptz NOT NULL,
    updated_by bigint REFERENCES accounts (id),
    PRIMARY KEY (school_id, kind)
);

-- A legal hold keeps every record about a person, whatever its period.
CREATE TABLE legal_holds (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id bigint NOT NULL,
    person_id bigint NOT NULL,
    reason    text NOT NULL CHECK (btrim(reason) <> '' AND length(reason) <= 500),
    placed_at timestamptz NOT NULL,
    placed_by bigint REFERENCES accounts (id),
    lifted_at timestamptz,
    lifted_by bigint REFERENCES accounts (id),
    FOREIGN KEY (school_id, person_id) REFERENCES people (school_id, id)
);
CREATE UNIQUE INDEX legal_holds_open ON legal_holds (person_id) WHERE lifted_at IS NULL;

-- The report of each retention run that changed something (or was asked for).
CREATE TABLE retention_runs (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id bigint NOT NULL REFERENCES schools (id),
    ran_at    timestamptz NOT NULL,
    origin    text NOT NULL CHECK (origin IN ('schedule', 'office', 'command')),
    counts    jsonb NOT NULL,
    run_by    bigint REFERENCES accounts (id)
);
CREATE INDEX retention_runs_school ON retention_runs (school_id, id DESC);

ALTER TABLE people ADD COLUMN anonymised_at timestamptz;
ALTER TABLE audit_log ADD COLUMN erased_at timestamptz;

-- Signatures: erasure (defined by the evidence migration, 0008) also
-- blanks how the signer was identified (0010's identified_by, which can
-- hold their email address), with the typed name, drawing, IP and browser.
CREATE OR REPLACE FUNCTION signatures_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('signoff.erasing', true) = 'on'
       AND OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL
       AND (to_jsonb(NEW) - ARRAY['typed_name', 'drawn_signature', 'ip', 'user_agent', 'identified_by', 'erased_at'])
           = (to_jsonb(OLD) - ARRAY['typed_name', 'drawn_signature', 'ip', 'user_agent', 'identified_by', 'erased_at']) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% rows cannot be changed or removed (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE OR REPLACE FUNCTION signoff_erase_signature(signature_id bigint, erased_at timestamptz) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    n int;
BEGIN
    PERFORM set_config('signoff.erasing', 'on', true);
    UPDATE signatures s SET typed_name = '(erased)', drawn_signature = NULL, ip = '', user_agent = '',
           identified_by = NULL, erased_at = signoff_erase_signature.erased_at
     WHERE s.id = signoff_erase_signature.signature_id AND s.erased_at IS NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM set_config('signoff.erasing', 'off', true);
    RETURN n = 1;
END $$;

-- Audit entries: erasure blanks who (the name shown, the IP address) and
-- the details, keeping the action, subject, time, account id and both
-- hashes, so the chain still links entry to entry. `signoff audit verify`
-- checks an erased entry's links, not its (gone) contents.
CREATE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('signoff.erasing', true) = 'on'
       AND OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL
       AND (to_jsonb(NEW) - ARRAY['actor', 'ip', 'detail', 'erased_at'])
           = (to_jsonb(OLD) - ARRAY['actor', 'ip', 'detail', 'erased_at']) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% rows cannot be changed or removed (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
DROP TRIGGER audit_log_immutable ON audit_log;
CREATE TRIGGER audit_log_immutable BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_guard();

CREATE FUNCTION signoff_erase_audit(entry_id bigint, erased_at timestamptz) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    n int;
BEGIN
    PERFORM set_config('signoff.erasing', 'on', true);
    UPDATE audit_log a SET actor = '(erased)', ip = '', detail = '{}', erased_at = signoff_erase_audit.erased_at
     WHERE a.id = signoff_erase_audit.entry_id AND a.erased_at IS NULL AND a.at < now() - interval '1 month';
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM set_config('signoff.erasing', 'off', true);
    RETURN n = 1;
END $$;

-- Scans of paper forms: removed whole when their period ends (the record
-- they belong to stays, and says it had a scan).
CREATE FUNCTION signature_scans_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('signoff.erasing', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% rows cannot be changed or removed (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
DROP TRIGGER signature_scans_immutable ON signature_scans;
CREATE TRIGGER signature_scans_immutable BEFORE UPDATE OR DELETE ON signature_scans
    FOR EACH ROW EXECUTE FUNCTION signature_scans_guard();
CREATE TABLE erased_scans (
    signature_id bigint PRIMARY KEY REFERENCES signatures (id),
    sha256       text NOT NULL,
    erased_at    timestamptz NOT NULL
);

CREATE FUNCTION signoff_erase_scan(signature_id bigint, erased_at timestamptz) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    n int;
BEGIN
    PERFORM set_config('signoff.erasing', 'on', true);
    INSERT INTO erased_scans (signature_id, sha256, erased_at)
        SELECT sc.signature_id, sc.sha256, signoff_erase_scan.erased_at FROM signature_scans sc
         WHERE sc.signature_id = signoff_erase_scan.signature_id;
    DELETE FROM signature_scans sc WHERE sc.signature_id = signoff_erase_scan.signature_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM set_config('signoff.erasing', 'off', true);
    RETURN n = 1;
END $$;

-- A person who has left: their names and contact details go, and their
-- account can no longer sign in. The row stays (signatures point at it).
CREATE FUNCTION signoff_anonymise_person(person_id bigint, erased_at timestamptz) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    acct bigint;
    n int;
BEGIN
    UPDATE people p SET title = '', given_name = 'Removed', family_name = 'Person ' || p.id, preferred_name = '',
           email = NULL, mobile = NULL, mis_id = NULL, date_of_birth = NULL, job_title = '',
           anonymised_at = signoff_anonymise_person.erased_at, updated_at = signoff_anonymise_person.erased_at
     WHERE p.id = signoff_anonymise_person.person_id AND p.left_at IS NOT NULL AND p.anonymised_at IS NULL
    RETURNING p.account_id INTO acct;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n = 1 AND acct IS NOT NULL AND NOT EXISTS (SELECT 1 FROM people o WHERE o.account_id = acct AND o.anonymised_at IS NULL) THEN
        DELETE FROM sessions WHERE account_id = acct;
        UPDATE access_links SET revoked_at = coalesce(revoked_at, signoff_anonymise_person.erased_at) WHERE account_id = acct;
        UPDATE accounts SET email = NULL, display_name = 'Removed person', password_hash = NULL,
               disabled_at = coalesce(disabled_at, signoff_anonymise_person.erased_at)
         WHERE id = acct;
    END IF;
    RETURN n = 1;
END $$;

-- Old messages, with their attachments; reminders keep their row.
CREATE FUNCTION signoff_delete_messages(ids bigint[]) RETURNS int
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    n int;
BEGIN
    UPDATE reminders SET outbox_id = NULL WHERE outbox_id = ANY (ids);
    DELETE FROM outbox_attachments WHERE outbox_id = ANY (ids);
    DELETE FROM outbox WHERE id = ANY (ids) AND (sent_at IS NOT NULL OR failed_at IS NOT NULL);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

-- Old sign-ins: sessions that have ended and links that can no longer be used.
CREATE FUNCTION signoff_delete_sign_ins(session_before timestamptz, link_before timestamptz, held bigint[]) RETURNS int
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    a int;
    b int;
BEGIN
    DELETE FROM sessions WHERE expires_at < session_before AND NOT (account_id = ANY (held));
    GET DIAGNOSTICS a = ROW_COUNT;
    DELETE FROM access_links WHERE least(coalesce(revoked_at, expires_at), expires_at) < link_before
       AND NOT (account_id = ANY (held));
    GET DIAGNOSTICS b = ROW_COUNT;
    RETURN a + b;
END $$;
