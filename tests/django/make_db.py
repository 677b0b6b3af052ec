"""Builds a real Django database with Django itself, as a site being migrated to Latchkey would have
it: users hashed by each of Django's hashers Latchkey reads, an inactive user, staff, a user without an
e-mail address (which Latchkey cannot import), and a django-otp TOTP device and static tokens.

Usage: make_db.py DATABASE_URL   (sqlite:///path/to/db.sqlite3 or postgres://user:pass@host:port/name)
Prints what was made as JSON: the users with their passwords, the TOTP key (hex) and the static tokens.
Run by server/tests/django_import.rs with the Python of scripts/django.sh.
"""
import json
import sys
import time
from urllib.parse import urlparse

import django
from django.conf import settings

url = sys.argv[1]
if url.startswith("sqlite:"):
    database = {"ENGINE": "django.db.backends.sqlite3", "NAME": url.split("://", 1)[1].split("?")[0]}
else:
    parsed = urlparse(url)
    database = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parsed.path.lstrip("/"),
        "USER": parsed.username,
        "PASSWORD": parsed.password,
        "HOST": parsed.hostname,
        "PORT": parsed.port or 5432,
    }
settings.configure(
    SECRET_KEY="django-side-secret",
    USE_TZ=True,
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    DATABASES={"default": database},
    INSTALLED_APPS=[
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django_otp",
        "django_otp.plugins.otp_totp",
        "django_otp.plugins.otp_static",
    ],
    PASSWORD_HASHERS=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    ],
)
django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django_otp.oath import TOTP  # noqa: E402
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

call_command("migrate", verbosity=0)

made = {"users": []}


def make(username, email, password, hasher, **fields):
    user = User(username=username, email=email, **fields)
    user.password = make_password(password, hasher=hasher)
    user.save()
    made["users"].append({"username": username, "email": email, "password": password, "hasher": hasher,
                          "hash": user.password, **fields})
    return user


make("pat", "Pat@Example.com", "pbkdf2 passphrase one", "pbkdf2_sha256", first_name="Pat", last_name="Smith")
make("ari", "ari@example.com", "argon2 passphrase two", "argon2")
make("bea", "bea@example.com", "bcrypt passphrase three", "bcrypt_sha256")
make("ina", "ina@example.com", "inactive passphrase four", "pbkdf2_sha256", is_active=False)
make("sam", "sam@example.com", "staff passphrase five", "pbkdf2_sha256", is_staff=True, is_superuser=True)
make("nomail", "", "no e-mail passphrase six", "pbkdf2_sha256")
otp_user = make("otto", "otto@example.com", "otp passphrase seven", "pbkdf2_sha256")
otp_user.last_login = django.utils.timezone.now()
otp_user.save()

# A TOTP device whose current step was just used: django-otp's `last_t`, the replay floor.
device = TOTPDevice.objects.create(user=otp_user, name="Phone", confirmed=True)
step = int(time.time()) // device.step
device.last_t = step
device.save()
# django-otp itself says the next step's code is good (its `verify_token` would refuse this one).
totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
totp.time = time.time() + device.step
made["totp"] = {"key": device.key, "step": device.step, "digits": device.digits, "last_t": device.last_t,
                "next_code": str(totp.token()).zfill(device.digits)}

static = StaticDevice.objects.create(user=otp_user, name="backup")
tokens = [StaticToken.random_token() for _ in range(3)]
for token in tokens:
    static.token_set.create(token=token)
made["static_tokens"] = tokens
print(json.dumps(made))
