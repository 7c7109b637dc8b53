#!/usr/bin/env bash
# The HTTP handler's circuit breaker (docs/handlers.md, "The HTTP handler"):
# orders stream in while the fault service is killed and restarted on the
# same port, twice; the breaker opens (one log line, /metrics, /readyz 503
# saying why) and closes when the service answers again (one log line,
# /readyz 200); in between the processor is killed with kill -9 and
# restarted. Nothing is lost: tests/http/check_run.py checks one output per
# input with the service's bytes, per-key order and one call per key at once.
# GUARANTEE=exactly_once (tests/kafka/http_eos.sh): read_committed, no raw
# duplicate either.
source "$(dirname "$0")/lib.sh"
GUARANTEE=${GUARANTEE:-at_least_once}
eos=()
[ "$GUARANTEE" = exactly_once ] && eos=(--exactly-once)
N=900

start_broker --partitions 4
start_service svc '{"latency_ms": 5, "latency_jitter_ms": 10}'
port=${SERVICE##*:}
handler=(--guarantee "$GUARANTEE" --handler "http://$SERVICE/orders"
  --handler-arg max_in_flight=16 --handler-arg timeout_ms=1000 --handler-arg backoff_ms=20
  --handler-arg backoff_max_ms=100 --handler-arg max_attempts=1000
  --handler-arg breaker_failures=3 --handler-arg breaker_open_ms=300)
# The processor first, ready (its group joined), then the stream, so that
# orders keep coming through both outages (a processor that has drained
# the stream makes no call that could fail).
metrics=$(free_port)
start_processor p1 "${handler[@]}" --metrics "127.0.0.1:$metrics"
for _ in $(seq 200); do
  [ "$(http_get "127.0.0.1:$metrics" /readyz "$WORK/ready.txt")" = 200 ] && break
  sleep 0.1
done
"$PY" "$HTTP_DIR/produce_orders.py" "$BROKERS" $N 60 "$WORK/in.jsonl" --rate 100 \
  2>"$WORK/produce.err" &
producer=$!
PIDS+=("$producer")
wait_outputs 80 60

# lines REGEX: how many lines of p1's log match REGEX (grep -E).
lines() { grep -cE "$1" "$WORK/p1.err" || true; }
OPENED='circuit breaker open after .* no calls to' HALF='circuit breaker half-open: one probe'
CLOSED='circuit breaker closed: '

# flap 1|2: kill -9 the service, see the breaker open, restart it on the
# same port, see it close. While the service is away each probe fails and
# the breaker opens again: the handler logs each transition once (open,
# half-open, open, ..., half-open, closed).
flap() {
  local opened half closed state code
  opened=$(lines "$OPENED") half=$(lines "$HALF") closed=$(lines "$CLOSED")
  kill -9 "$SERVICE_PID"
  wait "$SERVICE_PID" 2>/dev/null || true
  for _ in $(seq 100); do
    [ "$(lines "$OPENED")" -gt "$opened" ] && break
    sleep 0.1
  done
  [ "$(lines "$OPENED")" -gt "$opened" ] ||
    fail "flap $1: no 'circuit breaker open' line: $(tail -3 "$WORK/p1.err")"
  # Between an opening and its probe's failure the handler is READY for a
  # moment (the probe may go): ask until the open state shows, 3 s at most.
  for _ in $(seq 30); do
    code=$(http_get "127.0.0.1:$metrics" /readyz "$WORK/ready.txt")
    [ "$code" = 503 ] && grep -q 'circuit breaker open' "$WORK/ready.txt" && break
    sleep 0.1
  done
  [ "$code" = 503 ] && grep -q 'circuit breaker open' "$WORK/ready.txt" ||
    fail "flap $1: /readyz with the breaker open: $code $(cat "$WORK/ready.txt")"
  for _ in $(seq 30); do
    http_get "127.0.0.1:$metrics" /metrics "$WORK/metrics.txt" >/dev/null
    state=$(metric "$WORK/metrics.txt" orderflow_handler_breaker_state)
    [ "$state" = 1 ] && break
    sleep 0.1
  done
  [ "$state" = 1 ] || fail "flap $1: orderflow_handler_breaker_state $state with the service away"
  sleep 1
  start_service svc '{"latency_ms": 5, "latency_jitter_ms": 10}' "$port"
  for _ in $(seq 100); do
    [ "$(lines "$CLOSED")" -gt "$closed" ] && break
    sleep 0.1
  done
  [ "$(lines "$CLOSED")" = $((closed + 1)) ] ||
    fail "flap $1: want one 'circuit breaker closed' line more: $(grep 'circuit breaker' "$WORK/p1.err" | tail -4)"
  [ $(($(lines "$OPENED") - opened)) = $(($(lines "$HALF") - half)) ] ||
    fail "flap $1: transitions not logged once each: $(grep 'circuit breaker' "$WORK/p1.err" | tail -6)"
  for _ in $(seq 30); do
    code=$(http_get "127.0.0.1:$metrics" /readyz "$WORK/ready.txt")
    [ "$code" = 200 ] && break
    sleep 0.1
  done
  [ "$code" = 200 ] || fail "flap $1: /readyz after the breaker closed: $code $(cat "$WORK/ready.txt")"
  http_get "127.0.0.1:$metrics" /metrics "$WORK/metrics.txt" >/dev/null
  [ "$(metric "$WORK/metrics.txt" orderflow_handler_breaker_state)" = 0 ] ||
    fail "flap $1: /metrics: $(grep breaker_state "$WORK/metrics.txt")"
  [ "$(metric "$WORK/metrics.txt" 'orderflow_handler_breaker_transitions_total{to="closed"}')" = "$1" ] ||
    fail "flap $1: /metrics: $(grep breaker_transitions "$WORK/metrics.txt")"
}
flap 1
wait_outputs 200 60
flap 2
wait_until_handles_sigterm "$LAST_PID"
kill -TERM "$LAST_PID"
wait "$LAST_PID" || fail "processor exit $?: $(tail -3 "$WORK/p1.err")"

# kill -9 of the processor mid-calls, then a restart.
start_processor p2 "${handler[@]}"
# Mid-stream: half of what is left, at most 100 more (on a slow machine the
# stream may be mostly out already; more than N outputs never come).
before=$(outputs_count)
step=$(((N - before) / 2))
[ "$step" -gt 100 ] && step=100
wait_outputs $((before + step)) 60
kill -9 "$LAST_PID"
wait "$LAST_PID" 2>/dev/null || true
start_processor p3 "${handler[@]}"
wait "$producer" || fail "produce_orders.py: $(cat "$WORK/produce.err")"
wait_outputs $N 90
wait_until_handles_sigterm "$LAST_PID"
kill -TERM "$LAST_PID"
wait "$LAST_PID" || fail "processor exit $?: $(tail -3 "$WORK/p3.err")"
"$PY" "$HTTP_DIR/check_run.py" "$BROKERS" "$WORK/in.jsonl" "$WORK/svc.log" --max-in-flight 16 \
  --service-away "${eos[@]}" >"$WORK/check.txt" || fail "$(cat "$WORK/check.txt")"
echo "ok: breaker opened and closed twice, kill -9 ($GUARANTEE): $(cat "$WORK/check.txt")"
