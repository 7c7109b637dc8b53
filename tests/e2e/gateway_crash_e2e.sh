#!/usr/bin/env bash
# kill -9 of orderflow-gateway under load (docs/gateway.md, "Restart"): 24
# clients post 1,200 orders, each with its own key, retrying with the same
# key until they get a 202. The gateway is killed while they run and started
# again on the same port. Then: every order got a 202; order-created holds
# every key exactly once and nothing else (a request whose record reached
# Kafka before the kill is replayed from the restored keys, one that did not
# is published by the retry); data-processed holds exactly one result per
# order.
source "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
N=1200

start_broker
start_processor p
start_gateway one
GATEWAY_PID=$LAST_PID
PORT=${GATEWAY##*:}
"$PY" "$here/gateway_load_client.py" "$GATEWAY" "$N" 24 "$WORK/progress" >"$WORK/client.out" &
CLIENT=$!
PIDS+=("$CLIENT")
# The kill comes with a third of the orders answered and the rest in flight.
answered=0
for _ in $(seq 600); do
  answered=$(cat "$WORK/progress" 2>/dev/null || echo 0)
  [ "$answered" -ge $((N / 3)) ] && break
  kill -0 "$CLIENT" 2>/dev/null || fail "client ended early: $(tail -3 "$WORK/client.out")"
  sleep 0.05
done
[ "$answered" -ge $((N / 3)) ] || fail "only $answered orders answered in 30 s"
kill -9 "$GATEWAY_PID"
wait "$GATEWAY_PID" 2>/dev/null || true
echo "killed the gateway with $answered of $N orders answered" >&2
start_gateway two --listen "127.0.0.1:$PORT"
wait "$CLIENT" || fail "client: $(grep -v ' 202 ' "$WORK/client.out" | head -3)"
replayed=$(grep -c ' replayed ' "$WORK/client.out" || true)
retried=$(awk '$4 > 1' "$WORK/client.out" | wc -l)
echo "orders retried after the kill: $retried, answered by a replay: $replayed" >&2
[ "$(grep -c ' 202 ' "$WORK/client.out")" = "$N" ] || fail "not every order got a 202"

wait_for_count data-processed "$N" 60
"$PY" "$here/read_topic.py" "$BROKERS" order-created >"$WORK/in.jsonl"
"$PY" "$here/read_topic.py" "$BROKERS" data-processed >"$WORK/out.jsonl"
"$PY" - "$WORK/in.jsonl" "$WORK/out.jsonl" "$N" <<'PY' || fail "topic contents"
import collections, json, sys
n = int(sys.argv[3])
want = {"load-%d" % i for i in range(n)}
keys = collections.Counter(json.loads(l)["headers"]["idempotency-key"] for l in open(sys.argv[1]))
twice = [k for k, c in keys.items() if c > 1]
unknown = set(keys) - want
missing = want - set(keys)
if twice or unknown or missing:
    sys.exit("order-created: %d keys twice (%s), %d unknown (%s), %d missing (%s)" % (
        len(twice), twice[:3], len(unknown), sorted(unknown)[:3], len(missing), sorted(missing)[:3]))
orders = collections.Counter(json.loads(json.loads(l)["value"])["subject"] for l in open(sys.argv[2]))
want_orders = {"L-%d" % i for i in range(n)}
if set(orders) != want_orders or any(c != 1 for c in orders.values()):
    sys.exit("data-processed: %d orders, %d of them more than once, %d missing" % (
        len(orders), sum(1 for c in orders.values() if c > 1), len(want_orders - set(orders))))
print("order-created: %d keys once each; data-processed: %d results once each" % (len(keys), len(orders)))
PY
echo ok
