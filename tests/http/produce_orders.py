#!/usr/bin/python3
"""Produces order_created envelopes whose record keys repeat (several events
per order id, each with its own idempotency key `order_created:<id>#<n>`),
so that the HTTP handler's per-key order can be checked; orderflow-producer
derives one key per order id and the processor would skip the repeats.

Usage: produce_orders.py BROKERS N KEYS OUT.jsonl [PREFIX:COUNT...] [--rate R]
  N events over KEYS order ids K0..K{KEYS-1} (--key-prefix), in turn; each PREFIX:COUNT adds
  COUNT events with order ids PREFIX0, PREFIX1... spread evenly through the
  stream (the fault service's rules pick them by prefix). OUT gets one JSON
  line per event in produce order: order, idempotency_key, seq (its index)."""
import argparse
import json
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "scripts", "kafka"))
from confluent_kafka import Producer  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("brokers")
    p.add_argument("n", type=int)
    p.add_argument("keys", type=int)
    p.add_argument("out")
    p.add_argument("special", nargs="*")
    p.add_argument("--rate", type=float, default=0.0)
    p.add_argument("--key-prefix", default="K", help="order ids PREFIX0, PREFIX1... (default K)")
    p.add_argument("--first-seq", type=int, default=0, help="seq of the first event (default 0)")
    a = p.parse_args()
    brokers, n, keys, out, rate = a.brokers, a.n, a.keys, a.out, a.rate
    ids = [f"{a.key_prefix}{i % keys}" for i in range(n)]
    for spec in a.special:
        prefix, count = spec.rsplit(":", 1)
        count = int(count)
        step = max(1, len(ids) // (count + 1))
        for j in range(count):
            ids.insert(min(len(ids), step * (j + 1) + j), f"{prefix}{j}")
    producer = Producer({"bootstrap.servers": brokers, "enable.idempotence": True,
                         "linger.ms": 5})
    failed = []
    seen = {}
    started = time.monotonic()
    with open(out, "w") as f:
        for seq, order_id in enumerate(ids, a.first_seq):
            seen[order_id] = seen.get(order_id, 0) + 1
            key = f"order_created:{order_id}#{seen[order_id]}"
            order = {"order_id": order_id, "customer_id": f"C-{seq % 7}", "currency": "EUR",
                     "items": [{"sku": "S-1", "quantity": 1 + seq % 5,
                                "unit_price_cents": 100 + seq},
                               {"sku": "S-2", "quantity": 2, "unit_price_cents": 7}]}
            now = time.time()
            envelope = {"specversion": "1.0", "id": str(uuid.uuid4()),
                        "source": "produce_orders.py", "type": "order_created",
                        "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) +
                        ".%03dZ" % (int(now * 1000) % 1000),
                        "datacontenttype": "application/json", "idempotencykey": key,
                        "subject": order_id, "schemaversion": 1, "data": order}
            while True:
                try:
                    producer.produce("order-created", json.dumps(envelope).encode(),
                                     order_id.encode(),
                                     headers=[("content-type",
                                               b"application/cloudevents+json; charset=utf-8"),
                                              ("idempotency-key", key.encode())],
                                     on_delivery=lambda err, msg, k=key:
                                     err and failed.append(f"{k}: {err}"))
                    break
                except BufferError:
                    producer.poll(0.1)
            producer.poll(0)
            f.write(json.dumps({"order": order, "idempotency_key": key, "seq": seq}) + "\n")
            if rate:
                ahead = (seq - a.first_seq + 1) / rate - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
    left = producer.flush(60)
    if left or failed:
        sys.exit(f"produce_orders.py: {left} undelivered, {len(failed)} failed: {failed[:3]}")


if __name__ == "__main__":
    main()
