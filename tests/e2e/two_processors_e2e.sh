#!/usr/bin/env bash
# Two processors in one group share the partitions; one is stopped
# mid-stream (SIGTERM). Nothing is lost and nothing is emitted twice.
source "$(dirname "$0")/lib.sh"
N=${N:-10000}

start_broker
start_processor a
a=$LAST_PID
start_processor b
b=$LAST_PID
"$ORDERFLOW_PRODUCER" -b "$BROKERS" -q --generate "$N" --rate 2500 --seed 5 2>"$WORK/producer.err" &
producer=$!
PIDS+=("$producer")
# Stop b mid-stream, once it has taken a share of the work.
for _ in $(seq 200); do grep -q accepted "$WORK/b.out" && break; sleep 0.1; done
grep -q accepted "$WORK/b.out" || fail "processor b got no partitions: $(tail -3 "$WORK/b.err")"
kill -TERM "$b"
wait "$b" || fail "processor b exit $? after SIGTERM: $(tail -3 "$WORK/b.err")"
wait "$producer" || fail "producer exit $?"
wait_for_count data-processed "$N" 120
kill -TERM "$a"
wait "$a" || fail "processor a exit $?"
# Both really worked: each processed some of the events.
grep -q "accepted" "$WORK/b.out" || fail "processor b processed nothing"
grep -q "accepted" "$WORK/a.out" || fail "processor a processed nothing"
"$ORDERFLOW_CONSUMER" tail -b "$BROKERS" -e --from-beginning --json --raw -q >"$WORK/raw.jsonl"
raw=$(wc -l <"$WORK/raw.jsonl")
distinct=$(jq -r '.idempotencykey' "$WORK/raw.jsonl" | sort -u | wc -l)
[ "$distinct" -eq "$N" ] || fail "$distinct distinct outputs for $N inputs"
[ "$raw" -eq "$N" ] || fail "$((raw - N)) outputs emitted twice"
echo "ok: $N inputs, $N outputs, 0 duplicates with a member leaving mid-stream"
