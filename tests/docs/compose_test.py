#!/usr/bin/python3
"""Offline check of kafka-compose.yml (no Docker needed): the official
apache/kafka image in single-node KRaft mode, port 9092 published, a
healthcheck, and a one-shot `topics` service, started once Kafka is healthy,
that creates exactly orderflow's default topics (read from common/config/config.c,
orderflow.conf.example and broker/main.c), all with orderflow-broker's default
partition count. Then it breaks copies of the file on purpose and checks that
each break is caught, so the checker itself cannot silently pass.

Usage: compose_test.py SOURCE_ROOT"""
import copy
import re
import shlex
import sys
from pathlib import Path

try:
    import yaml
except ImportError:
    sys.exit("FAIL: PyYAML is missing: apt-get install python3-yaml (scripts/setup.sh installs it)")

ROOT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2]


def c_string_defaults():
    """Topic names set by ofc_config_init() in common/config/config.c."""
    text = (ROOT / "common/config/config.c").read_text()
    found = dict(re.findall(r'replace_string\(&cfg->(topic_\w+),\s*"([^"]+)"', text))
    want = {"topic_order_created", "topic_data_processed", "topic_dead_letter"}
    assert set(found) == want, f"config.c: expected defaults for {want}, found {found}"
    return found


def example_topics():
    """The topics group of orderflow.conf.example (its values are the defaults)."""
    text = (ROOT / "orderflow.conf.example").read_text()
    group = re.search(r"^topics:\s*\{(.*?)^\};", text, re.S | re.M)
    assert group, "orderflow.conf.example: no topics group"
    return dict(re.findall(r'^\s*(\w+)\s*=\s*"([^"]+)"\s*;', group.group(1), re.M))


def broker_defaults():
    """DEFAULT_PARTITIONS and default_topics[] of broker/main.c."""
    text = (ROOT / "broker/main.c").read_text()
    partitions = re.search(r"#define\s+DEFAULT_PARTITIONS\s+(\d+)", text)
    topics = re.search(r"default_topics\[\]\s*=\s*\{(.*?)\};", text, re.S)
    assert partitions and topics, "broker/main.c: DEFAULT_PARTITIONS or default_topics not found"
    return int(partitions.group(1)), re.findall(r'"([^"]+)"', topics.group(1))


def dead_letter_max_bytes():
    """What the dead-letter topic must take: a record at the default
    limits.max_record_bytes (OF_DEFAULT_MAX_RECORD_BYTES in
    lib/orderflow/limits.h) plus 64 KiB for the dead letter's headers
    (docs/operations.md, "Record size limits")."""
    text = (ROOT / "lib/orderflow/limits.h").read_text()
    found = re.search(r"#define\s+OF_DEFAULT_MAX_RECORD_BYTES\s+\(\(size_t\)(\d+)\)", text)
    assert found, "lib/orderflow/limits.h: OF_DEFAULT_MAX_RECORD_BYTES not found"
    return int(found.group(1)) + 65536


def env_of(service):
    env = service.get("environment") or {}
    if isinstance(env, list):  # the "- KEY=VALUE" form
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def command_words(service):
    cmd = service.get("command")
    entry = service.get("entrypoint")
    parts = []
    for item in (entry, cmd):
        if isinstance(item, str):
            parts.append(item)
        elif isinstance(item, list):
            parts.extend(str(x) for x in item)
    return "\n".join(parts)


def topic_creations(script):
    """Every kafka-topics.sh --create in the topics service: name -> options."""
    created = {}
    for line in script.replace("\\\n", " ").splitlines():
        if "kafka-topics.sh" not in line or "--create" not in line:
            continue
        words = shlex.split(line)
        opts = {}
        for i, w in enumerate(words):
            if w.startswith("--"):
                nxt = words[i + 1] if i + 1 < len(words) and not words[i + 1].startswith("--") else True
                opts[w] = nxt
        created[opts.get("--topic")] = opts
    return created


