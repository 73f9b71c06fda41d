#!/usr/bin/env bash
# A private, throw-away PostgreSQL cluster for tests that stop the server (spec 4.10: the
# database gone for a few seconds under load). The shared cluster on 5432 is never touched:
# this one is its own Debian cluster `<ver>/<name>` on its own port, trust auth for loopback
# TCP, listening on 127.0.0.1 only, database `onex_test` owned by `postgres`.
#
#   ONEX_PG_PRIVATE_PORT=55432 ONEX_PG_PRIVATE_NAME=onex_chaos bash tooling/services/postgres-private.sh up
#   ... stop | start | status | down      # down stops it and drops the cluster and its data
#
# Needs root (or passwordless sudo) and the server package (`bash tooling/services/postgres.sh`
# installs it). Idempotent: `up` creates and starts only what is missing.
set -euo pipefail

ONEX_SERVICE=postgres-private
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=${ONEX_PG_PRIVATE_PORT:-55432}
NAME=${ONEX_PG_PRIVATE_NAME:-onex_chaos}
READY_TIMEOUT=${ONEX_PG_READY_TIMEOUT:-60}

command -v pg_lsclusters >/dev/null 2>&1 || die "postgresql-common is missing: run bash tooling/services/postgres.sh first"
VER=$(for bin in /usr/lib/postgresql/*/bin/postgres; do [ -x "$bin" ] && basename "$(dirname "$(dirname "$bin")")"; done | sort -V | tail -n 1)
[ -n "$VER" ] || die "no PostgreSQL server installed: run bash tooling/services/postgres.sh first"

exists() { pg_lsclusters -h | awk -v v="$VER" -v n="$NAME" '$1 == v && $2 == n { found = 1 } END { exit !found }'; }
online() { pg_lsclusters -h | awk -v v="$VER" -v n="$NAME" '$1 == v && $2 == n && $4 ~ /online/ { found = 1 } END { exit !found }'; }
ready() { pg_isready -q -h 127.0.0.1 -p "$PORT"; }

start_cluster() {
  if online; then
    log "$VER/$NAME already running on 127.0.0.1:$PORT"
  else
    as_root pg_ctlcluster --skip-systemctl-redirect "$VER" "$NAME" start
  fi
  wait_for "$VER/$NAME on 127.0.0.1:$PORT" "$READY_TIMEOUT" ready
}

stop_cluster() {
  if online; then
    as_root pg_ctlcluster --skip-systemctl-redirect "$VER" "$NAME" stop -m fast
    log "$VER/$NAME stopped"
  else
    log "$VER/$NAME not running: nothing to do"
  fi
}

case "${1:-up}" in
  up)
    take_lock "postgres-private-$PORT"
    if ! exists; then
      as_root pg_createcluster "$VER" "$NAME" -p "$PORT" --locale C.UTF-8 -- --auth=trust >/dev/null
      # A conf.d file: pg_conftool writes an unquoted listen_addresses the server refuses.
      as_root sh -c "printf \"listen_addresses = '127.0.0.1'\\n\" > /etc/postgresql/$VER/$NAME/conf.d/onex.conf"
      log "created $VER/$NAME on port $PORT (trust auth, 127.0.0.1 only)"
    fi
    start_cluster
    if [ "$(psql -X -w -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -qtA -c "select 1 from pg_database where datname = 'onex_test'")" != 1 ]; then
      psql -X -w -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -q -c 'create database onex_test'
      log "created database onex_test"
    fi
    ;;
  start) take_lock "postgres-private-$PORT"; exists || die "$VER/$NAME does not exist: run up first"; start_cluster ;;
  stop) take_lock "postgres-private-$PORT"; stop_cluster ;;
  status) if ready; then log "reachable: 127.0.0.1:$PORT ($VER/$NAME)"; else log "not reachable: 127.0.0.1:$PORT"; exit 1; fi ;;
  down)
    take_lock "postgres-private-$PORT"
    if exists; then
      as_root pg_dropcluster --stop "$VER" "$NAME"
      log "dropped $VER/$NAME"
    else
      log "$VER/$NAME does not exist: nothing to do"
    fi
    ;;
  *) die "usage: $0 [up|start|stop|status|down]" ;;
esac
