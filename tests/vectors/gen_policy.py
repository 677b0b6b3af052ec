#!/usr/bin/env python3
"""The oracle for Latchkey's password policy: Django's own validators decide, we record.

Run: python3 tests/vectors/gen_policy.py [--check]
Installs Django 5.2 from PyPI into target/django-venv (once), then re-executes itself there, generates
a fixed, seeded set of cases (common passwords, numerics in several scripts, user-attribute look-alikes,
reversed e-mails, short, long, Unicode, random strong) and writes tests/vectors/policy_django.json with
Django's verdict for each: the list of {code, message} from UserAttributeSimilarityValidator,
MinimumLengthValidator, CommonPasswordValidator and NumericPasswordValidator, in that order.
With --check it fails when the committed file differs from what Django says now.
"""
import json, os, pathlib, random, subprocess, sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "vectors" / "policy_django.json"
VENV = ROOT / "target" / "django-venv"
DJANGO = "Django==5.2.19"


def ensure_django():
    py = VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    ok = subprocess.run([str(py), "-c", "import django, sys; sys.exit(django.__version__ != '5.2.19')"],
                        capture_output=True)
    if ok.returncode != 0:
        subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", DJANGO], check=True)
    return py


def cases():
    rng = random.Random(20261122)
    from django.contrib.auth.password_validation import CommonPasswordValidator
    common = sorted(CommonPasswordValidator().passwords)
    out = []

    def add(password, user=None, min_length=12):
        out.append({"password": password, "user": user, "min_length": min_length})

    # Common passwords: a spread of the list, case and whitespace variants, long common ones.
    for p in rng.sample(common, 70):
        add(p)
    for p in rng.sample(common, 30):
        add(rng.choice([p.upper(), p.title(), " " + p + " ", "\t" + p, p + "\u3000", p + "\u001c"]))
    for p in [w for w in common if len(w) >= 12][:20]:
        add(p, min_length=8)
    # Numerics in several scripts, and near-numerics.
    scripts = ["0123456789", "٠١٢٣٤٥٦٧٨٩", "०१२३४५६७८९", "০১২৩৪৫৬৭৮৯", "๐๑๒๓๔๕๖๗๘๙", "０１２３４５６７８９", "⁰¹²³⁴⁵⁶⁷⁸⁹",
               "①②③④⑤⑥⑦⑧⑨", "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗"]
    for digits in scripts:
        for n in (6, 12, 16):
            add("".join(rng.choice(digits) for _ in range(n)))
    for s in ["½¾¼12345678901", "12345678901½", "Ⅻ1234567890", "1234567890١٢", "123456789012 ", " 123456789012",
              "1234.5678901", "-123456789012", "123456789012a", "٣٣٣٣٣٣٣٣٣٣٣٣٣"]:
        add(s)
    # User-attribute look-alikes.
    people = [
        {"username": "johndoe", "email": "john.doe@example.com", "first_name": "John", "last_name": "Doe"},
        {"username": "alice", "email": "alice@example.com", "first_name": "Alice", "last_name": "Liddell"},
        {"username": "jlpicard", "email": "jean-luc.picard@starfleet.org", "first_name": "Jean-Luc", "last_name": "Picard"},
        {"username": "tom", "email": "t@x.io", "first_name": "Tom", "last_name": "Tomtom"},
        {"username": "Σωκράτης", "email": "sokrates@athens.gr", "first_name": "Σωκράτης", "last_name": "ΟΔΟΣ"},
        {"username": "İlker", "email": "ilker@örnek.com.tr", "first_name": "İlker", "last_name": "Çelik"},
        {"username": "x.", "email": "a@b.c", "first_name": "", "last_name": ""},
        {"username": "", "email": "", "first_name": "", "last_name": ""},
    ]
    tweaks = [lambda v: v, lambda v: v + "123", lambda v: v.upper(), lambda v: v[::-1], lambda v: v + v,
              lambda v: v + "!2024", lambda v: "my" + v + "password", lambda v: v.replace("o", "0"),
              lambda v: v * 4, lambda v: v + "".join(rng.choice("abcdefghijklmnop") for _ in range(12))]
    for user in people:
        for attr in ("username", "email", "first_name", "last_name"):
            value = user[attr]
            if not value:
                continue
            for tweak in tweaks:
                add(tweak(value), user)
    add("johndoe123", {"username": "johndoe"})
    add("example.com", {"email": "alice@example.com"})
    add("moc.elpmaxe", {"email": "x@example.com"})
    add("alice2024!", {"email": "alice@example.com"})
    add("tomtomtomtom", {"first_name": "Tom"})
    add("", {"username": "x."})
    add("", None)
    add("a", {"username": "a"})
    # Short, long and random strong passwords.
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!@#$%^&*()-_=+[]{};:,.<>/? "
    for n in list(range(0, 12)) * 3:
        add("".join(rng.choice(alphabet) for _ in range(n)), rng.choice(people))
    for n in (12, 13, 16, 20, 32, 64, 128, 300, 1000, 5000):
        add("".join(rng.choice(alphabet) for _ in range(n)), rng.choice(people))
    for _ in range(60):
        add("".join(rng.choice(alphabet) for _ in range(rng.randint(12, 40))), rng.choice(people + [None]))
    # Unicode: accents, other scripts, emoji, combining marks, case mappings that change length.
    unicode_words = ["pässwörd", "пароль", "密码密码密码密码密码密码", "パスワード", "🔒🔑🔒🔑🔒🔑🔒🔑🔒🔑🔒🔑", "e\u0301e\u0301e\u0301e\u0301e\u0301e\u0301",
                     "İİİİİİİİİİİİ", "ΟΔΟΣΟΔΟΣΟΔΟΣ", "ß" * 12, "ﬁﬁﬁﬁﬁﬁﬁﬁﬁﬁﬁﬁ", "ǅungla", "x\u200by"]
    for w in unicode_words:
        add(w)
        add(w, rng.choice(people))
        add(w + "x" * rng.randint(0, 8), min_length=8)
    # Random mixes near the similarity threshold: shuffled attribute values.
    for _ in range(60):
        user = rng.choice(people[:6])
        value = user[rng.choice(["username", "email", "first_name", "last_name"])]
        chars = list(value + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, len(value)))))
        rng.shuffle(chars)
        add("".join(chars), user, min_length=rng.choice([8, 12]))
    return out


