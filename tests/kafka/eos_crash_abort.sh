#!/usr/bin/env bash
# exactly_once on real Kafka: 20,000 orders at 400/s. First a transaction is
# aborted on purpose by a delivery failure (data-processed's
# max.message.bytes lowered below one output for 3 s, so the outputs of the
# open transaction are refused and the processor aborts it and re-reads its
# inputs); then the processor is kill -9'd three times mid-transaction and
# restarted (the broker aborts the dead instance's open transaction when it
# times out). Afterwards a
# read_committed reader sees exactly one data_processed per input and no
# raw duplicate, while a read_uncommitted reader sees more records than that:
# the aborted transactions' outputs, which the broker really wrote and
# really hid.
source "$(dirname "$0")/../e2e/lib.sh"
N=${N:-20000}
KILLS=${KILLS:-3}
SEED=13

# committed_count: data_processed events a read_committed reader sees.
committed_count() {
  "$ORDERFLOW_CONSUMER" tail -b "$BROKERS" -e --from-beginning --raw -q --json | wc -l
}

start_broker
"$ORDERFLOW_PRODUCER" -b "$BROKERS" -q --generate "$N" --rate 400 --seed $SEED \
  2>"$WORK/producer.err" &
producer=$!
PIDS+=("$producer")

start_processor p --guarantee exactly_once -v
# The deliberate abort, once outputs flow: every output refused for 3 s.
wait_for_count data-processed 300 90
"$PY" "$KAFKA_ADMIN" set-config "$BROKERS" data-processed max.message.bytes=200 ||
  fail "cannot lower data-processed's max.message.bytes"
sleep 3
"$PY" "$KAFKA_ADMIN" set-config "$BROKERS" data-processed max.message.bytes=1048588 ||
  fail "cannot restore data-processed's max.message.bytes"
wait_for_count data-processed $(($(topic_count data-processed) + 300)) 90
kill -TERM "$LAST_PID"
wait "$LAST_PID" || fail "processor exit $? after SIGTERM: $(tail -5 "$WORK/p.err")"
aborts=$(sed -n 's/.*: [0-9]* transactions committed, \([0-9]*\) aborted$/\1/p' "$WORK/p.err" | tail -1)
[ "${aborts:-0}" -ge 1 ] || fail "no transaction aborted on the refused outputs: $(grep -v '^%' "$WORK/p.err" | tail -3)"

start_processor p --guarantee exactly_once -v
before=0
for k in $(seq "$KILLS"); do
  # Only once this instance is mid-stream: it has written outputs (the high
  # watermark counts uncommitted records and transaction markers too).
  before=$(topic_count data-processed)
  wait_for_count data-processed $((before + 300)) 90
  sleep 0.$((RANDOM % 9 + 1))
  kill -9 "$LAST_PID"
  wait "$LAST_PID" 2>/dev/null || true
  echo "kill -9 #$k at high watermark $(topic_count data-processed)" >&2
  start_processor p --guarantee exactly_once -v
done

wait "$producer" || fail "producer exit $?: $(cat "$WORK/producer.err")"
deadline=$((SECONDS + 180))
while [ "$(committed_count)" -lt "$N" ]; do
  [ $SECONDS -lt $deadline ] || fail "read_committed sees $(committed_count) of $N outputs after 180 s"
  sleep 2
done
kill -TERM "$LAST_PID"
wait "$LAST_PID" || fail "processor exit $? after SIGTERM: $(tail -5 "$WORK/p.err")"

"$ORDERFLOW_CONSUMER" tail -b "$BROKERS" -e --from-beginning --json --raw -q >"$WORK/committed.jsonl"
"$ORDERFLOW_CONSUMER" tail -b "$BROKERS" -e --from-beginning --json --raw -q \
  -X isolation.level=read_uncommitted >"$WORK/uncommitted.jsonl"
committed=$(wc -l <"$WORK/committed.jsonl")
uncommitted=$(wc -l <"$WORK/uncommitted.jsonl")
[ "$committed" -eq "$N" ] || fail "read_committed: $committed records for $N inputs"
jq -r '.idempotencykey' "$WORK/committed.jsonl" | sort >"$WORK/out-keys"
seq "$N" | sed "s/^/data_processed:order_created:G$SEED-/" | sort >"$WORK/want-keys"
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
