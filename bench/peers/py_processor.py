#!/usr/bin/python3
"""Peer: the processing stage in Python with confluent-kafka: consume
order-created in a group, decode and validate, apply the rules, produce
data_processed to the same partition with the same headers, and store an
input offset only once its output is delivered (auto-commit of stored
offsets), as orderflow-consumer process does. Stops on SIGTERM.
usage: py_processor.py BROKERS [GROUP [IN OUT DLQ]]"""
import json
import signal
import sys

from confluent_kafka import Consumer, Producer, TopicPartition

from envelope import data_processed, process, validate

brokers = sys.argv[1]
running = [True]
signal.signal(signal.SIGTERM, lambda *_: running.__setitem__(0, False))
group = sys.argv[2] if len(sys.argv) > 2 else "py-processor"
IN, OUT, DLQ = sys.argv[3:6] if len(sys.argv) > 5 else ("order-created", "data-processed",
                                                         "order-created.dlq")
c = Consumer({"bootstrap.servers": brokers, "group.id": group,
              "auto.offset.reset": "earliest", "enable.auto.offset.store": False,
              "enable.partition.eof": False})
p = Producer({"bootstrap.servers": brokers, "enable.idempotence": True, "acks": "all",
              "queue.buffering.max.messages": 1000000})
c.subscribe([IN])


def stored_after_delivery(msg_in):
    def on_delivery(err, _msg):
        if not err:
            c.store_offsets(offsets=[TopicPartition(msg_in.topic(), msg_in.partition(),
                                                    msg_in.offset() + 1)])
    return on_delivery


while running[0]:
    for m in c.consume(num_messages=1000, timeout=0.2):
        if m.error():
            continue
        try:
            ev = json.loads(m.value())
        except ValueError:
            ev = None
        reason = validate(ev)
        if reason:
            p.produce(DLQ, m.value(), key=m.key(), partition=m.partition(),
                      headers=[("orderflow-error", reason.encode())],
                      on_delivery=stored_after_delivery(m))
            continue
        out = data_processed(ev, process(ev["data"]))
        while True:
            try:
                p.produce(OUT, json.dumps(out, separators=(",", ":")),
                          key=m.key(), partition=m.partition(),
                          headers=[("content-type", b"application/cloudevents+json; charset=utf-8"),
                                   ("idempotency-key", out["idempotencykey"].encode())],
                          on_delivery=stored_after_delivery(m))
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    p.poll(0)
p.flush(30)
c.close()