def setup_django():
    import django
    from django.conf import settings
    settings.configure(INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes"], USE_I18N=False)
    django.setup()


def verdicts(cases):
    from django.contrib.auth import password_validation as pv
    from django.contrib.auth.models import User
    from django.core.exceptions import ValidationError

    for case in cases:
        validators = [pv.UserAttributeSimilarityValidator(), pv.MinimumLengthValidator(case["min_length"]),
                      pv.CommonPasswordValidator(), pv.NumericPasswordValidator()]
        user = User(**case["user"]) if case["user"] is not None else None
        violations = []
        for validator in validators:
            try:
                validator.validate(case["password"], user)
            except ValidationError as e:
                violations += [{"code": err.code, "message": msg} for err in e.error_list for msg in err.messages]
        case["violations"] = violations
    return cases


def main():
    if os.environ.get("LATCHKEY_ORACLE") != "1":
        py = ensure_django()
        env = dict(os.environ, LATCHKEY_ORACLE="1")
        sys.exit(subprocess.run([str(py), __file__, *sys.argv[1:]], env=env).returncode)
    import django
    setup_django()
    data = {"generator": "tests/vectors/gen_policy.py", "django": django.get_version(), "cases": verdicts(cases())}
    text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    if "--check" in sys.argv:
        if OUT.read_text() != text:
            sys.exit(f"{OUT} differs from Django {django.get_version()}'s verdicts: rerun without --check")
        print(f"{OUT.name}: {len(data['cases'])} cases agree with Django {django.get_version()}")
    else:
        OUT.write_text(text)
        n = sum(1 for c in data["cases"] if c["violations"])
        print(f"wrote {OUT} ({len(data['cases'])} cases, {n} with violations)")


if __name__ == "__main__":
    main()
