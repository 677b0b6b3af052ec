-- What a session list shows beyond times and addresses: a name the user gives the session (NULL:
-- none) and how its login proved the user (`password`, `passkey`, `social:<provider>`, `code`).
ALTER TABLE sessions ADD COLUMN name TEXT;
ALTER TABLE sessions ADD COLUMN auth_method TEXT NOT NULL DEFAULT 'password';
-- The absolute limit (`LATCHKEY_SESSION_MAX_AGE`) that no refresh extends. Sessions opened before
-- it existed get the default, 30 days from their login, and their idle limit is cut to it.
ALTER TABLE sessions ADD COLUMN absolute_expires_at BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET absolute_expires_at = created_at + 2592000;
UPDATE sessions SET expires_at = absolute_expires_at WHERE expires_at > absolute_expires_at;
