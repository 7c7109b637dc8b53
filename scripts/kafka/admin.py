#!/usr/bin/python3
"""Small admin client for scripts/kafka.sh and the tests, on ofkafka.py
(confluent-kafka: librdkafka, the same client orderflow uses).

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
  admin.py count BROKERS TOPIC [high|low]  records in TOPIC (sum of high
                                           watermarks), or with "low" how many
                                           the broker has dropped; retries for
                                           up to 30 s while the brokers are away
  admin.py acls BROKERS < TABLE            create the ACLs of TABLE's lines
                                           (PRINCIPAL TYPE PATTERN NAME OP,OP...)
  admin.py delete-acls BROKERS < TABLE     delete the ACLs of TABLE's lines
  admin.py list-acls BROKERS               every ACL, one line each

ORDERFLOW_KAFKA_ADMIN_CONF names a file of librdkafka KEY=VALUE lines (a
secured cluster's super user: scripts/kafka.sh writes and exports it).
"""
import ctypes
import glob
import os
import subprocess
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ofkafka  # noqa: E402


def leaders(brokers, topic):
    for broker_id, n in sorted(ofkafka.leaders(brokers, topic).items(), key=lambda kv: -kv[1]):
        print(f"{broker_id}\t{n}")


def describe(brokers, topics):
    for line in ofkafka.describe(brokers, topics):
        print(line)


def count(brokers, topic, which="high"):
    # log_level 4: librdkafka's warnings while the brokers are away stay quiet.
    print(ofkafka.count_records(brokers, topic, low=which == "low", retry_seconds=30,
                                log_level=4))


# ACLs through librdkafka's C API (confluent-kafka 1.7, Debian 12's, has no
# ACL calls). librdkafka 2.0.2 knows no transactional-id resource type, so
# those lines go to Kafka's own AclCommand (one JVM) instead.
RESOURCE_TYPES = {"topic": 2, "group": 3, "cluster": 4}
PATTERNS = {"literal": 3, "prefixed": 4}
OPERATIONS = {"All": 2, "Read": 3, "Write": 4, "Create": 5, "Delete": 6, "Alter": 7,
              "Describe": 8, "ClusterAction": 9, "DescribeConfigs": 10,
              "AlterConfigs": 11, "IdempotentWrite": 12}
ALLOW = 3
RESOURCE_NAMES = {2: "topic", 3: "group", 4: "cluster", 5: "transactional-id"}
OP_CREATEACLS, OP_DESCRIBEACLS, OP_DELETEACLS = 9, 10, 11
EVENT_TIMEOUT_MS = 30000


def rdkafka(brokers):
    lib = ctypes.CDLL("librdkafka.so.1")
    lib.rd_kafka_conf_new.restype = ctypes.c_void_p
    lib.rd_kafka_conf_set.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                                      ctypes.c_char_p, ctypes.c_size_t]
    lib.rd_kafka_new.restype = ctypes.c_void_p
    lib.rd_kafka_new.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
    lib.rd_kafka_queue_new.restype = ctypes.c_void_p
    lib.rd_kafka_queue_new.argtypes = [ctypes.c_void_p]
    lib.rd_kafka_queue_poll.restype = ctypes.c_void_p
    lib.rd_kafka_queue_poll.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.rd_kafka_AdminOptions_new.restype = ctypes.c_void_p
    lib.rd_kafka_AdminOptions_new.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.rd_kafka_AclBinding_new.restype = ctypes.c_void_p
    lib.rd_kafka_AclBinding_new.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int,
                                            ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int,
                                            ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t]
    lib.rd_kafka_AclBindingFilter_new.restype = ctypes.c_void_p
    lib.rd_kafka_AclBindingFilter_new.argtypes = lib.rd_kafka_AclBinding_new.argtypes
    lib.rd_kafka_CreateAcls.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p),
                                        ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p]
    lib.rd_kafka_DeleteAcls.argtypes = lib.rd_kafka_CreateAcls.argtypes
    lib.rd_kafka_DescribeAcls.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                                          ctypes.c_void_p]
    for name in ("rd_kafka_event_error_string", "rd_kafka_error_string",
                 "rd_kafka_AclBinding_name", "rd_kafka_AclBinding_principal",
                 "rd_kafka_ResourceType_name", "rd_kafka_AclOperation_name",
                 "rd_kafka_ResourcePatternType_name"):
        getattr(lib, name).restype = ctypes.c_char_p
    for name in ("rd_kafka_event_error_string", "rd_kafka_event_error",
                 "rd_kafka_event_CreateAcls_result", "rd_kafka_event_DescribeAcls_result"):
        getattr(lib, name).argtypes = [ctypes.c_void_p]
    lib.rd_kafka_event_CreateAcls_result.restype = ctypes.c_void_p
    lib.rd_kafka_event_DescribeAcls_result.restype = ctypes.c_void_p
    lib.rd_kafka_CreateAcls_result_acls.restype = ctypes.POINTER(ctypes.c_void_p)
    lib.rd_kafka_CreateAcls_result_acls.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t)]
    lib.rd_kafka_DescribeAcls_result_acls.restype = ctypes.POINTER(ctypes.c_void_p)
    lib.rd_kafka_DescribeAcls_result_acls.argtypes = lib.rd_kafka_CreateAcls_result_acls.argtypes
    lib.rd_kafka_acl_result_error.restype = ctypes.c_void_p
    lib.rd_kafka_acl_result_error.argtypes = [ctypes.c_void_p]
    lib.rd_kafka_error_string.argtypes = [ctypes.c_void_p]
    for name in ("rd_kafka_AclBinding_name", "rd_kafka_AclBinding_principal",
                 "rd_kafka_AclBinding_restype", "rd_kafka_AclBinding_operation",
                 "rd_kafka_AclBinding_resource_pattern_type"):
        getattr(lib, name).argtypes = [ctypes.c_void_p]
    err = ctypes.create_string_buffer(512)
    conf = lib.rd_kafka_conf_new()
    for key, value in {"bootstrap.servers": brokers, "log_level": "2", **ofkafka.admin_conf()}.items():
        if lib.rd_kafka_conf_set(conf, key.encode(), value.encode(), err, 512) != 0:
            raise SystemExit(f"admin: {key}: {err.value.decode()}")
    rk = lib.rd_kafka_new(0, conf, err, 512)
    if not rk:
        raise SystemExit(f"admin: {err.value.decode()}")
    return lib, rk


