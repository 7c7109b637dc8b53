#!/usr/bin/env bash
# exactly_once on real Kafka, 20,000 orders in five batches of 4,000.
# 1. Batch 1 at 400/s; a transaction is aborted on purpose by a delivery
#    failure (data-processed's max.message.bytes lowered below one output for
#    3 s, so the outputs of the open transaction are refused and the
#    processor aborts it and re-reads its inputs); the processor finishes the
#    batch.
# 2. Batches 2 to 5 at 400/s: while each of batches 2 to 4 flows, the
#    processor is kill -9'd mid-transaction and restarted (the broker aborts
#    the dead instance's open transaction when it times out). Each batch
#    starts only once the processor has caught up with the ones before, so a
#    slow restart cannot make the orders run out before the kill: every kill
#    meets a live processor with input still arriving.
# Afterwards a read_committed reader sees exactly one data_processed per
# input and no raw duplicate, while a read_uncommitted reader sees more
# records than that: the aborted transactions' outputs, which the broker
# really wrote and really hid.
source "$(dirname "$0")/../e2e/lib.sh"
BATCH=4000 BATCHES=${BATCHES:-5} RATE=400
KILLS=$((BATCHES - 2))
N=$((BATCH * BATCHES))

# wait_committed N SECONDS
wait_committed() {
  local deadline=$((SECONDS + $2))
  while [ "$(committed_count)" -lt "$1" ]; do
    kill -0 "$LAST_PID" 2>/dev/null ||
      fail "the processor exited before read_committed saw $1 outputs: $(grep -v '^%' "$WORK/p.err" | tail -5)"
    [ $SECONDS -lt $deadline ] ||
      fail "read_committed sees $(committed_count) of $1 outputs after $2 s; processor: $(grep -v '^%' "$WORK/p.err" | tail -5)"
    sleep 2
  done
}

# produce_batch K: batch K (seed 12+K: keys G<12+K>-1..4000) in the background.
produce_batch() {
  "$ORDERFLOW_PRODUCER" -b "$BROKERS" -q --generate "$BATCH" --rate "$RATE" --seed $((12 + $1)) \
    2>"$WORK/producer$1.err" &
  producer=$!
  PIDS+=("$producer")
}

start_broker
start_processor p --guarantee exactly_once -v
# The processor owns the partitions before the first order, so the refused
# outputs below fall inside batch 1.
for _ in $(seq 600); do
  grep -q 'assigned partitions' "$WORK/p.err" && break
  kill -0 "$LAST_PID" 2>/dev/null || fail "processor exited: $(tail -3 "$WORK/p.err")"
  sleep 0.1
done
grep -q 'assigned partitions' "$WORK/p.err" || fail "processor assigned nothing in 60 s: $(tail -3 "$WORK/p.err")"
produce_batch 1
wait_for_count data-processed 300 90
kill -0 "$producer" 2>/dev/null || fail "batch 1 ran out before the refused outputs"
"$PY" "$KAFKA_ADMIN" set-config "$BROKERS" data-processed max.message.bytes=200 ||
  fail "cannot lower data-processed's max.message.bytes"
sleep 3
"$PY" "$KAFKA_ADMIN" set-config "$BROKERS" data-processed max.message.bytes=1048588 ||
  fail "cannot restore data-processed's max.message.bytes"
wait "$producer" || fail "producer exit $?: $(cat "$WORK/producer1.err")"
wait_committed "$BATCH" 180
kill -TERM "$LAST_PID"
wait "$LAST_PID" || fail "processor exit $? after SIGTERM: $(tail -5 "$WORK/p.err")"
aborts=$(sed -n 's/.*: [0-9]* transactions committed, \([0-9]*\) aborted$/\1/p' "$WORK/p.err" | tail -1)
[ "${aborts:-0}" -ge 1 ] || fail "no transaction aborted on the refused outputs: $(grep -v '^%' "$WORK/p.err" | tail -3)"

start_processor p --guarantee exactly_once -v
for k in $(seq 2 "$BATCHES"); do
  # The processor is live: it has processed every batch before this one
  # (a restarted one waits out its predecessor's open transaction first).
  wait_committed $((BATCH * (k - 1))) 240
  before=$(topic_count data-processed)
  produce_batch "$k"
  if [ "$k" -lt "$BATCHES" ]; then
    # Mid-stream: outputs of this batch written (the high watermark counts
    # uncommitted records and transaction markers too), orders still coming.
    wait_for_count data-processed $((before + 300)) 90
    kill -0 "$producer" 2>/dev/null || fail "batch $k ran out before kill -9 #$((k - 1)): nothing is mid-stream"
    sleep 0.$((RANDOM % 9 + 1))
    kill -9 "$LAST_PID"
    wait "$LAST_PID" 2>/dev/null || true
    echo "kill -9 #$((k - 1)) at high watermark $(topic_count data-processed)" >&2
    start_processor p --guarantee exactly_once -v
  fi
  wait "$producer" || fail "producer exit $?: $(cat "$WORK/producer$k.err")"
done
wait_committed "$N" 240
kill -TERM "$LAST_PID"
wait "$LAST_PID" || fail "processor exit $? after SIGTERM: $(tail -5 "$WORK/p.err")"

"$ORDERFLOW_CONSUMER" tail -b "$BROKERS" -e --from-beginning --json --raw -q >"$WORK/committed.jsonl"
"$ORDERFLOW_CONSUMER" tail -b "$BROKERS" -e --from-beginning --json --raw -q \
  -X isolation.level=read_uncommitted >"$WORK/uncommitted.jsonl"
committed=$(wc -l <"$WORK/committed.jsonl")
uncommitted=$(wc -l <"$WORK/uncommitted.jsonl")
[ "$committed" -eq "$N" ] || fail "read_committed: $committed records for $N inputs"
jq -r '.idempotencykey' "$WORK/committed.jsonl" | sort >"$WORK/out-keys"
for k in $(seq "$BATCHES"); do
  seq "$BATCH" | sed "s/^/data_processed:order_created:G$((12 + k))-/"
done | sort >"$WORK/want-keys"
cmp -s "$WORK/out-keys" "$WORK/want-keys" ||
  fail "read_committed keys differ: missing $(comm -13 "$WORK/out-keys" "$WORK/want-keys" | wc -l), extra $(comm -23 "$WORK/out-keys" "$WORK/want-keys" | wc -l)"
# The aborted records: outputs of the same inputs, hidden from read_committed.
jq -r '.idempotencykey' "$WORK/uncommitted.jsonl" | sort -u >"$WORK/all-keys"
cmp -s "$WORK/all-keys" "$WORK/want-keys" || fail "read_uncommitted holds keys no input has"
[ "$uncommitted" -gt "$committed" ] ||
  fail "read_uncommitted sees $uncommitted records, read_committed $committed: no aborted transaction was written"
echo "ok: $N inputs, $N committed outputs, 0 raw duplicates after $KILLS kill -9s;" \
  "$((uncommitted - committed)) aborted records visible to read_uncommitted only;" \
  "$aborts transaction(s) aborted on refused outputs"
