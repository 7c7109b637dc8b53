#!/usr/bin/env bash
# Chaos run on a real 3-node Apache Kafka cluster (scripts/kafka.sh up
# --nodes 3: replication 3, min.insync.replicas 2), loopback only, bounded in
# time.
#
#   tests/chaos/kafka_chaos.sh [-n ORDERS] [-r RATE] [-g GUARANTEE] [-I EVERY_S] [-T TIMEOUT_S]
#   defaults: -n 200000 -r 1000 -g at_least_once -I 10 -T 1500
#
# Two `orderflow-consumer process` in one group; orderflow-producer
# --generate ORDERS --rate RATE. While orders flow, every EVERY_S seconds one
# fault, in turn: kill -9 a processor (restarted at once); kill -9 the broker
# that leads the most partitions of order-created and data-processed (started
# again 5 s later); SIGSTOP a processor past its session timeout (6 s) for
# 8 s; SIGSTOP another broker past its session timeout (9 s) for 12 s. Before
# each broker fault every replica is back in sync, so at most one broker is
# ever away and acks=all writes keep going on the other two.
# Faults go on until each kind has happened once, even after the last order.
# Afterwards tail's deduplicated view (read_committed) must hold exactly one
# data_processed per input key, none missing, and the producer must have
# delivered every order or reported it failed and written it to --failed
# (which is then re-published); raw duplicates are counted (exactly_once must have
# none). Each fault is logged with the second it happened.
# Binaries: $ORDERFLOW_PRODUCER etc. (set by meson test), else build/.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${ORDERFLOW_BROKER:=$top/build/broker/orderflow-broker}"
: "${ORDERFLOW_PRODUCER:=$top/build/producer/orderflow-producer}"
: "${ORDERFLOW_CONSUMER:=$top/build/consumer/orderflow-consumer}"
export ORDERFLOW_BROKER ORDERFLOW_PRODUCER ORDERFLOW_CONSUMER
export ORDERFLOW_KAFKA_NODES=3

N=200000 RATE=1000 GUARANTEE=at_least_once INTERVAL=10 TIMEOUT=1500
while getopts n:r:g:I:T:h opt; do
  case $opt in
    n) N=$OPTARG ;;
    r) RATE=$OPTARG ;;
    g) GUARANTEE=$OPTARG ;;
    I) INTERVAL=$OPTARG ;;
    T) TIMEOUT=$OPTARG ;;
    h) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "kafka_chaos.sh: see kafka_chaos.sh -h" >&2; exit 64 ;;
  esac
done
for exe in "$ORDERFLOW_PRODUCER" "$ORDERFLOW_CONSUMER"; do
  [ -x "$exe" ] || { echo "kafka_chaos.sh: $exe not built (run scripts/setup.sh --for tests)" >&2; exit 69; }
done
source "$top/tests/e2e/lib.sh"
source "$top/tests/chaos/outputs.sh"
started=$SECONDS
deadline=$((SECONDS + TIMEOUT))
log() { echo "chaos: [$((SECONDS - started))s] $*" >&2; }
# Over the bound: what each processor said last, and how far the group got.
within_time() {
  [ $SECONDS -lt $deadline ] && return 0
  for m in a b; do
    echo "processor $m: $(grep -v ': librdkafka ' "$WORK/$m.err" | tail -4 | tr '\n' '|')" >&2
  done
  "$ORDERFLOW_CONSUMER" lag -b "$BROKERS" >&2 || true
  report_missing
  fail "over the ${TIMEOUT}s time bound ($(distinct_count) of $N input keys have a data_processed)"
}

start_broker --partitions 12
log "3-node Kafka cluster $BROKERS, 12 partitions, replication 3, min.insync.replicas 2"

