#!/usr/bin/env bash
# orderflow-gateway when Kafka is away (docs/gateway.md, "When Kafka is
# away"): with the broker frozen (SIGSTOP) a request waits at most
# gateway.request_timeout_ms and gets 503 + Retry-After; meanwhile its key
# is in flight (409) and a request beyond gateway.max_in_flight gets 503 at
# once; with the broker back, the retry is accepted. With the broker gone
# (kill -9), 503 + Retry-After within the timeout too, never a hang.
source "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)

start_broker
printf 'gateway: { max_in_flight = 1; request_timeout_ms = 1500; };\n' >"$WORK/gw.conf"
start_gateway gw -c "$WORK/gw.conf"
"$PY" "$here/gateway_check.py" "$GATEWAY" warm || fail "warm-up"
kill -STOP "$BROKER_PID"
"$PY" "$here/gateway_check.py" "$GATEWAY" frozen || { kill -CONT "$BROKER_PID"; fail "frozen"; }
kill -CONT "$BROKER_PID"
"$PY" "$here/gateway_check.py" "$GATEWAY" thawed || fail "thawed"
kill -9 "$BROKER_PID"
"$PY" "$here/gateway_check.py" "$GATEWAY" gone || fail "gone"
echo ok
