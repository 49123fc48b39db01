-- 0009: background work moves to River (its own tables are created by
-- River's migrations, run by database.Migrate before these files).
--
-- mail_pace counts the emails sent in each minute, across every server,
-- so that the per-minute limit holds however many servers send.
CREATE TABLE mail_pace (
    minute timestamptz PRIMARY KEY,
    sent   integer NOT NULL CHECK (sent >= 0)
);

-- The old loops' claim index is no longer read (each message has its own
-- job); the sweep for messages without a job reads waiting rows by time.
DROP INDEX IF EXISTS outbox_due;
CREATE INDEX outbox_waiting ON outbox (next_attempt_at, id) WHERE sent_at IS NULL AND failed_at IS NULL;
