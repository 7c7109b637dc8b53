"""Security section (bench/run --security sasl_ssl): the producer's and the
processor's (at_least_once) events/s on a SASL_SSL listener with ACLs
enforced against a PLAINTEXT one, in the same run. Two single-node Kafkas
side by side (scripts/kafka.sh up, one with --security sasl_ssl), and the
runs interleaved (plain, secured, then secured, plain, ...) so that both
sides see the same machine load; the load average is kept beside each run.

On the secured node orderflow runs as the 'processor' user, not as the
super user (whose requests skip the ACL checks), with prefixed grants on
this run's topics (order-created-N, data-processed-N, order-created.dlq-N)
and groups (bench-...): the same checks a least-privilege user costs."""
import contextlib
import os
import statistics
import subprocess

from .common import DEFAULT_TOPICS, KAFKA_SH, TOP, BenchError, KafkaEnv, log, ofkafka
from .processing import stage_run
from .producer import producer_run

PROCESSOR = "orderflow-consumer process (at_least_once)"
ADMIN_CONF = "ORDERFLOW_KAFKA_ADMIN_CONF"
ADMIN_PY = os.path.join(TOP, "scripts", "kafka", "admin.py")
# The bench user's grants, as scripts/kafka/admin.py acls reads them.
BENCH_ACLS = """\
{who} topic prefixed order-created- Read,Write,Describe
{who} topic prefixed data-processed- Read,Write,Describe
{who} topic prefixed order-created.dlq- Read,Write,Describe
{who} group prefixed bench- Read,Describe
"""


class SecuredKafkaEnv(KafkaEnv):
    """KafkaEnv on a node started with --security MODE; each session's
    configuration file is the 'processor' role's (scripts/kafka.sh wrote it:
    listener, CA, user, password file) plus the run's topics. The super
    user's properties (for topic creation, counts and kcat) are in
    ORDERFLOW_KAFKA_ADMIN_CONF while a session of this node runs."""

    def __init__(self, bin_, partitions, workdir, mode):
        self.bin_, self.partitions, self.workdir, self.mode = bin_, partitions, workdir, mode
        self.dir = os.path.join(workdir, "kafka-" + mode)
        log("starting Kafka with --security %s (scripts/kafka.sh up --port auto --partitions %d "
            "--security %s --dir %s)" % (mode, partitions, mode, self.dir))
        out = subprocess.run([KAFKA_SH, "up", "--port", "auto", "--partitions", str(partitions),
                              "--security", mode, "--dir", self.dir],
                             capture_output=True, text=True)
        if out.returncode:
            raise BenchError("scripts/kafka.sh up --security %s failed: %s" % (mode,
                                                                              out.stderr[-600:]))
        self.address = [line.split()[1] for line in out.stdout.split("\n")
                        if line.startswith("brokers ")][0]
        with open(os.path.join(self.dir, "node1", "pid")) as f:
            self.pid = int(f.read())
        self.admin_conf = os.path.join(self.dir, "admin.properties")
        who = "User:CN=processor" if mode == "mtls" else "User:processor"
        with self.admin_env():
            self.admin = ofkafka.admin_client(self.address)
            acls = subprocess.run(["/usr/bin/python3", ADMIN_PY, "acls", self.address],
                                  input=BENCH_ACLS.format(who=who), capture_output=True,
                                  text=True)
        if acls.returncode:
            raise BenchError("the bench user's ACLs: %s" % acls.stderr[-600:])
        with open(os.path.join(self.dir, "processor.conf")) as f:
            self.role_conf = f.read()
        self.runs = 0

    @contextlib.contextmanager
    def admin_env(self):
        saved = os.environ.get(ADMIN_CONF)
        os.environ[ADMIN_CONF] = self.admin_conf
        try:
            yield
        finally:
            if saved is None:
                os.environ.pop(ADMIN_CONF, None)
            else:
                os.environ[ADMIN_CONF] = saved

    @contextlib.contextmanager
    def session(self, partitions=None):
        with self.admin_env():
            self.runs += 1
            self.topics = {k: "%s-%d" % (v, self.runs) for k, v in DEFAULT_TOPICS.items()}
            self.create(self.topics, partitions or self.partitions)
            path = os.path.join(self.workdir, "orderflow-%s-%d.conf" % (self.mode, self.runs))
            with open(path, "w") as f:
                f.write(self.role_conf)
                f.write('topics: { order_created = "%s"; data_processed = "%s"; '
                        'dead_letter = "%s"; };\n' % (self.topics["in"], self.topics["out"],
                                                     self.topics["dlq"]))
            self.conf = ["-c", path]
            yield self.address

    @staticmethod
    def down(workdir, mode):
        d = os.path.join(workdir, "kafka-" + mode)
        if os.path.exists(os.path.join(d, "cluster.env")):
            log("stopping Kafka (scripts/kafka.sh down --dir %s)" % d)
            subprocess.run([KAFKA_SH, "down", "--dir", d], stdout=subprocess.DEVNULL)


