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
#
# Then the bounds of `me` in the same run (bench/bounds: `verify-only`, an HS256 check and a static
# answer; `verify-read`, the same plus one SQLite read), Latchkey's share of each, and the targets
# (reported, not asserted): me >= 60 % of verify-only, me p99 <= 5 ms, me >= 50x Django (with the peer),
# login >= 90 % of the argon2 capacity, idle memory <= 30 MB. Last, when PostgreSQL is reachable
# (LATCHKEY_TEST_POSTGRES_URL, else scripts/postgres.sh), two nodes on one database: TRIALS (100)
# sessions revoked on node A while `me` load runs on node B, and how long B still accepts each
# (bench/revocation.py).
source "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"

DURATION=${DURATION:-10s}
TRIALS=${TRIALS:-100}
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
  # Logins as many users would log in: one account and one client address per connection (the
  # X-Forwarded-For of a trusted proxy), so that what is measured is the hashing capacity, not the
  # share of it one account or one address may hold (the gate's fairness, tests/hostile_traffic.rs).
  for i in $(seq 0 $((2 * CORES - 1))); do
    post "$base" "{\"email\":\"bench$i@example.com\",\"password\":\"$PASSWORD\",\"password_confirm\":\"$PASSWORD\"}" \
      /api/auth/register/ > /dev/null || true
  done
  run login "$base" $((2 * CORES)) /api/token/ LK_METHOD=POST LK_LOGINS=$((2 * CORES)) LK_PASSWORD="$PASSWORD"
  # The flood: logins at 4x capacity (4 x cores connections, each one login at a time) beside `me`.
  run flood_login "$base" $((4 * CORES)) /api/token/ LK_METHOD=POST LK_BODY="$login" > "$WORK/flood" &
  flood=$!
  sleep 1
  run flood_me "$base" 16 /api/auth/me/ LK_AUTH="Bearer $access"
  wait "$flood"
  cat "$WORK/flood"
}

WORK=$(mktemp -d)
BENCH_DB=""                                     # the multi-node scenario's PostgreSQL database
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  [ -z "$BENCH_DB" ] || psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

say "argon2id hash time (same machine, same run)"
cargo run -q --release -p latchkey-core --features hashing --example hash_time | tee "$WORK/hash_time"

say "Latchkey (release, SQLite)"
cargo build -q --release -p latchkey-server
# No request limits: `login` measures the hashing capacity, not the 60 logins a minute allowed by default.
# The logins shed beyond it (503, by design under `flood`) are counted by wrk, not logged one by one.
export LATCHKEY_DATABASE_URL="sqlite://$WORK/bench.db?mode=rwc" LATCHKEY_SECRET_KEY=bench-secret-bench-secret-bench-secret \
  LATCHKEY_LOG=warn,tower_http=off LATCHKEY_RATE_LIMITS=off LATCHKEY_TRUSTED_PROXIES=127.0.0.1

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
IDLE_KB=$(awk '/VmRSS/ { print $2 }' /proc/"$LATCHKEY_PID"/status)
echo "idle resident memory: $IDLE_KB kB"
post http://127.0.0.1:18000 "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\",\"password_confirm\":\"$PASSWORD\"}" /api/auth/register/ >/dev/null
scenarios http://127.0.0.1:18000 | tee "$WORK/latchkey.txt"
kill "$LATCHKEY_PID" 2>/dev/null || true
wait "$LATCHKEY_PID" 2>/dev/null || true

say "Bounds of me (bench/bounds, release): the same wrk run against a server doing only the minimum"
cargo build -q --release -p latchkey-bench-bounds
BOUND_TOKEN=$(target/release/verify-only --mint)
: > "$WORK/bounds.txt"
for bound in verify-only verify-read; do
  # verify-read creates its SQLite file in TMPDIR: the work directory, removed at exit.
  TMPDIR=$WORK LATCHKEY_BIND=127.0.0.1:18100 "target/release/$bound" > "$WORK/$bound.out" &
  BOUND_PID=$!
  until grep -q "listening on" "$WORK/$bound.out" 2>/dev/null; do sleep 0.005; done
  DURATION=3s run warmup http://127.0.0.1:18100 16 /api/auth/me/ LK_AUTH="Bearer $BOUND_TOKEN" > /dev/null
  run "me_$bound" http://127.0.0.1:18100 16 /api/auth/me/ LK_AUTH="Bearer $BOUND_TOKEN" | tee -a "$WORK/bounds.txt"
  kill "$BOUND_PID"; wait "$BOUND_PID" 2>/dev/null || true
done

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

