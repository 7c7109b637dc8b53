#!/usr/bin/env bash
# README.md's "By hand" walk with the shipped examples: examples/orders/
# orders.jsonl through the producer, examples/orders/poison.tsv raw with kcat,
# then `process -v`: every order gets its output, every poison record its
# dead letter; "caught up" is said once per assignment, with the number of
# events consumed; -v's counter line stays quiet while idle; `tail` of the
# dead-letter topic and `redrive --dry-run` show the three dead letters.
source "$(dirname "$0")/lib.sh"
examples=$(cd "$(dirname "$0")/../../examples/orders" && pwd)

orders=$(grep -c . "$examples/orders.jsonl")
poison=$(grep -c . "$examples/poison.tsv")
start_broker
"$ORDERFLOW_PRODUCER" -b "$BROKERS" "$examples/orders.jsonl" >"$WORK/produced.jsonl" 2>"$WORK/producer.err" ||
  fail "producer exit $?: $(cat "$WORK/producer.err")"
[ "$(wc -l <"$WORK/produced.jsonl")" = "$orders" ] || fail "producer reported $(wc -l <"$WORK/produced.jsonl") of $orders orders delivered"
kcat -b "$BROKERS" -P -t order-created -K $'\t' <"$examples/poison.tsv" || fail "kcat could not write the poison records"

start_processor p -v
wait_for_count data-processed "$orders" 60
wait_for_count order-created.dlq "$poison" 60
caught_up_lines() { grep -c 'caught up' "$WORK/p.err" || true; }
for _ in $(seq 100); do
  [ "$(caught_up_lines)" -ge 1 ] && break
  sleep 0.1
done
total=$((orders + poison))
grep -q "caught up: all [0-9]* assigned partitions read to their end ($total events consumed so far)" "$WORK/p.err" ||
  fail "no 'caught up' line after $total events: $(grep -v '^ \|^[a-z_]*:$\|^[{}]' "$WORK/p.err" | tail -5)"
accepted=$(grep -c '^accepted ' "$WORK/p.out" || true)
rejected=$(grep -c '^rejected ' "$WORK/p.out" || true)
dead=$(grep -c '^dead-lettered ' "$WORK/p.out" || true)
[ "$accepted/$rejected/$dead" = "5/3/$poison" ] ||
  fail "per-event lines: accepted/rejected/dead-lettered $accepted/$rejected/$dead, expected 5/3/$poison"

# Catching up again after more input (same assignment) says nothing new.
"$ORDERFLOW_PRODUCER" -b "$BROKERS" -q --order \
  '{"order_id":"A-9001","customer_id":"C-1","currency":"EUR","items":[{"sku":"S-1","quantity":1,"unit_price_cents":100}]}' ||
  fail "producer --order exit $?"
wait_for_count data-processed $((orders + 1)) 30
for _ in $(seq 50); do
  grep -q '^accepted .*A-9001' "$WORK/p.out" && break
  sleep 0.1
done
grep -q '^accepted .*A-9001' "$WORK/p.out" || fail "A-9001 not reported"

# Idle: after the last change the counter line comes at most once more
# (the next 5 s tick), then not again.
counters() { grep -c '^orderflow-consumer process: consumed ' "$WORK/p.err" || true; }
sleep 6
before=$(counters)
sleep 6
[ "$(counters)" = "$before" ] || fail "-v printed counters while idle: $(grep 'consumed ' "$WORK/p.err" | tail -3)"
[ "$(caught_up_lines)" = 1 ] || fail "'caught up' printed $(caught_up_lines) times, expected once: $(grep 'caught up' "$WORK/p.err")"
kill -TERM "$LAST_PID"
wait "$LAST_PID" || fail "processor exit $? after SIGTERM"

# Step 4 and 5 of the walk: the dead letters are there to see and redrive.
"$ORDERFLOW_CONSUMER" tail -b "$BROKERS" order-created.dlq --from-beginning -e >"$WORK/dlq.txt" 2>"$WORK/tail.err" ||
  fail "tail of the dead-letter topic exit $?: $(cat "$WORK/tail.err")"
[ "$(grep -c 'dead letter from order-created' "$WORK/dlq.txt")" = "$poison" ] ||
  fail "tail order-created.dlq does not show $poison dead letters: $(head -c 600 "$WORK/dlq.txt")"
for reason in 'not valid JSON\|not JSON' 'unknown schema version 2' 'order_shipped'; do
  grep -q "$reason" "$WORK/dlq.txt" || fail "tail order-created.dlq does not show '$reason': $(cat "$WORK/dlq.txt")"
done
"$ORDERFLOW_CONSUMER" redrive -b "$BROKERS" --dry-run >"$WORK/redrive.out" 2>"$WORK/redrive.err" ||
  fail "redrive --dry-run exit $?: $(cat "$WORK/redrive.err")"
grep -q 'would send' "$WORK/redrive.out" "$WORK/redrive.err" || fail "redrive --dry-run shows no summary: $(cat "$WORK/redrive.out" "$WORK/redrive.err")"
echo "ok: $orders orders, $poison dead letters, caught up once"
