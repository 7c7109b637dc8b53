#!/usr/bin/env bash
# The processor's co-partitioning check against real topic metadata: an input
# topic with more partitions than the outputs, and one with fewer, each make
# it exit 78 naming the topic to grow and the kafka-topics.sh command (Kafka
# can only add partitions, so the advice always grows the smaller topics);
# after following the advice it starts and processes.
source "$(dirname "$0")/../e2e/lib.sh"

start_broker
kafka_create_topics 8 orders-wide
kafka_create_topics 4 orders-narrow

# expect_refusal INPUT_TOPIC ADVICE
expect_refusal() {
  local status=0
  timeout 60 "$ORDERFLOW_CONSUMER" process -b "$BROKERS" -t "$1" -q >/dev/null 2>"$WORK/$1.err" || status=$?
  [ "$status" -eq 78 ] || fail "input $1: exit $status, expected 78: $(grep -v '^%' "$WORK/$1.err")"
  grep -qF -- "$2" "$WORK/$1.err" || fail "input $1: advice '$2' missing: $(grep -v '^%' "$WORK/$1.err")"
}
expect_refusal orders-wide "give 'data-processed' 8 partitions (kafka-topics.sh --bootstrap-server $BROKERS --alter --topic data-processed --partitions 8)"
expect_refusal orders-narrow "give 'orders-narrow' 6 partitions (kafka-topics.sh --bootstrap-server $BROKERS --alter --topic orders-narrow --partitions 6)"

# Follow the advice for the narrow topic; then the processor runs on it.
"$PY" "$KAFKA_ADMIN" add-partitions "$BROKERS" orders-narrow 6 || fail "cannot grow orders-narrow"
"$ORDERFLOW_PRODUCER" -b "$BROKERS" -t orders-narrow -q --generate 100 --seed 3 || fail "producer exit $?"
start_processor p -t orders-narrow -q
wait_for_count data-processed 100 60
kill -TERM "$LAST_PID"
wait "$LAST_PID" || fail "processor exit $? after SIGTERM: $(tail -3 "$WORK/p.err")"
echo "ok: 8 vs 6 and 4 vs 6 partitions refused with exit 78 and the right advice; 6 vs 6 processed 100"
