# shellcheck shell=bash
# Shared helpers for the service scripts in tooling/services/. Source it after setting
# ONEX_SERVICE (the name used in log lines). It defines variables and functions and sets an
# ERR trap; it starts nothing.

# Downloads, builds and state of the services live outside the repository.
ONEX_CACHE_DIR="${ONEX_CACHE_DIR:-$HOME/.cache/onex-services}"

# A failing command under `set -e` says where it failed instead of exiting silently
# (errtrace: also inside functions).
set -o errtrace
trap 'printf "[%s] ERROR: exit %s at %s:%s: %s\n" "${ONEX_SERVICE:-services}" "$?" "${BASH_SOURCE[0]##*/}" "$LINENO" "$BASH_COMMAND" >&2' ERR

log() { printf '[%s] %s\n' "${ONEX_SERVICE:-services}" "$*"; }
warn() { printf '[%s] WARNING: %s\n' "${ONEX_SERVICE:-services}" "$*" >&2; }
die() {
  printf '[%s] ERROR: %s\n' "${ONEX_SERVICE:-services}" "$*" >&2
  exit 1
}

# Runs a command as root: directly when we are root, else through passwordless sudo.
# It closes fd 9 (take_lock's lock) so a server it starts does not hold the lock forever.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@" 9>&-
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo -n "$@" 9>&-
  else
    die "needs root (or passwordless sudo) to run: $*"
  fi
}

# wait_for <what> <timeout seconds> <command...>: polls the command every half second
# until it succeeds; returns 1 (after saying so) when the timeout passes first.
wait_for() {
  local what=$1 timeout=$2 start=$SECONDS
  shift 2
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS - start >= timeout)); then
      warn "$what: still not ready after ${timeout}s"
      return 1
    fi
    sleep 0.5
  done
  log "$what: ready after $((SECONDS - start))s"
}

# port_open <host> <port>: true when something accepts TCP connections there.
port_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# apt_install <package...>: `apt-get update` once per process, then a non-interactive install.
ONEX_APT_UPDATED=${ONEX_APT_UPDATED:-0}
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install $* with this system's package manager."
  if [ "$ONEX_APT_UPDATED" != 1 ]; then
    log "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    ONEX_APT_UPDATED=1
  fi
  log "apt-get install -y $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

# take_lock <name>: serialises runs of the same script (two sessions, or a session and CI)
# through a lock on fd 9 in the cache dir; released when the script and every process that
# inherited fd 9 exit. Start long-running servers with `9>&-` (as_root does) or they keep it.
take_lock() {
  mkdir -p "$ONEX_CACHE_DIR"
  exec 9>"$ONEX_CACHE_DIR/$1.lock"
  if command -v flock >/dev/null 2>&1 && ! flock -w 600 9; then
    die "another run of $1 still holds $ONEX_CACHE_DIR/$1.lock after 600s"
  fi
}

# alive <pid>: the process exists and is not a zombie (a server that died while the script
# that started it, its parent, still runs stays a zombie until reaped).
alive() {
  kill -0 "$1" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# terminate <pid> <timeout seconds> <name of the timeout variable>: SIGTERM (a clean
# shutdown), SIGKILL once the timeout has passed; returns when the process is gone and sets
# TERMINATED_WITH to the signal that ended it. Dies if it outlives SIGKILL by 10 seconds.
TERMINATED_WITH=
terminate() {
  local pid=$1 timeout=$2 setting=$3 t0=$SECONDS
  TERMINATED_WITH=SIGTERM
  kill -TERM "$pid" 2>/dev/null || true
  while alive "$pid"; do
    if ((SECONDS - t0 >= timeout)) && [ "$TERMINATED_WITH" = SIGTERM ]; then
      warn "pid $pid still running ${timeout}s after SIGTERM ($setting); sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      TERMINATED_WITH=SIGKILL
    fi
    ((SECONDS - t0 < timeout + 10)) || die "pid $pid survived SIGKILL for 10s"
    sleep 0.1
  done
}
