-- Hardening (issue 14). Every stored text has a length limit, in characters, the same
-- numbers as internal/limits and the domain's Validate methods. NOT VALID:
-- new and changed rows are checked; rows written before this migration
-- (some tables are append-only and cannot be corrected) are left as they are.

ALTER TABLE trusts
    ADD CONSTRAINT trusts_name_length CHECK (char_length(name) <= 200) NOT VALID;
ALTER TABLE schools
    ADD CONSTRAINT schools_name_length CHECK (char_length(name) <= 200) NOT VALID;
ALTER TABLE people
    ADD CONSTRAINT people_mis_id_length CHECK (char_length(mis_id) <= 100) NOT VALID,
    ADD CONSTRAINT people_title_length CHECK (char_length(title) <= 100) NOT VALID,
    ADD CONSTRAINT people_given_name_length CHECK (char_length(given_name) <= 200) NOT VALID,
    ADD CONSTRAINT people_family_name_length CHECK (char_length(family_name) <= 200) NOT VALID,
    ADD CONSTRAINT people_email_length CHECK (char_length(email) <= 254) NOT VALID,
    ADD CONSTRAINT people_job_title_length CHECK (char_length(job_title) <= 200) NOT VALID,
    ADD CONSTRAINT people_preferred_name_length CHECK (char_length(preferred_name) <= 200) NOT VALID,
    ADD CONSTRAINT people_reg_class_length CHECK (char_length(reg_class) <= 100) NOT VALID,
    ADD CONSTRAINT people_mobile_length CHECK (char_length(mobile) <= 100) NOT VALID;
ALTER TABLE accounts
    ADD CONSTRAINT accounts_email_length CHECK (char_length(email) <= 254) NOT VALID,
    ADD CONSTRAINT accounts_display_name_length CHECK (char_length(display_name) <= 200) NOT VALID,
    ADD CONSTRAINT accounts_password_hash_length CHECK (char_length(password_hash) <= 500) NOT VALID;
ALTER TABLE sessions
    ADD CONSTRAINT sessions_ip_length CHECK (char_length(ip) <= 100) NOT VALID,
    ADD CONSTRAINT sessions_user_agent_length CHECK (char_length(user_agent) <= 500) NOT VALID;
ALTER TABLE policies
    ADD CONSTRAINT policies_title_length CHECK (char_length(title) <= 300) NOT VALID,
    ADD CONSTRAINT policies_category_length CHECK (char_length(category) <= 200) NOT VALID;
ALTER TABLE policy_versions
    ADD CONSTRAINT policy_versions_body_md_length CHECK (char_length(body_md) <= 200000) NOT VALID,
    ADD CONSTRAINT policy_versions_change_note_length CHECK (char_length(change_note) <= 2000) NOT VALID,
    ADD CONSTRAINT policy_versions_approved_by_body_length CHECK (char_length(approved_by_body) <= 200) NOT VALID,
    ADD CONSTRAINT policy_versions_approval_meeting_length CHECK (char_length(approval_meeting) <= 200) NOT VALID,
    ADD CONSTRAINT policy_versions_minute_ref_length CHECK (char_length(minute_ref) <= 100) NOT VALID;
ALTER TABLE forms
    ADD CONSTRAINT forms_title_length CHECK (char_length(title) <= 300) NOT VALID,
    ADD CONSTRAINT forms_statement_length CHECK (char_length(statement) <= 2000) NOT VALID,
    ADD CONSTRAINT forms_intro_md_length CHECK (char_length(intro_md) <= 20000) NOT VALID,
    ADD CONSTRAINT forms_school_part_md_length CHECK (char_length(school_part_md) <= 20000) NOT VALID,
    ADD CONSTRAINT forms_parent_part_md_length CHECK (char_length(parent_part_md) <= 20000) NOT VALID,
    ADD CONSTRAINT forms_child_part_md_length CHECK (char_length(child_part_md) <= 20000) NOT VALID;
ALTER TABLE form_items
    ADD CONSTRAINT form_items_label_length CHECK (char_length(label) <= 500) NOT VALID,
    ADD CONSTRAINT form_items_explanation_length CHECK (char_length(explanation) <= 5000) NOT VALID;
