-- Two-factor authentication (API.md §3, §6): TOTP devices, backup codes, pending MFA logins, the
-- per-user back-off, and the audit log its events go to. Nothing here reveals a second factor:
-- secrets are sealed with an AEAD under a key kept outside the database, backup codes and MFA
-- tokens are stored as keyed or plain hashes.

-- A confirmed device makes the account require a second factor; `mfa_enabled` caches that.
-- `mfa_failures` failed codes in a row lock second-factor checks until `mfa_locked_until`.
ALTER TABLE users ADD COLUMN mfa_enabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN mfa_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN mfa_locked_until BIGINT NOT NULL DEFAULT 0;

-- Whether a second factor was verified when the session was opened (the access token's `mfa`).
ALTER TABLE sessions ADD COLUMN mfa INTEGER NOT NULL DEFAULT 0;

-- `secret` is `v1$<key id>$<hex of nonce and ciphertext>` (XChaCha20-Poly1305, bound to the
-- user). `last_step` is the last accepted time step: only a later one is accepted again.
CREATE TABLE totp_devices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    secret TEXT NOT NULL,
    digits INTEGER NOT NULL DEFAULT 6,
    period INTEGER NOT NULL DEFAULT 30,
    t0 BIGINT NOT NULL DEFAULT 0,
    confirmed INTEGER NOT NULL DEFAULT 0,
    last_step BIGINT NOT NULL DEFAULT -1,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX totp_devices_user ON totp_devices (user_id);

-- `code_hash` is `hmac-sha256$<hex>` of the normalized code; a used code's row is deleted.
CREATE TABLE backup_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (user_id, code_hash)
);

-- A login waiting for its second factor: the SHA-256 hex of the `mfa_token`, single-use.
CREATE TABLE mfa_challenges (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    cookie INTEGER NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL
);

-- Security events. Kept when the user is deleted, so no foreign key; `detail` is a JSON object
-- that never holds a password, token, code or secret.
CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at BIGINT NOT NULL,
    event TEXT NOT NULL,
    user_id BIGINT,
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    session_id TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_user ON audit_events (user_id, id);
