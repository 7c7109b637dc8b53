#!/usr/bin/env bash
# orderflow-consumer redrive. Orders dead-lettered by the processor's own
# configuration (limits.max_items lowered to 2), then redriven once the limit
# is back to its default: a dry run sends nothing; a redrive interrupted by
# SIGTERM and run again sends each dead letter exactly once, with its
# original key, value and headers; each order is processed exactly once,
# also when redriven a second time (its idempotency key holds). Poison that
# keeps failing returns to the DLQ with its count until the loop guard
# refuses it.
source "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
LIMITED=20 # orders with 3 items
VALID=10   # orders with 1 item
POISON=2   # not JSON

redrive() { "$ORDERFLOW_CONSUMER" redrive -b "$BROKERS" "$@"; }
sent_lines() { grep -c '^sent ' "$1" || true; }

start_broker
printf 'limits: { max_items = 2; };\n' >"$WORK/low.conf"
start_processor low -q -c "$WORK/low.conf"
item='{"sku":"S-1","quantity":1,"unit_price_cents":100}'
for i in $(seq "$LIMITED"); do
  printf '{"order_id":"L-%d","customer_id":"C-1","currency":"EUR","items":[%s,%s,%s]}\n' "$i" "$item" "$item" "$item"
done >"$WORK/orders.jsonl"
for i in $(seq "$VALID"); do
  printf '{"order_id":"V-%d","customer_id":"C-1","currency":"EUR","items":[%s]}\n' "$i" "$item"
done >>"$WORK/orders.jsonl"
"$ORDERFLOW_PRODUCER" -b "$BROKERS" -q "$WORK/orders.jsonl" || fail "producer exit $?"
printf 'P-1\tnot JSON at all\nP-2\tnot JSON either\n' |
  kcat -b "$BROKERS" -P -t order-created -K $'\t' || fail "kcat could not write the poison"
inputs=$((LIMITED + VALID + POISON))
dead=$((LIMITED + POISON))
wait_for_count data-processed "$VALID" 60
wait_for_count order-created.dlq "$dead" 60
kill -TERM "$LAST_PID"
wait "$LAST_PID" || fail "processor exit $? after SIGTERM: $(tail -3 "$WORK/low.err")"

# Dry run: everything listed, a summary by reason, nothing sent or committed.
redrive --dry-run >"$WORK/dry.out" 2>"$WORK/dry.err" || fail "dry run exit $?: $(cat "$WORK/dry.err")"
cat "$WORK/dry.out" "$WORK/dry.err" >&2
[ "$(grep -c '^would send ' "$WORK/dry.out")" -eq "$dead" ] || fail "dry run lists $(grep -c '^would send ' "$WORK/dry.out") records, not $dead"
grep -Eq "^ +$LIMITED  data.items: more than N items$" "$WORK/dry.err" || fail "no summary line for the items limit"
grep -Eq "^ +$POISON  not JSON" "$WORK/dry.err" || fail "no summary line for 'not JSON'"
grep -q "dry run, nothing sent: $dead would be sent, 0 skipped by filter, 0 refused by the loop guard, 0 failed" "$WORK/dry.err" ||
  fail "dry run summary: $(tail -1 "$WORK/dry.err")"
[ "$(topic_count order-created)" -eq "$inputs" ] || fail "the dry run sent records"
set +e
"$ORDERFLOW_CONSUMER" lag -b "$BROKERS" -G orderflow-redrive -t order-created.dlq -q
status=$?
set -e
[ "$status" -eq 66 ] || fail "the dry run committed progress (lag exit $status)"