def admin_event(lib, rk, call, op, *args):
    queue = lib.rd_kafka_queue_new(rk)
    options = lib.rd_kafka_AdminOptions_new(rk, op)
    call(rk, *args, options, queue)
    event = lib.rd_kafka_queue_poll(queue, EVENT_TIMEOUT_MS)
    if not event:
        raise SystemExit("admin: no answer to the ACL request within 30 s")
    if lib.rd_kafka_event_error(event):
        raise SystemExit(f"admin: {lib.rd_kafka_event_error_string(event).decode()}")
    return event


def acl_command_class(jars):
    """Kafka 4 moved AclCommand from the core jar (kafka.admin) to the tools
    jar (org.apache.kafka.tools)."""
    for jar in glob.glob(os.path.join(jars, "kafka-tools-*.jar")):
        with zipfile.ZipFile(jar) as z:
            if "org/apache/kafka/tools/AclCommand.class" in z.namelist():
                return "org.apache.kafka.tools.AclCommand"
    return "kafka.admin.AclCommand"


def java_acls(brokers, lines):
    """AclCommand for the lines librdkafka cannot express; the super user's
    credentials go through a 0600 file, never a command line."""
    conf = ofkafka.admin_conf()
    jars = os.environ["JARS"]
    props = [f"ssl.truststore.type=PEM", f"ssl.truststore.location={conf['ssl.ca.location']}"]
    if conf["security.protocol"] == "SSL":
        keystore = tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False)
        with open(conf["ssl.key.location"]) as k, open(conf["ssl.certificate.location"]) as c:
            keystore.write(k.read() + c.read())
        keystore.close()
        props += ["security.protocol=SSL", "ssl.keystore.type=PEM",
                  f"ssl.keystore.location={keystore.name}"]
    else:
        props += ["security.protocol=SASL_SSL", "sasl.mechanism=SCRAM-SHA-512",
                  "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule "
                  f"required username=\"{conf['sasl.username']}\" password=\"{conf['sasl.password']}\";"]
    fd, path = tempfile.mkstemp(suffix=".properties")
    acl_command = acl_command_class(jars)
    status = 0
    try:
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(props) + "\n")
        for user, kind, pattern, name, ops in lines:
            args = ["java", "-Xmx128m", "-cp", f"{jars}/*", acl_command,
                    "--bootstrap-server", brokers, "--command-config", path, "--add",
                    "--allow-principal", user, f"--{kind}", name,
                    "--resource-pattern-type", pattern]
            for op in ops.split(","):
                args += ["--operation", op]
            run = subprocess.run(args, capture_output=True, text=True)
            if run.returncode != 0:
                print(f"admin: AclCommand {user} {kind} {name}: {run.stderr.strip()[-400:]}",
                      file=sys.stderr)
                status = 1
    finally:
        os.unlink(path)
        if conf["security.protocol"] == "SSL":
            os.unlink(keystore.name)
    return status


