#!/usr/bin/env bash
# The idempotent producer across a broker crash: 10,000 generated orders at
# 1,000/s while the single Kafka node is kill -9'd after ~3,000 deliveries
# and started again on its data. Every event is reported delivered, the topic
# holds exactly 10,000 records with 10,000 distinct keys (Kafka's sequence
# checks drop the retries of requests it had already written: no raw
# duplicates, unlike orderflow-broker), and every envelope is valid.
source "$(dirname "$0")/../e2e/lib.sh"
N=10000

start_broker
"$ORDERFLOW_PRODUCER" -b "$BROKERS" --generate "$N" --rate 1000 --seed 21 \
  -X message.timeout.ms=120000 >"$WORK/delivered.jsonl" 2>"$WORK/producer.err" &
producer=$!
PIDS+=("$producer")
for _ in $(seq 300); do
  [ "$(wc -l <"$WORK/delivered.jsonl")" -ge 3000 ] && break
  sleep 0.1
done
[ "$(wc -l <"$WORK/delivered.jsonl")" -ge 3000 ] || fail "fewer than 3000 deliveries in 30 s"
bash "$KAFKA_SH" stop-node 1 --signal KILL --dir "$WORK/kafka"
down_at=$(wc -l <"$WORK/delivered.jsonl")
sleep 2
bash "$KAFKA_SH" start-node 1 --dir "$WORK/kafka" 2>>"$WORK/kafka.err" || fail "the node did not come back"
echo "broker kill -9'd after $down_at deliveries, back after $(($(date +%s) - $(stat -c %Y "$WORK/kafka/node1/pid"))) s" >&2
wait "$producer" || fail "producer exit $?: $(grep -v ': librdkafka ' "$WORK/producer.err" | tail -5)"

lines=$(wc -l <"$WORK/delivered.jsonl")
[ "$lines" -eq "$N" ] || fail "producer printed $lines delivery lines, expected $N"
grep -q "$N delivered, 0 failed, 0 skipped" "$WORK/producer.err" ||
  fail "summary: $(grep -v ': librdkafka ' "$WORK/producer.err" | tail -3)"
check_envelopes order-created "$N"
echo "ok: $N events delivered across a broker kill -9 and restart; $N records, 0 raw duplicates"
