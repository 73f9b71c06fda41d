#!/usr/bin/env bash
# Starts every service the integration tests use, by running each service script in this
# folder (every *.sh except lib.sh, up.sh, status.sh and postgres-private.sh: consul.sh, kafka.sh, openbao.sh,
# postgres.sh, in that order). Each script is idempotent, so this is safe to run again.
# Prints a summary; exits 1 if any failed.
#
#   bash tooling/services/up.sh              # all services
#   bash tooling/services/up.sh postgres     # only the named ones
set -euo pipefail

ONEX_SERVICE=up
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$here/lib.sh"

services=()
if [ "$#" -gt 0 ]; then
  for name in "$@"; do
    [ -f "$here/$name.sh" ] || die "no service script $here/$name.sh"
    services+=("$name")
  done
else
  for script in "$here"/*.sh; do
    name=$(basename "$script" .sh)
    # postgres-private.sh is a per-test throw-away cluster, not a shared service.
    case $name in lib | up | status | postgres-private) continue ;; esac
    services+=("$name")
  done
fi

summary=()
failed=0
for name in "${services[@]}"; do
  log "== $name =="
  t0=$SECONDS
  rc=0
  bash "$here/$name.sh" up || rc=$?
  if [ "$rc" -eq 0 ]; then
    summary+=("$(printf '  %-10s ok      %3ss' "$name" "$((SECONDS - t0))")")
  else
    summary+=("$(printf '  %-10s FAILED  %3ss  (exit %s)' "$name" "$((SECONDS - t0))" "$rc")")
    failed=1
  fi
done

log "summary (cache: $ONEX_CACHE_DIR):"
printf '%s\n' "${summary[@]}"
exit "$failed"
