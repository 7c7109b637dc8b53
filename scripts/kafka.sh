#!/usr/bin/env bash
# Real Apache Kafka (KRaft, no ZooKeeper) on loopback, without Docker: for
# the real-Kafka tests, the chaos run on a cluster and the benchmarks.
#
#   scripts/kafka.sh up [--nodes 1|3] [--port P|auto] [--partitions N] [--dir DIR]
#                       [--kafka-version V]   V: 4 (the newest 4.x), 4.1 or 4.1.1; default 3.9.1
#                       [--security sasl_ssl|mtls]   (scripts/kafka/security.sh)
#   scripts/kafka.sh down [--dir DIR] [--keep]
#   scripts/kafka.sh status [--dir DIR]
#   scripts/kafka.sh brokers [--dir DIR]          the bootstrap list, one line
#   scripts/kafka.sh stop-node N [--signal SIG]   kill one node (default TERM)
#   scripts/kafka.sh start-node N                 start it again on its data
#   scripts/kafka.sh fetch [--kafka-version V]    only fetch the jars
#
# The broker's jars come from Maven Central once (scripts/kafka/pom.xml, the
# Kafka version of the image in kafka-compose.yml) into a cache outside the
# repository (ORDERFLOW_KAFKA_CACHE, default ~/.cache/orderflow); later runs
# work offline. The broker settings are kafka-compose.yml's (one source of
# truth): only node ids, listeners, directories and, for three nodes, the
# replication settings differ. Node i listens for clients on 127.0.0.1:P+i-1
# (P = 9092 by default), between brokers on P+20+i-1 and for the KRaft quorum
# on P+10+i-1. Each JVM's heap is at most 512 MB (ORDERFLOW_KAFKA_HEAP).
# `down` stops only the processes `up` started (their pids are in DIR) and
# checks that none of their ports is still open.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
COMPOSE=$ROOT/kafka-compose.yml
POM=$ROOT/scripts/kafka/pom.xml
ADMIN=$ROOT/scripts/kafka/admin.py
PY=/usr/bin/python3
CACHE=${ORDERFLOW_KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/orderflow}
HEAP=${ORDERFLOW_KAFKA_HEAP:-512m}
# shellcheck source=kafka/security.sh
. "$ROOT/scripts/kafka/security.sh"

die() {
  echo "kafka.sh: $*" >&2
  exit "${EXIT_STATUS:-1}"
}
say() { echo "kafka.sh: $*" >&2; }

# The usage: this file's header comment, from its first command line to the
# blank comment line that ends the list.
usage() {
  sed -n '/^#   scripts\/kafka.sh /,/^#$/{/^#$/d;s/^#   //p}' "$0"
}

command=${1:-}
case $command in
  -h | --help | help)
    usage
    exit 0
    ;;
  "")
    usage >&2
    exit 64
    ;;
esac
shift
node_arg=""
case $command in
  stop-node | start-node)
    node_arg=${1:-}
    [[ $node_arg =~ ^[1-9]$ ]] || die "$command: which node? (a number, 1..nodes)"
    shift
    ;;
esac

dir=${ORDERFLOW_KAFKA_DIR:-${TMPDIR:-/tmp}/orderflow-kafka}
nodes=1
port=9092
partitions=""
signal=TERM
keep=0
requested_version=""
resolved_version=""
security=""
while [ $# -gt 0 ]; do
  case $1 in
    --nodes) nodes=${2:?--nodes needs a value}; shift 2 ;;
    --port) port=${2:?--port needs a value}; shift 2 ;;
    --partitions) partitions=${2:?--partitions needs a value}; shift 2 ;;
    --dir) dir=${2:?--dir needs a value}; shift 2 ;;
    --signal) signal=${2:?--signal needs a value}; shift 2 ;;
    --keep) keep=1; shift ;;
    --kafka-version) requested_version=${2:?--kafka-version needs a value}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    --security) security=${2:?--security needs a value}; shift 2 ;;
    *) die "unknown option $1" ;;
  esac
done
[[ $nodes =~ ^[13]$ ]] || die "--nodes: 1 or 3, not $nodes"
security_check_option

# The Kafka version: --kafka-version's (resolve_kafka_version), else the tag
# of the apache/kafka image in kafka-compose.yml.
kafka_version() {
  [ -z "$resolved_version" ] || { echo "$resolved_version"; return; }
  sed -n 's/^ *image: *apache\/kafka:\([0-9.]*\) *$/\1/p' "$COMPOSE" | head -1
}

