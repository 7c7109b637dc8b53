#!/usr/bin/env bash
# A handler plugin's verdicts through the whole stage (docs/handlers.md),
# with tests/e2e/handlers/verdicts.c choosing each event's verdict by its
# order id:
#  1. one partition, every verdict: each input gives exactly one
#     data_processed or one dead letter (with the handler's reason); a
#     retried event is emitted once, and the events behind it wait (the
#     outputs keep the inputs' order); after handler.max_attempts with
#     after_max_attempts = dead_letter the event is dead-lettered;
#  2. after_max_attempts = pause (the default): the partition stops at the
#     event, /readyz says why, nothing behind it is skipped; a restart with
#     dead_letter lets it through;
#  3. kill -9 mid-stream with retries under way: one output per input, none lost.
# GUARANTEE=exactly_once (tests/kafka/handler_eos.sh) runs it all under that
# guarantee; the topics are read read_committed, so "one output per input"
# then also means no raw duplicate.
source "$(dirname "$0")/lib.sh"
GUARANTEE=${GUARANTEE:-at_least_once}
here=$(cd "$(dirname "$0")" && pwd)
PLUGIN=$ORDERFLOW_TEST_HANDLERS/verdicts.so
[ -f "$PLUGIN" ] || fail "no $PLUGIN (built by tests/e2e/handlers)"

start_broker --partitions 1
order() { printf '{"order_id":"%s","customer_id":"C-1","currency":"EUR","items":[{"sku":"S-1","quantity":%s,"unit_price_cents":100}]}\n' "$1" "${2:-1}"; }

# outputs TOPIC: "key<TAB>status-or-reason" per record, in offset order.
outputs() {
  "$PY" "$here/read_topic.py" "$BROKERS" "$1" | "$PY" -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    if "orderflow-error" in r["headers"]:
        print(r["key"] + "\t" + r["headers"]["orderflow-error"])
    else:
        d = json.loads(r["value"])["data"]
        print(r["key"] + "\t" + d["status"] + ("; " + d["reason"] if "reason" in d else ""))'
}

# Records, read read_committed: under exactly_once a topic's high watermark
# also counts transaction markers and aborted records.
count_records() { outputs "$1" | wc -l; }
wait_records() {
  wait_at_least "$2" "$3" 0.5 "$1 holds records (read_committed)" count_records "$1"
}

# 1. Every verdict, one partition.
{
  order A-1
  order R2-1
  order A-2
  order D-1
  order J-1
  order A-3 0
  order B-1
  order X-1
  order A-4
  order R1-2
  order A-5
} >"$WORK/orders1.jsonl"
"$ORDERFLOW_PRODUCER" -b "$BROKERS" -q "$WORK/orders1.jsonl" || fail "producer exit $?"
start_processor p1 --guarantee "$GUARANTEE" --json --handler "$PLUGIN" --handler-arg max_attempts=3 \
  --handler-arg after_max_attempts=dead_letter
wait_records data-processed 8 60
wait_records order-created.dlq 3 60
wait_until_handles_sigterm "$LAST_PID"
kill -TERM "$LAST_PID"
wait "$LAST_PID" || fail "processor exit $?: $(tail -3 "$WORK/p1.err")"
outputs data-processed >"$WORK/out1.tsv"
outputs order-created.dlq >"$WORK/dlq1.tsv"
cat >"$WORK/want-out1.tsv" <<'T'
A-1	accepted
R2-1	accepted
A-2	accepted
J-1	rejected; test: refused
A-3	rejected; item 1 (S-1): quantity 0 is below 1
A-4	accepted
R1-2	accepted
A-5	accepted
T
diff "$WORK/want-out1.tsv" "$WORK/out1.tsv" >&2 || fail "data-processed is not one output per input in input order"
[ "$(cut -f1 "$WORK/dlq1.tsv" | tr '\n' ' ')" = "D-1 B-1 X-1 " ] ||
  fail "dead letters: $(cat "$WORK/dlq1.tsv")"
grep -qx $'D-1\thandler verdicts: test: suspicious' "$WORK/dlq1.tsv" || fail "D-1's reason: $(cat "$WORK/dlq1.tsv")"
grep -q $'^B-1\thandler verdicts: .*object' "$WORK/dlq1.tsv" || fail "B-1's reason: $(cat "$WORK/dlq1.tsv")"
grep -qx $'X-1\thandler verdicts: answered retry 3 times: test: unavailable at attempt 3' "$WORK/dlq1.tsv" ||
  fail "X-1's reason: $(cat "$WORK/dlq1.tsv")"
# Retries are told, each with its attempt; R2-1 answered retry twice, X-1 three times.
retries=$(jq -r 'select(.outcome == "retry") | .order_id' "$WORK/p1.out" | sort | uniq -c | awk '{print $2"="$1}' | tr '\n' ' ')
[ "$retries" = "R1-2=1 R2-1=2 X-1=2 " ] || fail "retry lines: $retries"

