#!/usr/bin/env bash
# HashiCorp Consul for the integration tests: one dev agent (server + client, data in
# memory) on 127.0.0.1. No registry ships a Consul binary, so it is built once from the
# Go module of a pinned tag into $ONEX_CACHE_DIR/consul/<tag>/consul (cold: about 5 min on
# 2 cores; later runs build nothing), then started or fixed only where needed. Safe to run
# again: a second run changes nothing and says so.
#
#   bash tooling/services/consul.sh [up]      # build if needed, start, wait for a leader
#   bash tooling/services/consul.sh status    # answers? one line, exit 0/1; changes nothing
#   bash tooling/services/consul.sh stop      # SIGTERM (SIGKILL after a bound), wait for the port to close
#   bash tooling/services/consul.sh start     # start the built agent, wait for a leader
#   bash tooling/services/consul.sh restart   # stop + start (a dev agent keeps nothing: data is in memory)
#   bash tooling/services/consul.sh down      # stop and delete this instance's state dir
#   bash tooling/services/consul.sh build     # only build (or find) the cached binary
#
# Instances are keyed by HTTP port: ONEX_CONSUL_PORT (default 8500). State (pid file,
# log) lives in $ONEX_CACHE_DIR/consul/run/<port>/.
set -euo pipefail

CONSUL_HOST=127.0.0.1
CONSUL_PORT=${ONEX_CONSUL_PORT:-8500}
case $CONSUL_PORT in '' | *[!0-9]*) printf '[consul] ERROR: ONEX_CONSUL_PORT must be a port number, not "%s"\n' "$CONSUL_PORT" >&2 && exit 1 ;; esac

ONEX_SERVICE=consul
[ "$CONSUL_PORT" = 8500 ] || ONEX_SERVICE=consul:$CONSUL_PORT
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# A tag the Go module proxy serves (it refuses some, e.g. v1.20.7, v1.20.8, v1.21.1).
CONSUL_VERSION=v1.20.6
# Consul's go.mod replaces these with directories that are not in the module zip.
REPLACED_MODULES=(api sdk proto-public envoyextensions troubleshoot)

READY_TIMEOUT=${ONEX_CONSUL_READY_TIMEOUT:-60}
STOP_TIMEOUT=${ONEX_CONSUL_STOP_TIMEOUT:-15} # seconds after SIGTERM before SIGKILL

CONSUL_DIR=$ONEX_CACHE_DIR/consul
BUILD_DIR=$CONSUL_DIR/$CONSUL_VERSION
CONSUL_BIN=$BUILD_DIR/consul
RUN_DIR=$CONSUL_DIR/run/$CONSUL_PORT
PID_FILE=$RUN_DIR/consul.pid
AGENT_LOG=$RUN_DIR/consul.log
HTTP_ADDR=$CONSUL_HOST:$CONSUL_PORT

changes=()
changed() {
  changes+=("$1")
  log "$1"
}

# ---------------------------------------------------------------------------------------
# Build (shared by every instance of this tag)

installed() {
  [ -x "$CONSUL_BIN" ]
}