def acls(brokers, table, delete=False):
    lib, rk = rdkafka(brokers)
    bindings, names, by_java = [], [], []
    err = ctypes.create_string_buffer(512)
    for line in table:
        if not line.strip():
            continue
        user, kind, pattern, name, ops = line.split()
        if kind not in RESOURCE_TYPES:
            by_java.append((user, kind, pattern, name, ops))
            continue
        for op in ops.split(","):
            new = lib.rd_kafka_AclBindingFilter_new if delete else lib.rd_kafka_AclBinding_new
            binding = new(
                RESOURCE_TYPES[kind], name.encode(), PATTERNS[pattern], user.encode(),
                b"*", OPERATIONS[op], ALLOW, err, 512)
            if not binding:
                raise SystemExit(f"admin: ACL {line.strip()}: {err.value.decode()}")
            bindings.append(binding)
            names.append(f"{user} {op} {kind} {name}")
    array = (ctypes.c_void_p * len(bindings))(*bindings)
    if delete:
        if by_java:
            raise SystemExit("admin: delete-acls: only topic, group and cluster ACLs")
        event = admin_event(lib, rk, lib.rd_kafka_DeleteAcls, OP_DELETEACLS, array, len(bindings))
        return 0
    event = admin_event(lib, rk, lib.rd_kafka_CreateAcls, OP_CREATEACLS, array, len(bindings))
    count = ctypes.c_size_t()
    results = lib.rd_kafka_CreateAcls_result_acls(lib.rd_kafka_event_CreateAcls_result(event),
                                                  ctypes.byref(count))
    status = 0
    for i in range(count.value):
        error = lib.rd_kafka_acl_result_error(results[i])
        if error:
            print(f"admin: ACL {names[i]}: {lib.rd_kafka_error_string(error).decode()}",
                  file=sys.stderr)
            status = 1
    if by_java:
        status |= java_acls(brokers, by_java)
    return status


def list_acls(brokers):
    lib, rk = rdkafka(brokers)
    err = ctypes.create_string_buffer(512)
    # ANY = 1 for the type, the pattern type, the operation and the permission.
    any_filter = lib.rd_kafka_AclBindingFilter_new(1, None, 1, None, None, 1, 1, err, 512)
    event = admin_event(lib, rk, lib.rd_kafka_DescribeAcls, OP_DESCRIBEACLS, any_filter)
    count = ctypes.c_size_t()
    found = lib.rd_kafka_DescribeAcls_result_acls(lib.rd_kafka_event_DescribeAcls_result(event),
                                                  ctypes.byref(count))
    rows = []
    for i in range(count.value):
        b = found[i]
        rows.append(f"acl {lib.rd_kafka_AclBinding_principal(b).decode()} "
                    f"{lib.rd_kafka_AclOperation_name(lib.rd_kafka_AclBinding_operation(b)).decode()} "
                    f"{RESOURCE_NAMES.get(lib.rd_kafka_AclBinding_restype(b), 'unknown')} "
                    f"{lib.rd_kafka_ResourcePatternType_name(lib.rd_kafka_AclBinding_resource_pattern_type(b)).decode().lower()} "
                    f"{lib.rd_kafka_AclBinding_name(b).decode()}")
    print("\n".join(sorted(rows)))
    return 0


def main(cmd, args):
    if cmd == "wait":
        ofkafka.wait_for_brokers(*args)
    elif cmd == "create":
        ofkafka.create_topics(args[0], args[3:], args[1], args[2])
    elif cmd == "describe":
        describe(args[0], args[1:])
    elif cmd == "leaders":
        leaders(*args)
    elif cmd == "add-partitions":
        ofkafka.add_partitions(*args)
    elif cmd == "wait-isr":
        ofkafka.wait_for_isr(*args)
    elif cmd == "set-config":
        ofkafka.set_config(args[0], args[1], dict(s.split("=", 1) for s in args[2:]))
    elif cmd == "count":
        count(*args)
    elif cmd == "acls":
        sys.exit(acls(args[0], sys.stdin))
    elif cmd == "delete-acls":
        sys.exit(acls(args[0], sys.stdin, delete=True))
    elif cmd == "list-acls":
        sys.exit(list_acls(args[0]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    try:
        main(sys.argv[1], sys.argv[2:])
    except ofkafka.KafkaToolError as e:
        print(f"admin: {e}", file=sys.stderr)
        sys.exit(1)
