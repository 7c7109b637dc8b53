#!/usr/bin/python3
"""Small admin client for scripts/kafka.sh and the real-Kafka tests, on
confluent-kafka (librdkafka, the same client orderflow uses).

  admin.py wait BROKERS NODES SECONDS      until metadata lists NODES brokers
  admin.py create BROKERS PARTITIONS RF TOPIC...
                                           create topics; an existing topic
                                           with the same partition count is fine
  admin.py describe BROKERS TOPIC...       partition, leader, replicas, ISR
  admin.py leaders BROKERS TOPIC           broker id: how many partitions it leads
  admin.py add-partitions BROKERS TOPIC N  grow TOPIC to N partitions
  admin.py wait-isr BROKERS SECONDS        until every partition of every topic
                                           has all its replicas in sync
  admin.py set-config BROKERS TOPIC KEY=VALUE...
                                           set topic configuration (the rest
                                           goes back to the broker's defaults)
"""
import sys
import time

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic


def client(brokers):
    return AdminClient({"bootstrap.servers": brokers, "log_level": 2})


def wait(brokers, nodes, seconds):
    deadline = time.monotonic() + float(seconds)
    seen = 0
    while time.monotonic() < deadline:
        try:
            md = client(brokers).list_topics(timeout=5)
            seen = len(md.brokers)
            if seen >= int(nodes) and md.controller_id >= 0:
                return 0
        except KafkaException:
            pass
        time.sleep(0.5)
    print(f"admin: {brokers}: {seen} of {nodes} brokers answered metadata within {seconds} s",
          file=sys.stderr)
    return 1


def create(brokers, partitions, rf, topics):
    admin = client(brokers)
    futures = admin.create_topics(
        [NewTopic(t, int(partitions), int(rf)) for t in topics], operation_timeout=30)
    status = 0
    for topic, future in futures.items():
        try:
            future.result()
        except KafkaException as e:
            if e.args[0].name() != "TOPIC_ALREADY_EXISTS":
                print(f"admin: create {topic}: {e.args[0].str()}", file=sys.stderr)
                status = 1
                continue
            have = len(admin.list_topics(topic, timeout=10).topics[topic].partitions)
            if have != int(partitions):
                print(f"admin: {topic} exists with {have} partitions, not {partitions}",
                      file=sys.stderr)
                status = 1
    # Metadata is eventually consistent: wait until every partition has a leader.
    deadline = time.monotonic() + 30
    while status == 0 and time.monotonic() < deadline:
        md = admin.list_topics(timeout=10)
        if all(t in md.topics and md.topics[t].partitions and
               all(p.leader >= 0 for p in md.topics[t].partitions.values()) for t in topics):
            return 0
        time.sleep(0.2)
    if status == 0:
        print(f"admin: topics without a leader after 30 s: {topics}", file=sys.stderr)
    return 1


def describe(brokers, topics):
    md = client(brokers).list_topics(timeout=10)
    for t in topics:
        if t not in md.topics or md.topics[t].error is not None:
            print(f"admin: no topic {t}", file=sys.stderr)
            return 1
        for pid, p in sorted(md.topics[t].partitions.items()):
            print(f"{t}\t{pid}\tleader={p.leader}\treplicas={p.replicas}\tisr={p.isrs}")
    return 0


def leaders(brokers, topic):
    md = client(brokers).list_topics(topic, timeout=10)
    count = {}
    for p in md.topics[topic].partitions.values():
        count[p.leader] = count.get(p.leader, 0) + 1
    for broker_id, n in sorted(count.items(), key=lambda kv: -kv[1]):
        print(f"{broker_id}\t{n}")
    return 0


def settle(futures, what):
    """0 when every future of an admin call succeeded; else says why, 1."""
    status = 0
    for name, future in futures.items():
        try:
            future.result()
        except KafkaException as e:
            print(f"admin: {what} {name}: {e.args[0].str()}", file=sys.stderr)
            status = 1
    return status


def add_partitions(brokers, topic, count):
    admin = client(brokers)  # referenced until the futures are done
    return settle(admin.create_partitions([NewPartitions(topic, int(count))]), "add partitions to")


def wait_isr(brokers, seconds):
    admin = client(brokers)
    deadline = time.monotonic() + float(seconds)
    behind = []
    while time.monotonic() < deadline:
        try:
            md = admin.list_topics(timeout=5)
            behind = [f"{t}[{pid}]" for t, tm in md.topics.items()
                      for pid, p in tm.partitions.items()
                      if p.leader < 0 or len(p.isrs) < len(p.replicas)]
            if not behind:
                return 0
        except KafkaException:
            pass
        time.sleep(0.5)
    print(f"admin: replicas still out of sync after {seconds} s: {behind[:10]}", file=sys.stderr)
    return 1


def set_config(brokers, topic, settings):
    resource = ConfigResource("topic", topic, set_config=dict(s.split("=", 1) for s in settings))
    admin = client(brokers)  # referenced until the futures are done
    return settle(admin.alter_configs([resource]), "configure")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "wait":
        sys.exit(wait(*args))
    if cmd == "create":
        sys.exit(create(args[0], args[1], args[2], args[3:]))
    if cmd == "describe":
        sys.exit(describe(args[0], args[1:]))
    if cmd == "leaders":
        sys.exit(leaders(*args))
    if cmd == "add-partitions":
        sys.exit(add_partitions(*args))
    if cmd == "wait-isr":
        sys.exit(wait_isr(*args))
    if cmd == "set-config":
        sys.exit(set_config(args[0], args[1], args[2:]))
    sys.exit(__doc__)