# `go install github.com/hashicorp/consul@tag` fails on the replace directives, so: download
# the module (Go's own proxy settings apply), copy it into a writable dir, drop the five
# replaces (the required versions of those modules then come from the proxy) and build.
# The binary is built under a temporary name and renamed, so `consul` exists only when
# complete. GOPATH, GOMODCACHE and GOCACHE keep their defaults, so a rebuild reuses them.
build_consul() {
  installed && return 0
  # The official tarball's place, in case the caller's PATH lacks it (a non-login shell).
  if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then PATH=/usr/local/go/bin:$PATH; fi
  command -v go >/dev/null 2>&1 || die "go not found: install a Go toolchain (1.22 or newer)"
  local t0=$SECONDS src=$BUILD_DIR/src mod_dir m
  mkdir -p "$BUILD_DIR"
  log "building Consul $CONSUL_VERSION from its Go module into $CONSUL_BIN (cold: about 5 minutes; output in $BUILD_DIR/build.log)"
  : >"$BUILD_DIR/build.log"
  # From the build dir, so no go.mod or go.work of the caller's directory applies.
  mod_dir=$(cd "$BUILD_DIR" && go mod download -json "github.com/hashicorp/consul@$CONSUL_VERSION" 2>>"$BUILD_DIR/build.log" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p') || true
  if [ -z "$mod_dir" ] || [ ! -f "$mod_dir/go.mod" ]; then
    tail -n 20 "$BUILD_DIR/build.log" >&2
    die "go mod download github.com/hashicorp/consul@$CONSUL_VERSION failed (output above)"
  fi
  rm -rf "$src"
  cp -R "$mod_dir" "$src"
  chmod -R u+w "$src"
  for m in "${REPLACED_MODULES[@]}"; do
    (cd "$src" && go mod edit "-dropreplace=github.com/hashicorp/consul/$m")
  done
  rm -f "$CONSUL_BIN.partial"
  if ! (cd "$src" && GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0 go build -trimpath -o "$CONSUL_BIN.partial" . >>"$BUILD_DIR/build.log" 2>&1); then
    tail -n 40 "$BUILD_DIR/build.log" >&2
    rm -f "$CONSUL_BIN.partial"
    die "go build of Consul $CONSUL_VERSION failed (output above, whole log in $BUILD_DIR/build.log); nothing was installed"
  fi
  "$CONSUL_BIN.partial" version >>"$BUILD_DIR/build.log" 2>&1 || die "the built binary does not run: $CONSUL_BIN.partial version"
  mv -f "$CONSUL_BIN.partial" "$CONSUL_BIN"
  rm -rf "$src"
  changed "built Consul $CONSUL_VERSION ($(du -m "$CONSUL_BIN" | cut -f1) MB) in $CONSUL_BIN in $((SECONDS - t0))s"
}

# ---------------------------------------------------------------------------------------
# This instance

# Consul's dev defaults for the shared agent on 8500 (server RPC 8300, Serf 8301/8302, gRPC
# 8502/8503, DNS 8600); another instance moves server RPC and Serf next to its HTTP port
# and turns off what the tests do not use (DNS, gRPC, WAN Serf), so both can run at once.
agent_args() {
  local args=(agent -dev -bind="$CONSUL_HOST" -client="$CONSUL_HOST" -http-port="$CONSUL_PORT"
    -node="onex-consul-$CONSUL_PORT" -log-level=info -hcl "disable_update_check = true")
  if [ "$CONSUL_PORT" != 8500 ]; then
    args+=(-server-port="$((CONSUL_PORT + 1))" -serf-lan-port="$((CONSUL_PORT + 2))" -serf-wan-port=-1
      -dns-port=-1 -grpc-port=-1 -grpc-tls-port=-1)
  fi
  printf '%s\n' "${args[@]}"
}

# leader: prints the leader's address (`"127.0.0.1:8300"`); exit 0 only when there is one.
leader() {
  local answer
  answer=$(curl -fsS --max-time 2 "http://$HTTP_ADDR/v1/status/leader" 2>&1) || {
    printf '%s\n' "$answer" >&2
    return 1
  }
  [[ $answer =~ ^\"[^\"]+\"$ ]] || {
    printf 'no leader yet (%s)\n' "$answer" >&2
    return 1
  }
  printf '%s\n' "$answer"
}


# Prints the pid of this instance's agent when it is alive (and really our agent: a recycled
# pid does not count), else returns 1.
instance_pid() {
  local pid
  [ -f "$PID_FILE" ] || return 1
  pid=$(cat "$PID_FILE" 2>/dev/null) || return 1
  case $pid in '' | *[!0-9]*) return 1 ;; esac
  alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "agent -dev -bind=$CONSUL_HOST -client=$CONSUL_HOST -http-port=$CONSUL_PORT " || return 1
  printf '%s\n' "$pid"
}

# The running agent's command line (binary + arguments, one per line).
running_cmdline() {
  tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null
}

desired_cmdline() {
  printf '%s\n' "$CONSUL_BIN"
  agent_args
}

show_log_tail() {
  if [ -s "$AGENT_LOG" ]; then
    printf -- '--- last 40 lines of %s ---\n' "$AGENT_LOG"
    tail -n 40 "$AGENT_LOG"
  fi
}

# agent_ready <pid>: polled by wait_for (which silences it). When the agent is gone it ends
# the run at once, saying why on fd 4 (the real stderr).
agent_ready() {
  if ! alive "$1"; then
    {
      show_log_tail
      warn "the agent (pid $1) exited during startup; log: $AGENT_LOG"
    } >&4 2>&4
    rm -f "$PID_FILE"
    exit 1
  fi
  leader
}

# wait_ready <pid>
wait_ready() {
  exec 4>&2
  if ! wait_for "leader on http://$HTTP_ADDR/v1/status/leader" "$READY_TIMEOUT" agent_ready "$1"; then
    show_log_tail >&2
    die "the agent (pid $1) has no leader on $HTTP_ADDR after ${READY_TIMEOUT}s (ONEX_CONSUL_READY_TIMEOUT); it is left running; log: $AGENT_LOG"
  fi
  exec 4>&-
}

# Starts the agent detached (own session, immune to SIGHUP, stdio on a file, without any
# inherited fd above 2: the lock on fd 9 or a caller's pipe), so it outlives this script.
launch() {
  local pid t0=$SECONDS args
  mapfile -t args < <(agent_args)
  printf '\n=== %s: starting Consul %s on %s\n' "$(date '+%F %T')" "$CONSUL_VERSION" "$HTTP_ADDR" >>"$AGENT_LOG"
  (
    cd "$RUN_DIR"
    for fd in /proc/"$BASHPID"/fd/*; do
      fd=${fd##*/}
      if [ "$fd" -gt 2 ]; then { exec {fd}>&-; } 2>/dev/null || true; fi
    done
    exec setsid nohup "$CONSUL_BIN" "${args[@]}" </dev/null >>"$AGENT_LOG" 2>&1 9>&- 8>&-
  ) &
  pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"
  printf '%s\n' "$CONSUL_VERSION" >"$RUN_DIR/version"
  wait_ready "$pid"
  changed "started Consul $CONSUL_VERSION dev agent (pid $pid) on $HTTP_ADDR in $((SECONDS - t0))s"
}

