-- When a refusal under this row's lockout was last written to the audit log: refusals during a
-- lockout are audited at most once a minute per key, so a flood of refused logins costs no storage.
ALTER TABLE rate_limits ADD COLUMN noted_at BIGINT NOT NULL DEFAULT 0;
