-- Tracking, chasing and evidence: trust administrators, reminders (sent
-- by the office or on the school's schedule), the hashes of the signed
-- copies Signoff issued, and the indexes the dashboard needs at trust scale.

-- A trust administrator sees every school of their account's trust.
ALTER TABLE accounts DROP CONSTRAINT IF EXISTS accounts_roles_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_roles_check
    CHECK (roles <@ ARRAY['admin', 'head', 'governor', 'staff', 'parent', 'trust_admin']::text[]);

-- One row per reminder queued to one person for one form. sent_on is the
-- school day (Europe/London) it was queued: one reminder per person, form
-- (and child) and day, however often the button is pressed.
CREATE TABLE reminders (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id  bigint NOT NULL,
    form_id    bigint NOT NULL,
    person_id  bigint NOT NULL,
    pupil_id   bigint,
    sent_on    date NOT NULL,
    origin     text NOT NULL CHECK (origin IN ('office', 'schedule')),
    outbox_id  bigint REFERENCES outbox (id),
    sent_by    bigint REFERENCES accounts (id),
    created_at timestamptz NOT NULL,
    FOREIGN KEY (school_id, form_id) REFERENCES forms (school_id, id),
    FOREIGN KEY (school_id, person_id) REFERENCES people (school_id, id)
);
CREATE UNIQUE INDEX reminders_once_a_day ON reminders (form_id, person_id, coalesce(pupil_id, 0), sent_on);
CREATE INDEX reminders_last ON reminders (form_id, person_id, created_at DESC);

-- The school's automatic reminder schedule: days after publication, then
-- every week until the due date (or, with no due date, for weeks_max weeks).
CREATE TABLE reminder_schedules (
    school_id   bigint PRIMARY KEY REFERENCES schools (id),
    enabled     boolean NOT NULL DEFAULT false,
    days_after  int[] NOT NULL DEFAULT '{7,14}' CHECK (1 <= ALL (days_after) AND 365 >= ALL (days_after)),
    then_weekly boolean NOT NULL DEFAULT true,
    weeks_max   int NOT NULL DEFAULT 6 CHECK (weeks_max BETWEEN 0 AND 52),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  bigint REFERENCES accounts (id)
);

-- Each scheduled round that has run, so that several servers (or a
-- restart) never run the same round twice.
CREATE TABLE reminder_rounds (
    form_id    bigint NOT NULL REFERENCES forms (id),
    round_on   date NOT NULL,
    school_id  bigint NOT NULL REFERENCES schools (id),
    queued     int NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (form_id, round_on)
);

-- The SHA-256 of every signed-copy PDF Signoff has issued, so that a copy
-- issued before a change of layout still verifies.
CREATE TABLE signed_copies (
    signature_id bigint NOT NULL REFERENCES signatures (id),
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    first_issued timestamptz NOT NULL,
    PRIMARY KEY (signature_id, sha256)
);

-- The dashboard at trust scale.
CREATE INDEX people_staff_role ON people (school_id, staff_role) WHERE kind = 'staff' AND left_at IS NULL;
CREATE INDEX signatures_form_person_version ON signatures (form_id, person_id, version_id, academic_year) INCLUDE (signed_at);
CREATE INDEX signatures_form_signed_at ON signatures (form_id, signed_at);
CREATE INDEX schools_trust ON schools (trust_id) WHERE trust_id IS NOT NULL;
