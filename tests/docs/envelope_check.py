#!/usr/bin/python3
"""Checks records read back from Kafka against docs/envelope.schema.json.

  envelope_check.py count BROKERS TOPIC
      prints the number of records in TOPIC (sum of high watermarks)
  envelope_check.py check BROKERS SCHEMA GENERATED REJECTED POISON_KEY
      reads order-created, data-processed and order-created.dlq and asserts:
      every envelope validates against the schema, the counts, and how the
      records relate (keys, headers, ids, partitions)
  envelope_check.py negative SCHEMA
      asserts the schema refuses broken variants of valid envelopes

Prints "ok N - ..." lines; exits 1 at the first failure."""
import copy
import json
import os
import sys

from jsonschema import Draft202012Validator

# ofkafka (scripts/kafka/ofkafka.py): the Kafka reads and counts the tests share.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "scripts", "kafka"))

checks = 0


def ok(cond, what):
    global checks
    if not cond:
        print(f"FAIL: {what}", file=sys.stderr)
        sys.exit(1)
    checks += 1
    print(f"ok {checks} - {what}")


def count(brokers, topic):
    import ofkafka
    return ofkafka.count_records(brokers, topic)


def read_topic(brokers, topic):
    """Every record of topic: partition, offset, key, value (bytes), headers."""
    import ofkafka
    try:
        return [{"partition": m.partition(), "offset": m.offset(),
                 "key": (m.key() or b"").decode(), "value": m.value() or b"",
                 "headers": {k: (v or b"").decode() for k, v in (m.headers() or [])}}
                for m in ofkafka.read_messages(brokers, topic, group="orderflow-docs-test")]
    except ofkafka.KafkaToolError as e:
        sys.exit(f"FAIL: {e}")


def load_validator(path):
    with open(path) as f:
        schema = json.load(f)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def most_relevant(error):
    """For a oneOf failure, the innermost error of the branch the document
    meant: the one whose "type" or "status" discriminator matched."""
    if not error.context:
        return error
    branches = {}
    for c in error.context:
        branches.setdefault(c.relative_schema_path[0], []).append(c)
    meant = [errs for errs in branches.values()
             if not any(c.validator == "const" and list(c.absolute_path)[-1:] in (["type"], ["status"])
                        for c in errs)]
    if len(meant) != 1:
        return error
    return most_relevant(next((c for c in meant[0] if c.context), meant[0][0]))


def errors(validator, doc):
    """One line per schema violation."""
    out = []
    for e in validator.iter_errors(doc):
        leaf = most_relevant(e)
        out.append(f"{'/'.join(map(str, leaf.absolute_path)) or '(root)'}: {leaf.message[:200]}")
    return out


