#!/usr/bin/python3
"""Peer: the tutorial's stack for the HTTP handler's benchmark: a Python
confluent-kafka consumer that calls the order service with `requests`, one
event at a time (a keep-alive Session, the CloudEvents binary-mode headers
and Idempotency-Key orderflow sends), produces the answer as data_processed
to the same partition, and stores an input offset only once its output is
delivered (at least once). Stops on SIGTERM.
usage: py_http_consumer.py BROKERS GROUP IN OUT DLQ URL"""
import json
import signal
import sys

import requests
from confluent_kafka import Consumer, Producer, TopicPartition

from envelope import data_processed

brokers, group, IN, OUT, DLQ, URL = sys.argv[1:7]
running = [True]
signal.signal(signal.SIGTERM, lambda *_: running.__setitem__(0, False))
c = Consumer({"bootstrap.servers": brokers, "group.id": group,
              "auto.offset.reset": "earliest", "enable.auto.offset.store": False})
p = Producer({"bootstrap.servers": brokers, "enable.idempotence": True, "acks": "all"})
c.subscribe([IN])
http = requests.Session()


def stored_after_delivery(msg_in):
    def on_delivery(err, _msg):
        if not err:
            c.store_offsets(offsets=[TopicPartition(msg_in.topic(), msg_in.partition(),
                                                    msg_in.offset() + 1)])
    return on_delivery


while running[0]:
    m = c.poll(0.2)
    if m is None or m.error():
        continue
    ev = json.loads(m.value())
    headers = {"Content-Type": "application/json", "ce-id": ev["id"], "ce-type": ev["type"],
               "ce-source": ev["source"], "ce-specversion": ev["specversion"],
               "ce-subject": ev["subject"], "Idempotency-Key": ev["idempotencykey"],
               "orderflow-attempt": "1"}
    for attempt in range(1, 6):
        headers["orderflow-attempt"] = str(attempt)
        try:
            r = http.post(URL, data=json.dumps(ev["data"]), headers=headers, timeout=5)
        except requests.RequestException:
            continue
        if r.status_code < 300 or r.status_code in (400, 404, 410, 413, 415, 422):
            break
    if r.status_code >= 300:
        p.produce(DLQ, m.value(), key=m.key(), partition=m.partition(),
                  headers=[("orderflow-error", ("HTTP %d" % r.status_code).encode())],
                  on_delivery=stored_after_delivery(m))
    else:
        out = data_processed(ev, r.json())
        p.produce(OUT, json.dumps(out, separators=(",", ":")), key=m.key(),
                  partition=m.partition(),
                  headers=[("content-type", b"application/cloudevents+json; charset=utf-8"),
                           ("idempotency-key", out["idempotencykey"].encode())],
                  on_delivery=stored_after_delivery(m))
    p.poll(0)
p.flush(30)
c.close()
