#!/usr/bin/env bash
# SIGTERM while events are in flight loses nothing; a second signal exits at
# once (docs/architecture.md, "What happens when").
source "$(dirname "$0")/lib.sh"
N=6000
start_broker --topic sigterm-orders

# 1. The processor, stopped with SIGTERM mid-stream, exits 0 within a few
# seconds having committed what it emitted: its successor re-emits nothing.
"$ORDERFLOW_PRODUCER" -b "$BROKERS" -q --generate "$N" --rate 600 --seed 5 \
  2>"$WORK/producer.err" &
producer=$!
PIDS+=("$producer")
start_processor p
wait_for_count data-processed 500 60
t0=$(date +%s%N)
kill -TERM "$LAST_PID"
wait "$LAST_PID" || fail "processor exit $? after SIGTERM: $(tail -3 "$WORK/p.err")"
stop_ms=$((($(date +%s%N) - t0) / 1000000))
[ "$stop_ms" -le 5000 ] || fail "processor took $stop_ms ms to stop"
after_stop=$(topic_count data-processed)
start_processor p
wait "$producer" || fail "producer exit $?: $(cat "$WORK/producer.err")"
wait_for_count data-processed "$N" 60
kill -TERM "$LAST_PID"
wait "$LAST_PID" || fail "processor exit $? after SIGTERM"
"$ORDERFLOW_CONSUMER" tail -b "$BROKERS" -e --from-beginning --json --raw -q >"$WORK/raw.jsonl"
raw=$(wc -l <"$WORK/raw.jsonl")
distinct=$(jq -r .idempotencykey "$WORK/raw.jsonl" | sort -u | wc -l)
[ "$distinct" -eq "$N" ] || fail "$distinct distinct outputs for $N inputs"
[ "$raw" -eq "$N" ] || fail "$((raw - N)) raw duplicates after a graceful SIGTERM"
echo "processor: SIGTERM after $after_stop outputs, stopped in $stop_ms ms; $N inputs -> $raw outputs"

# 2. The producer, stopped with SIGTERM mid-run, accounts for every event it
# took: what it reports delivered is exactly what the topic holds.
"$ORDERFLOW_PRODUCER" -b "$BROKERS" -t sigterm-orders --generate 100000 --rate 3000 \
  >"$WORK/delivered.jsonl" 2>"$WORK/producer2.err" &
producer=$!
PIDS+=("$producer")
sleep 2
kill -TERM "$producer"
t0=$(date +%s%N)
status=0
wait "$producer" || status=$?
stop_ms=$((($(date +%s%N) - t0) / 1000000))
[ "$stop_ms" -le 5000 ] || fail "producer took $stop_ms ms to stop"
delivered=$(wc -l <"$WORK/delivered.jsonl")
in_topic=$(topic_count sigterm-orders)
summary=$(grep -E ' delivered, [0-9]+ failed' "$WORK/producer2.err") || fail "no summary after SIGTERM"
[ "$delivered" -gt 0 ] && [ "$delivered" -lt 100000 ] || fail "$delivered delivered: not mid-run"
[ "$in_topic" -eq "$delivered" ] || fail "topic holds $in_topic, producer reported $delivered"
echo "$summary" | grep -E ": $delivered delivered, 0 failed" >/dev/null ||
  fail "summary disagrees with stdout ($delivered lines): $summary"
echo "producer: SIGTERM after $delivered events, exit $status in $stop_ms ms; topic holds $in_topic"

# 3. A second signal does not wait: with the broker frozen, the first SIGTERM
# starts a shutdown that cannot finish; the second ends the process at once.
start_processor q
"$ORDERFLOW_PRODUCER" -b "$BROKERS" -q --generate 100000 --rate 500 --seed 6 \
  2>"$WORK/producer3.err" &
producer=$!
PIDS+=("$producer")
# Freeze the broker only once q is processing (a member still joining the
# group, as on a loaded machine with real Kafka, has nothing to finish and
# stops on the first signal).
for _ in $(seq 600); do grep -q accepted "$WORK/q.out" && break; sleep 0.1; done
grep -q accepted "$WORK/q.out" || fail "processor q processed nothing in 60 s: $(tail -3 "$WORK/q.err")"
sleep 1
kill -STOP "$BROKER_PID"
for who in q producer; do
  pid=$([ $who = q ] && echo "$LAST_PID" || echo "$producer")
  kill -TERM "$pid"
  sleep 1.5
  kill -0 "$pid" 2>/dev/null || fail "$who stopped on the first signal: this part proves nothing"
  kill -TERM "$pid"
  t0=$(date +%s%N)
  status=0
  wait "$pid" || status=$?
  ms=$((($(date +%s%N) - t0) / 1000000))
  [ "$status" -eq 143 ] || fail "$who: exit $status after the second SIGTERM, expected 143"
  [ "$ms" -le 1000 ] || fail "$who took $ms ms after the second SIGTERM"
  echo "$who: second SIGTERM ended it in $ms ms (status $status)"
done
kill -CONT "$BROKER_PID"
