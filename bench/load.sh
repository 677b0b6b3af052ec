#!/usr/bin/env bash
# HTTP load on loopback, bounded in time: Latchkey (release build, fresh SQLite) and, when the Django
# peer is available (LATCHKEY_PEER_DIR: a directory with django/setup.sh, the DRF + simplejwt stack to
# compare with), the same scenarios against it in the
# same run, with the ratios. Installs wrk from Debian when missing.
#
#   bench/load.sh                 # DURATION=10s by default
#
# Each server first gets 3 s of unreported warm-up. Scenarios: `me` (GET /api/auth/me/ with a Bearer token, 16 connections), `verify`
# (POST /api/token/verify/, 16), `login` (POST /api/token/, 2 x cores connections), and `flood`:
# logins at four times the hashing capacity while `me` runs, reporting me's p99.
source "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"

DURATION=${DURATION:-10s}
PEER_DIR=${LATCHKEY_PEER_DIR:-}
EMAIL=bench@example.com
PASSWORD='Bench-Passw0rd-2024!'
CORES=$(nproc)

command -v wrk >/dev/null || { export DEBIAN_FRONTEND=noninteractive; as_root apt-get install -y -qq wrk >/dev/null; }

post() { curl -sS -X POST -H 'Content-Type: application/json' -d "$2" "$1$3"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

# run NAME BASE CONNECTIONS PATH [env...]: one wrk run, one line `NAME rps=… p50_ms=… p99_ms=…`.
run() {
  local name=$1 base=$2 connections=$3 path=$4; shift 4
  local line
  line=$(env "$@" wrk -t2 -c"$connections" -d"$DURATION" --timeout 10s -s "$ROOT/bench/wrk.lua" "$base$path" | grep '^RESULT')
  echo "$name ${line#RESULT }"
}

# scenarios BASE: every scenario against one server (the user must exist).
scenarios() {
  local base=$1 access login flood
  login=$(printf '{"email":"%s","password":"%s"}' "$EMAIL" "$PASSWORD")
  access=$(post "$base" "$login" /api/token/ | field access)
  # Warm-up, not reported: connection pools, caches and the allocator settle first.
  DURATION=3s run warmup "$base" 16 /api/auth/me/ LK_AUTH="Bearer $access" > /dev/null
  run me "$base" 16 /api/auth/me/ LK_AUTH="Bearer $access"
  run verify "$base" 16 /api/token/verify/ LK_METHOD=POST LK_BODY="{\"token\":\"$access\"}"
  run login "$base" $((2 * CORES)) /api/token/ LK_METHOD=POST LK_BODY="$login"
  # The flood: logins at 4x capacity (4 x cores connections, each one login at a time) beside `me`.
  run flood_login "$base" $((4 * CORES)) /api/token/ LK_METHOD=POST LK_BODY="$login" > "$WORK/flood" &
  flood=$!
  sleep 1
  run flood_me "$base" 16 /api/auth/me/ LK_AUTH="Bearer $access"
  wait "$flood"
  cat "$WORK/flood"
}

WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT

say "argon2id hash time (same machine, same run)"
cargo run -q --release -p latchkey-core --features hashing --example hash_time

say "Latchkey (release, SQLite)"
cargo build -q --release -p latchkey-server
export LATCHKEY_DATABASE_URL="sqlite://$WORK/bench.db?mode=rwc" LATCHKEY_SECRET_KEY=bench-secret-bench-secret-bench-secret LATCHKEY_LOG=warn

# start_latchkey: runs the server in the background and prints how long it took to print `listening on`.
start_latchkey() {
  local started=$(date +%s%N)
  LATCHKEY_BIND=127.0.0.1:18000 target/release/latchkey > "$WORK/latchkey.out" &
  LATCHKEY_PID=$!
  until grep -q "listening on" "$WORK/latchkey.out" 2>/dev/null; do sleep 0.005; done
  echo "ready in $(( ($(date +%s%N) - started) / 1000000 )) ms"
}
start_latchkey > /dev/null                      # creates and migrates the database
kill "$LATCHKEY_PID"; wait "$LATCHKEY_PID" 2>/dev/null || true
start_latchkey > "$WORK/ready"
echo "startup on an existing SQLite file: $(cat "$WORK/ready")"
sleep 1
echo "idle resident memory: $(awk '/VmRSS/ { print $2 " " $3 }' /proc/"$LATCHKEY_PID"/status)"
post http://127.0.0.1:18000 "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\",\"password_confirm\":\"$PASSWORD\"}" /api/auth/register/ >/dev/null
scenarios http://127.0.0.1:18000 | tee "$WORK/latchkey.txt"
kill "$LATCHKEY_PID" 2>/dev/null || true

if [ -n "$PEER_DIR" ] && [ -x "$PEER_DIR/django/setup.sh" ]; then
  say "Django peer ($PEER_DIR, run from a copy)"
  cp -r "$PEER_DIR/django" "$WORK/peer" && chmod -R u+w "$WORK/peer"
  "$WORK/peer/setup.sh" >/dev/null
  "$WORK/peer/run.sh" > "$WORK/peer.log" 2>&1 &
  until curl -s -o /dev/null http://127.0.0.1:8001/api/token/ 2>/dev/null; do sleep 0.5; done
  scenarios http://127.0.0.1:8001 | tee "$WORK/peer.txt"
  say "Latchkey / Django"
  python3 - "$WORK/latchkey.txt" "$WORK/peer.txt" <<'PY'
import sys
def read(path):
    out = {}
    for line in open(path):
        name, *pairs = line.split()
        out[name] = {k: float(v) for k, v in (p.split("=") for p in pairs)}
    return out
ours, peer = read(sys.argv[1]), read(sys.argv[2])
print(f"{'scenario':12} {'latchkey rps':>13} {'django rps':>11} {'ratio':>7} {'latchkey p99':>13} {'django p99':>11}")
for name in ours:
    a, b = ours[name], peer.get(name)
    if b:
        print(f"{name:12} {a['rps']:13.0f} {b['rps']:11.0f} {a['rps'] / max(b['rps'], 1):6.1f}x {a['p99_ms']:11.2f}ms {b['p99_ms']:9.2f}ms")
PY
else
  echo "(no Django peer at $PEER_DIR: set LATCHKEY_PEER_DIR to compare)"
fi
