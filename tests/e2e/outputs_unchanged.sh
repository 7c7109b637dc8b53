#!/usr/bin/env bash
# The processing stage's outputs do not change unless meant to: a fixed mix
# of inputs (tests/e2e/outputs_gen.py: accepted, every rejection, odd text,
# duplicates; half of them traced; poison records) goes through the
# processor, and data-processed and the dead-letter topic, normalised by
# outputs_normalize.py (ids, times and span ids masked, the rest byte for
# byte), must equal:
#   - in the suite: tests/e2e/outputs_unchanged.golden (N=200, made by
#     the processor of commit af558db);
#   - with BASE=/path/to/an/older/orderflow-consumer: what that binary makes
#     of the same inputs, in the same run (the proof of a refactoring:
#     N=200000 BASE=... bash tests/e2e/outputs_unchanged.sh, with the three
#     ORDERFLOW_* variables meson sets pointing at build/).
# UPDATE_GOLDEN=1 rewrites the golden file from this build instead.
source "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
N=${N:-200}
BASE=${BASE:-}
GOLDEN=$here/outputs_unchanged.golden
if [ -z "$BASE" ] && [ "$N" != 200 ]; then
  fail "the golden file holds N=200; give BASE=... to compare $N events against another binary"
fi

# Each partition of orderflow-broker keeps about its last 5 MB: 64
# partitions keep 200,000 events and their outputs whole.
start_broker --partitions 64 \
  --topics order-created,data-processed,order-created.dlq,data-processed-base,order-created.dlq-base

"$PY" "$here/outputs_gen.py" "$N" >"$WORK/orders.jsonl"
half=$((N / 2))
head -n "$half" "$WORK/orders.jsonl" >"$WORK/plain.jsonl"
tail -n +"$((half + 1))" "$WORK/orders.jsonl" >"$WORK/traced.jsonl"
"$ORDERFLOW_PRODUCER" -b "$BROKERS" -q "$WORK/plain.jsonl" || fail "producer exit $?"
printf 'producer: { tracing = true; };\n' >"$WORK/tracing.conf"
"$ORDERFLOW_PRODUCER" -b "$BROKERS" -c "$WORK/tracing.conf" -q "$WORK/traced.jsonl" ||
  fail "producer (traced) exit $?"
{
  printf 'P-json\tthis is not JSON\n'
  printf 'P-array\t[1,2,3]\n'
  printf 'P-type\t{"specversion":"1.0","id":"0190b3c4-0000-7000-8000-000000000001","source":"test","type":"order_shipped","time":"2026-11-24T12:00:00.000Z","datacontenttype":"application/json","idempotencykey":"order_created:P-type","subject":"P-type","schemaversion":1,"data":{}}\n'
  printf 'P-schema\t{"specversion":"1.0","id":"0190b3c4-0000-7000-8000-000000000002","source":"test","type":"order_created","time":"2026-11-24T12:00:00.000Z","datacontenttype":"application/json","idempotencykey":"order_created:P-schema","subject":"P-schema","schemaversion":2,"data":{}}\n'
} >"$WORK/poison.tsv"
kcat -b "$BROKERS" -P -t order-created -K $'\t' <"$WORK/poison.tsv" || fail "kcat exit $?"
unique=$(jq -r .order_id "$WORK/orders.jsonl" | sort -u | wc -l)

# run_processor BINARY NAME GROUP OUTPUT DLQ: until every input has its output.
run_processor() {
  local binary=$1 name=$2 group=$3 output=$4 dlq=$5
  printf 'consumer: { group = "%s"; };\ntopics: { data_processed = "%s"; dead_letter = "%s"; };\n' \
    "$group" "$output" "$dlq" >"$WORK/$name.conf"
  ORDERFLOW_CONSUMER=$binary start_processor "$name" -q -c "$WORK/$name.conf"
  local pid=$LAST_PID deadline=$((SECONDS + 900)) n=0
  while n=$(topic_count "$output") && [ "$n" -lt "$unique" ]; do
    kill -0 "$pid" 2>/dev/null || fail "processor $name exited: $(tail -3 "$WORK/$name.err")"
    [ $SECONDS -lt $deadline ] || fail "$output holds $n records, expected $unique within 900 s"
    sleep 1
  done
  wait_for_count "$dlq" 4 60
  kill -TERM "$pid"
  wait "$pid" || fail "processor $name exit $?: $(tail -3 "$WORK/$name.err")"
  "$PY" "$here/read_topic.py" "$BROKERS" "$output" >"$WORK/$name-out.jsonl"
  "$PY" "$here/read_topic.py" "$BROKERS" "$dlq" >"$WORK/$name-dlq.jsonl"
  [ "$(wc -l <"$WORK/$name-out.jsonl")" -eq "$unique" ] ||
    fail "$name: $(wc -l <"$WORK/$name-out.jsonl") outputs for $unique distinct orders"
}

run_processor "$ORDERFLOW_CONSUMER" new outputs-new data-processed order-created.dlq
if [ -n "$BASE" ]; then
  run_processor "$BASE" base outputs-base data-processed-base order-created.dlq-base
  for t in out dlq; do
    "$PY" "$here/outputs_normalize.py" <"$WORK/new-$t.jsonl" >"$WORK/new-$t.norm"
    "$PY" "$here/outputs_normalize.py" <"$WORK/base-$t.jsonl" >"$WORK/base-$t.norm"
    diff -q "$WORK/base-$t.norm" "$WORK/new-$t.norm" >/dev/null || {
      diff "$WORK/base-$t.norm" "$WORK/new-$t.norm" | head -5 >&2
      fail "outputs differ from $BASE ($t)"
    }
  done
  echo "outputs unchanged: $(wc -l <"$WORK/new-out.norm") data_processed and" \
    "$(wc -l <"$WORK/new-dlq.norm") dead letters for $N orders + 4 poison records equal $BASE's"
  exit 0
fi
{
  "$PY" "$here/outputs_normalize.py" --golden <"$WORK/new-out.jsonl"
  "$PY" "$here/outputs_normalize.py" --golden <"$WORK/new-dlq.jsonl"
} >"$WORK/new.golden"
if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
  cp "$WORK/new.golden" "$GOLDEN"
  echo "rewrote $GOLDEN"
  exit 0
fi
diff "$GOLDEN" "$WORK/new.golden" >"$WORK/golden.diff" || {
  head -6 "$WORK/golden.diff" >&2
  fail "outputs differ from tests/e2e/outputs_unchanged.golden ($(grep -c '^>' "$WORK/golden.diff") lines)"
}
echo "outputs unchanged: $(wc -l <"$GOLDEN") records equal tests/e2e/outputs_unchanged.golden"
