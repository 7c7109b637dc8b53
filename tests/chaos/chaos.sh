#!/usr/bin/env bash
# Chaos run of the whole pipeline, loopback only, bounded in time.
#
#   tests/chaos/chaos.sh [-n ORDERS] [-r RATE] [-i INJECT] [-p PARTITIONS] [-I EVERY_S] [-T TIMEOUT_S]
#   defaults: -n 200000 -r 2000 -i produce=0.2,fetch=0.2,commit=0.5,group=0.1,down=40/3 -p 48
#             -I 10 -T 900
#
# orderflow-broker --inject (faults) on a free port; two `orderflow-consumer
# process` in one group; orderflow-producer --generate ORDERS --rate RATE.
# While orders flow, every EVERY_S seconds it takes turns: kill -9 one processor (and restart it),
# or SIGSTOP one past its session timeout (6 s) and SIGCONT it 8 s later.
# Afterwards tail's deduplicated view must hold exactly one data_processed
# per input key, none missing; it reports raw duplicates, kills, stops and
# the faults the broker injected. Exit 0 only if nothing was lost or doubled.
# Binaries: $ORDERFLOW_BROKER etc. (set by meson test), else build/.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${ORDERFLOW_BROKER:=$top/build/broker/orderflow-broker}"
: "${ORDERFLOW_PRODUCER:=$top/build/producer/orderflow-producer}"
: "${ORDERFLOW_CONSUMER:=$top/build/consumer/orderflow-consumer}"
export ORDERFLOW_BROKER ORDERFLOW_PRODUCER ORDERFLOW_CONSUMER

N=200000 RATE=2000 PARTITIONS=48 TIMEOUT=900
INJECT=produce=0.2,fetch=0.2,commit=0.5,group=0.1,down=40/3
INTERVAL=10
while getopts n:r:i:p:I:T:h opt; do
  case $opt in
    n) N=$OPTARG ;;
    r) RATE=$OPTARG ;;
    i) INJECT=$OPTARG ;;
    p) PARTITIONS=$OPTARG ;;
    I) INTERVAL=$OPTARG ;;
    T) TIMEOUT=$OPTARG ;;
    h) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "chaos.sh: see chaos.sh -h" >&2; exit 64 ;;
  esac
done
for exe in "$ORDERFLOW_BROKER" "$ORDERFLOW_PRODUCER" "$ORDERFLOW_CONSUMER"; do
  [ -x "$exe" ] || { echo "chaos.sh: $exe not built (run scripts/setup.sh --for tests)" >&2; exit 69; }
done
source "$top/tests/e2e/lib.sh"
source "$top/tests/chaos/outputs.sh"
started=$SECONDS
deadline=$((SECONDS + TIMEOUT))
log() { echo "chaos: [$((SECONDS - started))s] $*" >&2; }
within_time() { [ $SECONDS -lt $deadline ] || fail "over the ${TIMEOUT}s time bound"; }

start_broker --partitions "$PARTITIONS" --inject "$INJECT"
log "broker $BROKERS, $PARTITIONS partitions, injecting $INJECT"

# librdkafka 2.0.2's mock cluster can abort on a JoinGroup it did not expect
# ("rdkafka_mock_cgrp.c:567: rd_kafka_mock_cgrp_member_add: Assertion
# `!member->resp' failed", about one short run in five here): the broker and
# all its data are gone, so nothing can be judged. The run is then reported
# skipped with that reason, never passed; the same faults and more are judged
# on Apache Kafka by kafka_chaos.sh.
skip_if_mock_aborted() {
  if grep -q 'rdkafka_mock.*Assertion' "$WORK/broker.err" 2>/dev/null; then
    echo "SKIP: orderflow-broker (librdkafka's mock) aborted: $(grep -m1 'Assertion' "$WORK/broker.err")" >&2
    exit 77
  fi
}
fail() {
  skip_if_mock_aborted
  echo "FAIL: $*" >&2
  exit 1
}
# Also when a read of the topics fails because the broker is gone.
set -E
trap skip_if_mock_aborted ERR

