"""Kafka admin, record counts and topic reads for orderflow's scripts, tests
and benchmarks, in one place, on confluent-kafka (librdkafka, the same client
orderflow uses).

Used by scripts/kafka/admin.py (the command line scripts/kafka.sh and the
e2e tests' lib.sh call), bench/run, tests/e2e/read_topic.py and
tests/docs/envelope_check.py. Import it with the directory on sys.path:

    sys.path.insert(0, os.path.join(TOP, "scripts", "kafka"))
    import ofkafka

Every failure raises KafkaToolError with one sentence naming the topic (or
brokers) at fault; the callers decide how to report it.
"""
import os
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic


class KafkaToolError(Exception):
    pass


def admin_conf():
    """The secured cluster's super user properties (the file named by
    ORDERFLOW_KAFKA_ADMIN_CONF, KEY=VALUE lines), or none."""
    path = os.environ.get("ORDERFLOW_KAFKA_ADMIN_CONF")
    conf = {}
    if path:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#"):
                    key, value = line.split("=", 1)
                    conf[key] = value
    return conf


def admin_client(brokers):
    return AdminClient({"bootstrap.servers": brokers, "log_level": 2, **admin_conf()})


def wait_for_brokers(brokers, nodes, seconds):
    """Until metadata lists nodes brokers and a controller."""
    deadline = time.monotonic() + float(seconds)
    seen = 0
    while time.monotonic() < deadline:
        try:
            md = admin_client(brokers).list_topics(timeout=5)
            seen = len(md.brokers)
            if seen >= int(nodes) and md.controller_id >= 0:
                return
        except KafkaException:
            pass
        time.sleep(0.5)
    raise KafkaToolError(f"{brokers}: {seen} of {nodes} brokers answered metadata within "
                         f"{seconds} s")


def create_topics(brokers, topics, partitions, replication=1, configs=None, leader_timeout=30,
                  admin=None):
    """Creates topics (names) with partitions partitions each; configs maps a
    topic to its settings. An existing topic with the same partition count is
    fine. Returns once every partition of each has a leader: metadata is
    eventually consistent, and a client that looks too early sees "Unknown
    partition"."""
    admin = admin or admin_client(brokers)
    configs = configs or {}
    futures = admin.create_topics(
        [NewTopic(t, int(partitions), int(replication), config=configs.get(t, {}))
         for t in topics], operation_timeout=30)
    problems = []
    for topic, future in futures.items():
        try:
            future.result()
        except KafkaException as e:
            if e.args[0].name() != "TOPIC_ALREADY_EXISTS":
                problems.append(f"create {topic}: {e.args[0].str()}")
                continue
            have = len(admin.list_topics(topic, timeout=10).topics[topic].partitions)
            if have != int(partitions):
                problems.append(f"{topic} exists with {have} partitions, not {partitions}")
    if problems:
        raise KafkaToolError("; ".join(problems))
    deadline = time.monotonic() + leader_timeout
    while time.monotonic() < deadline:
        md = admin.list_topics(timeout=10)
        if all(t in md.topics and len(md.topics[t].partitions) == int(partitions) and
               all(p.leader >= 0 for p in md.topics[t].partitions.values()) for t in topics):
            return
        time.sleep(0.2)
    raise KafkaToolError(f"topics without a leader after {leader_timeout} s: {list(topics)}")


def describe(brokers, topics):
    """Lines "topic, partition, leader=, replicas=, isr=" (tab-separated)."""
    md = admin_client(brokers).list_topics(timeout=10)
    lines = []
    for t in topics:
        if t not in md.topics or md.topics[t].error is not None:
            raise KafkaToolError(f"no topic {t}")
        for pid, p in sorted(md.topics[t].partitions.items()):
            lines.append(f"{t}\t{pid}\tleader={p.leader}\treplicas={p.replicas}\tisr={p.isrs}")
    return lines


