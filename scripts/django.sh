#!/usr/bin/env bash
# Makes sure a Python venv with Django, django-otp, Django REST framework and simplejwt (from PyPI,
# pinned) exists in target/django-interop-venv for the migration tests, then prints its interpreter.
# They build a real Django database with Django itself, and check Latchkey's tokens with simplejwt.
# Idempotent: an existing venv with these exact versions is reused.
source "$(dirname "$0")/lib.sh"

REQUIREMENTS=(Django==5.2.19 django-otp==1.7.0 djangorestframework==3.16.1 djangorestframework-simplejwt==5.5.1
              argon2-cffi==25.1.0 bcrypt==4.3.0 "psycopg[binary]==3.2.13")
venv="$CARGO_TARGET_DIR/django-interop-venv"
stamp="$venv/.requirements"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "${REQUIREMENTS[*]}" ]; then
  say "Django, django-otp, DRF and simplejwt from PyPI" >&2
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${REQUIREMENTS[@]}" >&2
  echo "${REQUIREMENTS[*]}" > "$stamp"
fi
echo "$venv/bin/python"