# Selections, dry: each option narrows what would be sent.
dry_count() { redrive --dry-run -q "$@" >/dev/null 2>&1 || true; redrive --dry-run "$@" 2>&1 >/dev/null | sed -n 's/.*nothing sent: \([0-9]*\) would be sent.*/\1/p'; }
[ "$(dry_count --reason 'more than [0-9]+ items')" = "$LIMITED" ] || fail "--reason selects $(dry_count --reason 'more than [0-9]+ items')"
[ "$(dry_count -n 5)" = 5 ] || fail "-n 5 selects $(dry_count -n 5)"
[ "$(dry_count --since -1h)" = "$dead" ] || fail "--since -1h selects $(dry_count --since -1h)"
[ "$(dry_count --until -1h)" = 0 ] || fail "--until -1h selects $(dry_count --until -1h)"
[ "$(dry_count --since 2000-01-01T00:00:00Z --until 2999-01-01T00:00:00+01:00)" = "$dead" ] || fail "RFC 3339 range selects the wrong records"
"$PY" "$here/read_topic.py" "$BROKERS" order-created.dlq >"$WORK/dlq0.jsonl"
p0=$(jq -s '[.[] | select(.partition == 0)] | length' "$WORK/dlq0.jsonl")
[ "$(dry_count --partition 0)" = "$p0" ] || fail "--partition 0 selects $(dry_count --partition 0), not $p0"
[ "$(dry_count --partition 0 --offset 1..1)" = "$((p0 > 1 ? 1 : 0))" ] || fail "--offset 1..1 selects the wrong records"

# The cause is fixed: the limit is back to its default.
start_processor fixed --json
# An interrupted redrive (SIGTERM mid-run), then the same command again.
"$ORDERFLOW_CONSUMER" redrive -b "$BROKERS" --reason 'more than [0-9]+ items' --rate 4 >"$WORK/run1.out" 2>"$WORK/run1.err" &
run1=$!
PIDS+=("$run1")
for _ in $(seq 300); do [ "$(sent_lines "$WORK/run1.out")" -ge 6 ] && break; sleep 0.1; done
kill -TERM "$run1"
wait "$run1" || fail "interrupted redrive exit $?: $(cat "$WORK/run1.err")"
first=$(sent_lines "$WORK/run1.out")
[ "$first" -ge 6 ] && [ "$first" -lt "$LIMITED" ] || fail "the interrupted run sent $first of $LIMITED"
redrive --reason 'more than [0-9]+ items' >"$WORK/run2.out" 2>"$WORK/run2.err" ||
  fail "resumed redrive exit $?: $(cat "$WORK/run2.err")"
cat "$WORK/run1.err" "$WORK/run2.err" >&2
second=$(sent_lines "$WORK/run2.out")
[ $((first + second)) -eq "$LIMITED" ] || fail "runs sent $first + $second, expected $LIMITED in all"
# Each dead letter sent by exactly one of the runs.
cat "$WORK/run1.out" "$WORK/run2.out" | awk '/^sent /{print $3}' | sort >"$WORK/sent-offsets"
[ "$(sort -u "$WORK/sent-offsets" | wc -l)" -eq "$LIMITED" ] || fail "a dead letter was sent twice: $(uniq -d "$WORK/sent-offsets")"
[ "$(topic_count order-created)" -eq $((inputs + LIMITED)) ] || fail "order-created holds $(topic_count order-created), expected $((inputs + LIMITED))"
redrive --reason 'more than' >"$WORK/run3.out" 2>&1 || fail "third run exit $?"
grep -q ": 0 sent, 0 skipped by filter" "$WORK/run3.out" || fail "a third run sent again: $(tail -1 "$WORK/run3.out")"

# Re-sent bytes: the original key, value and headers, plus the count, to
# the partition the order came from.
wait_for_count data-processed $((VALID + LIMITED)) 60
"$PY" "$here/read_topic.py" "$BROKERS" order-created >"$WORK/in.jsonl"
"$PY" - "$WORK/in.jsonl" "$LIMITED" <<'PY' || fail "redriven records differ from the originals"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
orig = {r["key"]: r for r in rows if "orderflow-redrive-count" not in r["headers"]}
again = [r for r in rows if "orderflow-redrive-count" in r["headers"]]
assert len(again) == int(sys.argv[2]), len(again)
for r in again:
    o = orig[r["key"]]
    assert r["value"] == o["value"] and r["partition"] == o["partition"], r["key"]
    h = dict(r["headers"]); assert h.pop("orderflow-redrive-count") == "1", r
    assert h == o["headers"] and "idempotency-key" in h, (h, o["headers"])
    assert not any(k.startswith("orderflow-source") or k == "orderflow-error" for k in h), h
print(f"{len(again)} redriven records carry their original key, value and headers", file=sys.stderr)
PY

