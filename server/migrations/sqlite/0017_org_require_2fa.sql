-- 2FA enforcement (docs/api.md#2fa-enforcement): an organization that requires its members to use a
-- second factor before a token may speak for it.
ALTER TABLE organizations ADD COLUMN require_2fa INTEGER NOT NULL DEFAULT 0;
