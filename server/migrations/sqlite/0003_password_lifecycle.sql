-- The password lifecycle (API.md §5): when the password last changed (for expiry), the hashes it
-- had before (for the history rule), and login challenges other than the second factor.

-- NULL means never changed since the account was created (`date_joined`).
ALTER TABLE users ADD COLUMN password_changed_at BIGINT;

-- Former password hashes, newest by `id`; only as many as the policy's `history` are kept.
CREATE TABLE password_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    password TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX password_history_user ON password_history (user_id, id);

-- A challenge is now `mfa` (the second factor is due) or `password_change` (the password has
-- expired; `mfa` records whether the login verified a second factor).
ALTER TABLE mfa_challenges ADD COLUMN purpose TEXT NOT NULL DEFAULT 'mfa';
ALTER TABLE mfa_challenges ADD COLUMN mfa INTEGER NOT NULL DEFAULT 0;
