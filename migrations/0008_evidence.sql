-- Evidence that stands up: a seal on every signature and consent record,
-- erasure of personal fields only through an owner-owned function that
-- keeps the seal, and signed, time-stamped anchors of each school's audit
-- chain head. The application's role (see internal/database/grants.go)
-- may only SELECT and INSERT on these tables.

-- The seal: "1:" and the SHA-256 of the record's evidential fields in the
-- canonical encoding of internal/signing/seal.go (version 1). Records made
-- before seals existed keep a NULL seal; seal_epoch says which they are,
-- so a seal removed later is found.
ALTER TABLE signatures
    ADD COLUMN seal      text CHECK (seal IS NULL OR seal ~ '^[0-9]+:[0-9a-f]{64}$'),
    ADD COLUMN erased_at timestamptz;

CREATE TABLE seal_epoch (
    last_unsealed_id bigint NOT NULL
);
INSERT INTO seal_epoch SELECT coalesce(max(id), 0) FROM signatures;
CREATE TRIGGER seal_epoch_immutable BEFORE UPDATE OR DELETE ON seal_epoch
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Signatures refuse every change except erasure of personal fields by
-- signoff_erase_signature (below), which keeps the seal.
CREATE FUNCTION signatures_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('signoff.erasing', true) = 'on'
       AND OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL
       AND (to_jsonb(NEW) - ARRAY['typed_name', 'drawn_signature', 'ip', 'user_agent', 'erased_at'])
           = (to_jsonb(OLD) - ARRAY['typed_name', 'drawn_signature', 'ip', 'user_agent', 'erased_at']) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% rows cannot be changed or removed (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
DROP TRIGGER signatures_immutable ON signatures;
CREATE TRIGGER signatures_immutable BEFORE UPDATE OR DELETE ON signatures
    FOR EACH ROW EXECUTE FUNCTION signatures_guard();

-- Erasure for retention: blanks the personal fields of one record (the
-- typed name, the drawing, the IP address and the browser), keeping its
-- seal, reference, who, when and answers. Runs as the owner, so the
-- application's role never needs UPDATE on signatures. The caller records
-- a "signature.erased" audit entry naming the reference in the same
-- transaction; `signoff audit verify` expects one for every erased record.
CREATE FUNCTION signoff_erase_signature(signature_id bigint, erased_at timestamptz) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    n int;
BEGIN
    PERFORM set_config('signoff.erasing', 'on', true);
    UPDATE signatures s SET typed_name = '(erased)', drawn_signature = NULL, ip = '', user_agent = '',
           erased_at = signoff_erase_signature.erased_at
     WHERE s.id = signoff_erase_signature.signature_id AND s.erased_at IS NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM set_config('signoff.erasing', 'off', true);
    RETURN n = 1;
END $$;

-- Published texts and the seal epoch are evidence too; scans and issued
-- copies are already refused UPDATE and DELETE.
CREATE TRIGGER signed_copies_immutable BEFORE UPDATE OR DELETE ON signed_copies
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Where a school's anchors are emailed (the chair of governors, say).
ALTER TABLE schools
    ADD COLUMN anchor_email text NOT NULL DEFAULT ''
        CHECK (anchor_email = '' OR (length(anchor_email) <= 254 AND anchor_email = lower(anchor_email) AND anchor_email LIKE '%_@_%'));

-- An anchor: a school's chain head at a moment, signed with the
-- installation's key and, when a time-stamping authority is set, with
-- its RFC 3161 token. The token arrives later when the TSA is down: only
-- the tsa_* columns may change, and a token once stored never changes.
CREATE TABLE audit_anchors (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id    bigint NOT NULL REFERENCES schools (id),
    entry_id     bigint NOT NULL REFERENCES audit_log (id),
    head_hash    text NOT NULL CHECK (head_hash ~ '^[0-9a-f]{64}$'),
    entries      bigint NOT NULL CHECK (entries > 0),
    created_at   timestamptz NOT NULL,
    certificate  bytea NOT NULL,
    signature    bytea NOT NULL,
    reason       text NOT NULL CHECK (reason IN ('hourly', 'on_demand')),
    tsa_url      text NOT NULL DEFAULT '' CHECK (length(tsa_url) <= 2000),
    tsa_token    bytea,
    tsa_time     timestamptz,
    tsa_attempts int NOT NULL DEFAULT 0,
    tsa_error    text NOT NULL DEFAULT '' CHECK (length(tsa_error) <= 2000),
    tsa_next_at  timestamptz,
    emailed_to   text NOT NULL DEFAULT '' CHECK (length(emailed_to) <= 254)
);
CREATE INDEX audit_anchors_school ON audit_anchors (school_id, id DESC);
CREATE INDEX audit_anchors_pending ON audit_anchors (tsa_next_at) WHERE tsa_token IS NULL AND tsa_url <> '';

CREATE FUNCTION audit_anchors_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR OLD.tsa_token IS NOT NULL
       OR (to_jsonb(NEW) - ARRAY['tsa_token', 'tsa_time', 'tsa_attempts', 'tsa_error', 'tsa_next_at'])
          <> (to_jsonb(OLD) - ARRAY['tsa_token', 'tsa_time', 'tsa_attempts', 'tsa_error', 'tsa_next_at']) THEN
        RAISE EXCEPTION 'audit anchors cannot be changed or removed (% refused)', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_anchors_guard BEFORE UPDATE OR DELETE ON audit_anchors
    FOR EACH ROW EXECUTE FUNCTION audit_anchors_guard();
CREATE TRIGGER audit_anchors_no_truncate BEFORE TRUNCATE ON audit_anchors
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
