#!/usr/bin/env bash
# orderflow-gateway's POST /orders (docs/gateway.md): every status it
# answers, a replay byte-identical to the first answer, and 100 concurrent
# requests with one key giving exactly one record in Kafka.
source "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)

start_broker
printf 'limits: { max_record_bytes = 4096; };\n' >"$WORK/gw.conf"
start_gateway gw -c "$WORK/gw.conf"
"$PY" "$here/gateway_check.py" "$GATEWAY" post >"$WORK/check.out" 2>&1 ||
  fail "gateway_check.py: $(cat "$WORK/check.out")"
cat "$WORK/check.out"

# Kafka holds one record per key published: the 100 concurrent requests
# (key conc-1) made one, with the fingerprint and trace headers.
kcat -b "$BROKERS" -C -t order-created -e -o beginning -q -f '%h\n' >"$WORK/headers.txt" 2>"$WORK/kcat.err" ||
  fail "kcat: $(cat "$WORK/kcat.err")"
n=$(grep -c 'idempotency-key=conc-1\(,\|$\)' "$WORK/headers.txt" || true)
[ "$n" = 1 ] || fail "key conc-1 has $n records in order-created, expected 1"
expected=$(grep -c '^published ' "$WORK/check.out")
total=$(wc -l <"$WORK/headers.txt")
[ "$total" = "$expected" ] || fail "order-created holds $total records, expected $expected"
grep -q 'idempotency-fingerprint=[0-9a-f]\{64\}' "$WORK/headers.txt" ||
  fail "no idempotency-fingerprint header: $(head -3 "$WORK/headers.txt")"
grep -q 'traceparent=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' "$WORK/headers.txt" ||
  fail "the request's traceparent is not on its record"

# Keys optional: the key is derived from the order id.
kill -TERM "$LAST_PID"
wait "$LAST_PID" || fail "gateway exit $? on SIGTERM"
printf 'gateway: { require_idempotency_key = false; };\n' >"$WORK/nokey.conf"
start_gateway nokey -c "$WORK/nokey.conf"
"$PY" "$here/gateway_check.py" "$GATEWAY" derived || fail "derived key"
echo "ok"
