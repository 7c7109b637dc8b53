#!/usr/bin/env bash
# orderflow-consumer lag against a processor stopped mid-stream (the lag is
# exactly the inputs it has not processed, partition by partition) and one
# caught up (0); --max-lag's exit status; a group with no commits.
source "$(dirname "$0")/lib.sh"
N=${N:-6000}

start_broker
set +e
"$ORDERFLOW_CONSUMER" lag -b "$BROKERS" -G no-such-group >"$WORK/none.out" 2>"$WORK/none.err"
status=$?
set -e
[ "$status" -eq 66 ] || fail "lag of a group without commits exits $status, expected 66"
grep -q "group 'no-such-group' has no committed offsets on 'order-created'" "$WORK/none.err" ||
  fail "lag does not say the group has no commits: $(cat "$WORK/none.err")"

# The producer runs for 12 s; the processor keeps up with it and is stopped
# once it has processed 500, with thousands still to come.
start_processor p -q
"$ORDERFLOW_PRODUCER" -b "$BROKERS" -q --generate "$N" --rate 500 --seed 21 \
  2>"$WORK/producer.err" &
producer=$!
PIDS+=("$producer")
wait_for_count data-processed 500 60
kill -TERM "$LAST_PID"
wait "$LAST_PID" || fail "processor exit $? after SIGTERM: $(tail -3 "$WORK/p.err")"
wait "$producer" || fail "producer exit $?: $(cat "$WORK/producer.err")"
done_count=$(topic_count data-processed)
[ "$done_count" -lt "$N" ] || fail "the processor finished all $N before it was stopped"

# Stopped mid-stream: per partition, committed = outputs written for it (the
# processor commits behind its delivered outputs and drains on SIGTERM),
# log end = inputs, lag = inputs not processed.
"$ORDERFLOW_CONSUMER" lag -b "$BROKERS" --json >"$WORK/lag1.json" || fail "lag exit $?"
"$ORDERFLOW_CONSUMER" lag -b "$BROKERS" >"$WORK/lag1.txt" || fail "lag (table) exit $?"
cat "$WORK/lag1.txt" >&2
"$PY" - "$BROKERS" "$WORK/lag1.json" "$N" "$done_count" <<'PY' || fail "lag figures wrong"
import json, sys
import ofkafka
brokers, path, n, done = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
lag = json.load(open(path))
counters = {t: ofkafka.TopicCounter(brokers, t) for t in ("order-created", "data-processed")}
def high(topic, p):
    return counters[topic].count_partition(p)
assert lag["group"] == "orderflow-processor" and lag["topic"] == "order-created", lag
for row in lag["partitions"]:
    p = row["partition"]
    assert row["log_end"] == high("order-created", p), row
    assert row["committed"] == high("data-processed", p), (row, high("data-processed", p))
    assert row["lag"] == row["log_end"] - row["committed"], row
assert sum(r["log_end"] for r in lag["partitions"]) == n
assert lag["total_lag"] == n - done, (lag["total_lag"], n - done)
for counter in counters.values():
    counter.close()
print(f"lag mid-stream: {lag['total_lag']} = {n} inputs - {done} processed", file=sys.stderr)
PY
remaining=$((N - done_count))
grep -Eq "^ +TOTAL +$remaining\$" "$WORK/lag1.txt" || fail "table total is not $remaining"
"$ORDERFLOW_CONSUMER" lag -b "$BROKERS" -q --max-lag "$remaining" ||
  fail "--max-lag $remaining exits $? at lag $remaining"
set +e
"$ORDERFLOW_CONSUMER" lag -b "$BROKERS" -q --max-lag $((remaining - 1))
status=$?
set -e
[ "$status" -eq 1 ] || fail "--max-lag $((remaining - 1)) exits $status at lag $remaining, expected 1"

# Caught up.
start_processor p -q
wait_for_count data-processed "$N" 120
kill -TERM "$LAST_PID"
wait "$LAST_PID" || fail "processor exit $? after SIGTERM: $(tail -3 "$WORK/p.err")"
[ "$(topic_count data-processed)" -eq "$N" ] || fail "data-processed holds $(topic_count data-processed), not $N"
"$ORDERFLOW_CONSUMER" lag -b "$BROKERS" --max-lag 0 >"$WORK/lag2.txt" ||
  fail "--max-lag 0 exits $? when caught up: $(cat "$WORK/lag2.txt")"
grep -Eq '^ +TOTAL +0$' "$WORK/lag2.txt" || fail "caught up, yet: $(cat "$WORK/lag2.txt")"
"$ORDERFLOW_CONSUMER" lag -b "$BROKERS" --json | jq -e '.total_lag == 0 and ([.partitions[].lag] | add) == 0' >/dev/null ||
  fail "JSON lag not 0 when caught up"
echo "ok: lag $remaining of $N mid-stream (per partition = inputs - outputs), 0 caught up"