declare -A proc
start_member() { start_processor "$1" -v --guarantee "$GUARANTEE"; proc[$1]=$LAST_PID; }
# A processor whose output could not be delivered stops without committing
# it ("a restart re-processes it", docs/architecture.md): a leader's kill -9
# can do that when it breaks the idempotent producer's sequence. Start it
# again, as its supervisor would, and count it; any other exit fails the run.
supervised_restarts=0
supervise() {
  local m status why
  for m in a b; do
    kill -0 "${proc[$m]}" 2>/dev/null && continue
    status=0
    wait "${proc[$m]}" || status=$?
    why=$(grep -v ': librdkafka ' "$WORK/$m.err" | tail -8 | grep -m1 -E 'output not delivered|producer: fatal|no Kafka broker reachable' || true)
    if { [ $status = 69 ] || [ $status = 70 ]; } && [ -n "$why" ]; then
      supervised_restarts=$((supervised_restarts + 1))
      log "processor $m stopped (exit $status: ${why#orderflow-consumer process: }); started again"
      start_member "$m"
    else
      fail "processor $m exited on its own (status $status): $(grep -v ': librdkafka ' "$WORK/$m.err" | tail -3)"
    fi
  done
}
start_member a
start_member b
# Deliveries wait out a broker's absence (leader election after a kill -9
# takes the broker session timeout, 9 s) instead of failing.
"$ORDERFLOW_PRODUCER" -b "$BROKERS" --generate "$N" --rate "$RATE" --seed 7 >/dev/null \
  -X message.timeout.ms=120000 --failed "$WORK/failed.jsonl" 2>"$WORK/producer.err" &
producer=$!
PIDS+=("$producer")
log "producing $N orders at $RATE/s; processors: $GUARANTEE"

node_port() { echo "${BROKERS}" | tr ',' '\n' | sed -n "${1}p" | cut -d: -f2; }

# The broker leading the most partitions of the two busy topics.
busiest_leader() {
  { "$PY" "$KAFKA_ADMIN" leaders "$BROKERS" order-created
    "$PY" "$KAFKA_ADMIN" leaders "$BROKERS" data-processed; } |
    awk '$1 >= 1 { n[$1] += $2 } END { for (b in n) print n[b], b }' | sort -rn | head -1 | cut -d' ' -f2
}

in_sync() {
  "$PY" "$KAFKA_ADMIN" wait-isr "$BROKERS" 120 2>>"$WORK/chaos-admin.err" ||
    fail "replicas not back in sync within 120 s: $(tail -1 "$WORK/chaos-admin.err")"
}

processor_kills=0 processor_stops=0 broker_kills=0 broker_stops=0 turn=0
# Faults go on while orders flow, and until each kind has happened once (a
# slow broker restart on a loaded machine can outlast the producer's run;
# the processors then still have a backlog, or a group to rejoin).
while kill -0 "$producer" 2>/dev/null || [ $turn -lt 4 ]; do
  sleep "$INTERVAL"
  within_time
  supervise
  # Processor faults (turns 0 and 2 of every 4) alternate between a and b.
  victim=$([ $((turn / 2 % 2)) = 0 ] && echo a || echo b)
  case $((turn % 4)) in
    0)
      kill -9 "${proc[$victim]}" 2>/dev/null || true
      wait "${proc[$victim]}" 2>/dev/null || true
      processor_kills=$((processor_kills + 1))
      log "kill -9 processor $victim ($(topic_count data-processed) outputs so far)"
      start_member "$victim"
      ;;
    1)
      in_sync
      node=$(busiest_leader)
      bash "$KAFKA_SH" stop-node "$node" --signal KILL --dir "$WORK/kafka"
      broker_kills=$((broker_kills + 1))
      log "kill -9 broker $node (127.0.0.1:$(node_port "$node")), the leader of the most partitions"
      sleep 5
      bash "$KAFKA_SH" start-node "$node" --dir "$WORK/kafka" 2>>"$WORK/kafka.err" ||
        fail "broker $node did not come back: $(tail -3 "$WORK/kafka.err")"
      log "broker $node started again and answers metadata"
      ;;
    2)
      kill -STOP "${proc[$victim]}"
      processor_stops=$((processor_stops + 1))
      log "SIGSTOP processor $victim for 8 s (session timeout 6 s)"
      sleep 8
      kill -CONT "${proc[$victim]}"
      log "SIGCONT processor $victim"
      ;;
    3)
      in_sync
      node=$(( $(busiest_leader) % 3 + 1 ))
      bash "$KAFKA_SH" stop-node "$node" --signal STOP --dir "$WORK/kafka"
      broker_stops=$((broker_stops + 1))
      log "SIGSTOP broker $node for 12 s (broker session timeout 9 s)"
      sleep 12
      bash "$KAFKA_SH" stop-node "$node" --signal CONT --dir "$WORK/kafka"
      log "SIGCONT broker $node"
      ;;
  esac
  turn=$((turn + 1))
