#!/usr/bin/env bash
# PostgreSQL for the integration tests: a Debian cluster on 127.0.0.1:5432 with trust auth
# for loopback TCP, a database `onex_test` owned by `postgres`, and a least-privileged
# login role `onex_app` (no superuser, no server-file roles) with its own schema there,
# for examples and for tests that must not run as a superuser. Installs the server
# package when it is missing, then creates, fixes or starts only what is not in place.
# Safe to run again: a second run changes nothing and says so.
#
#   bash tooling/services/postgres.sh          # set up and start; then:
#   psql -h 127.0.0.1 -U postgres -d onex_test
#   psql -h 127.0.0.1 -U onex_app -d onex_test
#   bash tooling/services/postgres.sh status   # reachable? (exit 0/1), changes nothing
set -euo pipefail

ONEX_SERVICE=postgres
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_HOST=127.0.0.1
PG_PORT=5432
PG_DB=onex_test
PG_USER=postgres
APP_USER=onex_app
READY_TIMEOUT=${ONEX_PG_READY_TIMEOUT:-60}
HBA_MARKER='# onex-services: integration tests connect over loopback TCP without a password'

changes=()
changed() {
  changes+=("$1")
  log "$1"
}

# Newest installed server version, from /usr/lib/postgresql/<ver>/bin/postgres.
server_version() {
  local bin
  for bin in /usr/lib/postgresql/*/bin/postgres; do
    if [ -x "$bin" ]; then basename "$(dirname "$(dirname "$bin")")"; fi
  done | sort -V | tail -n 1
}

# Runs psql as the test user over loopback TCP; never prompts, never uses a password file.
pg_sql() {
  local db=$1
  shift
  env -u PGPASSWORD PGPASSFILE=/nonexistent/onex-no-pgpass PGCONNECT_TIMEOUT=5 \
    psql -X -w -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$db" -qtA "$@"
}

# The auth method of the first pg_hba.conf host rule that matches user $2 from 127.0.0.1.
hba_loopback_method() {
  as_root cat "$1" | awk -v db="$PG_DB" -v user="$2" '
    /^[[:space:]]*(#|$)/ { next }
    $1 ~ /^host(ssl|nossl|gssenc|nogssenc)?$/ {
      dbok = ($2 == "all" || $2 == db || $2 == "postgres")
      userok = ($3 == "all" || $3 == user)
      addrok = ($4 == "all" || $4 == "samehost" || $4 == "127.0.0.1/32" || $4 == "127.0.0.0/8" || $4 == "127.0.0.1")
      if (dbok && userok && addrok) { print ($5 ~ /^[0-9.]+$/ ? $6 : $5); exit }
    }'
}

# `status`: one line, exit 0 when the test database answers without a password.
if [ "${1:-up}" = status ]; then
  url="postgres://$PG_USER@$PG_HOST:$PG_PORT/$PG_DB"
  if ! command -v psql >/dev/null 2>&1; then
    port_open "$PG_HOST" "$PG_PORT" && log "port $PG_PORT open but psql is missing; cannot check $url" || log "not reachable: nothing on $PG_HOST:$PG_PORT"
    exit 1
  elif server=$(pg_sql "$PG_DB" -c 'show server_version' 2>&1); then
    app=$(pg_sql "$PG_DB" -c "select 'present' from pg_roles where rolname = '$APP_USER' and rolcanlogin and not rolsuper")
    log "reachable: $url (PostgreSQL $server; least-privileged role $APP_USER ${app:-missing: run without 'status' to create it})"
  else
    log "not reachable: $url ($(printf '%s' "$server" | head -n 1))"
    exit 1
  fi
  exit 0
elif [ "${1:-up}" != up ]; then
  die "usage: $0 [up|status]"
fi

take_lock postgres
start=$SECONDS

# 1. Server binaries.
version=$(server_version)
if [ -z "$version" ] || ! command -v pg_ctlcluster >/dev/null 2>&1 || ! command -v pg_createcluster >/dev/null 2>&1; then
  log "PostgreSQL server not installed (no /usr/lib/postgresql/*/bin/postgres or pg_ctlcluster)"
  t0=$SECONDS
  apt_install postgresql
  version=$(server_version)
  [ -n "$version" ] || die "installed the postgresql package but found no /usr/lib/postgresql/*/bin/postgres"
  changed "installed PostgreSQL $version (Debian package postgresql) in $((SECONDS - t0))s"
else
  log "PostgreSQL $version server already installed"
fi
command -v pg_isready >/dev/null 2>&1 && command -v psql >/dev/null 2>&1 ||
  die "pg_isready/psql missing: apt-get install postgresql-client"

