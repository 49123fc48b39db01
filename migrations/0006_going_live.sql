-- Going live: trusts get a short name, schools their details (DfE URN,
-- the address emails come from, the privacy notice, a logo), accounts
-- remember when they were invited and last signed in, set-up links let a
-- new administrator choose a password, and the first-run set-up code.

ALTER TABLE trusts
    ADD COLUMN slug text UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$');
UPDATE trusts SET slug = 'trust-' || id WHERE slug IS NULL;
ALTER TABLE trusts
    ALTER COLUMN slug SET NOT NULL;

ALTER TABLE schools
    ADD COLUMN urn                text NOT NULL DEFAULT '' CHECK (urn = '' OR urn ~ '^[0-9]{6}$'),
    ADD COLUMN mail_from_name     text NOT NULL DEFAULT '' CHECK (length(mail_from_name) <= 200),
    ADD COLUMN mail_from_address  text NOT NULL DEFAULT '' CHECK (length(mail_from_address) <= 254),
    ADD COLUMN reply_to           text NOT NULL DEFAULT '' CHECK (length(reply_to) <= 254),
    ADD COLUMN privacy_notice_url text NOT NULL DEFAULT '' CHECK (length(privacy_notice_url) <= 500);

-- A school's logo: PNG or JPEG, checked (size, dimensions, decodable)
-- before it is stored.
CREATE TABLE school_logos (
    school_id    bigint PRIMARY KEY REFERENCES schools (id),
    content_type text NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg')),
    data         bytea NOT NULL CHECK (length(data) <= 524288),
    width        int NOT NULL CHECK (width BETWEEN 1 AND 2000),
    height       int NOT NULL CHECK (height BETWEEN 1 AND 2000),
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    updated_at   timestamptz NOT NULL,
    updated_by   bigint REFERENCES accounts (id)
);

ALTER TABLE accounts
    ADD COLUMN invited_at        timestamptz,
    ADD COLUMN last_signed_in_at timestamptz;
UPDATE accounts a SET last_signed_in_at = (SELECT max(s.created_at) FROM sessions s WHERE s.account_id = a.id);

-- Set-up links: single use, a week, for a new account to choose its password.
ALTER TABLE access_links DROP CONSTRAINT IF EXISTS access_links_purpose_check;
ALTER TABLE access_links ADD CONSTRAINT access_links_purpose_check CHECK (purpose IN ('sign_in', 'family', 'set_up'));

-- The first-run set-up code, while the installation has no school: only
-- its SHA-256 is kept, and it is removed when the first school is made.
CREATE TABLE setup_codes (
    id         int PRIMARY KEY CHECK (id = 1),
    code_hash  bytea NOT NULL,
    created_at timestamptz NOT NULL
);
