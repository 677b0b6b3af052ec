-- Social login (docs/api.md#social-login): provider identities linked to accounts, and the
-- single-use steps of a sign-in in flight.

-- A provider identity linked to an account. (provider, subject) is the identity: the provider's
-- `sub` (GitHub's numeric id); `email` is what the provider said last, for display only and never
-- matched again. One identity per provider per account.
CREATE TABLE social_accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    email TEXT,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    UNIQUE (provider, subject),
    UNIQUE (user_id, provider)
);

-- A step in flight, single use (deleted when spent): `authorize` (the `state` sent to the provider,
-- 10 minutes), `login_code` (60 seconds) and `link` (the `link_token` of an identity whose e-mail
-- matched an account, 10 minutes). `id_hash` is the SHA-256 of what the client or provider holds;
-- `binding_hash` the SHA-256 of the browser's `binding`; `pkce_verifier` is sealed by the vault.
CREATE TABLE social_flows (
    id_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    provider TEXT NOT NULL,
    process TEXT NOT NULL,
    user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    session_id TEXT,
    pkce_verifier TEXT,
    nonce TEXT,
    return_to TEXT,
    binding_hash TEXT,
    subject TEXT,
    email TEXT,
    expires_at BIGINT NOT NULL
);
CREATE INDEX social_flows_expiry ON social_flows (expires_at);

-- How the login waiting for its second factor proved the user first: NULL for the password, else
-- the session's `auth_method` to be (`social:<provider>`).
ALTER TABLE mfa_challenges ADD COLUMN auth_method TEXT;
