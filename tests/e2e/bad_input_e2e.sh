#!/usr/bin/env bash
# Bad input lines are reported with their line number and reason, skipped, and
# the good lines around them are still delivered; --strict stops at the first.
source "$(dirname "$0")/lib.sh"

start_broker
good() { printf '{"order_id":"%s","customer_id":"C-1","currency":"EUR","items":[{"sku":"S-1","quantity":1,"unit_price_cents":100}]}\n' "$1"; }
{
  good OK-1                                                             # 1
  echo 'this is not json'                                               # 2
  echo '{"customer_id":"C-1","currency":"EUR","items":[]}'              # 3 missing order_id
  good OK-2                                                             # 4
  echo '{"order_id":42,"customer_id":"C-1","currency":"EUR","items":[]}' # 5 wrong type
  echo '{"order_id":"X","customer_id":"C-1","currency":"EUR","items":[{"sku":"S","quantity":"2","unit_price_cents":1}]}' # 6
  printf '{"order_id":"BIG","customer_id":"%s","currency":"EUR","items":[]}\n' "$(head -c 70000 /dev/zero | tr '\0' x)" # 7 string over 64 KiB
  echo '[1,2,3]'                                                        # 8 not an object
  good OK-3                                                             # 9
} >"$WORK/orders.jsonl"
# Line 10: over the 1 MiB record limit.
printf '{"order_id":"HUGE","pad":"%s"}\n' "$(head -c 1100000 /dev/zero | tr '\0' y)" >>"$WORK/orders.jsonl"
good OK-4 >>"$WORK/orders.jsonl"                                        # 11

set +e
"$ORDERFLOW_PRODUCER" -b "$BROKERS" -q "$WORK/orders.jsonl" 2>"$WORK/err"
status=$?
set -e
err=$(cat "$WORK/err")
[ "$status" -eq 1 ] || fail "exit $status, expected 1 (some lines skipped): $err"
expect() { grep -qF -- "$1" "$WORK/err" || fail "stderr lacks '$1':"$'\n'"$err"; }
f="$WORK/orders.jsonl"
expect "$f:2: not JSON"
expect "$f:3: "; grep -F "$f:3: " "$WORK/err" | grep "order_id" >/dev/null || fail "line 3 reason"
grep -F "$f:5: " "$WORK/err" | grep "order_id" >/dev/null || fail "line 5 reason: $err"
grep -F "$f:6: " "$WORK/err" | grep "quantity" >/dev/null || fail "line 6 reason: $err"
grep -F "$f:7: " "$WORK/err" | grep -i "string" >/dev/null || fail "line 7 reason: $err"
grep -F "$f:8: " "$WORK/err" | grep -i "object" >/dev/null || fail "line 8 reason: $err"
grep -F "$f:10: " "$WORK/err" | grep "longer than 1048576 bytes" >/dev/null || fail "line 10 reason: $err"
for n in 1 4 9 11; do grep -qF "$f:$n:" "$WORK/err" && fail "good line $n reported"; done
expect "4 delivered, 0 failed, 7 skipped"
keys=$(kcat -b "$BROKERS" -C -t order-created -e -o beginning -q -f '%k\n' | sort | tr '\n' ' ')
[ "$keys" = "OK-1 OK-2 OK-3 OK-4 " ] || fail "topic holds '$keys'"

# --strict: stop at the first bad line, status 65, nothing after it sent.
set +e
"$ORDERFLOW_PRODUCER" -b "$BROKERS" -q --strict -t order-created.dlq "$WORK/orders.jsonl" 2>"$WORK/err2"
status=$?
set -e
[ "$status" -eq 65 ] || fail "--strict exit $status, expected 65: $(cat "$WORK/err2")"
keys=$(kcat -b "$BROKERS" -C -t order-created.dlq -e -o beginning -q -f '%k\n' | tr '\n' ' ')
[ "$keys" = "OK-1 " ] || fail "--strict sent '$keys'"

# A single bad --order is the whole input: bad input data, 65, nothing sent.
set +e
"$ORDERFLOW_PRODUCER" -b "$BROKERS" -q -t order-created.dlq --order '{"order_id":"BAD-1","customer_id":"C-1"}' 2>"$WORK/err5"
status=$?
set -e
[ "$status" -eq 65 ] || fail "bad --order exit $status, expected 65: $(cat "$WORK/err5")"
grep -q "^orderflow-producer: --order:1: .*currency" "$WORK/err5" || fail "bad --order message: $(cat "$WORK/err5")"
grep -q "line skipped" "$WORK/err5" && fail "bad --order said 'line skipped': $(cat "$WORK/err5")"
keys=$(kcat -b "$BROKERS" -C -t order-created.dlq -e -o beginning -q -f '%k\n' | tr '\n' ' ')
[ "$keys" = "OK-1 " ] || fail "a bad --order sent something: '$keys'"

# Usage and missing input files.
set +e
"$ORDERFLOW_PRODUCER" --rate nope 2>"$WORK/err3"; [ $? -eq 64 ] || fail "bad --rate not 64"
grep -q -- "--rate" "$WORK/err3" || fail "usage error does not name --rate"
"$ORDERFLOW_PRODUCER" -b "$BROKERS" /nonexistent.jsonl 2>"$WORK/err4"; st=$?
set -e
[ $st -eq 66 ] || fail "missing file exit $st"
grep -q "/nonexistent.jsonl: cannot open" "$WORK/err4" || fail "missing file message"
echo "ok: 7 bad lines reported with line numbers, 4 good lines delivered"
