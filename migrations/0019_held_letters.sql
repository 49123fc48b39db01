-- Printed letter batches, held for an hour so that the POST that prints
-- them can redirect to a GET address of the PDF (post/redirect/get). The
-- PDF holds new family links, so it is sealed (AES-GCM with the secret
-- key) and only the account that printed it may fetch it.
CREATE TABLE held_letters (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id  bigint NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    file_name  text NOT NULL CHECK (char_length(file_name) BETWEEN 1 AND 200),
    sealed_pdf bytea NOT NULL CHECK (octet_length(sealed_pdf) <= 100 * 1024 * 1024),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX held_letters_expires_at ON held_letters (expires_at);
