-- When the session last proved the user again (`POST /api/auth/reauthenticate/`): with its login
-- (`created_at`), what opens the window in which sensitive actions need no password ("sudo mode").
ALTER TABLE sessions ADD COLUMN reauthenticated_at BIGINT;
