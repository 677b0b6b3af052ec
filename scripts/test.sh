#!/usr/bin/env bash
# Runs every test of the project, installing what is missing first (see setup.sh):
# formatting and lints, the Rust tests (native; the server's on SQLite, PostgreSQL and a real SMTP
# server), the Django oracle check, the core on wasm32 in Node
# and in headless Chromium, the npm package build and its TypeScript declarations, and the
# JavaScript tests in Node and in Chromium.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

"$ROOT/scripts/setup.sh" --browser

say "cargo fmt and clippy"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --all-features -- -D warnings

say "PostgreSQL for the server tests"
LATCHKEY_TEST_POSTGRES_URL="$("$ROOT/scripts/postgres.sh")"
export LATCHKEY_TEST_POSTGRES_URL LATCHKEY_REQUIRE_POSTGRES=1

say "Django, django-otp, DRF and simplejwt for the migration tests"
LATCHKEY_TEST_DJANGO_PYTHON="$("$ROOT/scripts/django.sh")"
export LATCHKEY_TEST_DJANGO_PYTHON LATCHKEY_REQUIRE_DJANGO=1

say "aiosmtpd for the SMTP round trip"
LATCHKEY_TEST_SMTP_PYTHON="$("$ROOT/scripts/smtp.sh")"
export LATCHKEY_TEST_SMTP_PYTHON LATCHKEY_REQUIRE_SMTP=1

say "Rust tests (native; the server's on SQLite and on PostgreSQL)"
cargo test --workspace --all-features

say "Django's own verdicts still match tests/vectors/policy_django.json"
python3 tests/vectors/gen_policy.py --check

say "latchkey-core on wasm32: build, then its tests in Node and in headless Chromium"
cargo build -p latchkey-core --target wasm32-unknown-unknown
cargo test -p latchkey-core --target wasm32-unknown-unknown
WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER=/usr/bin/chromedriver \
  WASM_BINDGEN_TEST_WEBDRIVER_JSON="$ROOT/tests/browser/webdriver.json" \
  cargo test -p latchkey-core --target wasm32-unknown-unknown

say "npm package"
"$ROOT/scripts/build-wasm.sh"

say "A Vite app that imports the package builds and runs (tests/vite)"
node tests/vite/smoke.mjs

say "TypeScript declarations (tsc --noEmit)"
tsc -p tests/ts

say "JavaScript tests in Node (the server's verdicts against the package's among them)"
cargo build -p latchkey-server --all-features  # the binary the test run built: nothing to recompile
node --test tests/js/

say "JavaScript tests in headless Chromium"
node tests/browser/run.mjs
node tests/browser/client.mjs
node tests/browser/client-reauth.mjs
node tests/browser/demo.mjs
node tests/browser/demo-reauth.mjs
node tests/browser/client-passkeys.mjs
node tests/browser/demo-passkeys.mjs
# Social login: the OpenID provider the scripts use passes its own check first.
node tests/oidc/provider-selftest.mjs
node tests/browser/client-social.mjs
node tests/browser/demo-social.mjs
node tests/browser/demo-code.mjs
node tests/browser/demo-enforce.mjs
# The passkey ceremonies, social login, e-mailed codes and 2FA enforcement once more with the server on PostgreSQL.
LATCHKEY_BROWSER_DATABASE=postgres node tests/browser/client-passkeys.mjs
LATCHKEY_BROWSER_DATABASE=postgres node tests/browser/demo-passkeys.mjs
LATCHKEY_BROWSER_DATABASE=postgres node tests/browser/client-social.mjs
LATCHKEY_BROWSER_DATABASE=postgres node tests/browser/demo-social.mjs
LATCHKEY_BROWSER_DATABASE=postgres node tests/browser/demo-code.mjs
LATCHKEY_BROWSER_DATABASE=postgres node tests/browser/demo-enforce.mjs

say "All tests passed"