def check(brokers, schema_path, generated, rejected, poison_key):
    v = load_validator(schema_path)
    generated, rejected = int(generated), int(rejected)
    inputs = read_topic(brokers, "order-created")
    outputs = read_topic(brokers, "data-processed")
    dead = read_topic(brokers, "order-created.dlq")
    valid_inputs = generated + rejected

    ok(len(inputs) == valid_inputs + 1,
       f"order-created holds {len(inputs)} records ({generated} generated + {rejected} to be rejected + 1 poison)")
    by_id = {}
    invalid = []
    for r in inputs:
        try:
            doc = json.loads(r["value"])
        except ValueError:
            invalid.append(r["key"])
            continue
        problems = errors(v, doc)
        if problems:
            print(f"  {r['key']}: {problems}", file=sys.stderr)
            invalid.append(r["key"])
            continue
        if (doc["type"] != "order_created" or doc["subject"] != r["key"]
                or doc["data"]["order_id"] != r["key"]
                or r["headers"].get("idempotency-key") != doc["idempotencykey"]
                or r["headers"].get("content-type") != "application/cloudevents+json; charset=utf-8"):
            print(f"  {r['key']}: key/subject/headers disagree: {r['headers']} {doc}", file=sys.stderr)
            invalid.append(r["key"])
            continue
        by_id[doc["id"]] = (r, doc)
    ok(invalid == [poison_key], f"every order_created envelope matches the schema and its record "
                                f"(only the poison record {poison_key!r} does not: {invalid[:5]})")
    ok(len(by_id) == valid_inputs, f"{len(by_id)} distinct order_created ids")

    ok(len(outputs) == valid_inputs, f"data-processed holds {len(outputs)} records, one per valid input")
    statuses = {"accepted": 0, "rejected": 0}
    keys = set()
    traced = 0
    for r in outputs:
        doc = json.loads(r["value"])
        problems = errors(v, doc)
        if problems:
            ok(False, f"data_processed at p{r['partition']}@{r['offset']} matches the schema: {problems}")
        src = by_id.get(doc.get("causationid"))
        ok_link = (src is not None and doc["type"] == "data_processed"
                   and doc["subject"] == r["key"] == src[1]["subject"]
                   and doc["idempotencykey"] == "data_processed:" + src[1]["idempotencykey"]
                   and r["headers"].get("idempotency-key") == doc["idempotencykey"]
                   and doc.get("correlationid") == src[1].get("correlationid", src[1]["id"])
                   and r["partition"] == src[0]["partition"])
        if not ok_link:
            ok(False, f"data_processed p{r['partition']}@{r['offset']} links to its input "
                      f"(causationid, subject, key, idempotency key, partition): {doc}")
        # Trace context: each header mirrors its envelope; an output continues
        # its input's trace (same trace-id and flags, another span id).
        for rec, ev in ((src[0], src[1]), (r, doc)):
            for name in ("traceparent", "tracestate"):
                if rec["headers"].get(name) != ev.get(name):
                    ok(False, f"header {name} {rec['headers'].get(name)!r} equals the envelope's {ev.get(name)!r}")
        tp_in, tp_out = src[1].get("traceparent"), doc.get("traceparent")
        if tp_in:
            traced += 1
            if not (tp_out and tp_out[:36] == tp_in[:36] and tp_out[52:] == tp_in[52:]
                    and tp_out[36:52] != tp_in[36:52]
                    and doc.get("tracestate") == src[1].get("tracestate")):
                ok(False, f"data_processed continues its input's trace: {tp_in} -> {tp_out}")
        elif tp_out:
            ok(False, f"data_processed has a traceparent its input had not: {tp_out}")
        statuses[doc["data"]["status"]] += 1
        keys.add(doc["idempotencykey"])
    ok(True, f"all {len(outputs)} data_processed envelopes match the schema and link to their input "
             f"(causationid, correlationid, subject, key, idempotency key header, same partition)")
    ok(len(keys) == valid_inputs, f"{len(keys)} distinct data_processed idempotency keys")
    traces = {json.loads(r["value"]).get("traceparent", "")[3:35] for r in outputs} - {""}
    ok(traced == generated + 1 and len(traces) == traced,
       f"{traced} outputs continue their input's trace, {len(traces)} distinct trace-ids "
       f"(the generated orders with producer.tracing, and R-1 with --traceparent)")
    ok(statuses == {"accepted": generated, "rejected": rejected},
       f"statuses {statuses}: generated orders accepted, rule-breaking ones rejected")

    ok(len(dead) == 1 and dead[0]["key"] == poison_key, f"the DLQ holds the poison record only ({len(dead)})")
    poison = next(r for r in inputs if r["key"] == poison_key)
    h = dead[0]["headers"]
    ok(dead[0]["value"] == poison["value"]
       and h.get("orderflow-source-topic") == "order-created"
       and h.get("orderflow-source-partition") == str(poison["partition"])
       and h.get("orderflow-source-offset") == str(poison["offset"])
       and h.get("orderflow-error"),
       f"the dead letter keeps the original bytes and names its source and reason ({h.get('orderflow-error')!r})")


