#!/usr/bin/env bash
# PostgreSQL's image runs this once, on the first start of an empty data directory
# (/docker-entrypoint-initdb.d), as the superuser: it creates the least-privileged role
# `onex_app` the production example's db handler logs in as, the way
# tooling/services/postgres.sh does for the integration tests, but with a password. With
# ENVIRONMENT=prod the host refuses a superuser or a role that may touch the server's
# files or programs, so the role gets nothing beyond its own schema.
set -euo pipefail

: "${ONEX_APP_DB_PASSWORD:?set ONEX_APP_DB_PASSWORD (the password of role onex_app)}"

# The password goes in as a psql variable (:'app_password' quotes it as a literal), never
# spliced into the SQL text.
psql --no-psqlrc -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
  --set app_password="$ONEX_APP_DB_PASSWORD" <<'SQL'
create role onex_app login nosuperuser nocreatedb nocreaterole noreplication nobypassrls
  password :'app_password';
grant connect on database :"DBNAME" to onex_app;
-- Its own schema, first on its search_path: unqualified CREATE TABLE (the idempotency
-- store's table) lands there, and nothing else in the database is its.
create schema onex_app authorization onex_app;
alter role onex_app set search_path = onex_app, public;
SQL
