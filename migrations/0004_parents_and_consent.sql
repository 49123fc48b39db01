-- Parents and pupils: forms addressed to the parents of pupils in chosen
-- year groups or classes, consent items, the three-part home-school
-- agreement, consent changes and withdrawals as new records, signing in
-- class and paper forms recorded by the office with their scans.

ALTER TABLE forms
    ADD COLUMN audience             text NOT NULL DEFAULT 'staff' CHECK (audience IN ('staff', 'parents')),
    ADD COLUMN audience_year_groups smallint[] NOT NULL DEFAULT '{}',
    ADD COLUMN audience_classes     text[] NOT NULL DEFAULT '{}',
    ADD COLUMN signer               text NOT NULL DEFAULT 'person'
                                    CHECK (signer IN ('person', 'one_parent', 'each_parent')),
    ADD COLUMN intro_md             text NOT NULL DEFAULT '',
    ADD COLUMN school_part_md       text NOT NULL DEFAULT '',
    ADD COLUMN parent_part_md       text NOT NULL DEFAULT '',
    ADD COLUMN child_part_md        text NOT NULL DEFAULT '',
    ADD COLUMN text_sha256          text CHECK (text_sha256 IS NULL OR text_sha256 ~ '^[0-9a-f]{64}$'),
    ADD CONSTRAINT forms_audience_signer CHECK ((audience = 'staff') = (signer = 'person'));
ALTER TABLE forms DROP CONSTRAINT forms_renewal_check;
ALTER TABLE forms ADD CONSTRAINT forms_renewal_check
    CHECK (renewal IN ('each_version', 'each_year', 'until_withdrawn', 'each_key_stage'));

-- The questions of a consent form, each answered yes or no, and the
-- acknowledgements that must be ticked.
CREATE TABLE form_items (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id   bigint NOT NULL,
    form_id     bigint NOT NULL,
    position    int NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('consent', 'acknowledgement')),
    label       text NOT NULL CHECK (btrim(label) <> ''),
    explanation text NOT NULL DEFAULT '',
    photo       boolean NOT NULL DEFAULT false,
    UNIQUE (form_id, position),
    FOREIGN KEY (school_id, form_id) REFERENCES forms (school_id, id)
);

-- A form's text is frozen once anyone has signed it.
CREATE FUNCTION forms_freeze() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.intro_md, NEW.school_part_md, NEW.parent_part_md, NEW.child_part_md, NEW.text_sha256, NEW.title)
         IS DISTINCT FROM (OLD.intro_md, OLD.school_part_md, OLD.parent_part_md, OLD.child_part_md, OLD.text_sha256, OLD.title)
       AND OLD.policy_id IS NULL
       AND EXISTS (SELECT 1 FROM signatures WHERE form_id = OLD.id) THEN
        RAISE EXCEPTION 'form % has been signed and its text cannot change', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER forms_freeze BEFORE UPDATE ON forms FOR EACH ROW EXECUTE FUNCTION forms_freeze();

CREATE FUNCTION form_items_freeze() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM signatures WHERE form_id = OLD.form_id) THEN
        RAISE EXCEPTION 'form % has been signed and its questions cannot change', OLD.form_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER form_items_freeze BEFORE UPDATE OR DELETE ON form_items FOR EACH ROW EXECUTE FUNCTION form_items_freeze();

-- Who signed which part, and how.
ALTER TABLE signatures
    ADD COLUMN part        text NOT NULL DEFAULT '' CHECK (part IN ('', 'school', 'parent', 'child')),
    ADD COLUMN witness_id  bigint,
    ADD COLUMN recorded_by bigint REFERENCES accounts (id),
    ADD COLUMN paper_date  date,
    ADD COLUMN key_stage   smallint,
    ADD COLUMN language    text NOT NULL DEFAULT 'en',
    ADD CONSTRAINT signatures_witness FOREIGN KEY (school_id, witness_id) REFERENCES people (school_id, id),
    ADD CONSTRAINT signatures_paper CHECK ((method = 'paper') = (recorded_by IS NOT NULL AND paper_date IS NOT NULL)),
    ADD CONSTRAINT signatures_class CHECK (method <> 'class' OR witness_id IS NOT NULL);
CREATE INDEX signatures_pupil ON signatures (form_id, pupil_id) WHERE pupil_id IS NOT NULL;
CREATE INDEX signatures_supersedes ON signatures (supersedes_id) WHERE supersedes_id IS NOT NULL;

-- The scan of a paper form, kept with the signature it records.
CREATE TABLE signature_scans (
    signature_id bigint PRIMARY KEY REFERENCES signatures (id),
    school_id    bigint NOT NULL REFERENCES schools (id),
    filename     text NOT NULL,
    content_type text NOT NULL CHECK (content_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    data         bytea NOT NULL,
    sha256       text NOT NULL,
    created_at   timestamptz NOT NULL
);
CREATE TRIGGER signature_scans_immutable BEFORE UPDATE OR DELETE ON signature_scans
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Files sent with an email (a parent's receipt carries their signed copy).
CREATE TABLE outbox_attachments (
    outbox_id    bigint NOT NULL REFERENCES outbox (id),
    position     int NOT NULL,
    filename     text NOT NULL,
    content_type text NOT NULL,
    data         bytea NOT NULL,
    PRIMARY KEY (outbox_id, position)
);
