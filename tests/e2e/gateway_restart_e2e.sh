#!/usr/bin/env bash
# orderflow-gateway's idempotency keys survive a restart (docs/gateway.md,
# "Restart"): after a kill -9, the new gateway restores them from
# order-created before /readyz says 200, replays the first answer byte for
# byte, refuses the key with another body (422), and knows the order as
# pending. A record published without a gateway (the producer CLI) gives no
# key back.
source "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)

start_broker
start_gateway one
"$PY" "$here/gateway_check.py" "$GATEWAY" first "$WORK/first.json" || fail "first"
"$ORDERFLOW_PRODUCER" -b "$BROKERS" -q --idempotency-key cli-1 \
  --order '{"order_id":"CLI-1","customer_id":"C","currency":"EUR","items":[]}' ||
  fail "producer exit $?"
kill -9 "$LAST_PID"
wait "$LAST_PID" 2>/dev/null || true

start_gateway two
grep -q "restored 1 idempotency keys from 'order-created'" "$WORK/two.err" ||
  fail "restore: $(cat "$WORK/two.err")"
[ "$(http_get "$GATEWAY" /readyz "$WORK/ready")" = 200 ] || fail "/readyz: $(cat "$WORK/ready")"
"$PY" "$here/gateway_check.py" "$GATEWAY" restored "$WORK/first.json" || fail "restored"
n=$(topic_count order-created)
[ "$n" = 2 ] || fail "order-created holds $n records, expected 2 (no re-publish)"
echo ok
