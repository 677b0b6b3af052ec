#!/usr/bin/env bash
# Makes sure a Python with aiosmtpd (from PyPI) exists in target/smtp-venv for the SMTP round-trip
# test, then prints its interpreter's path. The test starts `python -m aiosmtpd` on loopback itself.
# Idempotent: an existing venv with the pinned version is reused.
source "$(dirname "$0")/lib.sh"

AIOSMTPD_VERSION=1.4.6
venv="$CARGO_TARGET_DIR/smtp-venv"
if ! "$venv/bin/python" -c "import aiosmtpd, sys; sys.exit(aiosmtpd.__version__ != '$AIOSMTPD_VERSION')" 2>/dev/null; then
  say "aiosmtpd $AIOSMTPD_VERSION from PyPI" >&2
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "aiosmtpd==$AIOSMTPD_VERSION" >&2
fi
echo "$venv/bin/python"
