#!/usr/bin/python3
"""Peer: a Python producer with confluent-kafka doing orderflow-producer's
work: generate, build the envelope, encode JSON, produce idempotently with
acks=all and the same headers, count deliveries.
usage: py_producer.py BROKERS TOPIC N SEED"""
import json
import sys

from confluent_kafka import Producer

from envelope import generate, order_created

brokers, topic, n, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
p = Producer({"bootstrap.servers": brokers, "enable.idempotence": True, "acks": "all",
              "queue.buffering.max.messages": 1000000})
state = {"ok": 0, "failed": 0}


def delivered(err, msg):
    state["failed" if err else "ok"] += 1


for i in range(n):
    ev = order_created(generate(seed, i))
    value = json.dumps(ev, separators=(",", ":"))
    while True:
        try:
            p.produce(topic, value, key=ev["subject"], on_delivery=delivered,
                      headers=[("content-type", b"application/cloudevents+json; charset=utf-8"),
                               ("idempotency-key", ev["idempotencykey"].encode())])
            break
        except BufferError:
            p.poll(0.05)
    p.poll(0)
p.flush(60)
print("%d delivered, %d failed" % (state["ok"], state["failed"]), file=sys.stderr)
sys.exit(0 if state["ok"] == n else 1)
