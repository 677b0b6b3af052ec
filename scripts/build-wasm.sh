#!/usr/bin/env bash
# Builds the npm package `latchkey` into wasm/pkg: one package holding the `web`, `bundler` and
# `nodejs` builds, with TypeScript declarations. Offline: wasm-pack uses the CLIs setup.sh installed.
source "$(dirname "$0")/lib.sh"

# Size over speed for the browser, without touching the server's release profile.
SIZE_FLAGS=(--config 'profile.release.opt-level="z"' --config 'profile.release.lto=true'
            --config 'profile.release.codegen-units=1' --config 'profile.release.panic="abort"')
OUT="$ROOT/wasm/pkg"
rm -rf "$OUT"
for target in web bundler nodejs; do
  say "wasm-pack build --target $target"
  wasm-pack --quiet build "$ROOT/wasm" --target "$target" --release --mode no-install \
    --out-dir "$OUT/$target" --out-name latchkey -- "${SIZE_FLAGS[@]}"
  rm -f "$OUT/$target/.gitignore" "$OUT/$target/package.json" "$OUT/$target/README.md"
done
node "$ROOT/scripts/package-json.mjs" "$OUT"
