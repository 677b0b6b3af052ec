-- Organizations with roles, API keys, and the organization a session's access tokens speak for.

CREATE TABLE organizations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- One role per member: admin, editor, author or viewer.
CREATE TABLE memberships (
    org_id INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

-- `prefix` is the key's public part (shown in lists, used to find it); `key_hash` the SHA-256 hex of
-- the whole key. `scopes` is a space-separated subset of: read write admin.
CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL UNIQUE,
    key_hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    last_used_at BIGINT
);
CREATE INDEX api_keys_user ON api_keys (user_id);

ALTER TABLE sessions ADD COLUMN org_id INTEGER REFERENCES organizations (id) ON DELETE SET NULL;
ALTER TABLE mfa_challenges ADD COLUMN org TEXT;
