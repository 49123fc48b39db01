-- Single sign-on with the school's Microsoft 365, Google Workspace or
-- other OpenID Connect provider (issue 16): the school's connection, the
-- provider identities remembered for accounts, the sign-ins under way,
-- and how each session and signature's signer was identified.

-- One connection per school. The client secret is sealed with AES-GCM
-- under a key that never enters the database.
CREATE TABLE sso_connections (
    school_id         bigint PRIMARY KEY REFERENCES schools (id),
    provider          text NOT NULL CHECK (provider IN ('microsoft', 'google', 'oidc')),
    tenant_id         text NOT NULL DEFAULT '' CHECK (length(tenant_id) <= 64),
    google_domain     text NOT NULL DEFAULT '' CHECK (length(google_domain) <= 253),
    issuer_url        text NOT NULL CHECK (length(issuer_url) BETWEEN 8 AND 500),
    client_id         text NOT NULL CHECK (btrim(client_id) <> '' AND length(client_id) <= 255),
    client_secret     bytea NOT NULL CHECK (length(client_secret) <= 1200),
    email_domains     text[] NOT NULL CHECK (cardinality(email_domains) BETWEEN 1 AND 20),
    -- staff roles (people.staff_role) who must sign in this way;
    -- administrators always keep their password
    required_roles    text[] NOT NULL DEFAULT '{}'
                      CHECK (required_roles <@ ARRAY['teacher', 'teaching_assistant', 'support', 'governor',
                                                     'volunteer', 'contractor', 'visitor']::text[]),
    updated_at        timestamptz NOT NULL,
    updated_by        bigint REFERENCES accounts (id)
);

-- The provider's subject identifier of an account, remembered at its
-- first single sign-on, so that a renamed address still matches.
CREATE TABLE sso_identities (
    issuer        text NOT NULL CHECK (length(issuer) <= 500),
    subject       text NOT NULL CHECK (btrim(subject) <> '' AND length(subject) <= 255),
    school_id     bigint NOT NULL REFERENCES schools (id),
    account_id    bigint NOT NULL REFERENCES accounts (id),
    email         text NOT NULL CHECK (length(email) <= 254),
    first_seen_at timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE UNIQUE INDEX sso_identities_account ON sso_identities (account_id, issuer);

-- A remembered identity follows the account's address: when the address
-- changes (a re-import) or goes (a leaver anonymised), it is forgotten,
-- and the next single sign-on matches by the address again.
CREATE FUNCTION sso_identities_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM sso_identities WHERE account_id = NEW.id;
    RETURN NEW;
END $$;
CREATE TRIGGER accounts_sso_forget AFTER UPDATE OF email ON accounts
    FOR EACH ROW WHEN (OLD.email IS DISTINCT FROM NEW.email) EXECUTE FUNCTION sso_identities_forget();

-- A sign-in sent to the provider and not yet back: only the state's
-- SHA-256 is stored; the nonce and the PKCE verifier wait here, and the
-- row is used once.
CREATE TABLE sso_attempts (
    state_hash bytea PRIMARY KEY,
    school_id  bigint NOT NULL REFERENCES schools (id),
    nonce      text NOT NULL CHECK (length(nonce) <= 100),
    verifier   text NOT NULL CHECK (length(verifier) <= 200),
    next       text NOT NULL DEFAULT '/' CHECK (length(next) <= 500),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX sso_attempts_expires ON sso_attempts (expires_at);

-- How the session's holder was identified ("Microsoft 365 account
-- j.smith@school.example, tenant ..."), and the school whose provider
-- signed them in (for the provider's sign-out).
ALTER TABLE sessions
    ADD COLUMN identified_by text NOT NULL DEFAULT '' CHECK (length(identified_by) <= 500),
    ADD COLUMN sso_school_id bigint REFERENCES schools (id);

-- The signature repeats it, so the certificate page says how the signer
-- was identified when they signed.
ALTER TABLE signatures
    ADD COLUMN identified_by text CHECK (identified_by IS NULL OR length(identified_by) <= 500);
