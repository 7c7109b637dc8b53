#!/usr/bin/env bash
# The processor's metrics endpoint (docs/operations.md, "Monitoring") over a
# mixed stream: the counters equal what the topics hold (accepted + rejected
# = data_processed records, dead_lettered = dead letters, duplicate = inputs
# skipped, also by the processor's own summary), lag falls to 0 once caught
# up, /readyz is 503 until the group is joined and restored and again while
# the broker is down, /healthz 200, and a port in use or a bad address is
# refused with the option named.
source "$(dirname "$0")/lib.sh"

start_broker
# The broker held still (SIGSTOP) until /readyz has answered once: however
# fast the processor starts, it cannot join before that first look (on a
# loaded machine one did, and the test saw no 503).
kill -STOP "$BROKER_PID"
start_processor p --json --metrics 127.0.0.1:0
P=$LAST_PID
ADDR=$(metrics_address p)

# Readiness from the first answer: 503 with a reason until joined and
# restored, then 200.
seen_503=0 ready=0
for _ in $(seq 600); do
  code=$(http_get "$ADDR" /readyz "$WORK/ready.txt")
  [ $seen_503 = 1 ] || kill -CONT "$BROKER_PID"
  if [ "$code" = 503 ]; then
    seen_503=1
    grep -Eq '^not ready: (starting|not yet joined|restoring)' "$WORK/ready.txt" ||
      fail "unexpected /readyz reason: $(cat "$WORK/ready.txt")"
  elif [ "$code" = 200 ]; then
    ready=1
    break
  else
    fail "/readyz answered $code"
  fi
  sleep 0.05
done
[ $ready = 1 ] || fail "/readyz not 200 within 30 s: $(cat "$WORK/ready.txt")"
[ $seen_503 = 1 ] || fail "/readyz was never 503 before the group was joined and restored"
[ "$(http_get "$ADDR" /healthz "$WORK/health.txt")" = 200 ] || fail "/healthz: $(cat "$WORK/health.txt")"
[ "$(http_get "$ADDR" /nope "$WORK/x.txt")" = 404 ] || fail "/nope is not 404"

order() { printf '{"order_id":"%s","customer_id":"C-1","currency":"%s","items":%s}\n' "$1" "$2" "$3"; }
{
  for i in 1 2 3 4 5 6 7 8; do order "V-$i" EUR '[{"sku":"S-1","quantity":2,"unit_price_cents":1999}]'; done
  order R-empty EUR '[]'
  order R-qty EUR '[{"sku":"S-1","quantity":0,"unit_price_cents":100}]'
  order R-cur eur '[{"sku":"S-1","quantity":1,"unit_price_cents":100}]'
} >"$WORK/orders.jsonl"
"$ORDERFLOW_PRODUCER" -b "$BROKERS" -q "$WORK/orders.jsonl" || fail "producer exit $?"
{
  printf 'P-json\tthis is not JSON\n'
  printf 'P-array\t[1,2,3]\n'
  printf 'P-type\t{"specversion":"1.0"}\n'
} >"$WORK/poison.tsv"
kcat -b "$BROKERS" -P -t order-created -K $'\t' <"$WORK/poison.tsv" || fail "kcat could not write"
wait_for_count data-processed 11 60
wait_for_count order-created.dlq 3 60

# A scrape during the run: the processor is still consuming.
[ "$(http_get "$ADDR" /metrics "$WORK/during.prom")" = 200 ] || fail "/metrics during the run"
consumed=$(metric "$WORK/during.prom" 'orderflow_events_consumed_total{topic="order-created"}')
[ "$consumed" -ge 14 ] || fail "consumed $consumed during the run, expected at least 14"

# The same orders again: every one a duplicate (same idempotency keys).
"$ORDERFLOW_PRODUCER" -b "$BROKERS" -q "$WORK/orders.jsonl" || fail "producer exit $?"
inputs=$((11 + 3 + 11))
wait_for_count order-created $inputs 30

# Caught up: every input counted, each partition's lag 0 (statistics every
# second, commits every 200 ms).
caught_up=0
for _ in $(seq 200); do
  http_get "$ADDR" /metrics "$WORK/after.prom" >/dev/null
  consumed=$(metric "$WORK/after.prom" 'orderflow_events_consumed_total{topic="order-created"}')
  lag=$(awk '/^orderflow_consumer_lag_records\{/ { n++; sum += $2 } END { print n + 0, sum + 0 }' "$WORK/after.prom")
  if [ "$consumed" = $inputs ] && [ "${lag% *}" -gt 0 ] && [ "${lag#* }" = 0 ]; then
    caught_up=1
    break
  fi
  sleep 0.1
done
[ $caught_up = 1 ] || fail "not caught up: consumed $consumed of $inputs, lag series and sum: $lag"

m() { metric "$WORK/after.prom" "$1"; }
accepted=$(m 'orderflow_processed_events_total{outcome="accepted"}')
rejected=$(m 'orderflow_processed_events_total{outcome="rejected"}')
duplicate=$(m 'orderflow_processed_events_total{outcome="duplicate"}')
dead=$(m 'orderflow_processed_events_total{outcome="dead_lettered"}')
processed=$(topic_count data-processed)
dead_letters=$(topic_count order-created.dlq)
[ $((accepted + rejected)) = "$processed" ] ||
  fail "accepted $accepted + rejected $rejected != $processed data_processed records"