def leaders(brokers, topic):
    """{broker id: how many of topic's partitions it leads}."""
    md = admin_client(brokers).list_topics(topic, timeout=10)
    count = {}
    for p in md.topics[topic].partitions.values():
        count[p.leader] = count.get(p.leader, 0) + 1
    return count


def _settle(futures, what):
    problems = []
    for name, future in futures.items():
        try:
            future.result()
        except KafkaException as e:
            problems.append(f"{what} {name}: {e.args[0].str()}")
    if problems:
        raise KafkaToolError("; ".join(problems))


def add_partitions(brokers, topic, count):
    admin = admin_client(brokers)  # referenced until the futures are done
    _settle(admin.create_partitions([NewPartitions(topic, int(count))]), "add partitions to")


def set_config(brokers, topic, settings):
    """settings: {key: value}; the rest goes back to the broker's defaults."""
    admin = admin_client(brokers)  # referenced until the futures are done
    _settle(admin.alter_configs([ConfigResource("topic", topic, set_config=settings)]),
            "configure")


def wait_for_isr(brokers, seconds):
    """Until every partition of every topic has a leader and all its replicas
    in sync."""
    admin = admin_client(brokers)
    deadline = time.monotonic() + float(seconds)
    behind = []
    while time.monotonic() < deadline:
        try:
            md = admin.list_topics(timeout=5)
            behind = [f"{t}[{pid}]" for t, tm in md.topics.items()
                      for pid, p in tm.partitions.items()
                      if p.leader < 0 or len(p.isrs) < len(p.replicas)]
            if not behind:
                return
        except KafkaException:
            pass
        time.sleep(0.5)
    raise KafkaToolError(f"replicas still out of sync after {seconds} s: {behind[:10]}")


class TopicCounter:
    """Counts a topic's records as the sum of its partitions' high watermarks
    (low=True: the sum of low watermarks, what the broker has dropped). Cheap,
    and exact for a topic that is neither compacted nor transactional (there
    markers and aborted records count too). Keeps one client open for
    repeated counts; close() it."""

    def __init__(self, brokers, topic, log_level=3):
        # A consumer that never subscribes: the group is never joined.
        self.c = Consumer({"bootstrap.servers": brokers, "group.id": "orderflow-count",
                           "log_level": log_level, **admin_conf()})
        self.topic = topic
        try:
            self.partitions = list(self.c.list_topics(topic, timeout=10).topics[topic].partitions)
        except BaseException:
            self.c.close()
            raise

    def count_partition(self, partition, low=False):
        lo, hi = self.c.get_watermark_offsets(TopicPartition(self.topic, partition), timeout=10)
        return lo if low else hi

    def count(self, low=False):
        return sum(self.count_partition(p, low) for p in self.partitions)

    def close(self):
        self.c.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def count_records(brokers, topic, low=False, retry_seconds=0, log_level=3):
    """One count (see TopicCounter), retrying for up to retry_seconds while
    the brokers do not answer (a test that takes them down)."""
    deadline = time.monotonic() + retry_seconds
    while True:
        try:
            with TopicCounter(brokers, topic, log_level) as counter:
                return counter.count(low)
        except KafkaException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def read_messages(brokers, topic, group="orderflow-reader", timeout=10):
    """Every record of topic, partition by partition from offset 0 to the end
    (librdkafka Message objects), without committing anything."""
    c = Consumer({"bootstrap.servers": brokers, "group.id": group,
                  "enable.auto.commit": False, "enable.partition.eof": True})
    try:
        parts = c.list_topics(topic, timeout=10).topics[topic].partitions
        c.assign([TopicPartition(topic, p, 0) for p in parts])
        left = set(parts)
        while left:
            m = c.poll(timeout)
            if m is None:
                raise KafkaToolError("timed out reading " + topic)
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    left.discard(m.partition())
                    continue
                raise KafkaToolError(f"reading {topic}: {m.error()}")
            yield m
    finally:
        c.close()
