# Shared by the scripts: paths, PATH and small helpers. Source it, do not run it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Tools the scripts install: cargo binaries, then wasm-opt 132 from npm ahead of any Debian wasm-opt
# (Debian's binaryen 108 silently produces broken wasm).
export PATH="$ROOT/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

# has_version CMD VERSION: CMD is on PATH and `CMD --version` mentions VERSION.
has_version() { command -v "$1" >/dev/null 2>&1 && "$1" --version 2>/dev/null | grep -qF "$2"; }

# The wasm-bindgen version pinned in Cargo.lock: the CLI must match it exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

# Run as root or through sudo, for apt.
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
