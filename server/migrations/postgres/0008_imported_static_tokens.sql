-- The django-otp static tokens `latchkey import-django` has turned into backup codes
-- (`django:static:<id>`). A backup code is deleted when it is used; this row stays, so that running
-- the import again does not bring a used token back to life.
CREATE TABLE imported_static_tokens (
    import_key TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);
