#!/usr/bin/env bash
# orderflow-producer reading a pipe that stays open: each order is published
# when its line arrives, not when the input ends or a buffer fills (as
# `kcat -P` does), so `tail -f orders.jsonl | orderflow-producer -` works.
source "$(dirname "$0")/lib.sh"

order() {
  printf '{"order_id":"%s","customer_id":"C-1","currency":"EUR","items":[{"sku":"S-1","quantity":1,"unit_price_cents":100}]}\n' "$1"
}

start_broker
mkfifo "$WORK/orders"
"$ORDERFLOW_PRODUCER" -b "$BROKERS" - <"$WORK/orders" >"$WORK/delivered.jsonl" \
  2>"$WORK/producer.err" &
producer=$!
PIDS+=("$producer")
exec 3>"$WORK/orders" # the writer end, open until the end of the test
order P-1 >&3
wait_for_count order-created 1 15
order P-2 >&3
wait_for_count order-created 2 15
kill -0 "$producer" 2>/dev/null || fail "the producer ended before its input: $(cat "$WORK/producer.err")"
exec 3>&-
wait "$producer" || fail "producer exit $?: $(cat "$WORK/producer.err")"
grep -q ': 2 delivered, 0 failed, 0 skipped' "$WORK/producer.err" ||
  fail "summary: $(tail -1 "$WORK/producer.err")"
[ "$(jq -r .key "$WORK/delivered.jsonl" | tr '\n' ' ')" = "P-1 P-2 " ] ||
  fail "delivery lines: $(cat "$WORK/delivered.jsonl")"
echo "ok: each piped order published while the pipe stayed open"
