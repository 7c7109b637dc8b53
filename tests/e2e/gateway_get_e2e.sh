#!/usr/bin/env bash
# GET /orders/<order_id>[?wait=S] (docs/gateway.md): pending while no
# processor runs (a long poll ends at its deadline), then, with
# `orderflow-consumer process` running, accepted with its result, and
# rejected for a quantity 0; unknown orders 404. After a kill -9 and a
# restart the results are known again (read back from data-processed).
source "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)

start_broker
start_gateway gw
GATEWAY_PID=$LAST_PID
"$PY" "$here/gateway_check.py" "$GATEWAY" pending || fail "pending"
start_processor p
"$PY" "$here/gateway_check.py" "$GATEWAY" results || fail "results"
kill -9 "$GATEWAY_PID"
start_gateway again
"$PY" "$here/gateway_check.py" "$GATEWAY" after_restart || fail "after restart"
echo ok
