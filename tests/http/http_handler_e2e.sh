#!/usr/bin/env bash
# The HTTP handler through the whole stage (docs/handlers.md, "The HTTP
# handler") against the fault service (tests/http/fault_service.py), with
# record keys that repeat (tests/http/produce_orders.py):
#  1. every row of the status table: 2xx -> the answer as data (204 -> {}),
#     400/404/410/413/415/422 -> a dead letter naming the status and the
#     body's first 512 bytes, 408/409/425/429/5xx, a hang past timeout_ms and a
#     reset -> retried (Retry-After honoured, seconds and HTTP-date) until an
#     answer, a 503 every time -> dead letter after max_attempts
#     (on_exhausted=dead-letter); random 500s and latency on top;
#  2. kill -9 of the processor mid-calls (50 ms answers), then a restart.
# tests/http/check_run.py checks both ends: 0 lost, one output per input
# with the service's bytes, outputs and first calls per key in input order,
# never two calls of a key at once, one Idempotency-Key per event, at most
# max_in_flight calls at once.
source "$(dirname "$0")/lib.sh"
GUARANTEE=${GUARANTEE:-at_least_once}
eos=()
[ "$GUARANTEE" = exactly_once ] && eos=(--exactly-once)

start_broker --partitions 4
start_service svc '{
  "latency_ms": 2, "latency_jitter_ms": 10, "rates": {"500": 0.03}, "rules": [
  {"prefix": "BAD400-", "action": 400, "body": "{\"error\":\"order_id malformed\"}"},
  {"prefix": "BAD404-", "action": 404, "body": "no such route"},
  {"prefix": "BAD410-", "action": 410, "body": "gone"},
  {"prefix": "BAD413-", "action": 413, "body": "too large"},
  {"prefix": "BAD415-", "action": 415, "body": "not json"},
  {"prefix": "BAD422-", "action": 422, "body": "{\"error\":\"sku S-1 is discontinued\"}"},
  {"prefix": "LONG422-", "action": 422, "body": "'"$(printf 'y%.0s' $(seq 700))"'"},
  {"prefix": "EMPTY-", "action": 204, "body": ""},
  {"prefix": "NOTOBJ-", "action": 200, "body": "[1,2]"},
  {"prefix": "T403-", "action": 403, "attempts": 1},
  {"prefix": "T301-", "action": 301, "attempts": 1},
  {"prefix": "BIG-", "action": 200, "body": "{\"pad\":\"'"$(printf 'z%.0s' $(seq 3000))"'\"}"},
  {"prefix": "TCAP-", "action": 429, "attempts": 1, "retry_after": "3600"},
  {"prefix": "T408-", "action": 408, "attempts": 1},
  {"prefix": "T409-", "action": 409, "attempts": 1},
  {"prefix": "T425-", "action": 425, "attempts": 1},
  {"prefix": "T429-", "action": 429, "attempts": 1, "retry_after": "1"},
  {"prefix": "TDATE-", "action": 503, "attempts": 1, "retry_after": "date:2"},
  {"prefix": "T500-", "action": 500, "attempts": 2},
  {"prefix": "T502-", "action": 502, "attempts": 2},
  {"prefix": "T503-", "action": 503, "attempts": 2},
  {"prefix": "T504-", "action": 504, "attempts": 2},
  {"prefix": "HANG-", "action": "hang", "attempts": 1},
  {"prefix": "RESET-", "action": "reset", "attempts": 1},
  {"prefix": "EXH-", "action": 503}]}'
handler=(--guarantee "$GUARANTEE" --handler "http://$SERVICE/orders"
  --handler-arg max_in_flight=8 --handler-arg timeout_ms=400 --handler-arg backoff_ms=20
  --handler-arg backoff_max_ms=2000 --handler-arg max_attempts=4
  --handler-arg on_exhausted=dead-letter --handler-arg breaker_failures=1000
  --handler-arg max_output_bytes=2048)
dead=(--dead 'BAD400-=HTTP 400.*order_id malformed' --dead 'BAD404-=HTTP 404.*no such route'
  --dead 'BAD410-=HTTP 410.*gone' --dead 'BAD413-=HTTP 413.*too large'
  --dead 'BAD415-=HTTP 415.*not json' --dead 'BAD422-=HTTP 422.*sku S-1 is discontinued'
  --dead 'LONG422-=HTTP 422.*(?<!y)y{512}(?!y)' --dead 'EXH-=503' --dead 'NOTOBJ-=HTTP 200'
  --dead 'BIG-=HTTP 200: .*handler.max_output_bytes = 2048')

# 1. The status table: 200 events over 20 keys and 2 of each special.
specials=()
for p in BAD400- BAD404- BAD410- BAD413- BAD415- BAD422- LONG422- EMPTY- NOTOBJ- BIG- T301- T403- T408- \
  T409- T425- T429- TDATE- TCAP- T500- T502- T503- T504- HANG- RESET- EXH-; do
  specials+=("$p:2")
