# Shared by the end-to-end tests: start orderflow-broker on a free loopback
# port, run the real binaries, clean up whatever was started.
# Expects ORDERFLOW_BROKER, ORDERFLOW_PRODUCER, ORDERFLOW_CONSUMER (set by meson).
set -euo pipefail

: "${ORDERFLOW_BROKER:?run through meson test}"
: "${ORDERFLOW_PRODUCER:?run through meson test}"
: "${ORDERFLOW_CONSUMER:?run through meson test}"
PY=/usr/bin/python3

WORK=$(mktemp -d "${TMPDIR:-/tmp}/orderflow-e2e.XXXXXX")
PIDS=()

# ORDERFLOW_VALGRIND=DIR runs every orderflow binary under valgrind memcheck,
# one log per process in DIR (see docs/reliability.md). A process killed with
# SIGKILL leaves a log without a leak summary; the others must be clean.
if [ -n "${ORDERFLOW_VALGRIND:-}" ]; then
  mkdir -p "$ORDERFLOW_VALGRIND"
  for var in ORDERFLOW_BROKER ORDERFLOW_PRODUCER ORDERFLOW_CONSUMER; do
    wrapper=$WORK/vg-${var#ORDERFLOW_}
    printf '#!/bin/sh\nexec valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --log-file=%s/%%p.log %s "$@"\n' \
      "$ORDERFLOW_VALGRIND" "${!var}" >"$wrapper"
    chmod +x "$wrapper"
    printf -v "$var" '%s' "$wrapper"
  done
fi

cleanup() {
  local pid
  # A test that held the broker still (SIGSTOP) and failed meanwhile.
  [ -z "${BROKER_PID:-}" ] || kill -CONT "$BROKER_PID" 2>/dev/null || true
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -f "$WORK/kafka/cluster.env" ]; then
    [ "${KEEP_WORK:-0}" = 1 ] && keep=--keep || keep=
    bash "$KAFKA_SH" down --dir "$WORK/kafka" $keep >/dev/null 2>&1 ||
      echo "cleanup: scripts/kafka.sh down failed" >&2
  fi
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "work dir kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

free_port() {
  $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# ORDERFLOW_KAFKA_NODES=1|3 (the `kafka` suite) runs every test on real
# Apache Kafka (scripts/kafka.sh) instead of orderflow-broker.
KAFKA_SH=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/kafka.sh
KAFKA_ADMIN=$(dirname "$KAFKA_SH")/kafka/admin.py
# Inline Python in the tests imports ofkafka (scripts/kafka/ofkafka.py): the
# Kafka counts and reads the tests, bench/ and scripts share.
export PYTHONPATH=$(dirname "$KAFKA_SH")/kafka${PYTHONPATH:+:$PYTHONPATH}

# start_broker [--partitions N] [--topic NAME]...: sets BROKER_PID and
# BROKERS. orderflow-broker: --port 0 lets it pick a free port (no race),
# which its ready line reports. Real Kafka: a fresh single node or cluster in
# $WORK/kafka on free ports, stopped by cleanup; BROKER_PID is node 1's.
start_broker() {
  if [ -n "${ORDERFLOW_KAFKA_NODES:-}" ]; then
    start_kafka "$@"
    return
  fi
  "$ORDERFLOW_BROKER" --port 0 "$@" >"$WORK/broker.out" 2>"$WORK/broker.err" &
  BROKER_PID=$!
  PIDS+=("$BROKER_PID")
  for _ in $(seq 100); do
    grep -q '^ready ' "$WORK/broker.out" 2>/dev/null && break
    kill -0 "$BROKER_PID" 2>/dev/null || fail "broker exited: $(cat "$WORK/broker.err")"
    sleep 0.1
  done
  grep -q '^ready ' "$WORK/broker.out" || fail "broker not ready in 10 s"
  BROKERS=$(sed -n 's/^ready //p' "$WORK/broker.out")
}

# start_processor NAME [extra args]: runs a processor in the background with
# its output in $WORK/NAME.{out,err}; sets LAST_PID.
# ORDERFLOW_GROUP_PROTOCOL=consumer: the processors join a KIP-848 group
# (librdkafka 2.12.0 and Kafka 4 or later), whose session timeout is the
# broker's (45 s by default) and cannot be set.
start_processor() {
  local name=$1 group=(-X session.timeout.ms=6000)
  shift
  [ "${ORDERFLOW_GROUP_PROTOCOL:-classic}" = classic ] ||
    group=(-X "group.protocol=$ORDERFLOW_GROUP_PROTOCOL")
  "$ORDERFLOW_CONSUMER" process -b "$BROKERS" "${group[@]}" \
    -X auto.commit.interval.ms=200 "$@" >>"$WORK/$name.out" 2>>"$WORK/$name.err" &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}

# wait_until_handles_sigterm PID: until the process has installed its
# SIGTERM handler (SigCgt in /proc/PID/status), so that a SIGTERM asks it to
# stop instead of killing it in its first milliseconds (exec, dynamic
# linking). Up to 10 s.
wait_until_handles_sigterm() {
  local mask
  for _ in $(seq 200); do
    mask=$(awk '/^SigCgt:/{print $2}' "/proc/$1/status" 2>/dev/null) || return 0
    [ -n "$mask" ] || return 0 # gone: the caller's wait reports how it ended
    (((16#$mask >> 14) & 1)) && return 0
    sleep 0.05
  done
  fail "process $1 installed no SIGTERM handler in 10 s"
}

# wait_for_output SECONDS NAME...: until each processor started as NAME has
# processed an event (an "accepted" line in $WORK/NAME.out).
wait_for_output() {
  local seconds=$1 name
  shift
  for name in "$@"; do
    for _ in $(seq $((seconds * 10))); do
      grep -q accepted "$WORK/$name.out" 2>/dev/null && break
      sleep 0.1
    done
    grep -q accepted "$WORK/$name.out" 2>/dev/null ||
      fail "processor $name processed nothing in $seconds s: $(tail -3 "$WORK/$name.err")"
  done
}

# topic_count TOPIC [low]: records in TOPIC (sum of high watermarks), or with
# "low" how many the broker has dropped (sum of low watermarks). Retries for
# up to 30 s while the broker is away (the chaos run takes it down).
topic_count() {
  "$PY" "$KAFKA_ADMIN" count "$BROKERS" "$1" "${2:-high}"
}

# wait_at_least N SECONDS EVERY WHAT COMMAND...: until COMMAND prints a
# number >= N (asked every EVERY seconds), or fail naming WHAT, the last
# number and N.
wait_at_least() {
  local want=$1 deadline=$((SECONDS + $2)) within=$2 every=$3 what=$4 n=0
  shift 4
  while [ $SECONDS -lt $deadline ]; do
    n=$("$@")
    [ "$n" -ge "$want" ] && return 0
    sleep "$every"
  done
  fail "$what: $n, expected $want within $within s"
}

# wait_for_count TOPIC N SECONDS
wait_for_count() {
  wait_at_least "$2" "$3" 0.5 "$1 holds records (high watermarks)" topic_count "$1"
}

start_kafka() {
  local partitions=6 topics=() status=0
  # ORDERFLOW_KAFKA_VERSION (e.g. 4): another Kafka than kafka-compose.yml's.
  local version=()
  [ -z "${ORDERFLOW_KAFKA_VERSION:-}" ] || version=(--kafka-version "$ORDERFLOW_KAFKA_VERSION")
  bash "$KAFKA_SH" fetch "${version[@]}" >/dev/null 2>"$WORK/kafka.err" || status=$?
  if [ $status = 69 ]; then
    # No JRE or Maven here: meson reports the test skipped, with the reason.
    echo "SKIP: $(cat "$WORK/kafka.err")" >&2
    exit 77
  fi
  [ $status = 0 ] || fail "scripts/kafka.sh fetch: $(cat "$WORK/kafka.err")"
  while [ $# -gt 0 ]; do
    case $1 in
      --partitions) partitions=$2; shift 2 ;;
      --topic) topics+=("$2"); shift 2 ;;
      *) fail "start_broker: $1 is an orderflow-broker option, not one for real Kafka" ;;
    esac
  done
  bash "$KAFKA_SH" up --nodes "$ORDERFLOW_KAFKA_NODES" --port auto --partitions "$partitions" \
    "${version[@]}" --dir "$WORK/kafka" >"$WORK/kafka.out" 2>"$WORK/kafka.err" ||
    fail "scripts/kafka.sh up: $(tail -5 "$WORK/kafka.err")"
  BROKERS=$(sed -n 's/^brokers //p' "$WORK/kafka.out")
  BROKER_PID=$(cat "$WORK/kafka/node1/pid")
  if [ ${#topics[@]} -gt 0 ]; then
    kafka_create_topics "$partitions" "${topics[@]}"
  fi
}

# kafka_create_topics PARTITIONS TOPIC...: on the real Kafka of this test.
kafka_create_topics() {
  local partitions=$1 replication=1
  shift
  [ "${ORDERFLOW_KAFKA_NODES:-1}" = 3 ] && replication=3
  "$PY" "$KAFKA_ADMIN" create "$BROKERS" "$partitions" "$replication" "$@" ||
    fail "cannot create topics $*"
}

# check_envelopes TOPIC N: reads TOPIC with kcat, as a third-party client
# would, and checks it holds exactly N valid order_created envelopes with N
# distinct idempotency keys (tests/e2e/check_envelopes.py).
check_envelopes() {
  local here result
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  kcat -b "$BROKERS" -C -t "$1" -e -o beginning -q \
    -f '%k\t%h\t%s\n' >"$WORK/records.tsv" 2>"$WORK/kcat.err"
  # kcat prints headers as "name=value,name=value": keep the idempotency-key one.
  sed -E 's/\t[^\t]*idempotency-key=([^,\t]*)[^\t]*\t/\t\1\t/' "$WORK/records.tsv" >"$WORK/checked.tsv"
  result=$("$PY" "$here/check_envelopes.py" <"$WORK/checked.tsv") || fail "invalid envelope in $1"
  [ "$result" = "records=$2 distinct_keys=$2" ] ||
    fail "$1 read back: $result (expected records=$2 distinct_keys=$2)"
}

# committed_count: data_processed events a read_committed reader sees (the
# high watermark also counts records of open or aborted transactions).
committed_count() {
  "$ORDERFLOW_CONSUMER" tail -b "$BROKERS" -e --from-beginning --raw -q --json | wc -l
}

# The metrics endpoint (docs/operations.md, "Monitoring").
# metrics_address NAME: the ADDR:PORT a program started as NAME (with
# --metrics 127.0.0.1:0) said it serves on, waiting up to 10 s for the line.
metrics_address() {
  local address=
  for _ in $(seq 100); do
    address=$(sed -n 's|.*metrics on http://\([^/]*\)/metrics.*|\1|p' "$WORK/$1.err" 2>/dev/null)
    [ -n "$address" ] && break
    sleep 0.1
  done
  [ -n "$address" ] || fail "$1 did not say where it serves metrics: $(tail -3 "$WORK/$1.err")"
  echo "$address"
}

# http_get ADDRESS PATH FILE: the body into FILE, prints the status (000:
# no answer). curl when installed, else Python's urllib.
http_get() {
  if command -v curl >/dev/null; then
    curl -s -m 5 -o "$3" -w '%{http_code}' "http://$1$2" || true
  else
    "$PY" - "http://$1$2" "$3" <<'PY'
import sys, urllib.request, urllib.error
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
        body, code = r.read(), r.status
except urllib.error.HTTPError as e:
    body, code = e.read(), e.code
except OSError:
    body, code = b"", 0
open(sys.argv[2], "wb").write(body)
print(f"{code:03d}", end="")
PY
  fi
}

# metric FILE SERIES: the value of SERIES (name and labels exactly as
# exposed) in a scrape, or "absent".
metric() {
  awk -v s="$2" '$1 == s { print $2; found = 1 } END { if (!found) print "absent" }' "$1"
}

# start_gateway NAME [extra args]: orderflow-gateway on a free loopback port
# (--listen 127.0.0.1:0, which its "listening on" line resolves) against
# $BROKERS, waiting for its "ready" line (keys restored); sets GATEWAY
# (ADDR:PORT) and LAST_PID. Output in $WORK/NAME.err.
start_gateway() {
  local name=$1
  shift
  : "${ORDERFLOW_GATEWAY:?run through meson test}"
  : >"$WORK/$name.err"
  "$ORDERFLOW_GATEWAY" -b "$BROKERS" --listen 127.0.0.1:0 "$@" 2>>"$WORK/$name.err" &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
  GATEWAY=
  for _ in $(seq 200); do
    GATEWAY=$(sed -n 's/.*listening on //p' "$WORK/$name.err")
    [ -n "$GATEWAY" ] && break
    kill -0 "$LAST_PID" 2>/dev/null || fail "gateway $name exited: $(cat "$WORK/$name.err")"
    sleep 0.05
  done
  [ -n "$GATEWAY" ] || fail "gateway $name not listening in 10 s: $(cat "$WORK/$name.err")"
  for _ in $(seq 400); do
    grep -q ': ready$' "$WORK/$name.err" && return 0
    kill -0 "$LAST_PID" 2>/dev/null || fail "gateway $name exited: $(cat "$WORK/$name.err")"
    sleep 0.05
  done
  fail "gateway $name not ready in 20 s: $(cat "$WORK/$name.err")"
}
