-- Issue 15: what an audit entry costs to write and to link (every signature
-- writes one, and the chainer links it right after commit).

-- hash was UNIQUE since 0001: an index no statement reads (nothing looks an
-- entry up by its hash) that every entry wrote twice, once empty when
-- written and once with its hash, a random 64-character key, when linked
-- (an UPDATE that changes seq is never HOT, so it writes every index again).
-- What refuses a fork of a chain is audit_log_chain: one entry per place.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_hash_key;

-- audit_log_chain holds chained entries only: a waiting entry (seq empty)
-- can clash with none (NULLs are distinct) and no read looks for it there,
-- so writing one no longer adds to it. Every read of the chain says
-- seq IS NOT NULL (the head, the walk, the anchors), as the index now does.
DROP INDEX audit_log_chain;
CREATE UNIQUE INDEX audit_log_chain ON audit_log ((coalesce(school_id, 0)), seq) WHERE seq IS NOT NULL;

-- The guard (0013) lets linking set seq, prev_hash and hash once, from
-- empty, and erasure blank actor, ip and detail once, and nothing else
-- change. It compared the rest of the row as two jsonb documents made of
-- it; it now compares the row with the old one, the columns it may set put
-- back, as one record (every column, those added later too; two NULLs
-- count as equal, as they did in jsonb).
CREATE OR REPLACE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kept audit_log;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
       AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
       AND (OLD.hash IS NULL OR (OLD.hash = NEW.hash AND OLD.prev_hash = NEW.prev_hash)) THEN
        kept := NEW;
        kept.seq := OLD.seq;
        kept.prev_hash := OLD.prev_hash;
        kept.hash := OLD.hash;
        IF kept IS NOT DISTINCT FROM OLD THEN
            RETURN NEW;
        END IF;
    END IF;
    IF TG_OP = 'UPDATE' AND current_setting('signoff.erasing', true) = 'on'
       AND OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL THEN
        kept := NEW;
        kept.actor := OLD.actor;
        kept.ip := OLD.ip;
        kept.detail := OLD.detail;
        kept.erased_at := OLD.erased_at;
        IF kept IS NOT DISTINCT FROM OLD THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION '% rows cannot be changed or removed (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
