#!/usr/bin/env bash
# Apache Kafka for the integration tests: a single-node KRaft broker (broker + controller in
# one JVM) on 127.0.0.1, run natively on the machine's Java 17. Fetches the broker jars with
# Maven into $ONEX_CACHE_DIR/kafka/<version>/lib and the kafkajs readiness probe with npm
# into $ONEX_CACHE_DIR/kafka/probe (once; later runs download nothing), then formats, starts
# or fixes only what is not in place. Safe to run again: a second run changes nothing and
# says so.
#
#   bash tooling/services/kafka.sh [up]      # install if needed, start, wait until it answers
#   bash tooling/services/kafka.sh status    # answers? one line, exit 0/1; changes nothing
#   bash tooling/services/kafka.sh stop      # SIGTERM (SIGKILL after a bound), wait for the ports to close
#   bash tooling/services/kafka.sh start     # start an installed instance, wait until it answers
#   bash tooling/services/kafka.sh restart   # stop + start; topics and committed offsets survive
#   bash tooling/services/kafka.sh down      # stop and delete this instance's data dir
#
# Instances are keyed by port. The shared one is 127.0.0.1:9092 (controller 9093); a test
# that stops its broker runs its own, e.g.
#   ONEX_KAFKA_PORT=19092 ONEX_KAFKA_CONTROLLER_PORT=19093 bash tooling/services/kafka.sh up
# State (data, pid file, logs, server.properties, log4j.properties) lives in
# $ONEX_CACHE_DIR/kafka/run/<port>/.
set -euo pipefail

KAFKA_HOST=127.0.0.1
KAFKA_PORT=${ONEX_KAFKA_PORT:-9092}
case $KAFKA_PORT in '' | *[!0-9]*) printf '[kafka] ERROR: ONEX_KAFKA_PORT must be a port number, not "%s"\n' "$KAFKA_PORT" >&2 && exit 1 ;; esac
CONTROLLER_PORT=${ONEX_KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}
case $CONTROLLER_PORT in '' | *[!0-9]*) printf '[kafka] ERROR: ONEX_KAFKA_CONTROLLER_PORT must be a port number, not "%s"\n' "$CONTROLLER_PORT" >&2 && exit 1 ;; esac
[ "$CONTROLLER_PORT" != "$KAFKA_PORT" ] || {
  printf '[kafka] ERROR: the controller port must differ from the broker port (%s)\n' "$KAFKA_PORT" >&2
  exit 1
}

ONEX_SERVICE=kafka
[ "$KAFKA_PORT" = 9092 ] || ONEX_SERVICE=kafka:$KAFKA_PORT
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_VERSION=3.9.1 # 3.9.x: kafkajs 2.2.4 still finds the protocol versions it needs (4.x removed old ones)
SCALA_VERSION=2.13
SLF4J_RELOAD4J_VERSION=1.7.36 # kafka_2.13 brings no logging binding
RELOAD4J_VERSION=1.2.25
DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1
KAFKAJS_VERSION=2.2.4 # the project's client

READY_TIMEOUT=${ONEX_KAFKA_READY_TIMEOUT:-90}
STOP_TIMEOUT=${ONEX_KAFKA_STOP_TIMEOUT:-20} # seconds after SIGTERM before SIGKILL
JVM_OPTS=(-Xms256m -Xmx512m -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true)

KAFKA_DIR=$ONEX_CACHE_DIR/kafka
KAFKA_LIB=$KAFKA_DIR/$KAFKA_VERSION/lib
PROBE_DIR=$KAFKA_DIR/probe
PROBE_JS=$PROBE_DIR/probe.cjs
RUN_DIR=$KAFKA_DIR/run/$KAFKA_PORT
DATA_DIR=$RUN_DIR/data
PID_FILE=$RUN_DIR/kafka.pid
SERVER_PROPERTIES=$RUN_DIR/server.properties
LOG4J_PROPERTIES=$RUN_DIR/log4j.properties
BROKER_LOG=$RUN_DIR/kafka.log # log4j output (rolled at 10 MB)
CONSOLE_LOG=$RUN_DIR/kafka.out # the JVM's own stdout/stderr (crashes, bad options)
BROKERS=$KAFKA_HOST:$KAFKA_PORT

changes=()
changed() {
  changes+=("$1")
  log "$1"
}