# Stops this instance: SIGTERM, SIGKILL after STOP_TIMEOUT seconds; returns when the process
# is gone and the HTTP port is closed.
stop_agent() {
  local pid t0=$SECONDS how=SIGTERM
  if ! pid=$(instance_pid); then
    if [ -f "$PID_FILE" ]; then
      rm -f "$PID_FILE"
      changed "removed stale pid file $PID_FILE"
    fi
    port_open "$CONSUL_HOST" "$CONSUL_PORT" &&
      warn "no agent of this instance runs, but something else listens on $HTTP_ADDR; left alone"
    return 0
  fi
  terminate "$pid" "$STOP_TIMEOUT" ONEX_CONSUL_STOP_TIMEOUT
  how=$TERMINATED_WITH
  until ! port_open "$CONSUL_HOST" "$CONSUL_PORT"; do
    ((SECONDS - t0 < STOP_TIMEOUT + 10)) || die "pid $pid is gone but $HTTP_ADDR still accepts connections"
    sleep 0.2
  done
  rm -f "$PID_FILE"
  changed "stopped Consul (pid $pid, $how) on $HTTP_ADDR in $((SECONDS - t0))s"
}

# Starts this instance unless it runs already (then waits for a leader); restarts it when
# it runs another binary or other arguments than this script would give it.
start_agent() {
  local pid
  mkdir -p "$RUN_DIR"
  if pid=$(instance_pid); then
    if [ "$(running_cmdline "$pid")" != "$(desired_cmdline)" ]; then
      log "restarting pid $pid: it runs another binary or other arguments than $(desired_cmdline | tr '\n' ' ')"
      stop_agent
    else
      log "Consul already running (pid $pid) on $HTTP_ADDR"
      wait_ready "$pid"
      return 0
    fi
  elif [ -f "$PID_FILE" ]; then
    rm -f "$PID_FILE"
    changed "removed stale pid file $PID_FILE (the agent had exited)"
  fi
  ! port_open "$CONSUL_HOST" "$CONSUL_PORT" ||
    die "something that is not this instance's agent (no live pid in $PID_FILE) already listens on $HTTP_ADDR; stop it first (ss -ltnp 'sport = :$CONSUL_PORT')"
  launch
}