[ "$accepted" = 8 ] && [ "$rejected" = 3 ] || fail "accepted $accepted, rejected $rejected; expected 8 and 3"
[ "$dead" = "$dead_letters" ] || fail "dead_lettered $dead != $dead_letters dead letters"
[ "$duplicate" = 11 ] || fail "duplicate $duplicate, expected 11"
[ "$(m 'orderflow_outputs_produced_total{topic="data-processed"}')" = "$processed" ] ||
  fail "outputs produced != $processed"
[ "$(m 'orderflow_outputs_produced_total{topic="order-created.dlq"}')" = "$dead_letters" ] ||
  fail "dead letters produced != $dead_letters"
[ "$(m 'orderflow_processing_latency_seconds_count')" = "$processed" ] ||
  fail "latency observations != $processed outputs"
[ "$(m 'orderflow_assigned_partitions')" = 6 ] || fail "assigned partitions: $(m orderflow_assigned_partitions)"
[ "$(m 'orderflow_broker_up')" = 1 ] || fail "broker_up is not 1"
[ "$(m 'orderflow_outputs_in_flight')" = 0 ] || fail "outputs in flight after catching up"
[ "$(m 'orderflow_rebalances_total')" -ge 1 ] || fail "no rebalance counted"
[ "$(m 'orderflow_commit_failures_total')" = 0 ] || fail "commit failures"
grep -q '^orderflow_build_info{version="[^"]*",librdkafka_version="[^"]*"} 1$' "$WORK/after.prom" ||
  fail "no build_info"
grep -q '^orderflow_handler_info{name="rules",version="[^"]*"} 1$' "$WORK/after.prom" ||
  fail "no handler_info naming the built-in rules"
for name in process_cpu_seconds_total process_resident_memory_bytes process_open_fds \
  process_start_time_seconds orderflow_restore_duration_seconds orderflow_restore_keys; do
  [ "$(m $name)" != absent ] || fail "$name absent"
done
if command -v promtool >/dev/null; then
  promtool check metrics <"$WORK/after.prom" >"$WORK/promtool.out" 2>&1 ||
    fail "promtool check metrics: $(cat "$WORK/promtool.out")"
fi

# The processor's own summary agrees.
kill -TERM "$P"
wait "$P" || fail "processor exit $? after SIGTERM"
grep -q "$inputs consumed, $accepted accepted, $rejected rejected, $duplicate duplicates skipped, $dead dead-lettered" "$WORK/p.err" ||
  fail "summary differs from the metrics: $(grep consumed "$WORK/p.err")"

# A taken port and a bad address are refused with the option named.
start_processor q -q --metrics 127.0.0.1:0
Q=$LAST_PID
QADDR=$(metrics_address q)
for _ in $(seq 300); do
  [ "$(http_get "$QADDR" /readyz "$WORK/ready.txt")" = 200 ] && break
  sleep 0.1
done
[ "$(http_get "$QADDR" /readyz "$WORK/ready.txt")" = 200 ] || fail "second processor not ready"
status=0
"$ORDERFLOW_CONSUMER" process -b "$BROKERS" -q --metrics "$QADDR" 2>"$WORK/taken.err" || status=$?
[ $status = 78 ] || fail "a taken --metrics port: exit $status, expected 78"
grep -q -- "--metrics $QADDR: cannot listen: Address already in use" "$WORK/taken.err" ||
  fail "taken port message: $(cat "$WORK/taken.err")"
status=0
"$ORDERFLOW_CONSUMER" process -b "$BROKERS" -q --metrics localhost:x 2>"$WORK/bad.err" || status=$?
[ $status = 64 ] || fail "a bad --metrics address: exit $status, expected 64"
grep -q -- "--metrics: expected ADDR:PORT" "$WORK/bad.err" || fail "bad address message: $(cat "$WORK/bad.err")"

# The broker goes away: not ready within 10 s (statistics every second),
# still alive.
kill -9 "$BROKER_PID"
down=0
for _ in $(seq 100); do
  if [ "$(http_get "$QADDR" /readyz "$WORK/ready.txt")" = 503 ]; then
    down=1
    break
  fi
  sleep 0.1
done
[ $down = 1 ] || fail "/readyz still $(cat "$WORK/ready.txt") 10 s after the broker stopped"
grep -q '^not ready: no broker reachable$' "$WORK/ready.txt" || fail "reason: $(cat "$WORK/ready.txt")"
http_get "$QADDR" /metrics "$WORK/down.prom" >/dev/null
[ "$(metric "$WORK/down.prom" orderflow_broker_up)" = 0 ] || fail "broker_up not 0 with the broker down"
[ "$(http_get "$QADDR" /healthz "$WORK/health.txt")" = 200 ] || fail "/healthz with the broker down: $(cat "$WORK/health.txt")"
echo "ok"
