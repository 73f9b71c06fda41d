#!/usr/bin/env bash
# Prints which integration-test services are reachable, by asking each service script in
# this folder (`<name>.sh status`). Changes nothing. Exits 1 if any is unreachable.
#
#   bash tooling/services/status.sh
set -euo pipefail

ONEX_SERVICE=status
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$here/lib.sh"

down=0
for script in "$here"/*.sh; do
  name=$(basename "$script" .sh)
  # postgres-private.sh is a per-test throw-away cluster, not a shared service.
  case $name in lib | up | status | postgres-private) continue ;; esac
  bash "$script" status || down=1
done
exit "$down"
