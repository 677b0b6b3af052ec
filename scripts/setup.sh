#!/usr/bin/env bash
# Installs what building and testing Latchkey needs, skipping whatever is already there at the right
# version: safe to run any number of times. `--browser` also installs Debian's Chromium and ChromeDriver.
source "$(dirname "$0")/lib.sh"

WASM_PACK_VERSION=0.15.1

# The toolchain rust-toolchain.toml pins. When rustup lacks it under that name but the installed
# stable toolchain is that very version (a machine that may not download toolchains), link it.
PINNED=$(awk -F'"' '/^channel/ { print $2 }' "$ROOT/rust-toolchain.toml")
if ! rustup toolchain list | grep -q "^$PINNED"; then
  if rustc +stable --version 2>/dev/null | grep -qF "rustc $PINNED "; then
    # `rustup toolchain link` refuses names that look like releases, so link the directory itself.
    say "using the installed stable toolchain as $PINNED"
    host=$(rustc +stable -vV | awk '/^host:/ { print $2 }')
    toolchains="${RUSTUP_HOME:-$HOME/.rustup}/toolchains"
    ln -s "$toolchains/stable-$host" "$toolchains/$PINNED-$host"
  else
    rustup toolchain install "$PINNED" --profile minimal --component rustfmt,clippy --target wasm32-unknown-unknown
  fi
fi

say "Rust target wasm32-unknown-unknown"
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

WBG="$(wasm_bindgen_version)"
if ! has_version wasm-bindgen "$WBG"; then
  say "wasm-bindgen-cli $WBG (a few minutes, once)"
  # No --locked: the CLI's own lockfile pins a crate missing from the index.
  cargo install wasm-bindgen-cli --version "$WBG" --force
fi
if ! has_version wasm-pack "$WASM_PACK_VERSION"; then
  say "wasm-pack $WASM_PACK_VERSION (a few minutes, once)"
  cargo install wasm-pack --version "$WASM_PACK_VERSION"
fi

if [ ! -x "$ROOT/tools/node_modules/.bin/wasm-opt" ] || [ ! -x "$ROOT/tools/node_modules/.bin/tsc" ] ||
   [ ! -d "$ROOT/tools/node_modules/playwright-core" ] || [ ! -d "$ROOT/tools/node_modules/oidc-provider" ]; then
  say "npm tools: binaryen (wasm-opt), playwright-core, typescript, oidc-provider"
  (cd "$ROOT/tools" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

if [ "${1:-}" = "--browser" ] && ! { [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; }; then
  say "Chromium and ChromeDriver from Debian"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  # The first install sometimes fails transiently on a fresh machine; the retry succeeds.
  as_root apt-get install -y -qq chromium chromium-driver || as_root apt-get install -y -qq chromium chromium-driver
fi