declare -A proc stopped
start_member() { start_processor "$1"; proc[$1]=$LAST_PID; }
# A processor started during one of the broker's down spells exits 69 at
# once ("no Kafka broker reachable", by design): start it again, as its
# supervisor would. Any other exit fails the run.
restarts=0 crashes=0
ensure_members() {
  local m status
  for m in a b; do
    [ -z "${stopped[$m]:-}" ] || continue # stopped on purpose (stop_member)
    kill -0 "${proc[$m]}" 2>/dev/null && continue
    status=0
    wait "${proc[$m]}" || status=$?
    if [ $status = 69 ] && grep -q 'no Kafka broker reachable' "$WORK/$m.err"; then
      restarts=$((restarts + 1))
      log "processor $m exited 69 at start (the broker was down); started again"
      start_member "$m"
    elif [ $status = 139 ] && [ "$sticky_crash_bug" = 1 ]; then
      # SIGSEGV in a librdkafka thread after a member resumed past its
      # session (librdkafka #4252, before 2.2.0; docs/reliability.md, "A
      # crash inside librdkafka"): reported and counted, never silent; the
      # data must still be whole. From 2.2.0 on a crash fails the run.
      crashes=$((crashes + 1))
      log "processor $m CRASHED (SIGSEGV inside librdkafka); started again, as its supervisor would"
      start_member "$m"
    else
      fail "processor $m exited on its own (status $status): $(grep -v ': librdkafka ' "$WORK/$m.err" | tail -3)"
    fi
  done
}
# The librdkafka the processors load (-V): before 2.2.0 it has #4252.
librdkafka=$("$ORDERFLOW_CONSUMER" -V | sed -n 's/.*(librdkafka \([0-9.]*\).*/\1/p')
sticky_crash_bug=0
[ "$(printf '%s\n2.2.0\n' "$librdkafka" | sort -V | head -1)" = 2.2.0 ] || sticky_crash_bug=1
log "librdkafka $librdkafka"
start_member a
start_member b
"$ORDERFLOW_PRODUCER" -b "$BROKERS" --generate "$N" --rate "$RATE" --seed 7 \
  >/dev/null 2>"$WORK/producer.err" &
producer=$!
PIDS+=("$producer")
log "producing $N orders at $RATE/s"

kills=0 stops=0 turn=0
while kill -0 "$producer" 2>/dev/null; do
  sleep "$INTERVAL"
  within_time
  kill -0 "$producer" 2>/dev/null || break
  ensure_members
  victim=$([ $((turn % 2)) = 0 ] && echo a || echo b)
  if [ $((turn % 3)) != 2 ]; then
    kill -9 "${proc[$victim]}" 2>/dev/null || true
    wait "${proc[$victim]}" 2>/dev/null || true
    kills=$((kills + 1))
    log "kill -9 processor $victim ($(topic_count data-processed) outputs so far)"
    start_member "$victim"
  else
    kill -STOP "${proc[$victim]}"
    stops=$((stops + 1))
    log "SIGSTOP processor $victim for 8 s (session timeout 6 s)"
    sleep 8
    kill -CONT "${proc[$victim]}"
    log "SIGCONT processor $victim"
  fi
  turn=$((turn + 1))
done
wait "$producer" || fail "producer exit $?: $(tail -3 "$WORK/producer.err")"
log "producer: $(tail -1 "$WORK/producer.err")"
grep -E ": $N delivered, 0 failed" "$WORK/producer.err" >/dev/null ||
  fail "the producer did not deliver all $N orders"

wait_for_distinct $((deadline - SECONDS))
# Stops member $1 gracefully (SIGTERM, exit 0). One that exits on its own
# meanwhile, as ensure_members allows (started in a down spell; a crash
# inside librdkafka), is judged, counted and started again there first: a
# SIGTERM sent to it would find no process (a failed CI run once did).
stop_member() {
  local m=$1 status
  for _ in 1 2 3 4 5; do
    ensure_members
    sleep 3 # let a member started again join before it is asked to leave
    kill -0 "${proc[$m]}" 2>/dev/null || continue
    kill -TERM "${proc[$m]}" 2>/dev/null || continue
    status=0
    wait "${proc[$m]}" || status=$?
    if [ $status = 0 ]; then
      stopped[$m]=1
      return 0
    fi
    if [ $status = 69 ] && grep -q 'no Kafka broker reachable' "$WORK/$m.err"; then
      restarts=$((restarts + 1))
      log "processor $m exited 69 while starting (the broker was down); started again"
    elif [ $status = 139 ]; then
      crashes=$((crashes + 1))
      log "processor $m CRASHED (SIGSEGV inside librdkafka); started again, as its supervisor would"
    else
      fail "processor $m exit $status after SIGTERM: $(grep -v ': librdkafka ' "$WORK/$m.err" | tail -3)"
    fi
    start_member "$m"
  done
  fail "processor $m not stopped cleanly in 5 attempts: $(grep -v ': librdkafka ' "$WORK/$m.err" | tail -3)"
}
# Let the group settle, then stop both members gracefully.
sleep 3
for m in a b; do
  stop_member "$m"
done
# The mock keeps about 5 MB per partition: a run too big for it would look
# like loss. Say so instead.
for topic in order-created data-processed; do
  dropped=$(topic_count "$topic" low)
  [ "$dropped" -eq 0 ] ||
    fail "the broker dropped $dropped old records of $topic (retention ~5 MB per partition): use more partitions (-p)"
done
judge_outputs
kill -TERM "$BROKER_PID" 2>/dev/null || true
wait "$BROKER_PID" 2>/dev/null || true
faults=$(sed -n 's/^orderflow-broker: faults injected: //p' "$WORK/broker.err")
echo "chaos: orders $N at $RATE/s in $((SECONDS - started)) s; kills survived $kills;" \
  "stops past session timeout $stops; restarts after a down broker $restarts;" \
  "processor crashes inside librdkafka $crashes; faults injected: ${faults:-none}"
echo "chaos: ok"
