#!/usr/bin/env bash
# orderflow-broker + orderflow-producer --generate 10000: 10,000 valid
# envelopes with 10,000 distinct idempotency keys, each keyed by its order id.
source "$(dirname "$0")/lib.sh"

start_broker
"$ORDERFLOW_PRODUCER" -b "$BROKERS" --generate 10000 --seed 7 >"$WORK/delivered.jsonl" \
  2>"$WORK/producer.err" || fail "producer exit $?: $(cat "$WORK/producer.err")"

# stdout: one JSON line per delivered event.
lines=$(wc -l <"$WORK/delivered.jsonl")
[ "$lines" -eq 10000 ] || fail "producer printed $lines delivery lines, expected 10000"
distinct=$(jq -r '.idempotency_key' "$WORK/delivered.jsonl" | sort -u | wc -l)
[ "$distinct" -eq 10000 ] || fail "delivery lines hold $distinct distinct keys"
jq -e 'select(.topic != "order-created" or .offset < 0 or .partition < 0 or (.id|length) != 36)' \
  "$WORK/delivered.jsonl" >/dev/null && fail "a delivery line lacks topic/partition/offset/id"
grep -q '10000 delivered, 0 failed, 0 skipped' "$WORK/producer.err" ||
  fail "summary: $(cat "$WORK/producer.err")"

# What a third-party client reads back.
check_envelopes order-created 10000

# Same seed, same orders: generation is deterministic.
"$ORDERFLOW_PRODUCER" -b "$BROKERS" -q --generate 3 --seed 7 -t order-created.dlq 2>/dev/null
first=$(kcat -b "$BROKERS" -C -t order-created.dlq -e -o beginning -q -f '%k\n' | sort | head -1)
[ "$first" = "G7-1" ] || fail "generated key '$first', expected G7-1"
echo "ok: 10000 envelopes, 10000 distinct idempotency keys"
