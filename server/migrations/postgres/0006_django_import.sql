-- Devices imported from django-otp remember where they came from (`django:totp:<id>`), so that
-- running `latchkey import-django` again adds nothing twice.
ALTER TABLE totp_devices ADD COLUMN import_key TEXT;
CREATE UNIQUE INDEX totp_devices_import ON totp_devices (import_key);