# ---------------------------------------------------------------------------------------
# Installation (shared by every instance of this version)

installed() {
  [ -d "$KAFKA_LIB" ] && [ -f "$PROBE_DIR/node_modules/kafkajs/package.json" ] &&
    [ "$(probe_version)" = "$KAFKAJS_VERSION" ]
}

probe_version() {
  node -e 'process.stdout.write(require(process.argv[1]).version)' "$PROBE_DIR/node_modules/kafkajs/package.json" 2>/dev/null || true
}

# The jars, from a pom of our own through maven-dependency-plugin (Maven's own repository
# settings apply). Copied into lib.partial and renamed, so `lib` exists only when complete.
install_jars() {
  [ ! -d "$KAFKA_LIB" ] || return 0
  command -v java >/dev/null 2>&1 || die "java not found: install a JDK 17 (Debian: openjdk-17-jre-headless)"
  command -v mvn >/dev/null 2>&1 || die "mvn not found: install Maven (Debian: maven)"
  local build=$KAFKA_DIR/$KAFKA_VERSION t0=$SECONDS
  mkdir -p "$build"
  rm -rf "$build/lib.partial"
  cat >"$build/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by tooling/services/kafka.sh: the runtime class path of the test broker. -->
<project>
  <modelVersion>4.0.0</modelVersion>
  <groupId>onex.services</groupId>
  <artifactId>kafka-broker-runtime</artifactId>
  <version>$KAFKA_VERSION</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_$SCALA_VERSION</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>$SLF4J_RELOAD4J_VERSION</version></dependency>
    <dependency><groupId>ch.qos.reload4j</groupId><artifactId>reload4j</artifactId><version>$RELOAD4J_VERSION</version></dependency>
  </dependencies>
</project>
EOF
  log "fetching Kafka $KAFKA_VERSION jars with Maven into $KAFKA_LIB"
  if ! mvn -B --no-transfer-progress -Dstyle.color=never -f "$build/pom.xml" "$DEPENDENCY_PLUGIN:copy-dependencies" \
    -DincludeScope=runtime -DoutputDirectory="$build/lib.partial" >"$build/mvn.log" 2>&1; then
    tail -n 40 "$build/mvn.log" >&2
    die "mvn copy-dependencies failed (output above, whole log in $build/mvn.log); nothing was installed"
  fi
  compgen -G "$build/lib.partial/kafka_$SCALA_VERSION-$KAFKA_VERSION.jar" >/dev/null ||
    die "mvn finished but $build/lib.partial has no kafka_$SCALA_VERSION-$KAFKA_VERSION.jar"
  mv "$build/lib.partial" "$KAFKA_LIB"
  changed "installed Kafka $KAFKA_VERSION ($(find "$KAFKA_LIB" -name '*.jar' | wc -l) jars) in $KAFKA_LIB in $((SECONDS - t0))s"
}

# kafkajs for the readiness probe: the project's own node_modules may not exist yet (.ci/run
# starts the services before `pnpm install`), so it gets its own cached copy.
install_probe() {
  if [ "$(probe_version)" != "$KAFKAJS_VERSION" ]; then
    command -v npm >/dev/null 2>&1 || die "npm not found: install Node.js"
    local t0=$SECONDS
    mkdir -p "$PROBE_DIR"
    log "npm install kafkajs@$KAFKAJS_VERSION into $PROBE_DIR"
    npm install --prefix "$PROBE_DIR" --no-audit --no-fund --loglevel=error "kafkajs@$KAFKAJS_VERSION" >/dev/null ||
      die "npm install kafkajs@$KAFKAJS_VERSION failed (see above)"
    [ "$(probe_version)" = "$KAFKAJS_VERSION" ] || die "npm install finished but kafkajs $KAFKAJS_VERSION is not in $PROBE_DIR/node_modules"
    changed "installed kafkajs $KAFKAJS_VERSION for the readiness probe in $((SECONDS - t0))s"
  fi
  write_if_changed "$PROBE_JS" "$(probe_source)" || changed "wrote $PROBE_JS"
}

