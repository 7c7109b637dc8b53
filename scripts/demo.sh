#!/usr/bin/env bash
# The whole pipeline on the embedded broker, in under a minute after the
# build: orderflow-broker, orderflow-consumer process, a curated batch from
# orderflow-producer, and a tail of data-processed; then a summary that
# accounts for every record, and everything started is stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bin=${BUILD_DIR:-build}
work=$(mktemp -d /tmp/orderflow-demo.XXXXXX)
pids=()
stop_all() {
  # Newest first: the tail and the processor leave before the broker goes.
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap stop_all EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*" 2>/dev/null; }
[ -t 1 ] || say() { printf '\n== %s\n' "$*"; }

port=9092
if ss -ltn 2>/dev/null | grep "127.0.0.1:$port " >/dev/null; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  echo "demo: 127.0.0.1:9092 is taken; using port $port instead"
fi
brokers=127.0.0.1:$port

say "1. orderflow-broker: in-memory Kafka on $brokers"
"$bin/broker/orderflow-broker" --port "$port" >"$work/broker.out" 2>"$work/broker.err" &
pids+=($!)
for _ in $(seq 100); do grep -q '^ready' "$work/broker.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready' "$work/broker.out" || { cat "$work/broker.err"; exit 69; }
sed 's/^/   /' "$work/broker.err"

say "2. orderflow-consumer process (group orderflow-processor)"
"$bin/consumer/orderflow-consumer" process -b "$brokers" --json >"$work/process.out" \
  2>"$work/process.err" &
pids+=($!)
echo "   running as pid ${pids[-1]}"

say "3. orderflow-consumer tail: data-processed as it arrives"
"$bin/consumer/orderflow-consumer" tail -b "$brokers" --from-beginning -q 2>"$work/tail.err" \
  > >(sed -u 's/^/   tail | /') &
pids+=($!)

say "4. orderflow-producer: a curated batch"
order() { printf '{"order_id":"%s","customer_id":"%s","currency":"%s","items":%s}' "$@"; }
produce() { "$bin/producer/orderflow-producer" -b "$brokers" -q "$@"; }
echo "   A-1001  valid, 2 x SKU-1 at 19.99 EUR"
produce --order "$(order A-1001 C-42 EUR '[{"sku":"SKU-1","quantity":2,"unit_price_cents":1999}]')"
echo "   A-1002  valid, two lines in USD"
produce --order "$(order A-1002 C-7 USD '[{"sku":"SKU-2","quantity":1,"unit_price_cents":500},{"sku":"SKU-3","quantity":3,"unit_price_cents":250}]')"
echo "   A-1003  valid, sent twice with the same idempotency key (retry after a timeout)"
for _ in 1 2; do
  produce --idempotency-key order_created:A-1003 \
    --order "$(order A-1003 C-9 GBP '[{"sku":"SKU-4","quantity":1,"unit_price_cents":12000}]')"
done
echo "   A-1004  breaks a business rule: quantity 0"
produce --order "$(order A-1004 C-42 EUR '[{"sku":"SKU-1","quantity":0,"unit_price_cents":1999}]')"
echo "   X-0001  a malformed record written straight to the topic with kcat"
printf 'X-0001\t{"order_id": "X-0001", oops}\n' |
  kcat -b "$brokers" -P -t order-created -K $'\t' 2>/dev/null
published=6

# Every record accounted for: outputs + dead letters + duplicates = published.
deadline=$((SECONDS + 40))
count() { grep -c "\"outcome\":\"$1\"" "$work/process.out" 2>/dev/null || true; }
while [ $SECONDS -lt $deadline ]; do
  accepted=$(count accepted); rejected=$(count rejected)
  duplicates=$(count duplicate); dead=$(count dead-lettered)
  [ $((accepted + rejected + duplicates + dead)) -ge $published ] && break
  sleep 0.3
done
sleep 1 # let the tail print the last event

say "5. summary"
printf '   %-34s %d\n' "records published" "$published" "accepted (data-processed)" "$accepted" \
  "rejected (data-processed)" "$rejected" "duplicates suppressed" "$duplicates" \
  "dead-lettered (order-created.dlq)" "$dead"
grep '"outcome":"rejected"\|"outcome":"dead-lettered"' "$work/process.out" |
  python3 -c 'import json,sys
for l in sys.stdin:
    r = json.loads(l); print("   %-14s %s: %s" % (r["outcome"], r.get("order_id", "p%d@%d" % (r["partition"], r["offset"])), r.get("reason", "")))'
if [ $((accepted + rejected + duplicates + dead)) -ne $published ] || [ "$accepted" -ne 3 ] ||
   [ "$rejected" -ne 1 ] || [ "$duplicates" -ne 1 ] || [ "$dead" -ne 1 ]; then
  echo "demo: the counts do not add up; processor log:" >&2
  tail -20 "$work/process.err" >&2
  exit 70
fi
echo "   every record accounted for; stopping broker, processor and tail"
