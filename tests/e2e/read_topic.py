#!/usr/bin/python3
"""Prints every record of a topic as one JSON line: partition, offset, key,
value (text), headers (object), timestamp (ms). Usage: read_topic.py BROKERS TOPIC"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "scripts", "kafka"))
import ofkafka  # noqa: E402

brokers, topic = sys.argv[1], sys.argv[2]
try:
    for m in ofkafka.read_messages(brokers, topic, group="e2e-reader"):
        print(json.dumps({
            "partition": m.partition(), "offset": m.offset(),
            "key": m.key().decode("utf-8", "replace") if m.key() is not None else None,
            "value": m.value().decode("utf-8", "replace") if m.value() is not None else None,
            "value_len": len(m.value() or b""),
            "headers": {k: v.decode("utf-8", "replace") for k, v in (m.headers() or [])},
            "timestamp": m.timestamp()[1],
        }))
except ofkafka.KafkaToolError as e:
    sys.exit(str(e))