# 2. A cluster on port 5432 (any version); create <version>/main, or <version>/onex when
#    <version>/main already exists on another port.
read -r cl_version cl_name cl_status < <(pg_lsclusters -h | awk -v p="$PG_PORT" '$3 == p { print $1, $2, $4; exit }') || true
if [ -z "${cl_version:-}" ]; then
  port_open "$PG_HOST" "$PG_PORT" &&
    die "something that is not a pg_lsclusters cluster already listens on $PG_HOST:$PG_PORT; stop it first"
  cl_version=$version
  cl_name=main
  if pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" { found = 1 } END { exit !found }'; then
    cl_name=onex
  fi
  t0=$SECONDS
  as_root pg_createcluster "$cl_version" "$cl_name" -p "$PG_PORT" --locale C.UTF-8 -- --auth=trust >/dev/null
  changed "created cluster $cl_version/$cl_name on port $PG_PORT with trust auth in $((SECONDS - t0))s"
  cl_status=down
else
  log "cluster $cl_version/$cl_name uses port $PG_PORT ($cl_status)"
fi
conf_dir=/etc/postgresql/$cl_version/$cl_name

# 3. Listen on 127.0.0.1 only, through a drop-in (conf.d is read after postgresql.conf).
needs_restart=0
dropin=$conf_dir/conf.d/onex.conf
want_dropin="# Written by tooling/services/postgres.sh: loopback only, for the integration tests.
listen_addresses = '$PG_HOST'"
if [ "$(as_root cat "$dropin" 2>/dev/null || true)" != "$want_dropin" ]; then
  as_root mkdir -p "$conf_dir/conf.d"
  printf '%s\n' "$want_dropin" | as_root tee "$dropin" >/dev/null
  as_root chown --reference="$conf_dir/postgresql.conf" "$dropin"
  changed "wrote $dropin (listen_addresses = '$PG_HOST')"
  needs_restart=1
fi

# 4. Trust auth for TCP from 127.0.0.1: prepend one rule (first match wins) unless the
#    first matching rule already says trust, for the test user and for the app role.
needs_reload=0
hba=$conf_dir/pg_hba.conf
method=$(hba_loopback_method "$hba" "$PG_USER")
app_method=$(hba_loopback_method "$hba" "$APP_USER")
if [ "$method" != trust ] || [ "$app_method" != trust ]; then
  [ "$method" = trust ] && method="$app_method for $APP_USER"
  tmp=$(mktemp)
  {
    printf '%s\n' "$HBA_MARKER"
    printf 'host    all             all             127.0.0.1/32            trust\n\n'
    as_root cat "$hba"
  } >"$tmp"
  as_root sh -c "[ -e '$hba.onex-backup' ] || cp -p '$hba' '$hba.onex-backup'"
  as_root sh -c "cat '$tmp' > '$hba'"
  rm -f "$tmp"
  changed "pg_hba.conf: trust for 127.0.0.1/32 added above the first rule (was ${method:-no matching rule}; backup in $hba.onex-backup)"
  needs_reload=1
fi

# 5. Running, with the configuration above in effect.
cl_status=$(pg_lsclusters -h | awk -v v="$cl_version" -v n="$cl_name" '$1 == v && $2 == n { print $4 }')
if [ "$cl_status" != online ]; then
  t0=$SECONDS
  as_root pg_ctlcluster --skip-systemctl-redirect "$cl_version" "$cl_name" start
  changed "started cluster $cl_version/$cl_name in $((SECONDS - t0))s"
elif [ "$needs_restart" = 1 ]; then
  as_root pg_ctlcluster --skip-systemctl-redirect "$cl_version" "$cl_name" restart -m fast
  changed "restarted cluster $cl_version/$cl_name to apply listen_addresses"
elif [ "$needs_reload" = 1 ]; then
  as_root pg_ctlcluster --skip-systemctl-redirect "$cl_version" "$cl_name" reload
  changed "reloaded cluster $cl_version/$cl_name to apply pg_hba.conf"
fi
wait_for "pg_isready -h $PG_HOST -p $PG_PORT" "$READY_TIMEOUT" pg_isready -q -h "$PG_HOST" -p "$PG_PORT" ||
  die "not accepting connections; see /var/log/postgresql/postgresql-$cl_version-$cl_name.log"
pg_sql postgres -c 'select 1' >/dev/null ||
  die "connecting as $PG_USER to $PG_HOST:$PG_PORT without a password failed; check the first 'host' rules in $hba"