jars_dir() { echo "$CACHE/kafka-$(kafka_version)/jars"; }

# The dead-letter topic's max.message.bytes: the one kafka-compose.yml
# creates it with (its only spelling; tests/docs/compose_test.py checks it).
dead_letter_max_bytes() {
  local bytes
  bytes=$(sed -n 's/.*--topic order-created\.dlq .*--config max\.message\.bytes=\([0-9]*\).*/\1/p' "$COMPOSE" | head -1)
  [ -n "$bytes" ] || EXIT_STATUS=78 die "$COMPOSE: order-created.dlq is created without --config max.message.bytes=N"
  echo "$bytes"
}

# --kafka-version V: X.Y.Z is that release; X or X.Y the newest release of
# that line, which Maven resolves from Central's metadata (a version range)
# the first time and the cache answers afterwards (offline).
resolve_kafka_version() {
  local v=$requested_version newest tmp jar range
  [ -n "$v" ] || return 0
  [[ $v =~ ^[0-9]+(\.[0-9]+){0,2}$ ]] || EXIT_STATUS=64 die "--kafka-version: 4, 4.1 or 4.1.1, not $v"
  if [[ $v =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
    resolved_version=$v
    return 0
  fi
  newest=$(ls -d "$CACHE/kafka-$v".*/jars/.complete 2>/dev/null |
    sed 's|.*/kafka-\([0-9.]*\)/jars/.complete|\1|' | sort -V | tail -1) || true
  if [ -n "$newest" ]; then
    resolved_version=$newest
    return 0
  fi
  command -v mvn >/dev/null || EXIT_STATUS=69 die "mvn not found: the broker's jars are fetched with Maven (apt-get install maven)"
  if [[ $v =~ ^[0-9]+$ ]]; then range="[$v.0.0,$((v + 1)).0.0)"; else range="[$v.0,${v%.*}.$((${v#*.} + 1)).0)"; fi
  mkdir -p "$CACHE"
  tmp=$(mktemp -d "$CACHE/kafka-resolve.XXXXXX")
  say "finding the newest Apache Kafka $v release on Maven Central (once)"
  fetch_jars "$range" "$tmp/jars" || { rm -rf "$tmp"; exit 1; }
  jar=$(ls "$tmp"/jars/kafka_2.13-*.jar | grep -v -e '-test' | head -1)
  resolved_version=$(basename "$jar" .jar)
  resolved_version=${resolved_version#kafka_2.13-}
  touch "$tmp/jars/.complete"
  if [ ! -f "$CACHE/kafka-$resolved_version/jars/.complete" ]; then
    rm -rf "$CACHE/kafka-$resolved_version"
    mkdir -p "$CACHE/kafka-$resolved_version"
    mv "$tmp/jars" "$CACHE/kafka-$resolved_version/jars"
  fi
  rm -rf "$tmp"
}

# fetch_jars VERSION_OR_RANGE DIR: the broker's jars into DIR. Kafka 4 logs
# through log4j2 (the pom's log4j2 profile), 3.x through reload4j.
fetch_jars() {
  local profile=()
  [[ ${1#[} =~ ^[4-9] ]] && profile=(-Dkafka.log4j2)
  mkdir -p "$2"
  mvn -q -B -f "$POM" dependency:copy-dependencies -Dkafka.version="$1" "${profile[@]}" \
    -DoutputDirectory="$2" >"$2/mvn.log" 2>&1 ||
    die "mvn dependency:copy-dependencies failed (Maven Central unreachable?): $(tail -5 "$2/mvn.log")"
}

# log_options NODE_DIR: the JVM option that sends a node's log to its
# server.log, for the Kafka version's logging library (write_properties
# writes both files).
log_options() {
  if [[ $(kafka_version) =~ ^[4-9] ]]; then
    echo "-Dlog4j2.configurationFile=$1/log4j2.properties"
  else
    echo "-Dlog4j.configuration=file:$1/log4j.properties"
  fi
}

fetch() {
  local version jars
  resolve_kafka_version
  version=$(kafka_version)
  [ -n "$version" ] || die "$COMPOSE: no apache/kafka:X.Y.Z image"
  jars=$(jars_dir)
  [ -f "$jars/.complete" ] && return 0
  command -v java >/dev/null || EXIT_STATUS=69 die "java not found: the real-Kafka broker needs a JRE 17 (apt-get install openjdk-17-jre-headless)"
  command -v mvn >/dev/null || EXIT_STATUS=69 die "mvn not found: the broker's jars are fetched with Maven (apt-get install maven)"
  say "fetching Apache Kafka $version's jars into $jars (once)"
  rm -rf "$jars.tmp"
  fetch_jars "$version" "$jars.tmp"
  [ -f "$jars.tmp/kafka_2.13-$version.jar" ] || die "mvn did not fetch kafka_2.13-$version.jar"
  touch "$jars.tmp/.complete"
  rm -rf "$jars"
  mv "$jars.tmp" "$jars"
}

port_free() {
  $PY -c 'import socket,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try: s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError: sys.exit(1)' "$1"
}

ports_of_base() {
  local base=$1 i
  for ((i = 0; i < nodes; i++)); do echo $((base + i)) $((base + 10 + i)) $((base + 20 + i)); done
}

# --port auto: a base whose client, quorum and inter-broker ports are all
# free, below the kernel's ephemeral range: a port in that range that is free
# now can be taken by any outgoing connection before the JVM binds it (seen:
# "Socket server failed to bind ... Address already in use").
pick_base() {
  local base p ok low
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range
  [ "$low" -gt 11000 ] || die "--port auto: the ephemeral port range starts at $low; give --port"
  for _ in $(seq 50); do
    base=$((10000 + RANDOM % (low - 10000 - 30)))
    ok=1
    for p in $(ports_of_base "$base"); do port_free "$p" || { ok=0; break; }; done
    [ $ok = 1 ] && { echo "$base"; return 0; }
  done
  die "no free block of ports found for --port auto"
}

bootstrap() {
  local i list=""
  for ((i = 1; i <= nodes; i++)); do list+="${list:+,}127.0.0.1:$((port + i - 1))"; done
  echo "$list"
}

load_state() {
  [ -f "$dir/cluster.env" ] || EXIT_STATUS=69 die "nothing started in $dir (run: scripts/kafka.sh up)"
  # shellcheck disable=SC1091
  . "$dir/cluster.env"
  security_export_admin
}

# server.properties of node $1: kafka-compose.yml's KAFKA_* settings, named as
# the apache/kafka image names them (KAFKA_A_B -> a.b, __ -> _, ___ -> -),
# with the local node's identity, listeners and directories.
write_properties() {
  local node=$1 node_dir=$dir/node$1
  mkdir -p "$node_dir/data"
  $PY - "$COMPOSE" "$node" "$nodes" "$port" "$node_dir" >"$node_dir/server.properties" <<'PY'
import re, sys, yaml
compose, node, nodes, port, node_dir = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
env = yaml.safe_load(open(compose))["services"]["kafka"]["environment"]
local = {"KAFKA_NODE_ID", "KAFKA_CONTROLLER_QUORUM_VOTERS", "KAFKA_LISTENERS",
         "KAFKA_ADVERTISED_LISTENERS", "KAFKA_LOG_DIRS"}
props = {}
for key, value in env.items():
    if not key.startswith("KAFKA_") or key in local:
        continue
    name = key[len("KAFKA_"):].lower().replace("___", "-").replace("__", "\0").replace("_", ".").replace("\0", "_")
    props[name] = str(value).lower() if isinstance(value, bool) else str(value)
client, quorum, inter = port + node - 1, port + 10 + node - 1, port + 20 + node - 1
props.update({
    "node.id": str(node),
    "controller.quorum.voters": ",".join(f"{i}@127.0.0.1:{port + 10 + i - 1}" for i in range(1, nodes + 1)),
    "listeners": f"PLAINTEXT_HOST://127.0.0.1:{client},PLAINTEXT://127.0.0.1:{inter},CONTROLLER://127.0.0.1:{quorum}",
    "advertised.listeners": f"PLAINTEXT_HOST://127.0.0.1:{client},PLAINTEXT://127.0.0.1:{inter}",
    "log.dirs": f"{node_dir}/data",
})
if nodes == 3:
    # A cluster that survives the loss of one broker without losing an
    # acknowledged write (acks=all): three replicas, two must have it.
    props.update({
        "offsets.topic.replication.factor": "3",
        "transaction.state.log.replication.factor": "3",
        "transaction.state.log.min.isr": "2",
        "default.replication.factor": "3",
        "min.insync.replicas": "2",
    })
for name in sorted(props):
    print(f"{name}={props[name]}")
PY
  cat >"$node_dir/log4j.properties" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$node_dir/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
EOF
  cat >"$node_dir/log4j2.properties" <<EOF
appender.file.type=File
appender.file.name=file
appender.file.fileName=$node_dir/server.log
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=file
logger.request.name=kafka.request.logger
logger.request.level=WARN
logger.clients.name=org.apache.kafka.clients
logger.clients.level=WARN
EOF
  [ -z "$security" ] || security_properties "$node" >>"$node_dir/server.properties"
}

cluster_id() {
  $PY -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["services"]["kafka"]["environment"]["CLUSTER_ID"])' "$COMPOSE"
}

start_node() {
  local node=$1 node_dir=$dir/node$1 pid
  if [ -f "$node_dir/pid" ] && kill -0 "$(cat "$node_dir/pid")" 2>/dev/null; then
    die "node $node is already running (pid $(cat "$node_dir/pid"))"
  fi
  # setsid: the broker outlives the shell that started it, and a Ctrl-C in
  # that shell does not reach it; `down` ends it by its pid.
  setsid java -Xms128m -Xmx"$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    "$(log_options "$node_dir")" -cp "$JARS/*" \
    kafka.Kafka "$node_dir/server.properties" >>"$node_dir/stdout.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$node_dir/pid"
}

node_running() {
  local pid_file=$dir/node$1/pid
  [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null
}

# stop_node N SIGNAL: TERM waits for a controlled shutdown (up to 60 s, then
# KILL); KILL and STOP/CONT only send the signal.
stop_node() {
  local node=$1 sig=$2 pid
  node_running "$node" || return 0
  pid=$(cat "$dir/node$node/pid")
  kill -"$sig" "$pid"
  case $sig in
    STOP | CONT | 19 | 18) return 0 ;;
  esac
  for _ in $(seq 600); do
    kill -0 "$pid" 2>/dev/null || break
    # A stopped JVM never handles TERM: let it go on so it can.
    kill -CONT "$pid" 2>/dev/null || true
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "node $node (pid $pid) did not stop within 60 s of SIG$sig; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}

# stop_all_nodes: SIGTERM to every node at once, then waits for each (up to
# 60 s, then KILL). One at a time, the last node of a 3-node cluster never
# finished: with two of the three controllers gone the KRaft quorum has no
# leader, so its broker's controlled shutdown (a heartbeat asking the active
# controller for leave) waits for an answer until killed (71 s; "node 3 did
# not stop within 60 s of SIGTERM"). Together, every broker leaves while the
# quorum still stands.
stop_all_nodes() {
  local i pid pids=() deadline
  for ((i = 1; i <= nodes; i++)); do
    node_running "$i" || continue
    pid=$(cat "$dir/node$i/pid")
    kill -TERM "$pid" 2>/dev/null || true
    kill -CONT "$pid" 2>/dev/null || true # a stopped JVM never handles TERM
    pids+=("$i:$pid")
  done
  deadline=$((SECONDS + 60))
  for entry in "${pids[@]}"; do
    i=${entry%%:*} pid=${entry#*:}
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      say "node $i (pid $pid) did not stop within 60 s of SIGTERM; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  done
}

wait_ready() {
  local seconds=$1
  local i
  for ((i = 1; i <= nodes; i++)); do
    node_running "$i" || die "node $i exited while starting: see $dir/node$i/server.log and stdout.log: $(tail -3 "$dir/node$i/stdout.log" 2>/dev/null)"
  done
  $PY "$ADMIN" wait "$(bootstrap)" "$nodes" "$seconds" ||
    EXIT_STATUS=69 die "the cluster did not answer metadata within $seconds s: see $dir/node*/server.log"
}

case $command in
  fetch)
    fetch
    echo "$(jars_dir)"
    ;;

  up)
    fetch
    JARS=$(jars_dir)
    dlq_max_bytes=$(dead_letter_max_bytes)
    if [ -f "$dir/cluster.env" ]; then
      die "$dir already holds a cluster (scripts/kafka.sh down --dir $dir first)"
    fi
    [ "$port" = auto ] && port=$(pick_base)
    [[ $port =~ ^[0-9]+$ ]] || die "--port: a number or auto, not $port"
    for p in $(ports_of_base "$port"); do
      port_free "$p" || EXIT_STATUS=69 die "port $p is in use (another Kafka or orderflow-broker?); try --port auto"
    done
    compose_partitions=$(sed -n 's/^ *KAFKA_NUM_PARTITIONS: *\([0-9]*\).*/\1/p' "$COMPOSE")
    partitions=${partitions:-$compose_partitions}
    mkdir -p "$dir"
    cat >"$dir/cluster.env" <<EOF
nodes=$nodes
port=$port
partitions=$partitions
JARS='$JARS'
resolved_version=$(kafka_version)
security=$security
EOF
    [ -z "$security" ] || security_setup
    id=$(cluster_id)
    for ((i = 1; i <= nodes; i++)); do
      write_properties "$i"
      java -Xmx256m "$(log_options "$dir/node$i")" -cp "$JARS/*" \
        kafka.tools.StorageTool format -t "$id" -c "$dir/node$i/server.properties" $(security_format_args) \
        >"$dir/node$i/format.log" 2>&1 || die "formatting node $i's storage failed: $(tail -3 "$dir/node$i/format.log")"
    done
    security_format_done
    security_export_admin
    for ((i = 1; i <= nodes; i++)); do start_node "$i"; done
    wait_ready 120
    replication=1
    [ "$nodes" = 3 ] && replication=3
    # The processor writes input partition N's outputs to partition N of the
    # other two topics, so all three get the same partition count.
    $PY "$ADMIN" create "$(bootstrap)" "$partitions" "$replication" \
      order-created data-processed order-created.dlq || die "creating the topics failed"
    # A dead letter is its input record plus four headers: the dead-letter
    # topic takes records 64 KiB larger than the broker's default limit, or a
    # record at order-created's limit could not be dead-lettered (the limit:
    # dead_letter_max_bytes, read before anything started).
    $PY "$ADMIN" set-config "$(bootstrap)" order-created.dlq "max.message.bytes=$dlq_max_bytes" ||
      die "configuring order-created.dlq failed"
    say "Kafka $(kafka_version), $nodes node(s), topics order-created, data-processed, order-created.dlq ($partitions partitions, replication $replication)"
    [ -z "$security" ] || security_up
    say "logs: $dir/node*/server.log; stop with: scripts/kafka.sh down --dir $dir"
    echo "brokers $(bootstrap)"
    ;;

  down)
    [ -f "$dir/cluster.env" ] || { say "nothing running in $dir"; exit 0; }
    load_state
    stop_all_nodes
    left=""
    for p in $(ports_of_base "$port"); do port_free "$p" || left+=" $p"; done
    [ -z "$left" ] || die "ports still open after stopping every node:$left"
    if [ $keep = 1 ]; then
      rm -f "$dir/cluster.env"
      say "stopped; data and logs kept in $dir"
    else
      rm -rf "$dir"
      say "stopped; $dir removed"
    fi
    ;;

  status)
    load_state
    for ((i = 1; i <= nodes; i++)); do
      if node_running "$i"; then state="running (pid $(cat "$dir/node$i/pid"))"; else state="stopped"; fi
      echo "node $i: 127.0.0.1:$((port + i - 1)) $state, log $dir/node$i/server.log"
    done
    $PY "$ADMIN" describe "$(bootstrap)" order-created data-processed order-created.dlq
    security_status
    ;;

  brokers)
    load_state
    bootstrap
    ;;

  stop-node)
    load_state
    [ "$node_arg" -le "$nodes" ] || die "stop-node: no node $node_arg (the cluster has $nodes)"
    stop_node "$node_arg" "$signal"
    ;;

  start-node)
    load_state
    [ "$node_arg" -le "$nodes" ] || die "start-node: no node $node_arg (the cluster has $nodes)"
    start_node "$node_arg"
    for _ in $(seq 600); do
      node_running "$node_arg" || die "node $node_arg exited while starting: see $dir/node$node_arg/server.log"
      $PY "$ADMIN" wait "127.0.0.1:$((port + node_arg - 1))" 1 1 2>/dev/null && break
    done
    ;;

  *)
    EXIT_STATUS=64 die "unknown command $command (up, down, status, brokers, stop-node, start-node, fetch; --help)"
    ;;
esac
