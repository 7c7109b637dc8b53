#!/usr/bin/env bash
# `promtool check metrics` (Prometheus's own linter) accepts what the
# processor and the producer serve on /metrics while they run. Skipped (77)
# only where promtool is not installed; scripts/setup.sh installs it.
source "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || { echo "SKIP: promtool not installed (Debian: prometheus)" >&2; exit 77; }

start_broker
start_processor p -q --metrics 127.0.0.1:0
PADDR=$(metrics_address p)
"$ORDERFLOW_PRODUCER" -b "$BROKERS" -q --rate 200 -g 6000 --metrics 127.0.0.1:0 \
  >"$WORK/producer.out" 2>"$WORK/producer.err" &
PRODUCER=$!
PIDS+=("$PRODUCER")
RADDR=$(metrics_address producer)
wait_for_count data-processed 100 60
for who in processor producer; do
  [ $who = processor ] && addr=$PADDR || addr=$RADDR
  [ "$(http_get "$addr" /metrics "$WORK/$who.prom")" = 200 ] || fail "$who /metrics"
  promtool check metrics <"$WORK/$who.prom" >"$WORK/$who.lint" 2>&1 ||
    fail "promtool check metrics ($who): $(cat "$WORK/$who.lint")"
done
grep -q '^orderflow_producer_events_total{topic="order-created",outcome="delivered"} [1-9]' \
  "$WORK/producer.prom" || fail "producer scrape counted no delivery"
grep -q '^orderflow_processing_latency_seconds_bucket{le="+Inf"} [1-9]' "$WORK/processor.prom" ||
  fail "processor scrape has no latency observation"
# Interrupted: delivers what it sent, exits 1 (docs/man/orderflow-producer.1).
kill -TERM "$PRODUCER"
status=0
wait "$PRODUCER" || status=$?
[ $status = 1 ] || fail "producer exit $status after SIGTERM, expected 1"
echo "ok"