# Admin connect + describeCluster with short timeouts and no retries; prints one line
# (`cluster <id>, brokers <ids>, controller <id>`), exit 0 only when a broker is listed.
probe_source() {
  cat <<'EOF'
'use strict';
// Written by tooling/services/kafka.sh: does the Kafka broker at argv[2] answer an admin call?
const { Kafka, logLevel } = require('kafkajs');

const brokers = process.argv[2];
const guard = setTimeout(() => {
  console.error('no answer within 5s');
  process.exit(2);
}, 5000);
const admin = new Kafka({
  clientId: 'onex-services-probe',
  brokers: [brokers],
  logLevel: logLevel.NOTHING,
  connectionTimeout: 1000,
  requestTimeout: 2000,
  retry: { retries: 0 },
}).admin();
admin
  .connect()
  .then(() => admin.describeCluster())
  .then(async (cluster) => {
    if (cluster.brokers.length === 0) throw new Error('metadata lists no broker yet');
    const ids = cluster.brokers.map((b) => b.nodeId).join(',');
    console.log(`cluster ${cluster.clusterId}, brokers ${ids}, controller ${cluster.controller}`);
    await admin.disconnect();
    clearTimeout(guard);
  })
  .catch((err) => {
    console.error(err && err.message ? err.message : String(err));
    process.exit(1);
  });
EOF
}

probe() {
  KAFKAJS_NO_PARTITIONER_WARNING=1 node "$PROBE_JS" "$BROKERS"
}

# write_if_changed <file> <content>: returns 1 when it (re)wrote the file, 0 when unchanged.
write_if_changed() {
  if [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; then return 0; fi
  mkdir -p "$(dirname "$1")"
  printf '%s\n' "$2" >"$1.tmp"
  mv "$1.tmp" "$1"
  return 1
}

# ---------------------------------------------------------------------------------------
# This instance

server_properties() {
  cat <<EOF
# Written by tooling/services/kafka.sh for the integration tests: one node that is both
# broker and KRaft controller, loopback only, every replication factor and min ISR 1.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$CONTROLLER_PORT
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$DATA_DIR
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
EOF
}

log4j_properties() {
  cat <<EOF
# Written by tooling/services/kafka.sh: broker log in $BROKER_LOG, nothing on the console.
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$BROKER_LOG
log4j.appender.file.MaxFileSize=10MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
EOF
}


# Prints the pid of this instance's broker when it is alive (and really our broker: a
# recycled pid does not count), else returns 1.
instance_pid() {
  local pid
  [ -f "$PID_FILE" ] || return 1
  pid=$(cat "$PID_FILE" 2>/dev/null) || return 1
  case $pid in '' | *[!0-9]*) return 1 ;; esac
  alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "kafka.Kafka $SERVER_PROPERTIES" || return 1
  printf '%s\n' "$pid"
}

show_log_tail() {
  local file
  for file in "$CONSOLE_LOG" "$BROKER_LOG"; do
    if [ -s "$file" ]; then
      printf -- '--- last 40 lines of %s ---\n' "$file"
      tail -n 40 "$file"
    fi
  done
}

# Writes server.properties and log4j.properties; returns 1 when either changed.
write_config() {
  local rc=0
  write_if_changed "$SERVER_PROPERTIES" "$(server_properties)" || {
    changed "wrote $SERVER_PROPERTIES"
    rc=1
  }
  write_if_changed "$LOG4J_PROPERTIES" "$(log4j_properties)" || {
    changed "wrote $LOG4J_PROPERTIES"
    rc=1
  }
  return "$rc"
}

# Formats the data dir once (KRaft needs a cluster id in meta.properties); never again,
# so topics and committed offsets survive stop/start.
format_storage() {
  [ ! -f "$DATA_DIR/meta.properties" ] || return 0
  local t0=$SECONDS cluster_id
  cluster_id=$(java "-Dlog4j.configuration=file:$LOG4J_PROPERTIES" -cp "$KAFKA_LIB/*" kafka.tools.StorageTool random-uuid 2>>"$CONSOLE_LOG" | tail -n 1)
  [ -n "$cluster_id" ] || die "kafka.tools.StorageTool random-uuid printed nothing; see $CONSOLE_LOG"
  mkdir -p "$DATA_DIR"
  java "-Dlog4j.configuration=file:$LOG4J_PROPERTIES" -cp "$KAFKA_LIB/*" kafka.tools.StorageTool format \
    -t "$cluster_id" -c "$SERVER_PROPERTIES" --ignore-formatted >>"$CONSOLE_LOG" 2>&1 ||
    die "kafka.tools.StorageTool format failed; see $CONSOLE_LOG"
  changed "formatted $DATA_DIR (cluster id $cluster_id) in $((SECONDS - t0))s"
}

