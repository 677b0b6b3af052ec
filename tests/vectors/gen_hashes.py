#!/usr/bin/env python3
"""Regenerates tests/vectors/django_hashes.json with Django's own hashers and argon2-cffi / bcrypt.

Optional and never run by the build: the JSON is committed and read by core/tests/hash_vectors.rs.
To regenerate (any Python >= 3.10):

    python3 -m venv /tmp/hashvenv
    /tmp/hashvenv/bin/pip install django argon2-cffi bcrypt
    /tmp/hashvenv/bin/python tests/vectors/gen_hashes.py

Every hash is made by Django's hasher classes (`encode` with a fixed salt, so the file is reproducible)
or, for formats older Django versions wrote, by the same argon2-cffi / bcrypt calls with other
parameters. Each one is checked with Django's `check_password` before it is written. Parameters are
small where Django's defaults would make the debug-build tests slow; the format is what matters.
Rows marked "slow" (the hashlib.pbkdf2_hmac PBKDF2 vectors at 870 000 to 1 200 000 iterations) are run by an
ignored Rust test: `cargo test --release -p latchkey-core --features hashing -- --ignored`. Django's
real argon2 defaults (m=102400, t=2, p=8) take about 3 s in a debug build, so no row uses them.
"""

import json
import pathlib

import django
from django.conf import settings

