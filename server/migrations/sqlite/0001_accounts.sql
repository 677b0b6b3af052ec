-- Users and their sessions (refresh-token families). Times are Unix seconds; booleans are 0/1 so
-- that SQLite and PostgreSQL rows decode the same way through sqlx's Any driver.
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    username TEXT UNIQUE,
    password TEXT NOT NULL,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    bio TEXT NOT NULL DEFAULT '',
    phone_number TEXT NOT NULL DEFAULT '',
    birth_date TEXT,
    timezone TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL DEFAULT '',
    website TEXT NOT NULL DEFAULT '',
    is_active INTEGER NOT NULL DEFAULT 1,
    is_staff INTEGER NOT NULL DEFAULT 0,
    is_superuser INTEGER NOT NULL DEFAULT 0,
    is_verified INTEGER NOT NULL DEFAULT 0,
    date_joined BIGINT NOT NULL,
    last_login BIGINT
);

-- A session is one login: the family of refresh tokens rotated from it. Only SHA-256 hashes of the
-- current and the previous refresh token ids are stored.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    current_hash TEXT NOT NULL,
    previous_hash TEXT,
    rotated_at BIGINT,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);
