-- Issue 15: a stored signed copy is kept as it is, not offered to
-- PostgreSQL's compression first. A PDF's streams are compressed already,
-- so pglz went through the whole file (about 70 kB) and gave up on every
-- first download, before the row was written: about a millisecond of the
-- INSERT. EXTERNAL keeps the bytes out of line (TOAST), uncompressed.
-- Rows stored before keep the form they have; both read the same.
ALTER TABLE signed_copy_files ALTER COLUMN pdf SET STORAGE EXTERNAL;
