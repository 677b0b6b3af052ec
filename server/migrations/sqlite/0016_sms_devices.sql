-- SMS codes as a second factor (docs/api.md#sms-codes). A device is a phone number the user enrolled:
-- `phone_number` is sealed like a TOTP secret (`v1$<key id>$<hex>`, XChaCha20-Poly1305 bound to the
-- user, under LATCHKEY_ENCRYPTION_KEY, never in this database), `number_hash` an HMAC of the E.164
-- number under a key derived from it (the per-number sending limit's subject, and what tells one
-- user's numbers apart; never the number). The masked form is made from the opened number.
CREATE TABLE sms_devices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    phone_number TEXT NOT NULL,
    number_hash TEXT NOT NULL,
    confirmed INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX sms_devices_user ON sms_devices (user_id);

-- The code last sent to a device, at most one per device (a new one replaces it): an HMAC of the six
-- digits bound to the device, single use (the row is deleted when it is accepted), dead after 5 wrong
-- tries (`attempts`) or at `expires_at` (5 minutes).
CREATE TABLE sms_codes (
    device_id INTEGER PRIMARY KEY REFERENCES sms_devices (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sms_codes_user ON sms_codes (user_id);
