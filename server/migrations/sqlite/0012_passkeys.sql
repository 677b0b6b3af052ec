-- Passkeys (docs/api.md#passkeys): WebAuthn credentials, and the ceremonies in flight.

-- The account's WebAuthn user handle (the options' `user.id`, what a discoverable credential gives
-- back): 32 random bytes as base64url, drawn at the first registration and never changed.
ALTER TABLE users ADD COLUMN webauthn_handle TEXT;
CREATE UNIQUE INDEX users_webauthn_handle ON users (webauthn_handle);

-- A registered credential. `credential` is the verifier's record as JSON: the public key, the
-- signature counter, the flags it was registered with; nothing in it is secret. `sign_count`,
-- `backed_up` and `transports` are kept apart for the API and for the counter's compare-and-set.
CREATE TABLE passkeys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    credential TEXT NOT NULL,
    sign_count BIGINT NOT NULL DEFAULT 0,
    backed_up INTEGER NOT NULL DEFAULT 0,
    transports TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX passkeys_user ON passkeys (user_id);

-- A ceremony in flight, single use (its row is deleted when spent) and 5 minutes long. `id_hash`
-- is the SHA-256 of the `ceremony_id` given to the client (of the `mfa_token` for the second
-- factor); `state` is the verifier's challenge state as JSON.
CREATE TABLE passkey_ceremonies (
    id_hash TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    session_id TEXT,
    name TEXT,
    state TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX passkey_ceremonies_expiry ON passkey_ceremonies (expires_at);
