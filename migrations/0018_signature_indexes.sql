-- Issue 15: a signature writes one index fewer. signatures_form
-- (form_id, person_id), from 0001, is the first two columns of
-- signatures_form_person_version (form_id, person_id, version_id,
-- academic_year) INCLUDE (signed_at), which serves every lookup it served;
-- each signature paid for keeping both.
DROP INDEX signatures_form;