done
"$PY" "$HTTP_DIR/produce_orders.py" "$BROKERS" 200 20 "$WORK/in1.jsonl" "${specials[@]}" ||
  fail "produce_orders.py failed"
n1=$(wc -l <"$WORK/in1.jsonl")
start_processor p1 "${handler[@]}"
wait_outputs "$n1" 60
wait_until_handles_sigterm "$LAST_PID"
kill -TERM "$LAST_PID"
wait "$LAST_PID" || fail "processor exit $?: $(tail -3 "$WORK/p1.err")"
"$PY" "$HTTP_DIR/check_run.py" "$BROKERS" "$WORK/in1.jsonl" "$WORK/svc.log" --max-in-flight 8 \
  --empty EMPTY- "${dead[@]}" "${eos[@]}" >"$WORK/check1.txt" || fail "status table: $(cat "$WORK/check1.txt")"
# Retries: the faulted first attempts came again; Retry-After was waited
# (1 s, and an HTTP-date 2 s ahead: at least 1 s at a second's granularity)
# where backoff alone waits at most 20 ms x 2^attempt; a Retry-After of an
# hour is bounded by backoff_max_ms (2 s).
"$PY" - "$WORK/svc.log" <<'PY' || fail "retries"
import json, sys
calls = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    calls.setdefault(r["idempotency_key"], []).append(r)
def attempts(prefix):
    # The handler's attempts (the highest orderflow-attempt): libcurl may send
    # one call again by itself after a reset (check_run.py counts it: resent).
    return {k: max(r["attempt"] for r in v) for k, v in calls.items()
            if k.startswith("order_created:" + prefix)}
for prefix, want in [("T403-", 2), ("T301-", 2), ("BIG-", 1), ("TCAP-", 2), ("NOTOBJ-", 1), ("T408-", 2), ("T409-", 2), ("T425-", 2), ("T429-", 2), ("TDATE-", 2),
                     ("T500-", 3), ("T502-", 3), ("T503-", 3), ("T504-", 3), ("HANG-", 2),
                     ("RESET-", 2), ("EXH-", 4), ("BAD422-", 1), ("EMPTY-", 1)]:
    got = attempts(prefix)
    if len(got) != 2 or any(n != want for n in got.values()):
        sys.exit(f"{prefix}: attempts per event {got}, want {want}")
for prefix in ("T429-", "TDATE-"):
    for k, rs in calls.items():
        if k.startswith("order_created:" + prefix):
            second = next(r for r in rs if r["attempt"] == 2)
            waited = second["arrival"] - rs[0]["finish"]
            if waited < 0.95:
                sys.exit(f"{k}: retried {waited:.3f} s after a Retry-After of at least 1 s")
for k, rs in calls.items():
    if k.startswith("order_created:TCAP-"):
        second = next(r for r in rs if r["attempt"] == 2)
        if not 0 <= second["arrival"] - rs[0]["finish"] < 2.5:
            sys.exit(f"{k}: retried {second['arrival'] - rs[0]['finish']:.3f} s after "
                     "Retry-After: 3600")
PY
echo "status table: $(cat "$WORK/check1.txt")"

# 2. kill -9 mid-calls: 300 events over 30 keys answered in 50 ms, the
# processor killed once a quarter are out, then restarted.
service_control '{"latency_ms": 50, "latency_jitter_ms": 0, "rates": {}}'
"$PY" "$HTTP_DIR/produce_orders.py" "$BROKERS" 300 30 "$WORK/in2.jsonl" --key-prefix L \
  --first-seq 100000 || fail "produce_orders.py failed"
cat "$WORK/in1.jsonl" "$WORK/in2.jsonl" >"$WORK/in.jsonl"
start_processor p2 "${handler[@]}" --handler-arg max_in_flight=16
before=$(outputs_count)
wait_outputs $((before + 75)) 60
kill -9 "$LAST_PID"
wait "$LAST_PID" 2>/dev/null || true
start_processor p3 "${handler[@]}" --handler-arg max_in_flight=16
wait_outputs $((n1 + 300)) 90
wait_until_handles_sigterm "$LAST_PID"
kill -TERM "$LAST_PID"
wait "$LAST_PID" || fail "processor exit $?: $(tail -3 "$WORK/p3.err")"
"$PY" "$HTTP_DIR/check_run.py" "$BROKERS" "$WORK/in.jsonl" "$WORK/svc.log" --max-in-flight 16 \
  --empty EMPTY- "${dead[@]}" "${eos[@]}" >"$WORK/check2.txt" || fail "after kill -9: $(cat "$WORK/check2.txt")"
echo "ok: status table and kill -9 ($GUARANTEE): $(cat "$WORK/check2.txt")"