done
status=0
wait "$producer" || status=$?
log "producer: $(grep -v ': librdkafka ' "$WORK/producer.err" | tail -1)"
republished=0
if [ $status = 1 ]; then
  # A leader's kill -9 can fail in-flight events, reported and written to
  # --failed (docs/reliability.md, "Chaos on a Kafka cluster"): every one
  # must be there, and re-publishing the file, as a user would, delivers
  # them; some may already be in the topic, and the processor skips those.
  summary=$(grep -E ': [0-9]+ delivered, [0-9]+ failed, 0 skipped' "$WORK/producer.err" | tail -1)
  delivered=$(echo "$summary" | sed -E 's/.*: ([0-9]+) delivered.*/\1/')
  failed=$(echo "$summary" | sed -E 's/.* ([0-9]+) failed.*/\1/')
  [ -n "$summary" ] && [ $((delivered + failed)) -eq "$N" ] ||
    fail "the producer accounted for ${delivered:-?} delivered + ${failed:-?} failed of $N orders"
  [ "$(wc -l <"$WORK/failed.jsonl")" -eq "$failed" ] ||
    fail "the producer reported $failed failed orders, --failed holds $(wc -l <"$WORK/failed.jsonl")"
  log "the producer reported $failed orders failed ($(grep -m1 'not delivered' "$WORK/producer.err" | sed 's/.*not delivered: //')); re-publishing --failed"
  "$ORDERFLOW_PRODUCER" -b "$BROKERS" "$WORK/failed.jsonl" >/dev/null 2>"$WORK/republish.err" ||
    fail "re-publishing the failed orders: exit $?: $(tail -2 "$WORK/republish.err")"
  grep -E ": $failed delivered, 0 failed" "$WORK/republish.err" >/dev/null ||
    fail "re-publishing did not deliver all $failed failed orders: $(tail -1 "$WORK/republish.err")"
  republished=$failed
elif [ $status != 0 ]; then
  fail "producer exit $status: $(grep -v ': librdkafka ' "$WORK/producer.err" | tail -3)"
else
  grep -E ": $N delivered, 0 failed" "$WORK/producer.err" >/dev/null ||
    fail "the producer did not deliver all $N orders"
  [ ! -s "$WORK/failed.jsonl" ] || fail "the producer wrote to --failed but reported no failure"
fi

while [ "$(distinct_count)" -lt "$N" ]; do
  within_time
  supervise
  sleep 3
done
sleep 3
for m in a b; do
  kill -TERM "${proc[$m]}"
  wait "${proc[$m]}" || fail "processor $m exit $? after SIGTERM: $(grep -v ': librdkafka ' "$WORK/$m.err" | tail -3)"
done
echo "chaos: $GUARANTEE, orders $N at $RATE/s in $((SECONDS - started)) s on 3 brokers;" \
  "processor kill -9s $processor_kills, processor stops past session $processor_stops," \
  "broker kill -9s $broker_kills, broker stops past session $broker_stops;" \
  "producer failures reported and re-published $republished;" \
  "processors restarted after an undelivered output $supervised_restarts"
judge_outputs
if [ "$GUARANTEE" = exactly_once ] && [ "$RAW_DUPLICATES" -ne 0 ]; then
  fail "exactly_once: $RAW_DUPLICATES raw duplicates visible to read_committed"
fi
[ "$processor_kills" -ge 1 ] && [ "$processor_stops" -ge 1 ] && [ "$broker_kills" -ge 1 ] &&
  [ "$broker_stops" -ge 1 ] || fail "not every kind of fault happened"
echo "chaos: ok"