DEFAULT_HASHERS = [  # Django 5.2's global_settings.PASSWORD_HASHERS, in order
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# Plus two that projects enable by hand, so Django can check those rows too.
EXTRA_HASHERS = ["django.contrib.auth.hashers.BCryptPasswordHasher", "django.contrib.auth.hashers.MD5PasswordHasher"]
settings.configure(SECRET_KEY="unused", USE_TZ=True, PASSWORD_HASHERS=DEFAULT_HASHERS + EXTRA_HASHERS)
django.setup()

import argon2  # noqa: E402
import bcrypt  # noqa: E402
from django.contrib.auth import hashers  # noqa: E402

OUT = pathlib.Path(__file__).with_name("django_hashes.json")
PASSWORD, WRONG = "lètmein", "letmein"
SALT = "NwHk1TQU8yY0D9aBEJ8xZ3"  # 22 alphanumerics, the shape of Django's salts
OURS_SALT = bytes(range(1, 17))  # what hash_password gets as its 16 salt bytes in the Rust test
SMALL_ARGON2 = {"time_cost": 2, "memory_cost": 1024, "parallelism": 2}

# Computed with hashlib.pbkdf2_hmac; re-derived and compared below.
SPEC_PBKDF2 = [
    ("lètmein", "seasalt", 1_000_000, "pbkdf2_sha256$1000000$seasalt$r1uLUxoxpP2Ued/qxvmje7UH9PUJBkRrvf9gGPL7Cps="),
    ("lètmein", "seasalt", 870_000, "pbkdf2_sha256$870000$seasalt$wJSpLMQRQz0Dhj/pFpbyjMj71B2gUYp6HJS5AU+32Ac="),
    ("lètmein", "seasalt", 1_200_000, "pbkdf2_sha256$1200000$seasalt$6sTlFi4QohxXLuZigqDIUNX8xG9NxrTmV8+flFQdBqE="),
    ("password", "abcdefghijklmnopqrstuv", 1_000_000,
     "pbkdf2_sha256$1000000$abcdefghijklmnopqrstuv$hiSPLmmsEJ4SXtBDfUpBLIVuYXFfcubYcZtjeWt1s3U="),
]


class SmallArgon2(hashers.Argon2PasswordHasher):
    time_cost, memory_cost, parallelism = SMALL_ARGON2["time_cost"], SMALL_ARGON2["memory_cost"], SMALL_ARGON2["parallelism"]


class SmallBCryptSHA256(hashers.BCryptSHA256PasswordHasher):
    rounds = 4


def argon2_django(type_, version=19, hash_len=32, **params):
    """Django's Argon2PasswordHasher.encode with other argon2-cffi arguments (older Django / argon2-cffi)."""
    raw = argon2.low_level.hash_secret(PASSWORD.encode(), SALT.encode(), hash_len=hash_len, type=type_,
                                       version=version, **(params or SMALL_ARGON2))
    return "argon2" + raw.decode("ascii")


def bcrypt_django(algorithm, prefix, rounds, sha256_first):
    """Django's BCrypt(SHA256)PasswordHasher.encode with a fixed bcrypt salt instead of gensalt()."""
    salt = f"${prefix}${rounds:02d}$".encode() + b"abcdefghijklmnopqrstuu"
    hasher = hashers.BCryptSHA256PasswordHasher() if sha256_first else hashers.BCryptPasswordHasher()
    encoded = hasher.encode(PASSWORD, salt)
    assert encoded.startswith(algorithm + "$$" + prefix)
    return encoded


def usable(name, encoded, password=PASSWORD, wrong=WRONG, source="Django 5.2 hasher"):
    is_correct, must_update = hashers.verify_password(password, encoded)
    assert is_correct and not hashers.check_password(wrong, encoded), name
    return {"name": name, "encoded": encoded, "password": password, "wrong_password": wrong, "ok": True,
            "needs_rehash": True, "django_must_update": must_update, "source": source}


def rows():
    out = []
    for password, salt, iterations, expected in SPEC_PBKDF2:
        encoded = hashers.PBKDF2PasswordHasher().encode(password, salt, iterations)
        assert encoded == expected, (encoded, expected)
        out.append(usable(f"pbkdf2_sha256_{iterations}_{salt}", encoded, password, "wrong",
                          "hashlib.pbkdf2_hmac, re-made with Django's PBKDF2PasswordHasher"))
        out[-1]["slow"] = True  # ~9 s each in a debug build: the Rust test runs these with --ignored
    out.append(usable("pbkdf2_sha256_small", hashers.PBKDF2PasswordHasher().encode(PASSWORD, SALT, 1000)))
    out.append(usable("pbkdf2_sha1_small", hashers.PBKDF2SHA1PasswordHasher().encode(PASSWORD, SALT, 1000)))
    out.append(usable("pbkdf2_sha256_old_12_char_salt", hashers.PBKDF2PasswordHasher().encode(PASSWORD, "a1b2c3d4e5f6", 1000)))
    out.append(usable("argon2id_django", SmallArgon2().encode(PASSWORD, SALT)))
    out.append(usable("argon2id_hash_len_16", argon2_django(argon2.low_level.Type.ID, hash_len=16),
                      source="argon2-cffi < 21.2 default hash_len (16)"))
    out.append(usable("argon2i_django", argon2_django(argon2.low_level.Type.I),
                      source="argon2i, Django's variant before 1.11"))
    v16 = argon2_django(argon2.low_level.Type.I, version=16)
    out.append(usable("argon2i_version_16", v16, source="argon2 version 1.0 (0x10)"))
    out.append(usable("argon2i_no_version_field", v16.replace("$v=16", ""),
                      source="libargon2 reads a string without v= as version 0x10"))
    out.append(usable("bcrypt_sha256_2b", SmallBCryptSHA256().encode(PASSWORD, b"$2b$04$abcdefghijklmnopqrstuu")))
    out.append(usable("bcrypt_sha256_2a_cost_5", bcrypt_django("bcrypt_sha256", "2a", 5, True)))
    out.append(usable("bcrypt_plain", bcrypt_django("bcrypt", "2b", 4, False),
                      source="Django's BCryptPasswordHasher (not in the default list)"))
    return out


def ours():
    """Latchkey's own format is argon2-cffi's PHC string; hash_password must reproduce it exactly."""
    out = []
    for params in ({"time_cost": 1, "memory_cost": 1024, "parallelism": 1}, {"time_cost": 2, "memory_cost": 19456, "parallelism": 1}):
        encoded = argon2.low_level.hash_secret(PASSWORD.encode(), OURS_SALT, hash_len=32,
                                               type=argon2.low_level.Type.ID, version=19, **params).decode()
        assert argon2.PasswordHasher().verify(encoded, PASSWORD)
        out.append({"name": f"ours_m{params['memory_cost']}_t{params['time_cost']}", "encoded": encoded,
                    "password": PASSWORD, "wrong_password": WRONG, "salt_hex": OURS_SALT.hex(),
                    "params": {"memory_kib": params["memory_cost"], "iterations": params["time_cost"],
                               "parallelism": params["parallelism"]}})
    return out


def unusable():
    scrypt = hashers.ScryptPasswordHasher()
    scrypt.work_factor = 2**10
    entries = [
        ("unusable_make_password_none", "!" + "Vx1XkF3vsdIpYBa6e3C5ZFdVwcOrNFOtBBzCeAxS"),
        ("scrypt_not_supported", scrypt.encode(PASSWORD, SALT)),
        ("md5_not_supported", hashers.MD5PasswordHasher().encode(PASSWORD, SALT)),
        ("empty", ""),
        ("pbkdf2_missing_hash", f"pbkdf2_sha256$1000${SALT}"),
        ("pbkdf2_truncated_hash", hashers.PBKDF2PasswordHasher().encode(PASSWORD, SALT, 1000)[:-4]),
        ("argon2_missing_hash", SmallArgon2().encode(PASSWORD, SALT).rsplit("$", 1)[0]),
        ("bcrypt_sha256_truncated", SmallBCryptSHA256().encode(PASSWORD, b"$2b$04$abcdefghijklmnopqrstuu")[:-1]),
        ("unknown_algorithm", "sha3_256$salt$abcdef"),
    ]
    out = []
    for name, encoded in entries:
        if name.endswith("_not_supported"):
            assert hashers.check_password(PASSWORD, encoded), name  # Django would accept these
        out.append({"name": name, "encoded": encoded, "password": PASSWORD})
    return out


def main():
    from importlib.metadata import version

    document = {
        "description": "Django password hashes and Latchkey's own argon2id. Generated by tests/vectors/gen_hashes.py.",
        "generated_with": {name: version(name) for name in ("django", "argon2-cffi", "bcrypt")},
        "django": rows(),
        "ours": ours(),
        "unusable": unusable(),
    }
    OUT.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {sum(len(document[k]) for k in ('django', 'ours', 'unusable'))} hashes to {OUT}")


if __name__ == "__main__":
    main()