listen=$(pg_sql postgres -c 'show listen_addresses')
[ "$listen" = "$PG_HOST" ] ||
  die "the server listens on '$listen', not '$PG_HOST': does $conf_dir/postgresql.conf include_dir 'conf.d', or set listen_addresses after it?"

# 6. The test database.
owner=$(pg_sql postgres -c "select pg_get_userbyid(datdba) from pg_database where datname = '$PG_DB'")
if [ -z "$owner" ]; then
  pg_sql postgres -c "create database $PG_DB owner $PG_USER encoding 'UTF8' lc_collate 'C.UTF-8' lc_ctype 'C.UTF-8' template template0"
  changed "created database $PG_DB owned by $PG_USER"
elif [ "$owner" != "$PG_USER" ]; then
  pg_sql postgres -c "alter database $PG_DB owner to $PG_USER"
  changed "database $PG_DB: owner $owner -> $PG_USER"
fi

# 7. The least-privileged app role: may log in and use onex_test, owns schema onex_app
#    (first on its search_path, so unqualified CREATE TABLE lands there), nothing more.
app_attrs=$(pg_sql postgres -c "select concat_ws(',', case when rolcanlogin then 'login' end, case when rolsuper then 'superuser' end, case when rolcreatedb then 'createdb' end, case when rolcreaterole then 'createrole' end) from pg_roles where rolname = '$APP_USER'")
if [ -z "$(pg_sql postgres -c "select 1 from pg_roles where rolname = '$APP_USER'")" ]; then
  pg_sql postgres -c "create role $APP_USER login nosuperuser nocreatedb nocreaterole noreplication nobypassrls"
  changed "created role $APP_USER (login, no superuser, no createdb/createrole)"
elif [ "$app_attrs" != login ]; then
  pg_sql postgres -c "alter role $APP_USER login nosuperuser nocreatedb nocreaterole noreplication nobypassrls"
  changed "role $APP_USER: attributes ${app_attrs:-none} -> login only"
fi
server_roles=$(pg_sql postgres -c "select string_agg(b.rolname, ',') from pg_auth_members m join pg_roles b on b.oid = m.roleid join pg_roles u on u.oid = m.member where u.rolname = '$APP_USER' and b.rolname in ('pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files')")
if [ -n "$server_roles" ]; then
  pg_sql postgres -c "revoke $server_roles from $APP_USER"
  changed "role $APP_USER: revoked $server_roles"
fi
if [ "$(pg_sql postgres -c "select has_database_privilege('$APP_USER', '$PG_DB', 'CONNECT')")" != t ]; then
  pg_sql postgres -c "grant connect on database $PG_DB to $APP_USER"
  changed "granted CONNECT on $PG_DB to $APP_USER"
fi
schema_owner=$(pg_sql "$PG_DB" -c "select pg_get_userbyid(nspowner) from pg_namespace where nspname = '$APP_USER'")
if [ -z "$schema_owner" ]; then
  pg_sql "$PG_DB" -c "create schema $APP_USER authorization $APP_USER"
  changed "created schema $APP_USER in $PG_DB owned by $APP_USER"
elif [ "$schema_owner" != "$APP_USER" ]; then
  pg_sql "$PG_DB" -c "alter schema $APP_USER owner to $APP_USER"
  changed "schema $APP_USER: owner $schema_owner -> $APP_USER"
fi
app_path=$(pg_sql postgres -c "select array_to_string(s.setconfig, ' ') from pg_db_role_setting s join pg_roles r on r.oid = s.setrole where r.rolname = '$APP_USER' and s.setdatabase = 0")
if [ "$app_path" != "search_path=$APP_USER, public" ]; then
  pg_sql postgres -c "alter role $APP_USER set search_path = $APP_USER, public"
  changed "role $APP_USER: search_path = $APP_USER, public"
fi

server=$(pg_sql "$PG_DB" -c 'show server_version')
if [ "${#changes[@]}" -eq 0 ]; then
  log "nothing to do: PostgreSQL $server already running on $PG_HOST:$PG_PORT (cluster $cl_version/$cl_name, trust auth, database $PG_DB)"
else
  log "ready in $((SECONDS - start))s after ${#changes[@]} change(s): PostgreSQL $server on $PG_HOST:$PG_PORT (cluster $cl_version/$cl_name, database $PG_DB)"
fi
log "ONEX_PG_URL=postgres://$PG_USER@$PG_HOST:$PG_PORT/$PG_DB"
log "ONEX_PG_APP_URL=postgres://$APP_USER@$PG_HOST:$PG_PORT/$PG_DB"
