-- The foundation: schools, people, accounts and sessions, policies with
-- their versions, forms, signatures and the audit log.

CREATE TABLE trusts (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL CHECK (btrim(name) <> ''),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE schools (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    trust_id   bigint REFERENCES trusts (id),
    slug       text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    name       text NOT NULL CHECK (btrim(name) <> ''),
    colour     text NOT NULL DEFAULT '#1d70b8' CHECK (colour ~ '^#[0-9a-f]{6}$'),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Anyone the school knows. Staff carry a staff role; pupils and parents
-- arrive with the people/access work.
CREATE TABLE people (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id   bigint NOT NULL REFERENCES schools (id),
    kind        text NOT NULL CHECK (kind IN ('staff', 'pupil', 'parent')),
    mis_id      text CHECK (mis_id IS NULL OR btrim(mis_id) <> ''),
    title       text NOT NULL DEFAULT '',
    given_name  text NOT NULL CHECK (btrim(given_name) <> ''),
    family_name text NOT NULL CHECK (btrim(family_name) <> ''),
    email       text CHECK (email IS NULL OR email = lower(email)),
    staff_role  text CHECK (staff_role IN ('teacher', 'teaching_assistant', 'support', 'governor',
                                           'volunteer', 'contractor', 'visitor')),
    job_title   text NOT NULL DEFAULT '',
    started_on  date,
    left_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'staff') = (staff_role IS NOT NULL)),
    UNIQUE (school_id, id)
);
CREATE UNIQUE INDEX people_mis_id ON people (school_id, kind, mis_id) WHERE mis_id IS NOT NULL;
CREATE UNIQUE INDEX people_staff_email ON people (school_id, email) WHERE kind = 'staff' AND email IS NOT NULL;
CREATE INDEX people_school_kind ON people (school_id, kind) WHERE left_at IS NULL;

-- A sign-in. An account belongs to one school and usually to one person.
CREATE TABLE accounts (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id     bigint NOT NULL REFERENCES schools (id),
    person_id     bigint,
    email         text NOT NULL CHECK (email = lower(email) AND email LIKE '%_@_%'),
    display_name  text NOT NULL CHECK (btrim(display_name) <> ''),
    password_hash text,
    roles         text[] NOT NULL DEFAULT '{}'
                  CHECK (roles <@ ARRAY['admin', 'head', 'governor', 'staff', 'parent']::text[]),
    disabled_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (school_id, person_id) REFERENCES people (school_id, id)
);
CREATE UNIQUE INDEX accounts_email ON accounts (email);
CREATE UNIQUE INDEX accounts_person ON accounts (person_id) WHERE person_id IS NOT NULL;

