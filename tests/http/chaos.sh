#!/usr/bin/env bash
# The HTTP handler's chaos run (docs/reliability.md, "Chaos with the HTTP
# handler"): N orders (repeated record keys, tests/http/produce_orders.py)
# streamed at R/s through two processors calling the fault service
# (tests/http/fault_service.py) with random 500s, 503s and 429s on top of a
# random latency; every -I seconds, in turn: the service killed and restarted
# on the same port 2 s later, a burst of 503s for 2 s, a burst of 429s with
# Retry-After for 2 s, a processor killed with kill -9 and restarted.
# Afterwards tests/http/check_run.py checks both ends (0 lost, one output per
# input with the service's bytes, per-key order, one call per key at once,
# one Idempotency-Key per event, at most max_in_flight calls per processor
# at once x 2) and the script prints the figures.
#
# usage: tests/http/chaos.sh [-n ORDERS] [-k KEYS] [-r RATE] [-I SECONDS] [-T SECONDS]
#        [-g at_least_once|exactly_once]
# Run it from a build: ORDERFLOW_BROKER=build/broker/orderflow-broker
# ORDERFLOW_PRODUCER=build/producer/orderflow-producer
# ORDERFLOW_CONSUMER=build/consumer/orderflow-consumer tests/http/chaos.sh
N=100000 KEYS=10000 RATE=2000 INTERVAL=6 TIMEOUT=900 GUARANTEE=at_least_once
while getopts n:k:r:I:T:g: opt; do
  case $opt in
    n) N=$OPTARG ;;
    k) KEYS=$OPTARG ;;
    r) RATE=$OPTARG ;;
    I) INTERVAL=$OPTARG ;;
    T) TIMEOUT=$OPTARG ;;
    g) GUARANTEE=$OPTARG ;;
    *) echo "usage: $0 [-n ORDERS] [-k KEYS] [-r RATE] [-I SECONDS] [-T SECONDS] [-g GUARANTEE]" >&2
      exit 64 ;;
  esac
done
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$here/../.." && pwd)/build
export ORDERFLOW_BROKER=${ORDERFLOW_BROKER:-$build/broker/orderflow-broker}
export ORDERFLOW_PRODUCER=${ORDERFLOW_PRODUCER:-$build/producer/orderflow-producer}
export ORDERFLOW_CONSUMER=${ORDERFLOW_CONSUMER:-$build/consumer/orderflow-consumer}
source "$here/lib.sh"
eos=()
[ "$GUARANTEE" = exactly_once ] && eos=(--exactly-once)
MAX_IN_FLIGHT=32
CONFIG='{"latency_ms": 2, "latency_jitter_ms": 8, "retry_after": "1",
  "rates": {"500": 0.01, "503": 0.005, "429": 0.005}}'

started=$SECONDS
# 48 partitions: the mock keeps about 5 MB per partition (docs/reliability.md).
start_broker --partitions 48
start_service svc "$CONFIG"
port=${SERVICE##*:}
handler=(--guarantee "$GUARANTEE" --handler "http://$SERVICE/orders"
  --handler-arg max_in_flight=$MAX_IN_FLIGHT --handler-arg timeout_ms=1000
  --handler-arg backoff_ms=20 --handler-arg backoff_max_ms=2000 --handler-arg max_attempts=1000
  --handler-arg breaker_failures=5 --handler-arg breaker_open_ms=500)
"$PY" "$HTTP_DIR/produce_orders.py" "$BROKERS" "$N" "$KEYS" "$WORK/in.jsonl" --rate "$RATE" \
  2>"$WORK/produce.err" &
producer=$!
PIDS+=("$producer")
start_processor a "${handler[@]}"
a=$LAST_PID
start_processor b "${handler[@]}"
b=$LAST_PID
service_kills=0 bursts_503=0 bursts_429=0 processor_kills=0 turn=0
deadline=$((started + TIMEOUT))
while kill -0 "$producer" 2>/dev/null; do
  sleep "$INTERVAL"
  kill -0 "$producer" 2>/dev/null || break
  [ $SECONDS -lt $deadline ] || fail "not done within $TIMEOUT s"
  case $((turn % 4)) in
    0)
      kill -9 "$SERVICE_PID"
      wait "$SERVICE_PID" 2>/dev/null || true
      sleep 2
      start_service svc "$CONFIG" "$port"
      service_kills=$((service_kills + 1)) ;;
    1)
      service_control '{"rates": {"503": 1.0}}'
      sleep 2
      service_control '{"rates": {"500": 0.01, "503": 0.005, "429": 0.005}}'
      bursts_503=$((bursts_503 + 1)) ;;
    2)
      service_control '{"rates": {"429": 1.0}}'
      sleep 2
      service_control '{"rates": {"500": 0.01, "503": 0.005, "429": 0.005}}'
      bursts_429=$((bursts_429 + 1)) ;;
    3)
      victim=$([ $((processor_kills % 2)) = 0 ] && echo a || echo b)
      pid=$([ "$victim" = a ] && echo "$a" || echo "$b")
      kill -9 "$pid"
      wait "$pid" 2>/dev/null || true
      start_processor "$victim" "${handler[@]}"
      [ "$victim" = a ] && a=$LAST_PID || b=$LAST_PID
      processor_kills=$((processor_kills + 1)) ;;
  esac
  turn=$((turn + 1))
done
wait "$producer" || fail "produce_orders.py: $(cat "$WORK/produce.err")"
produced_at=$SECONDS
wait_outputs "$N" $((deadline - SECONDS))
for pid in "$a" "$b"; do
  kill -0 "$pid" 2>/dev/null || fail "processor $pid exited on its own: $(tail -3 "$WORK/a.err" "$WORK/b.err")"
  kill -TERM "$pid"
  wait "$pid" || fail "processor exit $?: $(tail -3 "$WORK/a.err" "$WORK/b.err")"
done
done_at=$SECONDS
[ "$(topic_count data-processed low)" = 0 ] || fail "the mock dropped outputs (retention): use more partitions"
"$PY" "$HTTP_DIR/check_run.py" "$BROKERS" "$WORK/in.jsonl" "$WORK/svc.log" \
  --max-in-flight $((2 * MAX_IN_FLIGHT)) --service-away "${eos[@]}" >"$WORK/check.txt" || fail "$(cat "$WORK/check.txt")"
opened=$(cat "$WORK/a.err" "$WORK/b.err" | grep -c 'circuit breaker open' || true)
closed=$(cat "$WORK/a.err" "$WORK/b.err" | grep -c 'circuit breaker closed' || true)
echo "chaos ($GUARANTEE): orders=$N keys=$KEYS rate=$RATE/s produced_in=$((produced_at - started))s" \
  "all_out_in=$((done_at - started))s service_kills=$service_kills bursts_503=$bursts_503" \
  "bursts_429=$bursts_429 processor_kills=$processor_kills breaker_opened=$opened" \
  "breaker_closed=$closed $(cat "$WORK/check.txt")"