# Redriven a second time through another group: the processor's idempotency
# keys make them duplicates, not second outputs.
redrive -G redrive-again --reason 'more than' -q || fail "second redrive exit $?"
for _ in $(seq 120); do "$ORDERFLOW_CONSUMER" lag -b "$BROKERS" -q --max-lag 0 && break; sleep 0.5; done
"$ORDERFLOW_CONSUMER" lag -b "$BROKERS" -q --max-lag 0 || fail "the processor did not catch up"
kill -TERM "$LAST_PID"
wait "$LAST_PID" || fail "processor exit $? after SIGTERM: $(tail -3 "$WORK/fixed.err")"
grep -q "$((2 * LIMITED)) consumed, $LIMITED accepted, 0 rejected, $LIMITED duplicates skipped" "$WORK/fixed.err" ||
  fail "processor summary: $(tail -2 "$WORK/fixed.err")"
"$ORDERFLOW_CONSUMER" tail -b "$BROKERS" -e --from-beginning --json --raw -q >"$WORK/raw.jsonl"
[ "$(wc -l <"$WORK/raw.jsonl")" -eq $((VALID + LIMITED)) ] || fail "$(wc -l <"$WORK/raw.jsonl") outputs, expected $((VALID + LIMITED))"
[ "$(jq -r .subject "$WORK/raw.jsonl" | sort -u | wc -l)" -eq $((VALID + LIMITED)) ] || fail "an order was output twice"

# The loop guard: poison comes back to the DLQ with its count each time,
# and is refused once redriven --max-redrives (3) times.
start_processor guard -q
dlq=$dead
for round in 1 2 3; do
  redrive -G redrive-poison --reason 'not JSON' >"$WORK/loop$round.out" 2>&1 || fail "round $round exit $?: $(cat "$WORK/loop$round.out")"
  [ "$(sent_lines "$WORK/loop$round.out")" -eq "$POISON" ] || fail "round $round: $(tail -1 "$WORK/loop$round.out")"
  grep -q "redrive $round\$" "$WORK/loop$round.out" || fail "round $round did not send count $round"
  dlq=$((dlq + POISON))
  wait_for_count order-created.dlq "$dlq" 60
done
set +e
redrive -G redrive-poison --reason 'not JSON' >"$WORK/loop4.out" 2>&1
status=$?
set -e
[ "$status" -eq 1 ] || fail "the loop guard round exits $status, expected 1"
grep -q ": 0 sent, 0 skipped by filter, $POISON refused by the loop guard, 0 failed" "$WORK/loop4.out" || fail "round 4: $(tail -1 "$WORK/loop4.out")"
[ "$(grep -c 'already redriven 3 times (--max-redrives 3)' "$WORK/loop4.out")" -eq "$POISON" ] || fail "refusals not reported"
sleep 1
[ "$(topic_count order-created.dlq)" -eq "$dlq" ] || fail "the loop guard let a record through"
"$PY" "$here/read_topic.py" "$BROKERS" order-created.dlq >"$WORK/dlq.jsonl"
counts=$(jq -r 'select(.key | startswith("P-")) | .headers["orderflow-redrive-count"] // "0"' "$WORK/dlq.jsonl" | sort | tr '\n' ' ')
[ "$counts" = "0 0 1 1 2 2 3 3 " ] || fail "poison redrive counts in the DLQ: $counts"
kill -TERM "$LAST_PID"
wait "$LAST_PID" || fail "processor exit $?"

# No broker: the error, status 69, and no empty "would send" table after it.
set +e
"$ORDERFLOW_CONSUMER" redrive -b "127.0.0.1:$(free_port)" --dry-run >"$WORK/dead.out" 2>"$WORK/dead.err"
status=$?
set -e
[ "$status" -eq 69 ] || fail "redrive --dry-run without a broker exit $status, expected 69"
grep -q "no Kafka broker reachable" "$WORK/dead.err" || fail "no unreachable message: $(cat "$WORK/dead.err")"
[ "$(wc -l <"$WORK/dead.err")" -eq 1 ] || fail "more than the error after a dead broker: $(cat "$WORK/dead.err")"
echo "ok: dry run sent 0; $LIMITED redriven once across an interrupted run ($first + $second), processed once; poison refused after 3 redrives"