report() {
  local answer
  answer=$(leader 2>/dev/null) && answer="leader $answer" || answer="no leader"
  if [ "${#changes[@]}" -eq 0 ]; then
    log "nothing to do: Consul $CONSUL_VERSION already running on $HTTP_ADDR (pid $(instance_pid || echo '?'); $answer; state in $RUN_DIR)"
  else
    log "ready in $((SECONDS - start))s after ${#changes[@]} change(s): Consul $CONSUL_VERSION on $HTTP_ADDR ($answer; state in $RUN_DIR)"
  fi
  log "CONSUL_HTTP_ADDR=$HTTP_ADDR"
}

need_curl() {
  command -v curl >/dev/null 2>&1 || die "curl not found (the readiness probe): install it (Debian: curl)"
}

need_installed() {
  installed || die "Consul $CONSUL_VERSION is not built in $BUILD_DIR; run: bash tooling/services/consul.sh up"
}

# One build at a time per cache dir, whatever the port (fd 8; fd 9 is take_lock's).
build_locked() {
  if installed; then
    log "Consul $CONSUL_VERSION already built ($CONSUL_BIN)"
    return 0
  fi
  exec 8>"$ONEX_CACHE_DIR/consul-install.lock"
  if command -v flock >/dev/null 2>&1 && ! flock -w 1800 8; then
    die "another run still builds into $BUILD_DIR after 1800s ($ONEX_CACHE_DIR/consul-install.lock)"
  fi
  build_consul
  exec 8>&-
}

# ---------------------------------------------------------------------------------------

command=${1:-up}
case $command in
  status)
    # One line, exit 0 when the agent has a leader; changes nothing.
    pid=$(instance_pid) || pid=""
    version=$(cat "$RUN_DIR/version" 2>/dev/null) || version=$CONSUL_VERSION
    need_curl
    if answer=$(leader 2>&1); then
      log "reachable: http://$HTTP_ADDR (Consul $version, ${pid:+pid $pid, }leader $answer)"
      exit 0
    fi
    if port_open "$CONSUL_HOST" "$CONSUL_PORT"; then
      log "not ready: http://$HTTP_ADDR (${pid:+pid $pid running, }$(printf '%s' "$answer" | head -n 1))"
    else
      log "not reachable: nothing on $HTTP_ADDR${pid:+ (pid $pid running)}"
    fi
    exit 1
    ;;
  up | start | stop | restart | down | build) ;;
  *) die "usage: $0 [up|status|start|stop|restart|down|build]  (instance: ONEX_CONSUL_PORT)" ;;
esac

take_lock "consul-$CONSUL_PORT"
start=$SECONDS

case $command in
  build)
    build_locked
    ;;
  up)
    need_curl
    build_locked
    start_agent
    report
    ;;
  start)
    need_curl
    need_installed
    start_agent
    report
    ;;
  restart)
    need_curl
    need_installed
    stop_agent
    start_agent
    report
    ;;
  stop)
    stop_agent
    [ "${#changes[@]}" -gt 0 ] || log "nothing to do: Consul on $HTTP_ADDR is not running"
    ;;
  down)
    stop_agent
    if [ -d "$RUN_DIR" ]; then
      rm -rf "$RUN_DIR"
      changed "deleted $RUN_DIR"
    fi
    [ "${#changes[@]}" -gt 0 ] || log "nothing to do: Consul on $HTTP_ADDR is not running and has no state"
    ;;
esac
