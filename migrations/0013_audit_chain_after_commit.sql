-- Audit entries are chained after they are written, not while their
-- transaction holds a lock on the school's chain (internal/audit).
-- An entry is inserted with no place in the chain (seq, prev_hash and hash
-- NULL); right after it commits the chainer gives it the next place, the
-- hash of the entry before it and its own hash, once. The chain's order is
-- seq (1 for a chain's first entry), which is the id order for every entry
-- chained before this migration.

ALTER TABLE audit_log ADD COLUMN seq bigint;
ALTER TABLE audit_log ALTER COLUMN prev_hash DROP NOT NULL, ALTER COLUMN hash DROP NOT NULL;

-- An entry is chained (all three set) or waiting (none set).
ALTER TABLE audit_log ADD CONSTRAINT audit_log_chained
    CHECK ((seq IS NULL) = (hash IS NULL) AND (seq IS NULL) = (prev_hash IS NULL)) NOT VALID;

-- Immutable as before, with two exceptions: erasure (0011), and linking a
-- waiting entry into its chain, once: only seq, prev_hash and hash change,
-- from nothing to something. An entry that already has hashes (chained
-- before this migration) may only be given its seq, hashes unchanged.
CREATE OR REPLACE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('signoff.erasing', true) = 'on'
       AND OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL
       AND (to_jsonb(NEW) - ARRAY['actor', 'ip', 'detail', 'erased_at'])
           = (to_jsonb(OLD) - ARRAY['actor', 'ip', 'detail', 'erased_at']) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
       AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
       AND (OLD.hash IS NULL OR (OLD.hash = NEW.hash AND OLD.prev_hash = NEW.prev_hash))
       AND (to_jsonb(NEW) - ARRAY['seq', 'prev_hash', 'hash'])
           = (to_jsonb(OLD) - ARRAY['seq', 'prev_hash', 'hash']) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% rows cannot be changed or removed (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

-- Every entry chained so far keeps its place: its position in id order.
UPDATE audit_log a SET seq = n.seq
  FROM (SELECT id, row_number() OVER (PARTITION BY school_id ORDER BY id) AS seq FROM audit_log) n
 WHERE a.id = n.id;

ALTER TABLE audit_log VALIDATE CONSTRAINT audit_log_chained;

-- One entry per place in a chain: two chainers cannot fork it.
CREATE UNIQUE INDEX audit_log_chain ON audit_log ((coalesce(school_id, 0)), seq);
-- The entries waiting to be chained.
CREATE INDEX audit_log_waiting ON audit_log ((coalesce(school_id, 0)), id) WHERE seq IS NULL;