def check(doc, expected_topics, expected_partitions, dlq_max_bytes):
    """Returns the list of problems with a parsed compose document."""
    problems = []
    services = (doc or {}).get("services") or {}
    kafka, topics = services.get("kafka"), services.get("topics")
    if not kafka or not topics:
        return [f"services 'kafka' and 'topics' required, found {sorted(services)}"]

    image = str(kafka.get("image", ""))
    if not re.fullmatch(r"apache/kafka:\d+\.\d+\.\d+", image):
        problems.append(f"kafka image should be apache/kafka:X.Y.Z, got {image!r}")
    if topics.get("image") != kafka.get("image"):
        problems.append("topics service should use the same image as kafka")

    ports = [str(p) for p in kafka.get("ports") or []]
    if not any(re.fullmatch(r"(127\.0\.0\.1:|0\.0\.0\.0:)?9092:9092(/tcp)?", p) for p in ports):
        problems.append(f"port 9092 not published as 9092:9092 (ports: {ports})")

    env = env_of(kafka)
    roles = set(env.get("KAFKA_PROCESS_ROLES", "").replace(" ", "").split(","))
    if roles != {"broker", "controller"}:
        problems.append(f"KAFKA_PROCESS_ROLES should be broker,controller, got {roles}")
    node = env.get("KAFKA_NODE_ID")
    voters = env.get("KAFKA_CONTROLLER_QUORUM_VOTERS", "")
    if not node or not re.search(rf"(^|,){node}@[\w.-]+:\d+", voters):
        problems.append(f"node {node} is not among the quorum voters {voters!r}")
    listeners = dict(re.findall(r"(\w+)://[^,]*:(\d+)", env.get("KAFKA_LISTENERS", "")))
    advertised = re.findall(r"(\w+)://([^,]+)", env.get("KAFKA_ADVERTISED_LISTENERS", ""))
    protocol_map = dict(x.split(":") for x in env.get("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "").split(",") if ":" in x)
    controller = env.get("KAFKA_CONTROLLER_LISTENER_NAMES")
    if controller not in listeners:
        problems.append(f"controller listener {controller!r} not in KAFKA_LISTENERS {listeners}")
    for name in listeners:
        if name not in protocol_map:
            problems.append(f"listener {name} has no security protocol in the map")
    host_listeners = [n for n, addr in advertised if addr == "localhost:9092"]
    if not host_listeners or listeners.get(host_listeners[0]) != "9092":
        problems.append("no listener on container port 9092 advertised as localhost:9092")
    internal = [addr for n, addr in advertised if not addr.startswith(("localhost:", "127."))]
    if not internal:
        problems.append("no listener advertised for other containers (e.g. kafka:19092)")
    for key in ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
                "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"):
        if env.get(key) != "1":
            problems.append(f"{key} must be 1 on a single node (transactions need it), got {env.get(key)}")
    if env.get("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS") != "0":
        problems.append("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS should be 0")

    health = kafka.get("healthcheck") or {}
    test = health.get("test")
    test_text = " ".join(test) if isinstance(test, list) else str(test or "")
    if "kafka-broker-api-versions.sh" not in test_text and "kafka-topics.sh" not in test_text:
        problems.append(f"kafka healthcheck missing or not a Kafka request: {test!r}")

    depends = topics.get("depends_on") or {}
    if not isinstance(depends, dict) or (depends.get("kafka") or {}).get("condition") != "service_healthy":
        problems.append(f"topics must depend on kafka with condition service_healthy, got {depends!r}")

    created = topic_creations(command_words(topics))
    if set(created) != set(expected_topics):
        problems.append(f"topics created {sorted(map(str, created))} != orderflow's {sorted(expected_topics)}")
    for name, opts in created.items():
        if str(opts.get("--partitions")) != str(expected_partitions):
            problems.append(f"{name}: --partitions {opts.get('--partitions')} != {expected_partitions} "
                            "(co-partitioned with orderflow-broker's default)")
        if "--if-not-exists" not in opts:
            problems.append(f"{name}: --create without --if-not-exists")
        if str(opts.get("--replication-factor")) != "1":
            problems.append(f"{name}: replication factor {opts.get('--replication-factor')} on one node")
        config = opts.get("--config")
        want = f"max.message.bytes={dlq_max_bytes}" if name == expected_topics[2] else None
        if config != want:
            problems.append(f"{name}: --config {config} != {want} (the dead-letter topic takes a "
                            "record at the default limit plus its headers; scripts/kafka.sh and "
                            "bench/run read it from here)")
        bootstrap = str(opts.get("--bootstrap-server", ""))
        if bootstrap not in internal:
            problems.append(f"{name}: --bootstrap-server {bootstrap} is not the internal listener {internal}")
    return problems


def main():
    c_defaults = c_string_defaults()
    example = example_topics()
    partitions, broker_topics = broker_defaults()
    topics = [c_defaults["topic_order_created"], c_defaults["topic_data_processed"],
              c_defaults["topic_dead_letter"]]
    checks = 0

    def ok(cond, what):
        nonlocal checks
        if not cond:
            print(f"FAIL: {what}", file=sys.stderr)
            sys.exit(1)
        checks += 1
        print(f"ok {checks} - {what}")

    ok(example == {"order_created": topics[0], "data_processed": topics[1], "dead_letter": topics[2]},
       f"orderflow.conf.example topics {example} match the built-in defaults")
    ok(sorted(broker_topics) == sorted(topics),
       f"orderflow-broker pre-creates the same topics {broker_topics}")
    ok(partitions == 6, f"orderflow-broker's default partition count is {partitions}")

    dlq_max = dead_letter_max_bytes()
    doc = yaml.safe_load((ROOT / "kafka-compose.yml").read_text())
    problems = check(doc, topics, partitions, dlq_max)
    for p in problems:
        print(f"  problem: {p}", file=sys.stderr)
    ok(not problems, "kafka-compose.yml: image, KRaft, listeners, healthcheck, topics")

    # The checker must catch each of these breaks.
    def broken(mutate):
        d = copy.deepcopy(doc)
        mutate(d)
        return check(d, topics, partitions, dlq_max)

    def set_partitions(d, old, new):
        for i, part in enumerate(d["services"]["topics"]["command"]):
            d["services"]["topics"]["command"][i] = part.replace(old, new, 1)

    ok(broken(lambda d: set_partitions(d, f"--partitions {partitions}", "--partitions 3")),
       "a topic with a different partition count is caught")
    ok(broken(lambda d: set_partitions(d, topics[2], "orders.dlq")), "a wrong topic name is caught")
    ok(broken(lambda d: d["services"]["kafka"].update(image="bitnami/kafka:3.9.0")), "another image is caught")
    ok(broken(lambda d: d["services"]["kafka"].pop("healthcheck")), "a missing healthcheck is caught")
    ok(broken(lambda d: d["services"]["kafka"].update(ports=["19092:19092"])), "9092 not published is caught")
    ok(broken(lambda d: d["services"]["topics"].update(depends_on=["kafka"])),
       "depends_on without service_healthy is caught")
    ok(broken(lambda d: d["services"]["kafka"]["environment"].update(KAFKA_TRANSACTION_STATE_LOG_MIN_ISR=2)),
       "a transaction log min ISR above 1 is caught")
    ok(broken(lambda d: set_partitions(d, f"max.message.bytes={dlq_max}", "max.message.bytes=1048576")),
       "another dead-letter size limit is caught")

    # The dead-letter limit is spelled once, in kafka-compose.yml: the
    # scripts read it from there, and the documentation says the same.
    bench = [p for p in (ROOT / "bench").rglob("*")
             if p.is_file() and "results" not in p.parts and p.suffix in ("", ".py", ".sh")]
    for name, files in (("scripts/kafka.sh", [ROOT / "scripts/kafka.sh"]), ("bench/", bench)):
        texts = [f.read_text(errors="replace") for f in files]
        ok(not any(str(dlq_max) in t for t in texts) and any("kafka-compose.yml" in t for t in texts),
           f"{name} reads the dead-letter limit from kafka-compose.yml instead of spelling it")
    doc_limits = set(re.findall(r"max\.message\.bytes=(\d+)", (ROOT / "docs/operations.md").read_text()))
    ok(doc_limits == {str(dlq_max)},
       f"docs/operations.md gives the dead-letter limit as {dlq_max} (found {sorted(doc_limits)})")
    print(f"1..{checks}")


if __name__ == "__main__":
    main()
