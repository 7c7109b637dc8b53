#!/usr/bin/env bash
# Static membership (--instance-id): of two processors, one is stopped
# (SIGTERM) and started again with the same instance id within
# session.timeout.ms. On Kafka it gets its partitions back without a
# rebalance: the other member's assignment never changes. Nothing is lost or
# emitted twice. librdkafka 2.0.2's mock cluster does not implement static
# membership (a rejoin is a new member, the old one stays until its session
# times out): there the test checks the data only.
source "$(dirname "$0")/lib.sh"
N=${N:-6000}

start_broker
# On Kafka the restart must come within the session: a slow start under
# load must not turn it into a departure. The mock has no static membership:
# there a longer session only keeps the stopped member in the group longer.
session=()
[ -n "${ORDERFLOW_KAFKA_NODES:-}" ] && session=(-X session.timeout.ms=20000)
start_processor a --json -v --instance-id processor-a "${session[@]}"
a=$LAST_PID
start_processor b --json -v --instance-id processor-b "${session[@]}"
b=$LAST_PID
"$ORDERFLOW_PRODUCER" -b "$BROKERS" -q --generate "$N" --rate 300 --seed 23 \
  2>"$WORK/producer.err" &
producer=$!
PIDS+=("$producer")
wait_for_output 30 a b
sleep 1
# From here on a's assignment must not change: both members have partitions
# (a may have started alone and given half of its partitions to b on b's
# join, which is an ordinary rebalance, not what this test is about).
a_steady_from=$(($(wc -l <"$WORK/a.err") + 1))
kill -TERM "$b"
wait "$b" || fail "b exit $? after SIGTERM: $(tail -3 "$WORK/b.err")"
start_processor b2 --json -v --instance-id processor-b "${session[@]}"
b2=$LAST_PID
wait_for_output 60 b2
wait "$producer" || fail "producer exit $?: $(cat "$WORK/producer.err")"
wait_for_count data-processed "$N" 120
# a's log from the steady state to here: what b's restart did to a.
tail -n +"$a_steady_from" "$WORK/a.err" >"$WORK/a-during-restart.err"
for pid in $a $b2; do
  kill -TERM "$pid"
  wait "$pid" || fail "processor exit $? after SIGTERM"
done

"$ORDERFLOW_CONSUMER" tail -b "$BROKERS" -e --from-beginning --json --raw -q >"$WORK/raw.jsonl"
raw=$(wc -l <"$WORK/raw.jsonl")
distinct=$(jq -r .idempotencykey "$WORK/raw.jsonl" | sort -u | wc -l)
[ "$distinct" -eq "$N" ] || fail "$distinct distinct outputs for $N inputs"
[ "$raw" -eq "$N" ] || fail "$((raw - N)) outputs emitted twice"
partitions() { jq -r 'select(.partition != null) | .partition' "$WORK/$1.out" | sort -un | tr '\n' ' '; }
# ': assigned partitions N,...' is the assignment line ("caught up: all N
# assigned partitions ..." is not).
echo "a: $(grep -c ': assigned partitions [0-9]' "$WORK/a.err") assignment(s), $(grep -c ': assigned partitions [0-9]' "$WORK/a-during-restart.err") during b's restart, partitions $(partitions a); b: $(partitions b); b restarted: $(partitions b2)" >&2
if [ -n "${ORDERFLOW_KAFKA_NODES:-}" ]; then
  ! grep -q ': assigned partitions [0-9]' "$WORK/a-during-restart.err" ||
    fail "a was assigned partitions again while b restarted: $(grep 'partitions' "$WORK/a-during-restart.err")"
  ! grep -q 'revoked partitions\|lost partitions' "$WORK/a-during-restart.err" ||
    fail "a lost partitions while b restarted: $(grep 'partitions' "$WORK/a-during-restart.err")"
  [ "$(partitions b2)" = "$(partitions b)" ] ||
    fail "b came back with partitions $(partitions b2), had $(partitions b)"
  echo "ok: b restarted with its partitions ($(partitions b)) and no rebalance; $N events, none lost or doubled"
else
  echo "ok: $N events, none lost or doubled across b's restart (the mock has no static membership: assignment not checked)"
fi
