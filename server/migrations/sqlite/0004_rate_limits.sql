-- Abuse protection that holds across nodes: every counter lives here, where every node sees it.
-- A row is either a request counter (`rate:<scope>:<subject>`: `hits` in the fixed window starting
-- at `window_start`) or a lockout (`lock:<scope>:<subject>`: `failures` since `window_start`,
-- `lockouts` so far, locked until `locked_until`). `updated_at` lets old rows be swept.
CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY,
    hits BIGINT NOT NULL DEFAULT 0,
    failures BIGINT NOT NULL DEFAULT 0,
    window_start BIGINT NOT NULL DEFAULT 0,
    lockouts BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);
CREATE INDEX rate_limits_updated ON rate_limits (updated_at);
CREATE INDEX audit_events_time ON audit_events (created_at);
