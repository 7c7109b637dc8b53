#!/usr/bin/python3
"""Prints every record of a topic as one JSON line: partition, offset, key,
value (text), headers (object), timestamp (ms). Usage: read_topic.py BROKERS TOPIC"""
import json
import sys

from confluent_kafka import Consumer, TopicPartition

brokers, topic = sys.argv[1], sys.argv[2]
c = Consumer({"bootstrap.servers": brokers, "group.id": "e2e-reader",
              "enable.auto.commit": False, "enable.partition.eof": True})
parts = c.list_topics(topic, timeout=10).topics[topic].partitions
c.assign([TopicPartition(topic, p, 0) for p in parts])
left = set(parts)
while left:
    m = c.poll(10)
    if m is None:
        sys.exit("timed out reading " + topic)
    if m.error():
        if m.error().code() == -191:  # _PARTITION_EOF
            left.discard(m.partition())
            continue
        sys.exit(str(m.error()))
    print(json.dumps({
        "partition": m.partition(), "offset": m.offset(),
        "key": m.key().decode("utf-8", "replace") if m.key() is not None else None,
        "value": m.value().decode("utf-8", "replace") if m.value() is not None else None,
        "value_len": len(m.value() or b""),
        "headers": {k: v.decode("utf-8", "replace") for k, v in (m.headers() or [])},
        "timestamp": m.timestamp()[1],
    }))
c.close()
