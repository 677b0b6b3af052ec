#!/usr/bin/env bash
# Abuse on loopback: what hostile clients cost the release build (fresh SQLite per server), one table of
# figures against their bounds. A measurement: it exits 0 even when a bound FAILs. Installs wrk from
# Debian when missing. The attack client is bench/abuse.py (Python standard library only).
#
#   bench/abuse.sh                 # ABUSE_BASE=1e3597b DURATION=10s ABUSE_N=300 ABUSE_ROUNDS=4
#
# 1. Storage per hostile request: ABUSE_N anonymous logins with distinct hostile names, each from its own
#    X-Forwarded-For address (a 65 KB name, 254 x U+FDFA, random 254-character ASCII), then ABUSE_N
#    refusals of one locked-out name. Bytes kept (db after a checkpoint + log) per request, <= 2 KiB.
# 2. Re-authentication flood: 48 connections of one signed-in attacker send wrong old passwords to
#    /api/auth/password/change/ for ~10 s while 10 victims log in; share of victims with 200 within 2 s, >= 90 %.
# 3. Parallel guesses: 100 wrong passwords at once at one account from 100 addresses; passwords
#    evaluated (401s, as against 429s), <= LATCHKEY_LOCKOUT_ATTEMPTS.
# 4. Throughput cost: wrk on GET /api/auth/me/ and correct POST /api/token/ (8 accounts, each from its
#    own address), this build against the baseline ABUSE_BASE (the commit before the hardening), ABBA
#    order, ABUSE_ROUNDS runs of DURATION each; the best runs compared (others' work on the machine
#    only takes throughput away), cost < 5 % per endpoint, every run listed so the noise shows.
#    The baseline also runs 1-3, in an extra column (ABUSE_BASE_ATTACKS=0 skips that).
# ABUSE_SCENARIOS=throughput runs 4 alone; ABUSE_BASE_BIN=path uses an already built baseline binary.
# Scenarios 1-3 read the attack client's source addresses from X-Forwarded-For, so per-IP limits do not
# hide the cost of what the attacker sends.
source "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"

ABUSE_BASE=${ABUSE_BASE:-1e3597b}
DURATION=${DURATION:-10s}
N=${ABUSE_N:-300}
ROUNDS=${ABUSE_ROUNDS:-4}
BASE_ATTACKS=${ABUSE_BASE_ATTACKS:-1}
SCENARIOS=${ABUSE_SCENARIOS:-all}
CORES=$(nproc)
# 32 bytes or more, as the server requires of a real key.
export LATCHKEY_SECRET_KEY=abuse-secret-abuse-secret-abuse-secret-0123
# The defaults, pinned: log bytes count in the storage figure.
export LATCHKEY_LOG=info LATCHKEY_LOG_FORMAT=json
# The attack client presents its many addresses in X-Forwarded-For; only a trusted peer's is believed.
export LATCHKEY_TRUSTED_PROXIES=127.0.0.1

command -v wrk >/dev/null || { export DEBIAN_FRONTEND=noninteractive; as_root apt-get install -y -qq wrk >/dev/null; }

WORK=$(mktemp -d)
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  [ -d "$WORK/base" ] && git worktree remove --force "$WORK/base" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
STARTED=$(date +%s)
COMMIT=$(git rev-parse --short HEAD)$([ -z "$(git status --porcelain)" ] || echo +dirty)
BASE_COMMIT=$(git rev-parse --short "$ABUSE_BASE")

# same_as_base: the sources (tracked or not) are exactly the baseline's, so one build serves as both.
same_as_base() {
  git diff --quiet "$ABUSE_BASE" -- Cargo.toml Cargo.lock core server &&
    [ -z "$(git ls-files --others --exclude-standard -- Cargo.toml Cargo.lock core server)" ]
}

# build_base: the baseline binary in $WORK/latchkey-base, built from a worktree of ABUSE_BASE into the
# shared target dir, where its dependencies are already compiled (only the workspace crates compile
# again), and copied out before the current build overwrites target/release/latchkey.
build_base() {
  git worktree add -q --detach "$WORK/base" "$ABUSE_BASE"
  (cd "$WORK/base" && cargo build -q --release -p latchkey-server)
  cp "$CARGO_TARGET_DIR/release/latchkey" "$WORK/latchkey-base"
}

say "Builds (release): this tree ($COMMIT) and the baseline ($BASE_COMMIT)"
if same_as_base; then
  echo "(the tree is the baseline's: one build serves as both)"
elif [ -n "${ABUSE_BASE_BIN:-}" ]; then
  cp "$ABUSE_BASE_BIN" "$WORK/latchkey-base"
else
  build_base
fi
cargo build -q --release -p latchkey-server
cp "$CARGO_TARGET_DIR/release/latchkey" "$WORK/latchkey-current"
[ -e "$WORK/latchkey-base" ] || cp "$WORK/latchkey-current" "$WORK/latchkey-base"

