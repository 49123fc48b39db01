-- The bytes of each signed copy as first issued (issue 15): the same
-- record's copy comes back byte for byte, and a GET reads instead of
-- rendering, signing and inserting. content_sha256 is the SHA-256 of what
-- the copy prints (evidence.contentKey): a copy for someone who may not
-- see the IP address and browser, a renamed signer or a new logo is a
-- different content and a different file. A copy signed while the
-- time-stamping authority was down is time-stamped later by a job, as a
-- second row; the time-stamped one is served from then on.
CREATE TABLE signed_copy_files (
    signature_id   bigint NOT NULL REFERENCES signatures (id),
    content_sha256 text NOT NULL CHECK (content_sha256 ~ '^[0-9a-f]{64}$'),
    time_stamped   boolean NOT NULL,
    sha256         text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    pdf            bytea NOT NULL CHECK (length(pdf) BETWEEN 1 AND 20971520),
    made_at        timestamptz NOT NULL,
    PRIMARY KEY (signature_id, content_sha256, time_stamped)
);
-- The time-stamp job's list: copies still without a time stamp.
CREATE INDEX signed_copy_files_unstamped ON signed_copy_files (made_at) WHERE NOT time_stamped;

-- A stored copy prints what erasure blanks (typed name, drawing, IP
-- address, browser): erasing the record removes its stored files too. The
-- application's role has no DELETE on the table; this runs as the owner.
CREATE FUNCTION signed_copy_files_erase() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    DELETE FROM signed_copy_files WHERE signature_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER signatures_erase_copy_files AFTER UPDATE OF erased_at ON signatures
    FOR EACH ROW WHEN (OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL)
    EXECUTE FUNCTION signed_copy_files_erase();

-- Issuing a copy checks the record's seal against its audit entries (by
-- subject) and says how the signer signed in (their latest sign-in before
-- signing): both scanned every audit entry of the school without these.
CREATE INDEX audit_log_school_subject ON audit_log (school_id, subject);
CREATE INDEX audit_log_actor_sign_in ON audit_log (actor_id, id) WHERE action = 'account.signed_in';