# broker_ready <pid>: polled by wait_for (which silences it). When the broker process is
# gone it ends the whole run at once, saying why on fd 4 (the real stderr), instead of
# polling a dead broker until the timeout. Right after the launch /proc/<pid>/cmdline may
# still be the subshell's, so this checks the pid only.
broker_ready() {
  if ! alive "$1"; then
    {
      show_log_tail
      warn "the broker (pid $1) exited during startup; logs: $CONSOLE_LOG, $BROKER_LOG"
    } >&4 2>&4
    rm -f "$PID_FILE"
    exit 1
  fi
  probe
}

# wait_ready <pid>
wait_ready() {
  exec 4>&2
  if ! wait_for "admin describeCluster on $BROKERS" "$READY_TIMEOUT" broker_ready "$1"; then
    show_log_tail >&2
    die "the broker (pid $1) did not answer on $BROKERS within ${READY_TIMEOUT}s (ONEX_KAFKA_READY_TIMEOUT); it is left running; logs: $CONSOLE_LOG, $BROKER_LOG"
  fi
  exec 4>&-
}

# Starts the broker detached (own session, immune to SIGHUP, stdio on files, without the
# lock on fd 9), so it outlives this script.
launch() {
  local pid t0=$SECONDS
  printf '\n=== %s: starting Kafka %s on %s (controller %s)\n' "$(date '+%F %T')" "$KAFKA_VERSION" "$BROKERS" "$CONTROLLER_PORT" >>"$CONSOLE_LOG"
  # The subshell execs setsid, which execs nohup, which execs java: $! is the broker's pid.
  # It closes every inherited fd above 2 first: the lock (fd 9) and any pipe of a caller
  # (a test's execFile waits for EOF on its pipes, which a broker holding them never sends).
  (
    cd "$RUN_DIR"
    for fd in /proc/"$BASHPID"/fd/*; do
      fd=${fd##*/}
      if [ "$fd" -gt 2 ]; then { exec {fd}>&-; } 2>/dev/null || true; fi
    done
    exec setsid nohup java "${JVM_OPTS[@]}" "-Dlog4j.configuration=file:$LOG4J_PROPERTIES" \
      -cp "$KAFKA_LIB/*" kafka.Kafka "$SERVER_PROPERTIES" </dev/null >>"$CONSOLE_LOG" 2>&1 9>&-
  ) &
  pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"
  printf '%s\n' "$KAFKA_VERSION" >"$RUN_DIR/version"
  wait_ready "$pid"
  changed "started Kafka $KAFKA_VERSION (pid $pid) on $BROKERS, controller $KAFKA_HOST:$CONTROLLER_PORT, in $((SECONDS - t0))s"
}

# Stops this instance: SIGTERM (a clean shutdown), SIGKILL after STOP_TIMEOUT seconds;
# returns when the process is gone and both ports are closed.
stop_broker() {
  local pid t0=$SECONDS how=SIGTERM port
  if ! pid=$(instance_pid); then
    if [ -f "$PID_FILE" ]; then
      rm -f "$PID_FILE"
      changed "removed stale pid file $PID_FILE"
    fi
    port_open "$KAFKA_HOST" "$KAFKA_PORT" &&
      warn "no broker of this instance runs, but something else listens on $BROKERS; left alone"
    return 0
  fi
  terminate "$pid" "$STOP_TIMEOUT" ONEX_KAFKA_STOP_TIMEOUT
  how=$TERMINATED_WITH
  for port in "$KAFKA_PORT" "$CONTROLLER_PORT"; do
    until ! port_open "$KAFKA_HOST" "$port"; do
      ((SECONDS - t0 < STOP_TIMEOUT + 10)) || die "pid $pid is gone but $KAFKA_HOST:$port still accepts connections"
      sleep 0.2
    done
  done
  rm -f "$PID_FILE"
  changed "stopped Kafka (pid $pid, $how) on $BROKERS in $((SECONDS - t0))s"
}

