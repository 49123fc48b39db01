-- The policy lifecycle: who owns a policy and how it is approved, each
-- version's approval (by named approvers, or by the board at a meeting),
-- reviews with or without a new version, the daily review scheduler and
-- the private calendar feeds of review dates.

-- How a school approves revisions: a number of approvals, or a majority
-- of the approvers; and how many days before a review date it is "due soon".
ALTER TABLE schools
    ADD COLUMN approval_rule  text NOT NULL DEFAULT 'majority' CHECK (approval_rule IN ('majority', 'count')),
    ADD COLUMN approval_count int  NOT NULL DEFAULT 2 CHECK (approval_count BETWEEN 1 AND 50),
    ADD COLUMN review_window_days int NOT NULL DEFAULT 30 CHECK (review_window_days BETWEEN 1 AND 180);

-- The owner is an account (head, lead); statutory policies and the level
-- that approves them; the next review date, moved on by every review.
ALTER TABLE policies
    ADD COLUMN owner_account_id bigint REFERENCES accounts (id),
    ADD COLUMN statutory        boolean NOT NULL DEFAULT false,
    ADD COLUMN approval_level   text NOT NULL DEFAULT 'governing_board'
               CHECK (approval_level IN ('governing_board', 'committee', 'headteacher')),
    ADD COLUMN next_review_on   date;

UPDATE policies p SET next_review_on = (
    SELECT (min(v.published_at) AT TIME ZONE 'Europe/London')::date + make_interval(years => p.review_cycle_years)
    FROM policy_versions v WHERE v.policy_id = p.id AND v.published_at IS NOT NULL);

-- A version's way through approval.
ALTER TABLE policy_versions
    ADD COLUMN change_note      text NOT NULL DEFAULT '',
    ADD COLUMN round            int NOT NULL DEFAULT 0,
    ADD COLUMN submitted_at     timestamptz,
    ADD COLUMN submitted_by     bigint REFERENCES accounts (id),
    ADD COLUMN approved_at      timestamptz,
    ADD COLUMN approved_on      date,
    ADD COLUMN approved_by_body text NOT NULL DEFAULT '',
    ADD COLUMN approval_meeting text NOT NULL DEFAULT '',
    ADD COLUMN minute_ref       text NOT NULL DEFAULT '',
    ADD COLUMN approval_method  text CHECK (approval_method IN ('approvers', 'meeting')),
    ADD COLUMN notified_at      timestamptz;

-- Who is asked to approve a version in a round (governors or heads at
-- submission, and any named approvers), never its author.
CREATE TABLE policy_approvers (
    school_id  bigint NOT NULL,
    version_id bigint NOT NULL,
    round      int NOT NULL,
    account_id bigint NOT NULL REFERENCES accounts (id),
    named      boolean NOT NULL DEFAULT false,
    PRIMARY KEY (version_id, round, account_id),
    FOREIGN KEY (school_id, version_id) REFERENCES policy_versions (school_id, id)
);

-- Each approver's decision, with their comment. One per approver per round.
CREATE TABLE policy_decisions (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id  bigint NOT NULL,
    version_id bigint NOT NULL,
    round      int NOT NULL,
    account_id bigint NOT NULL REFERENCES accounts (id),
    decision   text NOT NULL CHECK (decision IN ('approve', 'reject')),
    comment    text NOT NULL DEFAULT '',
    decided_at timestamptz NOT NULL,
    UNIQUE (version_id, round, account_id),
    FOREIGN KEY (school_id, version_id) REFERENCES policy_versions (school_id, id),
    CHECK (decision = 'approve' OR btrim(comment) <> '')
);
CREATE TRIGGER policy_decisions_immutable BEFORE UPDATE OR DELETE ON policy_decisions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Each review of a policy: with no changes, or ending in a new version.
CREATE TABLE policy_reviews (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id       bigint NOT NULL,
    policy_id       bigint NOT NULL,
    version_id      bigint,
    outcome         text NOT NULL CHECK (outcome IN ('no_changes', 'new_version')),
    reviewed_on     date NOT NULL,
    approved_by_body text NOT NULL DEFAULT '',
    meeting         text NOT NULL DEFAULT '',
    minute_ref      text NOT NULL DEFAULT '',
    note            text NOT NULL DEFAULT '',
    next_review_on  date NOT NULL,
    recorded_by     bigint REFERENCES accounts (id),
    recorded_at     timestamptz NOT NULL,
    FOREIGN KEY (school_id, policy_id) REFERENCES policies (school_id, id),
    FOREIGN KEY (school_id, version_id) REFERENCES policy_versions (school_id, id)
);
CREATE INDEX policy_reviews_policy ON policy_reviews (policy_id, reviewed_on);

-- Related policies, stored both ways round.
CREATE TABLE policy_relations (
    school_id  bigint NOT NULL,
    policy_id  bigint NOT NULL,
    related_id bigint NOT NULL,
    PRIMARY KEY (policy_id, related_id),
    CHECK (policy_id <> related_id),
    FOREIGN KEY (school_id, policy_id) REFERENCES policies (school_id, id),
    FOREIGN KEY (school_id, related_id) REFERENCES policies (school_id, id)
);

-- The review scheduler: one row per job per day (whoever inserts it runs
-- the job; a run that fails rolls its row back), and one alert per policy
-- per state per review date, so an owner hears once when a policy becomes
-- due soon and once when it becomes overdue.
CREATE TABLE job_runs (
    job         text NOT NULL,
    run_on      date NOT NULL,
    started_at  timestamptz NOT NULL,
    detail      text NOT NULL DEFAULT '',
    PRIMARY KEY (job, run_on)
);
CREATE TABLE policy_review_alerts (
    school_id      bigint NOT NULL,
    policy_id      bigint NOT NULL,
    state          text NOT NULL CHECK (state IN ('due_soon', 'overdue')),
    next_review_on date NOT NULL,
    flagged_on     date NOT NULL,
    created_at     timestamptz NOT NULL,
    PRIMARY KEY (policy_id, state, next_review_on),
    FOREIGN KEY (school_id, policy_id) REFERENCES policies (school_id, id)
);

-- Private, revocable calendar feeds of review dates (only the token's
-- SHA-256 is kept).
CREATE TABLE calendar_feeds (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id   bigint NOT NULL REFERENCES schools (id),
    account_id  bigint NOT NULL REFERENCES accounts (id),
    token_hash  bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE INDEX calendar_feeds_account ON calendar_feeds (account_id) WHERE revoked_at IS NULL;