ALTER TABLE signatures
    ADD CONSTRAINT signatures_statement_length CHECK (char_length(statement) <= 2000) NOT VALID,
    ADD CONSTRAINT signatures_typed_name_length CHECK (char_length(typed_name) <= 200) NOT VALID,
    ADD CONSTRAINT signatures_ip_length CHECK (char_length(ip) <= 100) NOT VALID,
    ADD CONSTRAINT signatures_user_agent_length CHECK (char_length(user_agent) <= 500) NOT VALID,
    ADD CONSTRAINT signatures_reference_length CHECK (char_length(reference) <= 100) NOT VALID,
    ADD CONSTRAINT signatures_language_length CHECK (char_length(language) <= 10) NOT VALID;
ALTER TABLE audit_log
    ADD CONSTRAINT audit_log_actor_length CHECK (char_length(actor) <= 500) NOT VALID,
    ADD CONSTRAINT audit_log_subject_length CHECK (char_length(subject) <= 1000) NOT VALID,
    ADD CONSTRAINT audit_log_ip_length CHECK (char_length(ip) <= 100) NOT VALID;
ALTER TABLE guardianships
    ADD CONSTRAINT guardianships_relationship_length CHECK (char_length(relationship) <= 100) NOT VALID;
ALTER TABLE outbox
    ADD CONSTRAINT outbox_to_address_length CHECK (char_length(to_address) <= 254) NOT VALID,
    ADD CONSTRAINT outbox_to_name_length CHECK (char_length(to_name) <= 200) NOT VALID,
    ADD CONSTRAINT outbox_subject_length CHECK (char_length(subject) <= 300) NOT VALID,
    ADD CONSTRAINT outbox_body_text_length CHECK (char_length(body_text) <= 600000) NOT VALID,
    ADD CONSTRAINT outbox_kind_length CHECK (char_length(kind) <= 50) NOT VALID,
    ADD CONSTRAINT outbox_dedupe_key_length CHECK (char_length(dedupe_key) <= 300) NOT VALID,
    ADD CONSTRAINT outbox_last_error_length CHECK (char_length(last_error) <= 2000) NOT VALID;
ALTER TABLE rate_limits
    ADD CONSTRAINT rate_limits_key_length CHECK (char_length(key) <= 300) NOT VALID;
ALTER TABLE import_batches
    ADD CONSTRAINT import_batches_summary_length CHECK (char_length(summary) <= 10000) NOT VALID;
ALTER TABLE import_files
    ADD CONSTRAINT import_files_filename_length CHECK (char_length(filename) <= 255) NOT VALID;
ALTER TABLE policy_decisions
    ADD CONSTRAINT policy_decisions_comment_length CHECK (char_length(comment) <= 5000) NOT VALID;
ALTER TABLE policy_reviews
    ADD CONSTRAINT policy_reviews_approved_by_body_length CHECK (char_length(approved_by_body) <= 200) NOT VALID,
    ADD CONSTRAINT policy_reviews_meeting_length CHECK (char_length(meeting) <= 200) NOT VALID,
    ADD CONSTRAINT policy_reviews_minute_ref_length CHECK (char_length(minute_ref) <= 100) NOT VALID,
    ADD CONSTRAINT policy_reviews_note_length CHECK (char_length(note) <= 2000) NOT VALID;
ALTER TABLE job_runs
    ADD CONSTRAINT job_runs_job_length CHECK (char_length(job) <= 100) NOT VALID,
    ADD CONSTRAINT job_runs_detail_length CHECK (char_length(detail) <= 2000) NOT VALID;
ALTER TABLE signature_scans
    ADD CONSTRAINT signature_scans_filename_length CHECK (char_length(filename) <= 255) NOT VALID;
ALTER TABLE outbox_attachments
    ADD CONSTRAINT outbox_attachments_filename_length CHECK (char_length(filename) <= 255) NOT VALID,
    ADD CONSTRAINT outbox_attachments_content_type_length CHECK (char_length(content_type) <= 100) NOT VALID;

-- Failed attempts (wrong passwords) per key: a row per address or IP. An
-- attempt is counted before it is checked, in one statement, so attempts
-- arriving together cannot all slip under the limit; the count is
-- forgotten once `window` has passed since the last failure, so a lock
-- lasts that long from the last failure.
CREATE TABLE rate_failures (
    key     text PRIMARY KEY CHECK (char_length(key) <= 300),
    count   int NOT NULL CHECK (count >= 0),
    last_at timestamptz NOT NULL
);
CREATE INDEX rate_failures_last_at ON rate_failures (last_at);
CREATE INDEX rate_limits_window_start ON rate_limits (window_start);

-- The family link a session was opened with (its token hash), so that
-- replacing or stopping the link ends those sessions.
ALTER TABLE sessions ADD COLUMN via_link bytea;
CREATE INDEX sessions_expires_at ON sessions (expires_at);
