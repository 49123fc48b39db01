-- People and access: pupils with their parents and carers, accounts that
-- belong to people, sign-in and family links, the mail outbox, rate
-- limits and stored imports.

-- Pupils: year group as a number (-2 N1, -1 N2/nursery, 0 reception, 1 to 14).
ALTER TABLE people
    ADD COLUMN preferred_name text NOT NULL DEFAULT '',
    ADD COLUMN year_group     smallint CHECK (year_group BETWEEN -2 AND 14),
    ADD COLUMN reg_class      text,
    ADD COLUMN date_of_birth  date,
    ADD COLUMN mobile         text,
    ADD COLUMN account_id     bigint REFERENCES accounts (id),
    ADD CONSTRAINT people_pupil_fields CHECK (kind = 'pupil' OR (year_group IS NULL AND reg_class IS NULL));
CREATE INDEX people_account ON people (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX people_parent_email ON people (school_id, email) WHERE kind = 'parent';
CREATE INDEX people_pupil_class ON people (school_id, year_group, reg_class) WHERE kind = 'pupil' AND left_at IS NULL;

-- An account may belong to several people records of one human (a
-- governor who is also a parent): people.account_id replaces accounts.person_id.
UPDATE people p SET account_id = a.id FROM accounts a WHERE a.person_id = p.id;
ALTER TABLE accounts DROP COLUMN person_id;
-- Parents reached only by a printed letter have no email address.
ALTER TABLE accounts ALTER COLUMN email DROP NOT NULL;

-- A parent or carer of a pupil, with the relationship on the link.
CREATE TABLE guardianships (
    school_id               bigint NOT NULL,
    parent_id               bigint NOT NULL,
    pupil_id                bigint NOT NULL,
    relationship            text NOT NULL DEFAULT '',
    parental_responsibility boolean NOT NULL DEFAULT false,
    priority                int NOT NULL DEFAULT 1,
    created_at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (parent_id, pupil_id),
    FOREIGN KEY (school_id, parent_id) REFERENCES people (school_id, id),
    FOREIGN KEY (school_id, pupil_id) REFERENCES people (school_id, id)
);
CREATE INDEX guardianships_pupil ON guardianships (pupil_id);

-- Sign-in links (single use, minutes) and family links (reusable for a
-- period the school sets, revocable, replaced by a new one). Only the
-- token's SHA-256 is stored.
CREATE TABLE access_links (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash  bytea NOT NULL UNIQUE,
    school_id   bigint NOT NULL REFERENCES schools (id),
    account_id  bigint NOT NULL REFERENCES accounts (id),
    purpose     text NOT NULL CHECK (purpose IN ('sign_in', 'family')),
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz,
    created_by  bigint REFERENCES accounts (id)
);
CREATE INDEX access_links_account ON access_links (account_id, purpose) WHERE revoked_at IS NULL;

ALTER TABLE schools ADD COLUMN family_link_days int NOT NULL DEFAULT 90 CHECK (family_link_days BETWEEN 1 AND 400);

-- Every message Signoff sends. With SMTP configured a sender delivers
-- them; without, they wait here for the office to read or print.
CREATE TABLE outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id       bigint REFERENCES schools (id),
    to_address      text NOT NULL,
    to_name         text NOT NULL DEFAULT '',
    subject         text NOT NULL,
    body_text       text NOT NULL,
    kind            text NOT NULL DEFAULT '',
    dedupe_key      text UNIQUE,
    created_at      timestamptz NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    attempts        int NOT NULL DEFAULT 0,
    last_error      text NOT NULL DEFAULT '',
    sent_at         timestamptz,
    failed_at       timestamptz
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX outbox_school ON outbox (school_id, id);

-- Fixed-window counters for rate limits, shared by every server.
CREATE TABLE rate_limits (
    key          text NOT NULL,
    window_start timestamptz NOT NULL,
    count        int NOT NULL,
    PRIMARY KEY (key, window_start)
);

-- Uploaded MIS exports, kept from preview to apply so that apply uses
-- exactly the files that were previewed.
CREATE TABLE import_batches (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id   bigint NOT NULL REFERENCES schools (id),
    created_by  bigint REFERENCES accounts (id),
    created_at  timestamptz NOT NULL,
    applied_at  timestamptz,
    summary     text NOT NULL DEFAULT ''
);
CREATE TABLE import_files (
    batch_id    bigint NOT NULL REFERENCES import_batches (id) ON DELETE CASCADE,
    position    int NOT NULL,
    filename    text NOT NULL,
    content     bytea NOT NULL,
    mapping     jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (batch_id, position)
);