-- Server-side sessions: the cookie holds a random token, this table its
-- hash, so signing out (or deleting the row) ends the session everywhere.
CREATE TABLE sessions (
    token_hash   bytea PRIMARY KEY,
    account_id   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    ip           text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE policies (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id          bigint NOT NULL REFERENCES schools (id),
    title              text NOT NULL CHECK (btrim(title) <> ''),
    category           text NOT NULL DEFAULT '',
    owner_person_id    bigint,
    review_cycle_years int NOT NULL DEFAULT 1 CHECK (review_cycle_years IN (1, 2, 3)),
    created_by         bigint REFERENCES accounts (id),
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (school_id, id),
    FOREIGN KEY (school_id, owner_person_id) REFERENCES people (school_id, id)
);
CREATE UNIQUE INDEX policies_title ON policies (school_id, lower(title));

-- One text of a policy. Once published, its text never changes.
CREATE TABLE policy_versions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id    bigint NOT NULL,
    policy_id    bigint NOT NULL,
    number       int NOT NULL CHECK (number > 0),
    body_md      text NOT NULL,
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    status       text NOT NULL DEFAULT 'draft'
                 CHECK (status IN ('draft', 'awaiting_approval', 'approved', 'published', 'superseded')),
    major        boolean NOT NULL DEFAULT true,
    created_by   bigint REFERENCES accounts (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    published_by bigint REFERENCES accounts (id),
    UNIQUE (policy_id, number),
    UNIQUE (school_id, id),
    FOREIGN KEY (school_id, policy_id) REFERENCES policies (school_id, id),
    CHECK ((status IN ('published', 'superseded')) = (published_at IS NOT NULL))
);
CREATE UNIQUE INDEX policy_versions_one_published ON policy_versions (policy_id) WHERE status = 'published';

CREATE FUNCTION policy_versions_freeze() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status IN ('published', 'superseded') THEN
            RAISE EXCEPTION 'policy version % has been published and cannot be deleted', OLD.id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status IN ('published', 'superseded')
       AND (NEW.body_md IS DISTINCT FROM OLD.body_md OR NEW.sha256 IS DISTINCT FROM OLD.sha256
            OR NEW.number IS DISTINCT FROM OLD.number OR NEW.policy_id IS DISTINCT FROM OLD.policy_id
            OR NEW.published_at IS DISTINCT FROM OLD.published_at OR NEW.major IS DISTINCT FROM OLD.major) THEN
        RAISE EXCEPTION 'policy version % has been published and its text cannot change', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER policy_versions_freeze BEFORE UPDATE OR DELETE ON policy_versions
    FOR EACH ROW EXECUTE FUNCTION policy_versions_freeze();

-- What a person signs.
CREATE TABLE forms (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id            bigint NOT NULL,
    policy_id            bigint,
    kind                 text NOT NULL CHECK (kind IN ('acknowledgement', 'consent', 'agreement')),
    title                text NOT NULL CHECK (btrim(title) <> ''),
    statement            text NOT NULL CHECK (btrim(statement) <> ''),
    audience_staff_roles text[] NOT NULL DEFAULT '{}'
                         CHECK (audience_staff_roles <@ ARRAY['teacher', 'teaching_assistant', 'support', 'governor',
                                                              'volunteer', 'contractor', 'visitor']::text[]),
    renewal              text NOT NULL DEFAULT 'each_version'
                         CHECK (renewal IN ('each_version', 'each_year', 'until_withdrawn')),
    due_on               date,
    created_by           bigint REFERENCES accounts (id),
    created_at           timestamptz NOT NULL DEFAULT now(),
    closed_at            timestamptz,
    UNIQUE (school_id, id),
    FOREIGN KEY (school_id, policy_id) REFERENCES policies (school_id, id)
);
CREATE INDEX forms_school ON forms (school_id) WHERE closed_at IS NULL;

-- The record of a signature. Immutable: see the trigger below.
CREATE TABLE signatures (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id       bigint NOT NULL,
    form_id         bigint NOT NULL,
    person_id       bigint NOT NULL,
    pupil_id        bigint,
    version_id      bigint,
    version_sha256  text CHECK (version_sha256 ~ '^[0-9a-f]{64}$'),
    statement       text NOT NULL,
    typed_name      text NOT NULL CHECK (btrim(typed_name) <> ''),
    drawn_signature bytea,
    answers         jsonb NOT NULL DEFAULT '{}',
    academic_year   int NOT NULL,
    method          text NOT NULL DEFAULT 'web' CHECK (method IN ('web', 'class', 'paper')),
    account_id      bigint REFERENCES accounts (id),
    ip              text NOT NULL DEFAULT '',
    user_agent      text NOT NULL DEFAULT '',
    reference       text NOT NULL UNIQUE,
    supersedes_id   bigint REFERENCES signatures (id),
    signed_at       timestamptz NOT NULL,
    FOREIGN KEY (school_id, form_id) REFERENCES forms (school_id, id),
    FOREIGN KEY (school_id, person_id) REFERENCES people (school_id, id),
    FOREIGN KEY (school_id, pupil_id) REFERENCES people (school_id, id),
    FOREIGN KEY (school_id, version_id) REFERENCES policy_versions (school_id, id)
);
-- One signature per person per version (per academic year for yearly forms).
CREATE UNIQUE INDEX signatures_once ON signatures (form_id, person_id, version_id, academic_year)
    WHERE pupil_id IS NULL AND supersedes_id IS NULL;
CREATE INDEX signatures_person ON signatures (person_id);
CREATE INDEX signatures_form ON signatures (form_id, person_id);

-- Append-only, hash-chained record of every change (one chain per school).
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id   bigint REFERENCES schools (id),
    at          timestamptz NOT NULL,
    actor_id    bigint REFERENCES accounts (id),
    actor       text NOT NULL,
    action      text NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
    subject     text NOT NULL DEFAULT '',
    detail      jsonb NOT NULL DEFAULT '{}',
    ip          text NOT NULL DEFAULT '',
    prev_hash   text NOT NULL,
    hash        text NOT NULL UNIQUE
);
CREATE INDEX audit_log_school ON audit_log (school_id, id);

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows cannot be changed or removed (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER signatures_immutable BEFORE UPDATE OR DELETE ON signatures
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER signatures_no_truncate BEFORE TRUNCATE ON signatures
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER audit_log_immutable BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- Each open policy form's current version, and the lowest version number
-- whose signature still counts (minor versions do not ask to sign again).
CREATE VIEW form_current AS
SELECT f.id AS form_id, cv.id AS version_id, cv.number, cv.sha256, cv.published_at,
       coalesce((SELECT max(m.number) FROM policy_versions m
                 WHERE m.policy_id = f.policy_id AND m.published_at IS NOT NULL AND m.major
                   AND m.number <= cv.number), cv.number) AS floor_number
FROM forms f
JOIN policy_versions cv ON cv.policy_id = f.policy_id AND cv.status = 'published';