say "Latchkey against its bounds and targets (reported, not asserted)"
[ -f "$WORK/peer.txt" ] || : > "$WORK/peer.txt"
python3 - "$WORK/latchkey.txt" "$WORK/bounds.txt" "$WORK/peer.txt" "$WORK/hash_time" "$IDLE_KB" <<'PY'
import re, sys
def read(path):
    out = {}
    for line in open(path):
        if line.strip():
            name, *pairs = line.split()
            out[name] = {k: float(v) for k, v in (p.split("=") for p in pairs)}
    return out
ours, bounds, peer = read(sys.argv[1]), read(sys.argv[2]), read(sys.argv[3])
capacity = re.search(r"= ([0-9.]+) logins/s", open(sys.argv[4]).read())
idle_mb = int(sys.argv[5]) / 1024
me = ours["me"]
def row(what, value, target="", ok=None):
    print(f"{what:36} {value:>26} {target:>9}  {'' if ok is None else 'ok' if ok else 'MISSED'}")
row("", "", "target")
row("latchkey me", f"{me['rps']:.0f} rps, p99 {me['p99_ms']:.2f} ms")
for name, target in (("verify-only", 60), ("verify-read", None)):
    b = bounds[f"me_{name}"]
    share = 100 * me["rps"] / max(b["rps"], 1)
    row(f"{name} bound (p99 {b['p99_ms']:.2f} ms)", f"{b['rps']:.0f} rps, latchkey {share:.0f} %",
        f">= {target} %" if target else "", share >= target if target else None)
row("latchkey me p99", f"{me['p99_ms']:.2f} ms", "<= 5 ms", me["p99_ms"] <= 5)
if "me" in peer:
    ratio = me["rps"] / max(peer["me"]["rps"], 1)
    row("latchkey me / django me", f"{ratio:.1f}x", ">= 50x", ratio >= 50)
else:
    row("latchkey me / django me", "(no peer)")
if capacity and "login" in ours:
    # Successful logins only: beyond the capacity Latchkey sheds them with 503.
    cap, ok = float(capacity.group(1)), ours["login"]["ok_rps"]
    row("login (200 only) / argon2 capacity", f"{ok:.0f} / {cap:.0f} = {100 * ok / cap:.0f} %", ">= 90 %", ok >= 0.9 * cap)
row("idle resident memory", f"{idle_mb:.1f} MB", "<= 30 MB", idle_mb <= 30)
PY

# Two nodes on one PostgreSQL database: sessions revoked on A, polled on B under `me` load.
# The URL scripts/postgres.sh prints; that script runs only when it does not answer, since it also
# drops the test databases it finds (which a test run at the same time may be using).
PG_URL=${LATCHKEY_TEST_POSTGRES_URL:-postgres://latchkey:latchkey@127.0.0.1:5432/postgres}
psql "$PG_URL" -qtAc 'SELECT 1' >/dev/null 2>&1 || PG_URL=$("$ROOT/scripts/postgres.sh" 2>/dev/null) || PG_URL=""
if [ -n "$PG_URL" ] && psql "$PG_URL" -qtAc 'SELECT 1' >/dev/null 2>&1; then
  say "Multi-node revocation (two release nodes on PostgreSQL, $TRIALS trials, me load on node B)"
  BENCH_DB=latchkey_bench_$$
  psql "$PG_URL" -qc "CREATE DATABASE $BENCH_DB" >/dev/null
  NODE_URL="${PG_URL%/*}/$BENCH_DB"
  for port in 18001 18002; do             # one after the other: the first one migrates
    LATCHKEY_DATABASE_URL=$NODE_URL LATCHKEY_BIND=127.0.0.1:$port target/release/latchkey > "$WORK/node$port.out" &
    until grep -q "listening on" "$WORK/node$port.out" 2>/dev/null; do sleep 0.005; done
  done
  A=http://127.0.0.1:18001 B=http://127.0.0.1:18002
  post "$A" "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\",\"password_confirm\":\"$PASSWORD\"}" /api/auth/register/ >/dev/null
  load_access=$(post "$A" "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" /api/token/ | field access)
  # The load: `me` on B with a session nobody revokes, for as long as the trials take.
  LK_AUTH="Bearer $load_access" wrk -t2 -c16 -d1h --timeout 10s -s "$ROOT/bench/wrk.lua" "$B/api/auth/me/" > /dev/null &
  LOAD_PID=$!
  sleep 1
  python3 "$ROOT/bench/revocation.py" --a "$A" --b "$B" --email "$EMAIL" --password "$PASSWORD" --trials "$TRIALS"
  kill "$LOAD_PID" 2>/dev/null || true
else
  echo "(PostgreSQL not reachable: no multi-node revocation scenario; set LATCHKEY_TEST_POSTGRES_URL or see scripts/postgres.sh)"
fi
