#!/usr/bin/env bash
# A mixed stream: valid orders are accepted, business-invalid ones rejected
# with the right reason, poison records (malformed, oversized, wrong
# schemaversion, wrong type) dead-lettered with their original bytes and the
# documented headers (docs/envelope.md, "Dead letters"), and the processor keeps running.
source "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)

start_broker
start_processor p --json
order() { printf '{"order_id":"%s","customer_id":"C-1","currency":"%s","items":%s}\n' "$1" "$2" "$3"; }
{
  order V-1 EUR '[{"sku":"S-1","quantity":2,"unit_price_cents":1999}]'
  order V-2 USD '[{"sku":"S-1","quantity":1,"unit_price_cents":5},{"sku":"S-2","quantity":3,"unit_price_cents":10}]'
  order R-empty EUR '[]'
  order R-qty EUR '[{"sku":"S-1","quantity":0,"unit_price_cents":100}]'
  order R-price EUR '[{"sku":"S-1","quantity":1,"unit_price_cents":-5}]'
  order R-cur eur '[{"sku":"S-1","quantity":1,"unit_price_cents":100}]'
  order R-overflow EUR '[{"sku":"S-1","quantity":9223372036854775807,"unit_price_cents":2}]'
} >"$WORK/orders.jsonl"
"$ORDERFLOW_PRODUCER" -b "$BROKERS" -q "$WORK/orders.jsonl" || fail "producer exit $?"

# Poison, written raw with kcat (key TAB value per line).
envelope='{"specversion":"1.0","id":"0190b3c4-0000-7000-8000-000000000001","source":"test","type":"order_created","time":"2026-11-24T12:00:00.000Z","datacontenttype":"application/json","idempotencykey":"order_created:P-schema","subject":"P-schema","schemaversion":2,"data":{"order_id":"P-schema","customer_id":"C","currency":"EUR","items":[]}}'
wrongtype=${envelope//\"type\":\"order_created\"/\"type\":\"order_shipped\"}
wrongtype=${wrongtype//\"schemaversion\":2/\"schemaversion\":1}
wrongtype=${wrongtype//P-schema/P-type}
{
  printf 'P-json\tthis is not JSON\n'
  printf 'P-array\t[1,2,3]\n'
  printf 'P-schema\t%s\n' "$envelope"
  printf 'P-type\t%s\n' "$wrongtype"
  printf 'P-big\t{"pad":"%s"}\n' "$(head -c 1100000 /dev/zero | tr '\0' z)"
} >"$WORK/poison.tsv"
if [ -n "${ORDERFLOW_KAFKA_NODES:-}" ]; then
  # Kafka refuses records over the topic's max.message.bytes (1 MB by
  # default): let this one in, as a topic configured for big records would,
  # with the dead-letter topic 64 KiB larger for the headers
  # (docs/operations.md, "Record size limits").
  "$PY" "$KAFKA_ADMIN" set-config "$BROKERS" order-created max.message.bytes=4000000 &&
    "$PY" "$KAFKA_ADMIN" set-config "$BROKERS" order-created.dlq max.message.bytes=4065536 ||
    fail "cannot raise the topics' max.message.bytes"
fi
kcat -b "$BROKERS" -P -t order-created -K $'\t' -X message.max.bytes=4000000 <"$WORK/poison.tsv" ||
  fail "kcat could not write the poison records"

wait_for_count data-processed 7 60
wait_for_count order-created.dlq 5 60
kill -0 "$LAST_PID" || fail "processor died: $(cat "$WORK/p.err")"

"$PY" "$here/read_topic.py" "$BROKERS" data-processed >"$WORK/out.jsonl"
"$PY" "$here/read_topic.py" "$BROKERS" order-created.dlq >"$WORK/dlq.jsonl"
"$PY" "$here/read_topic.py" "$BROKERS" order-created >"$WORK/in.jsonl"
"$PY" - "$WORK" <<'PY' || fail "mixed stream checks failed"
import json, sys
work = sys.argv[1]
out = {}
for line in open(f"{work}/out.jsonl"):
    r = json.loads(line)
    ev = json.loads(r["value"])
    assert ev["type"] == "data_processed", ev
    assert r["key"] not in out, f"two outputs for {r['key']}"
    out[r["key"]] = ev["data"]
assert sorted(out) == ["R-cur", "R-empty", "R-overflow", "R-price", "R-qty", "V-1", "V-2"], sorted(out)
assert out["V-1"]["status"] == "accepted" and out["V-1"]["total_cents"] == 3998, out["V-1"]
assert out["V-2"]["status"] == "accepted" and out["V-2"]["total_cents"] == 35, out["V-2"]
assert out["V-2"]["item_count"] == 2 and out["V-2"]["quantity_total"] == 4, out["V-2"]
expect = {"R-empty": "no items", "R-qty": "quantity", "R-price": "price",
          "R-cur": "currency", "R-overflow": "overflow"}
for key, word in expect.items():
    d = out[key]
    assert d["status"] == "rejected" and word in d["reason"], (key, d)

inputs = {}
for line in open(f"{work}/in.jsonl"):
    r = json.loads(line)
    inputs[(r["partition"], r["offset"])] = r
dlq = {}
for line in open(f"{work}/dlq.jsonl"):
    r = json.loads(line)
    h = r["headers"]
    assert h["orderflow-source-topic"] == "order-created", h
    src = inputs[(int(h["orderflow-source-partition"]), int(h["orderflow-source-offset"]))]
    assert src["key"] == r["key"] and src["value"] == r["value"] and src["value_len"] == r["value_len"], \
        f"{r['key']}: dead letter bytes differ from the source record"
    assert r["partition"] == src["partition"], "dead letter not co-partitioned"
    dlq[r["key"]] = h["orderflow-error"]
assert sorted(dlq) == ["P-array", "P-big", "P-json", "P-schema", "P-type"], sorted(dlq)
checks = {"P-json": "not JSON", "P-array": "object", "P-schema": "schema", "P-type": "type",
          "P-big": "1048576"}
for key, word in checks.items():
    assert word in dlq[key], (key, dlq[key])
print("mixed stream ok:", len(out), "outputs,", len(dlq), "dead letters")
PY
# The processor reported each outcome on stdout (JSON lines).
sleep 0.5
for outcome in accepted rejected dead-lettered; do
  grep -q "\"outcome\":\"$outcome\"" "$WORK/p.out" || fail "processor printed no $outcome line"
done
kill -TERM "$LAST_PID"
wait "$LAST_PID" || fail "processor exit $? after SIGTERM"
echo "ok"
