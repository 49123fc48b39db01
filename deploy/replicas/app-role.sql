-- Run once by the postgres image when it creates the database: the role
-- the Signoff servers connect as. It owns nothing; migrations (run as the
-- owner, SIGNOFF_MIGRATE_DATABASE_URL) grant it exactly what it needs.
CREATE ROLE signoff_app LOGIN PASSWORD 'signoff_app';
