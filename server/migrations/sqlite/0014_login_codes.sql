-- E-mail codes and magic links (docs/api.md#e-mail-codes-and-magic-links): one row per sign-in asked
-- for by address, registered or not, so that an unknown address's flow behaves exactly like a known
-- one's. `flow_hash` is the SHA-256 of the `flow_id` the asker holds; `code_hash` an HMAC of the
-- 6-digit code and the flow id under a key derived from LATCHKEY_ENCRYPTION_KEY (never in this
-- database, so a copy of the table cannot be searched for the code); `token_hash` the SHA-256 of the
-- link's token. `email` is the normalized address asked for: the account is looked up when the code
-- is given. A row dies when spent, after 5 wrong tries (`attempts`), or at `expires_at` (10 minutes);
-- expired rows are swept as new ones are made.
CREATE TABLE login_codes (
    flow_hash TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX login_codes_expiry ON login_codes (expires_at);