# 2. after_max_attempts = pause: the partition stops at X-2; A-7 waits.
{
  order A-6
  order X-2
  order A-7
} >"$WORK/orders2.jsonl"
"$ORDERFLOW_PRODUCER" -b "$BROKERS" -q "$WORK/orders2.jsonl" || fail "producer exit $?"
port=$(free_port)
start_processor p2 --guarantee "$GUARANTEE" --json --handler "$PLUGIN" --handler-arg max_attempts=2 \
  --metrics "127.0.0.1:$port"
wait_records data-processed 9 60
for _ in $(seq 100); do
  grep -q '"outcome":"paused"' "$WORK/p2.out" 2>/dev/null && break
  sleep 0.1
done
grep -q '"outcome":"paused"' "$WORK/p2.out" || fail "partition not paused: $(tail -3 "$WORK/p2.err")"
code=$(http_get "127.0.0.1:$port" /readyz "$WORK/ready.txt")
[ "$code" = 503 ] && grep -q "partition 0 paused at offset 12: handler verdicts: answered retry 2 times" "$WORK/ready.txt" ||
  fail "/readyz $code: $(cat "$WORK/ready.txt")"
grep -q "partition 0 paused at offset 12" "$WORK/p2.err" || fail "no warning: $(cat "$WORK/p2.err")"
sleep 1
[ "$(count_records data-processed)" = 9 ] || fail "an event behind the paused one was processed"
kill -TERM "$LAST_PID"
wait "$LAST_PID" || fail "processor exit $?: $(tail -3 "$WORK/p2.err")"
start_processor p3 --guarantee "$GUARANTEE" --json --handler "$PLUGIN" --handler-arg max_attempts=2 \
  --handler-arg after_max_attempts=dead_letter
wait_records data-processed 10 60
wait_records order-created.dlq 4 60
kill -TERM "$LAST_PID"
wait "$LAST_PID" || fail "processor exit $?: $(tail -3 "$WORK/p3.err")"
[ "$(outputs data-processed | tail -2 | cut -f1 | tr '\n' ' ')" = "A-6 A-7 " ] || fail "after the pause: $(outputs data-processed)"
[ "$(outputs order-created.dlq | tail -1 | cut -f1)" = X-2 ] || fail "X-2 not dead-lettered"

# 3. kill -9 mid-stream while events are retried: one output per input.
N=1500
"$PY" - "$N" >"$WORK/orders3.jsonl" <<'PY'
import json, sys
for i in range(int(sys.argv[1])):
    kind = "R1" if i % 300 == 7 else "D" if i % 97 == 3 else "K"
    print(json.dumps({"order_id": f"{kind}-{i}", "customer_id": "C-1", "currency": "EUR",
                      "items": [{"sku": "S-1", "quantity": 1, "unit_price_cents": 100}]}))
PY
want_dlq=$(grep -c '"D-' "$WORK/orders3.jsonl")
"$ORDERFLOW_PRODUCER" -b "$BROKERS" -q --rate 1000 "$WORK/orders3.jsonl" 2>"$WORK/producer.err" &
producer=$!
PIDS+=("$producer")
start_processor p4 --guarantee "$GUARANTEE" --handler "$PLUGIN"
wait_records data-processed 400 60
kill -9 "$LAST_PID"
wait "$LAST_PID" 2>/dev/null || true
start_processor p4 --guarantee "$GUARANTEE" --handler "$PLUGIN"
wait "$producer" || fail "producer exit $?: $(cat "$WORK/producer.err")"
wait_records data-processed $((10 + N - want_dlq)) 120
wait_records order-created.dlq $((4 + want_dlq)) 60
wait_until_handles_sigterm "$LAST_PID"
kill -TERM "$LAST_PID"
wait "$LAST_PID" || fail "processor exit $?: $(tail -3 "$WORK/p4.err")"
outputs data-processed | tail -n +11 | cut -f1 | sort >"$WORK/out3"
outputs order-created.dlq | tail -n +5 | cut -f1 | sort >"$WORK/dlq3"
jq -r .order_id "$WORK/orders3.jsonl" | grep -v '^D-' | sort >"$WORK/want3"
diff "$WORK/want3" "$WORK/out3" >/dev/null || fail "after kill -9: $(comm -3 "$WORK/want3" "$WORK/out3" | wc -l) keys missing or twice in data-processed"
[ "$(sort -u "$WORK/dlq3" | wc -l)" = "$want_dlq" ] && [ "$(wc -l <"$WORK/dlq3")" = "$want_dlq" ] ||
  fail "after kill -9: $(wc -l <"$WORK/dlq3") dead letters, want $want_dlq"
echo "ok: every verdict; pause and /readyz; kill -9 with retries: $((N - want_dlq)) outputs and $want_dlq dead letters, one each"