# Starts this instance unless it runs already (then waits until it answers); restarts it
# when its configuration changed.
start_broker() {
  local config_changed=0 pid port
  mkdir -p "$RUN_DIR"
  write_config || config_changed=1
  if pid=$(instance_pid); then
    if [ "$config_changed" = 1 ]; then
      log "restarting pid $pid to apply the new configuration"
      stop_broker
    else
      log "Kafka already running (pid $pid) on $BROKERS"
      wait_ready "$pid"
      return 0
    fi
  elif [ -f "$PID_FILE" ]; then
    rm -f "$PID_FILE"
    changed "removed stale pid file $PID_FILE (the broker had exited)"
  fi
  for port in "$KAFKA_PORT" "$CONTROLLER_PORT"; do
    ! port_open "$KAFKA_HOST" "$port" ||
      die "something that is not this instance's broker (no live pid in $PID_FILE) already listens on $KAFKA_HOST:$port; stop it first (ss -ltnp 'sport = :$port')"
  done
  format_storage
  launch
}

report() {
  local answer
  answer=$(probe 2>/dev/null) || answer="not answering"
  if [ "${#changes[@]}" -eq 0 ]; then
    log "nothing to do: Kafka $KAFKA_VERSION already running on $BROKERS (pid $(instance_pid || echo '?'); $answer; state in $RUN_DIR)"
  else
    log "ready in $((SECONDS - start))s after ${#changes[@]} change(s): Kafka $KAFKA_VERSION on $BROKERS ($answer; state in $RUN_DIR)"
  fi
  [ "$KAFKA_PORT" != 9092 ] || log "ONEX_KAFKA_BROKERS=$BROKERS"
}

need_installed() {
  installed || die "Kafka $KAFKA_VERSION or the kafkajs probe is not installed in $KAFKA_DIR; run: bash tooling/services/kafka.sh up"
  write_if_changed "$PROBE_JS" "$(probe_source)" || changed "wrote $PROBE_JS"
}

# ---------------------------------------------------------------------------------------

command=${1:-up}
case $command in
  status)
    # One line, exit 0 when the broker answers an admin call; changes nothing.
    pid=$(instance_pid) || pid=""
    version=$(cat "$RUN_DIR/version" 2>/dev/null) || version=$KAFKA_VERSION
    if [ -f "$PROBE_JS" ] && [ "$(probe_version)" = "$KAFKAJS_VERSION" ]; then
      if answer=$(probe 2>&1); then
        log "reachable: $BROKERS (Kafka $version, ${pid:+pid $pid, }$answer)"
        exit 0
      fi
      log "not reachable: $BROKERS (${pid:+pid $pid running, }$(printf '%s' "$answer" | head -n 1))"
    elif port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
      log "port $KAFKA_PORT open but the kafkajs probe is not installed ($PROBE_DIR); cannot ask the broker. Run: bash tooling/services/kafka.sh up"
    else
      log "not reachable: nothing on $BROKERS"
    fi
    exit 1
    ;;
  up | start | stop | restart | down) ;;
  *) die "usage: $0 [up|status|start|stop|restart|down]  (instance: ONEX_KAFKA_PORT, ONEX_KAFKA_CONTROLLER_PORT)" ;;
esac

take_lock "kafka-$KAFKA_PORT"
start=$SECONDS

case $command in
  up)
    if ! installed; then
      # One install at a time per cache dir, whatever the port (fd 8; fd 9 is take_lock's).
      exec 8>"$ONEX_CACHE_DIR/kafka-install.lock"
      if command -v flock >/dev/null 2>&1 && ! flock -w 600 8; then
        die "another run still installs into $KAFKA_DIR after 600s ($ONEX_CACHE_DIR/kafka-install.lock)"
      fi
      install_jars
      install_probe
      exec 8>&-
    else
      log "Kafka $KAFKA_VERSION (in $KAFKA_LIB) and kafkajs $KAFKAJS_VERSION (probe) already installed"
      need_installed
    fi
    start_broker
    report
    ;;
  start)
    need_installed
    start_broker
    report
    ;;
  restart)
    need_installed
    stop_broker
    start_broker
    report
    ;;
  stop)
    stop_broker
    [ "${#changes[@]}" -gt 0 ] || log "nothing to do: Kafka on $BROKERS is not running"
    ;;
  down)
    stop_broker
    if [ -d "$DATA_DIR" ]; then
      rm -rf "$DATA_DIR"
      changed "deleted $DATA_DIR"
    fi
    [ "${#changes[@]}" -gt 0 ] || log "nothing to do: Kafka on $BROKERS is not running and has no data"
    ;;
esac