# start_server BUILD NAME [env...]: runs $WORK/latchkey-BUILD on a fresh SQLite file in $WORK/NAME/ with
# its stdout and stderr in $WORK/NAME/server.log; sets URL, DB, LOG and SERVER_PID.
start_server() {
  local build=$1 name=$2; shift 2
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p "$WORK/$name"
  DB=$WORK/$name/latchkey.db LOG=$WORK/$name/server.log URL=http://127.0.0.1:$port
  env "$@" LATCHKEY_DATABASE_URL="sqlite://$DB?mode=rwc" LATCHKEY_BIND=127.0.0.1:$port \
    "$WORK/latchkey-$build" > "$LOG" 2>&1 &
  SERVER_PID=$!
  local tries=0
  until grep -q "listening on" "$LOG" 2>/dev/null; do
    sleep 0.05
    tries=$((tries + 1))
    if [ $tries -gt 600 ] || ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "the $build server did not start:"; tail -5 "$LOG"; exit 1
    fi
  done
}

stop_server() { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; }

# attacks BUILD: scenarios 1-3 against a fresh server of BUILD, default settings; rows into $WORK/rows.
attacks() {
  start_server "$1" "attacks-$1"
  python3 bench/abuse.py attacks --url "$URL" --db "$DB" --log "$LOG" --label "$1" --n "$N" >> "$WORK/rows"
  stop_server
}

# The login load: wrk.lua's request and RESULT line, but every thread cycles through accounts of its
# own, each from its own address. One account hammered by all connections would measure the hashing
# gate's per-account and per-address shares (quick 503s), not what correct logins cost.
WRK_THREADS=2 ACCOUNTS_PER_THREAD=4
cat > "$WORK/logins.lua" <<'LUA'
dofile(os.getenv("LK_WRK_LUA"))
local per_thread = tonumber(os.getenv("LK_ACCOUNTS_PER_THREAD"))
local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end
local count = 0
function request()
  local k = id * per_thread + count % per_thread
  count = count + 1
  local headers = { ["Content-Type"] = "application/json", ["X-Forwarded-For"] = "10.4.0." .. (k + 1) }
  local body = string.format('{"email":"bench%d@example.com","password":"%s"}', k, os.getenv("LK_PASSWORD"))
  return wrk.format("POST", "/api/token/", headers, body)
end
LUA

# wrk_run LABEL ENDPOINT CONNECTIONS PATH SCRIPT [env...]: one wrk run, one line `LABEL ENDPOINT rps=…
# others=…`, others being the share of the CPU that neither the server nor wrk took (the machine is shared).
wrk_run() {
  local label=$1 endpoint=$2 connections=$3 path=$4 script=$5; shift 5
  env "$@" python3 bench/abuse.py wrk --label "$label" --endpoint "$endpoint" --server-pid "$SERVER_PID" -- \
    wrk -t$WRK_THREADS -c"$connections" -d"$DURATION" --timeout 10s -s "$script" "$URL$path"
}

# throughput BUILD: `me` and correct logins with wrk, as bench/load.sh runs them (16 and 2 x cores
# connections), on a fresh server without request limits; every login succeeds, so no lockout counts.
throughput() {
  local build=$1 password='Bench-Passw0rd-2024!' access k
  start_server "$build" "throughput-$build-$round" LATCHKEY_RATE_LIMITS=off
  for k in $(seq 0 $((WRK_THREADS * ACCOUNTS_PER_THREAD - 1))); do
    curl -sS -o /dev/null -X POST -H 'Content-Type: application/json' -H "X-Forwarded-For: 10.4.1.$((k + 1))" \
      -d "{\"email\":\"bench$k@example.com\",\"password\":\"$password\",\"password_confirm\":\"$password\"}" \
      "$URL/api/auth/register/"
  done
  access=$(curl -sS -X POST -H 'Content-Type: application/json' \
    -d "{\"email\":\"bench0@example.com\",\"password\":\"$password\"}" "$URL/api/token/" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access"])')
  # Warm-up, not reported: connection pools, caches and the allocator settle first.
  DURATION=3s wrk_run warmup me 16 /api/auth/me/ bench/wrk.lua LK_AUTH="Bearer $access" > /dev/null
  wrk_run "$build" me 16 /api/auth/me/ bench/wrk.lua LK_AUTH="Bearer $access" | tee -a "$WORK/throughput"
  wrk_run "$build" login $((2 * CORES)) /api/token/ "$WORK/logins.lua" LK_WRK_LUA="$ROOT/bench/wrk.lua" \
    LK_ACCOUNTS_PER_THREAD=$ACCOUNTS_PER_THREAD LK_PASSWORD="$password" | tee -a "$WORK/throughput"
  stop_server
}

if [ "$SCENARIOS" = all ]; then
  say "1-3. Attacks on this build"
  attacks current
fi
if [ "$SCENARIOS" = all ] && [ "$BASE_ATTACKS" = 1 ]; then
  say "1-3. The same attacks on the baseline (extra column)"
  attacks base
fi

say "4. Throughput, $ROUNDS round(s) of $DURATION per endpoint and build"
# ABBA order: a drift of the machine over the runs weighs on both builds alike.
for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then order="base current"; else order="current base"; fi
  for build in $order; do throughput "$build"; done
done
python3 bench/abuse.py throughput "$WORK/throughput" >> "$WORK/rows"

say "Results"
echo "commit $COMMIT (baseline $BASE_COMMIT), nproc $CORES, $(date -u '+%Y-%m-%d %H:%M UTC'), took $(( $(date +%s) - STARTED )) s"
echo
python3 bench/abuse.py table "$WORK/rows"