def negative(schema_path):
    v = load_validator(schema_path)
    order = {
        "specversion": "1.0", "id": "0190b3c4-5e6f-7a1b-8c2d-3e4f5a6b7c8d", "source": "orderflow-producer",
        "type": "order_created", "time": "2026-11-24T12:00:00.123Z", "datacontenttype": "application/json",
        "idempotencykey": "order_created:A-1001", "subject": "A-1001", "schemaversion": 1,
        "data": {"order_id": "A-1001", "customer_id": "C-42", "currency": "EUR",
                 "items": [{"sku": "SKU-1", "quantity": 2, "unit_price_cents": 1999}]}}
    processed = {
        "specversion": "1.0", "id": "0190b3c4-5e70-7000-9000-000000000001",
        "source": "orderflow-consumer/orderflow-processor", "type": "data_processed",
        "time": "2026-11-24T12:00:00.456Z", "datacontenttype": "application/json",
        "idempotencykey": "data_processed:order_created:A-1001", "subject": "A-1001",
        "correlationid": order["id"], "causationid": order["id"], "schemaversion": 1,
        "data": {"order_id": "A-1001", "customer_id": "C-42", "currency": "EUR", "item_count": 1,
                 "quantity_total": 2, "total_cents": 3998, "status": "accepted"}}
    rejected = copy.deepcopy(processed)
    rejected["data"].update(status="rejected", reason="item 1 (SKU-1): quantity 0 is below 1",
                            quantity_total=0, total_cents=0)
    traced = copy.deepcopy(order)
    traced.update(traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                  tracestate="rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
    for name, doc in (("order_created", order), ("data_processed accepted", processed),
                      ("data_processed rejected", rejected), ("order_created with trace context", traced)):
        ok(not errors(v, doc), f"the documented example {name} is valid")

    def bad(base, what, change):
        doc = copy.deepcopy(base)
        change(doc)
        problems = errors(v, doc)
        ok(problems, f"refused: {what}")

    bad(order, "an id that is a UUIDv4", lambda d: d.update(id="0190b3c4-5e6f-4a1b-8c2d-3e4f5a6b7c8d"))
    bad(order, "an upper-case id", lambda d: d.update(id=d["id"].upper()))
    bad(order, "a time without milliseconds", lambda d: d.update(time="2026-11-24T12:00:00Z"))
    bad(order, "a time with an offset", lambda d: d.update(time="2026-11-24T12:00:00.123+01:00"))
    bad(order, "month 13", lambda d: d.update(time="2026-13-24T12:00:00.123Z"))
    bad(order, "a 257-byte idempotency key", lambda d: d.update(idempotencykey="k" * 257))
    bad(order, "an empty idempotency key", lambda d: d.update(idempotencykey=""))
    bad(order, "a non-ASCII idempotency key", lambda d: d.update(idempotencykey="order_created:Ä"))
    bad(order, "a tab in the idempotency key", lambda d: d.update(idempotencykey="a\tb"))
    bad(order, "schemaversion 2", lambda d: d.update(schemaversion=2))
    bad(order, "schemaversion \"1\"", lambda d: d.update(schemaversion="1"))
    bad(order, "specversion 0.3", lambda d: d.update(specversion="0.3"))
    bad(order, "an unknown type", lambda d: d.update(type="order_cancelled"))
    bad(order, "datacontenttype text/plain", lambda d: d.update(datacontenttype="text/plain"))
    bad(order, "a missing subject", lambda d: d.pop("subject"))
    bad(order, "a missing source", lambda d: d.pop("source"))
    bad(order, "an empty subject", lambda d: d.update(subject=""))
    bad(order, "data not an object", lambda d: d.update(data=[1]))
    bad(order, "order data under data_processed", lambda d: d.update(type="data_processed"))
    bad(order, "a quantity given as a string", lambda d: d["data"]["items"][0].update(quantity="2"))
    bad(order, "a fractional price", lambda d: d["data"]["items"][0].update(unit_price_cents=19.99))
    bad(order, "an item without sku", lambda d: d["data"]["items"][0].pop("sku"))
    bad(order, "an unknown data field", lambda d: d["data"].update(note="x"))
    bad(order, "a missing items array", lambda d: d["data"].pop("items"))
    bad(order, "a quantity beyond int64", lambda d: d["data"]["items"][0].update(quantity=2 ** 63))
    bad(order, "an upper-case attribute name", lambda d: d.update(Extra="x"))
    bad(processed, "accepted with a reason", lambda d: d["data"].update(reason="why"))
    bad(processed, "accepted in currency 'eur'", lambda d: d["data"].update(currency="eur"))
    bad(processed, "accepted with a negative total", lambda d: d["data"].update(total_cents=-1))
    bad(processed, "accepted without items", lambda d: d["data"].update(item_count=0))
    bad(processed, "status 'pending'", lambda d: d["data"].update(status="pending"))
    bad(processed, "a missing total_cents", lambda d: d["data"].pop("total_cents"))
    bad(rejected, "rejected without a reason", lambda d: d["data"].pop("reason"))
    bad(rejected, "rejected with an empty reason", lambda d: d["data"].update(reason=""))
    tp = traced["traceparent"]
    bad(traced, "an upper-case traceparent", lambda d: d.update(traceparent=tp.upper()))
    bad(traced, "traceparent version 01", lambda d: d.update(traceparent="01" + tp[2:]))
    bad(traced, "an all-zero trace-id", lambda d: d.update(traceparent="00-" + "0" * 32 + tp[35:]))
    bad(traced, "an all-zero span id", lambda d: d.update(traceparent=tp[:36] + "0" * 16 + "-01"))
    bad(traced, "a traceparent with more fields", lambda d: d.update(traceparent=tp + "-x"))
    bad(traced, "a 513-byte tracestate", lambda d: d.update(tracestate="a" * 513))
    bad(traced, "a tracestate without traceparent", lambda d: d.pop("traceparent"))
    bad(traced, "a traceparent that is a number", lambda d: d.update(traceparent=1))


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "count" and len(sys.argv) == 4:
        print(count(sys.argv[2], sys.argv[3]))
    elif cmd == "check" and len(sys.argv) == 7:
        check(*sys.argv[2:])
        print(f"1..{checks}")
    elif cmd == "negative" and len(sys.argv) == 3:
        negative(sys.argv[2])
        print(f"1..{checks}")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
