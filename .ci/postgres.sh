#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the tests and print its URL on stdout.
#
#   url=$(bash .ci/postgres.sh start DIR)   # installs PostgreSQL from Debian if missing (as root)
#   bash .ci/postgres.sh stop DIR
#
# The cluster lives in DIR, listens only on a Unix socket in DIR (no TCP port to collide with),
# trusts local connections, and trades durability for speed (fsync off): test data only.
set -euo pipefail

action="${1:?usage: postgres.sh start|stop DIR}"
dir="${2:?usage: postgres.sh start|stop DIR}"
port=54329

find_bin() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$found" ] && [ -x "$found/initdb" ]; then echo "$found"; return; fi
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
}

as_owner() {  # PostgreSQL refuses to run as root: run it as the postgres user then
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$action" in
  start)
    bin=$(find_bin)
    if [ -z "$bin" ]; then
      if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing PostgreSQL from the distribution for the PostgreSQL test run …" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq --no-install-recommends postgresql >/dev/null
        bin=$(find_bin)
      fi
    fi
    if [ -z "$bin" ]; then
      echo "PostgreSQL is not installed and cannot be installed without root (apt-get install postgresql)" >&2
      exit 1
    fi
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "$bin/initdb" -D "$dir/data" --auth=trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if ! as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-k $dir -p $port -c listen_addresses='' -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=300" \
        start >/dev/null
    fi
    echo "postgresql://postgres@/postgres?host=$dir&port=$port"
    ;;
  stop)
    bin=$(find_bin)
    [ -n "$bin" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
    ;;
  *)
    echo "usage: postgres.sh start|stop DIR" >&2; exit 2 ;;
esac
