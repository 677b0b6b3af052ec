#!/usr/bin/env bash
# Makes sure a local PostgreSQL from Debian's packages is installed and running on loopback, with a
# `latchkey` superuser for the tests, then prints the admin URL the test harness uses. Idempotent.
source "$(dirname "$0")/lib.sh"

export DEBIAN_FRONTEND=noninteractive
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  say "PostgreSQL from Debian" >&2
  as_root apt-get update -qq >&2
  as_root apt-get install -y -qq postgresql >&2 || as_root apt-get install -y -qq postgresql >&2
fi
cluster=$(pg_lsclusters --no-header | awk 'NR == 1 { print $1 " " $2 }')
[ -n "$cluster" ] || { echo "no PostgreSQL cluster found" >&2; exit 1; }
# shellcheck disable=SC2086
pg_lsclusters --no-header | awk 'NR == 1 { exit ($4 == "online") ? 0 : 1 }' || as_root pg_ctlcluster $cluster start >&2
port=$(pg_lsclusters --no-header | awk 'NR == 1 { print $3 }')
as_root su postgres -c "psql -p $port -qtAc \"SELECT 1 FROM pg_roles WHERE rolname = 'latchkey'\"" | grep -q 1 ||
  as_root su postgres -c "psql -p $port -qc \"CREATE ROLE latchkey LOGIN SUPERUSER PASSWORD 'latchkey'\"" >&2
# Each server test creates its own database; drop those an earlier run left behind.
as_root su postgres -c "psql -p $port -qtAc \"SELECT datname FROM pg_database WHERE datname LIKE 'latchkey_test_%'\"" |
  while read -r db; do as_root su postgres -c "psql -p $port -qc 'DROP DATABASE IF EXISTS $db'" >&2; done
echo "postgres://latchkey:latchkey@127.0.0.1:$port/postgres"
