#!/usr/bin/env bash
# Validates real orderflow output against docs/envelope.schema.json: starts
# orderflow-broker on a free loopback port, publishes 200 generated orders (with producer.tracing: a trace each), 2
# orders that break a business rule and 1 poison record, runs
# `orderflow-consumer process` until data-processed holds one output per valid
# input, then reads order-created, data-processed and order-created.dlq back
# and checks every envelope with jsonschema, the counts and how the records
# relate (envelope_check.py). Also checks that the schema refuses broken
# envelopes, so this test can fail.
#
# Environment (set by meson): ORDERFLOW_BROKER, ORDERFLOW_PRODUCER,
# ORDERFLOW_CONSUMER, ORDERFLOW_SCHEMA. Exit: 0 pass, 1 fail.
set -euo pipefail

: "${ORDERFLOW_BROKER:?run through meson test}"
: "${ORDERFLOW_PRODUCER:?run through meson test}"
: "${ORDERFLOW_CONSUMER:?run through meson test}"
: "${ORDERFLOW_SCHEMA:?run through meson test}"
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
CHECK="$HERE/envelope_check.py"

if ! "$PY" -c 'import jsonschema, confluent_kafka' 2>/dev/null || ! command -v kcat >/dev/null; then
  echo "FAIL: needs python3-jsonschema, python3-confluent-kafka and kcat (scripts/setup.sh installs them)" >&2
  exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/orderflow-docs.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  local f
  for f in "$WORK"/*.err; do
    [ -s "$f" ] || continue
    echo "--- $(basename "$f") (last lines)" >&2
    tail -n 15 "$f" >&2
  done
  exit 1
}

# 1. The schema itself refuses broken envelopes (no broker needed).
"$PY" "$CHECK" negative "$ORDERFLOW_SCHEMA" || fail "the schema accepts a broken envelope"

# 2. A broker on a free loopback port.
port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$ORDERFLOW_BROKER" --port "$port" >"$WORK/broker.out" 2>"$WORK/broker.err" &
PIDS+=($!)
for _ in $(seq 100); do
  grep -q '^ready ' "$WORK/broker.out" 2>/dev/null && break
  kill -0 "${PIDS[0]}" 2>/dev/null || fail "orderflow-broker exited"
  sleep 0.1
done
grep -q "^ready 127.0.0.1:$port\$" "$WORK/broker.out" || fail "no 'ready 127.0.0.1:$port' line in 10 s"
BROKERS=127.0.0.1:$port

# 3. Inputs: 200 generated orders (all valid, all accepted), 2 orders that
# break a business rule (rejected, not dead-lettered), 1 poison record.
GENERATED=200
# With producer.tracing, so every generated order starts a trace of its own.
printf 'producer: { tracing = true; };\n' >"$WORK/tracing.conf"
"$ORDERFLOW_PRODUCER" -b "$BROKERS" -c "$WORK/tracing.conf" --generate "$GENERATED" --seed 11 >"$WORK/producer.out" \
  2>"$WORK/producer.err" || fail "orderflow-producer --generate exited $?"
[ "$(wc -l <"$WORK/producer.out")" -eq "$GENERATED" ] || fail "producer reported $(wc -l <"$WORK/producer.out") deliveries, expected $GENERATED"
"$ORDERFLOW_PRODUCER" -b "$BROKERS" -q \
  --traceparent 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 --tracestate 'rojo=00f067aa0ba902b7' \
  --order '{"order_id":"R-1","customer_id":"C-1","currency":"EUR","items":[{"sku":"S-1","quantity":0,"unit_price_cents":100}]}' \
  2>"$WORK/producer-r1.err" || fail "publishing R-1 failed"
"$ORDERFLOW_PRODUCER" -b "$BROKERS" -q --idempotency-key 'retry-safe key #2' \
  --order '{"order_id":"R-2","customer_id":"","currency":"eur","items":[{"sku":"S-2","quantity":1,"unit_price_cents":100}]}' \
  2>"$WORK/producer-r2.err" || fail "publishing R-2 failed"
printf 'P-1\t{"specversion":"1.0","type":"order_created"\n' |
  kcat -b "$BROKERS" -P -t order-created -K $'\t' 2>"$WORK/kcat.err" || fail "kcat could not publish the poison record"

# 4. The processing stage, until every valid input has its output.
"$ORDERFLOW_CONSUMER" process -b "$BROKERS" -X session.timeout.ms=6000 -q \
  >"$WORK/process.out" 2>"$WORK/process.err" &
PROCESSOR=$!
PIDS+=("$PROCESSOR")
want=$((GENERATED + 2))
n=0
deadline=$((SECONDS + 60))
while [ $SECONDS -lt $deadline ]; do
  n=$("$PY" "$CHECK" count "$BROKERS" data-processed)
  [ "$n" -ge "$want" ] && break
  kill -0 "$PROCESSOR" 2>/dev/null || fail "the processor exited early"
  sleep 0.5
done
[ "$n" -ge "$want" ] || fail "data-processed holds $n records after 60 s, expected $want"
sleep 1 # a duplicate emitted late would show up in the counts below
kill -TERM "$PROCESSOR" 2>/dev/null || true
for _ in $(seq 100); do kill -0 "$PROCESSOR" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$PROCESSOR" 2>/dev/null; then
  echo "note: the processor did not exit within 10 s of SIGTERM; killed (not what this test checks)" >&2
  kill -9 "$PROCESSOR" 2>/dev/null || true
fi

# 5. Read everything back and check it.
"$PY" "$CHECK" check "$BROKERS" "$ORDERFLOW_SCHEMA" "$GENERATED" 2 P-1 || fail "records do not match"
echo "PASS"
