#!/usr/bin/env bash
# 20,000 orders; the processor is killed with SIGKILL three times mid-stream
# and restarted. Afterwards tail's deduplicated view holds exactly 20,000
# events, one per input key; tail --raw tells how many raw duplicates exist.
source "$(dirname "$0")/lib.sh"
N=${N:-20000}
KILLS=${KILLS:-3}

start_broker
"$ORDERFLOW_PRODUCER" -b "$BROKERS" -q --generate "$N" --rate 700 --seed 11 \
  2>"$WORK/producer.err" &
producer=$!
PIDS+=("$producer")

start_processor p
before=0
for k in $(seq "$KILLS"); do
  # Kill only once this instance is mid-stream: it has emitted outputs.
  wait_for_count data-processed $((before + 200)) 60
  sleep 0.$((RANDOM % 9 + 1))
  kill -9 "$LAST_PID"
  wait "$LAST_PID" 2>/dev/null || true
  done_so_far=$(topic_count data-processed)
  echo "kill -9 #$k after $done_so_far outputs" >&2
  before=$done_so_far
  start_processor p
done
wait "$producer" || fail "producer exit $?: $(cat "$WORK/producer.err")"
wait_for_count data-processed "$N" 120
# The last restart may be only milliseconds old when the outputs are all there.
wait_until_handles_sigterm "$LAST_PID"
kill -TERM "$LAST_PID"
wait "$LAST_PID" || fail "processor exit $? after SIGTERM: $(tail -5 "$WORK/p.err")"

"$ORDERFLOW_CONSUMER" tail -b "$BROKERS" -e --from-beginning --json -q >"$WORK/dedup.jsonl"
"$ORDERFLOW_CONSUMER" tail -b "$BROKERS" -e --from-beginning --json --raw -q >"$WORK/raw.jsonl"
dedup=$(wc -l <"$WORK/dedup.jsonl")
raw=$(wc -l <"$WORK/raw.jsonl")
[ "$dedup" -eq "$N" ] || fail "tail shows $dedup events, expected $N"
# Every input key exactly once.
jq -r '.idempotencykey' "$WORK/dedup.jsonl" | sort >"$WORK/out-keys"
[ "$(sort -u "$WORK/out-keys" | wc -l)" -eq "$N" ] || fail "duplicate keys in the deduplicated view"
seq "$N" | sed 's/^/data_processed:order_created:G11-/' | sort >"$WORK/want-keys"
cmp -s "$WORK/out-keys" "$WORK/want-keys" || fail "missing keys: $(comm -13 "$WORK/out-keys" "$WORK/want-keys" | head -3)"
echo "ok: $N events after $KILLS kills; raw duplicates: $((raw - dedup))"
[ "${REQUIRE_NO_RAW_DUPLICATES:-1}" = 0 ] || [ "$raw" -eq "$dedup" ] ||
  fail "$((raw - dedup)) raw duplicates in data-processed"
