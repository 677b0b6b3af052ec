#!/usr/bin/env bash
# Starts the Latchkey server with the web demo at http://localhost:8000/ (override with LATCHKEY_BIND),
# installing and building what is missing first. Ctrl-C stops it.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

"$ROOT/scripts/setup.sh"
if [ ! -f wasm/pkg/web/latchkey_bg.wasm ] || [ -n "$(find core/src core/data wasm/src wasm/js scripts/package-json.mjs -newer wasm/pkg/web/latchkey_bg.wasm -print -quit)" ]; then
  "$ROOT/scripts/build-wasm.sh"
fi
# The release binary compiles web-demo/ in: copy the package only when it changed, so that an
# unchanged demo does not rebuild the server.
if ! diff -rq wasm/pkg/web web-demo/pkg >/dev/null 2>&1; then
  rm -rf web-demo/pkg && cp -r wasm/pkg/web web-demo/pkg
fi
# Passkeys need a domain (an IP address cannot be a WebAuthn relying party): on the default address the
# demo's public URL is http://localhost:8000, the same socket by name.
if [ -z "${LATCHKEY_BIND:-}" ] && [ -z "${LATCHKEY_PUBLIC_URL:-}" ]; then
  export LATCHKEY_PUBLIC_URL=http://localhost:8000
fi
say "Building and starting the server"
exec cargo run --release -p latchkey-server --bin latchkey -- "$@"