def spread(runs, key):
    values = [r[key] for r in runs]
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": values}


def section(plain, secured, res, runs, n, workdir):
    """res["security"]: per side, the producer's and the processor's
    events/s over runs interleaved runs of n events, and their ratio."""
    label = secured.mode.upper()
    sides = {"PLAINTEXT": plain, label: secured}
    got = {side: {"producer": [], "processor": []} for side in sides}
    loads = []
    for i in range(runs):
        order = list(sides) if i % 2 == 0 else list(reversed(list(sides)))
        for side in order:
            env = sides[side]
            load = os.getloadavg()[0]
            log("security: run %d/%d, %s: orderflow-producer, then the processor, %d events "
                "(load average %.2f)" % (i + 1, runs, side, n, load))
            p = producer_run(env, "orderflow-producer", n, None)
            s = stage_run(env, PROCESSOR, n, 300, workdir)
            p["loadavg_1m"] = s["loadavg_1m"] = round(load, 2)
            got[side]["producer"].append(p)
            got[side]["processor"].append(s)
            loads.append(round(load, 2))
    out = {"mode": secured.mode, "events": n, "runs": runs, "loadavg_1m": loads,
           "runs_interleaved": True}
    for side in sides:
        out[side] = {what: spread(got[side][what], "events_per_s") |
                     {"cpu_us_per_event": spread(got[side][what], "cpu_us_per_event"),
                      "broker_cpu_us_per_event": spread(got[side][what],
                                                        "broker_cpu_us_per_event"),
                      "all": got[side][what]}
                     for what in ("producer", "processor")}
    out["ratio"] = {what: round(out[label][what]["median"] / out["PLAINTEXT"][what]["median"], 3)
                    for what in ("producer", "processor")}
    out["target_met"] = all(r >= 0.8 for r in out["ratio"].values())
    res["security"] = out


def table(res):
    s = res["security"]
    label = s["mode"].upper()
    lines = ["| stage | PLAINTEXT events/s (min-max) | %s events/s (min-max) | ratio | "
             "client CPU µs/event plain / secured | broker CPU µs/event plain / secured |" % label,
             "|---|---|---|---|---|---|"]
    for what in ("producer", "processor"):
        p, q = s["PLAINTEXT"][what], s[label][what]
        lines.append("| %s | %d (%d-%d) | %d (%d-%d) | %.2f | %.2f / %.2f | %.2f / %.2f |" % (
            what, p["median"], p["min"], p["max"], q["median"], q["min"], q["max"],
            s["ratio"][what], p["cpu_us_per_event"]["median"], q["cpu_us_per_event"]["median"],
            p["broker_cpu_us_per_event"]["median"], q["broker_cpu_us_per_event"]["median"]))
    lines.append("")
    lines.append("%d runs of %d events per side, interleaved; 1-minute load average at each run: "
                 "%s; target (>= 0.80 each): %s" % (s["runs"], s["events"], ", ".join(
                     "%.1f" % x for x in s["loadavg_1m"]), "met" if s["target_met"] else "NOT met"))
    return "\n".join(lines)
