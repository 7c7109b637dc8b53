"""What every section of bench/run shares: the brokers (a fresh
orderflow-broker per run, or one real Kafka with fresh topics per run),
commands run under GNU time, the count checks, figures and medians."""
import contextlib
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOP = os.path.dirname(HERE)
PEERS = os.path.join(HERE, "peers")

sys.path.insert(0, os.path.join(TOP, "scripts", "kafka"))
import ofkafka  # noqa: E402


class BenchError(Exception):
    pass


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


class Broker:
    def __init__(self, exe, partitions):
        self.proc = subprocess.Popen([exe, "--port", "0", "--partitions", str(partitions), "-q"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("ready "):
            raise BenchError("orderflow-broker did not start")
        self.address = line.split()[1]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)


DEFAULT_TOPICS = {"in": "order-created", "out": "data-processed", "dlq": "order-created.dlq"}


class MockEnv:
    """A fresh orderflow-broker for every run."""
    kafka = False
    topics = DEFAULT_TOPICS
    conf = []

    def __init__(self, bin_, partitions):
        self.bin_, self.partitions = bin_, partitions

    @contextlib.contextmanager
    def session(self, partitions=None):
        broker = Broker(self.bin_["broker"], partitions or self.partitions)
        try:
            yield broker.address
        finally:
            broker.stop()

    def broker_cpu(self):
        return None


KAFKA_SH = os.path.join(TOP, "scripts", "kafka.sh")


def dead_letter_max_bytes():
    """The dead-letter topic's max.message.bytes: the one kafka-compose.yml
    creates it with (tests/docs/compose_test.py checks it)."""
    with open(os.path.join(TOP, "kafka-compose.yml")) as f:
        found = re.search(r"--topic order-created\.dlq .*--config max\.message\.bytes=(\d+)",
                          f.read())
    if not found:
        raise BenchError("kafka-compose.yml: order-created.dlq is created without "
                         "--config max.message.bytes=N")
    return found.group(1)


class KafkaEnv:
    """One real single-node Kafka (scripts/kafka.sh) for the whole run; every
    run gets three new topics of its own (named after the run: deleting and
    recreating the same names races with the broker's metadata, and a fresh
    client then sees "Unknown partition"), given to orderflow's programs in
    a config file. Each run's speed is read from its output records'
    timestamps (first to last), stamped by the client that emitted them;
    the Kafka Streams peer stamps them with its clock too instead of
    copying the input's.
    """
    kafka = True

    def __init__(self, bin_, partitions, workdir):
        self.bin_, self.partitions = bin_, partitions
        self.dir = os.path.join(workdir, "kafka")
        log("starting Kafka (scripts/kafka.sh up --port auto --partitions %d --dir %s)" %
            (partitions, self.dir))
        out = subprocess.run([KAFKA_SH, "up", "--port", "auto", "--partitions", str(partitions),
                              "--dir", self.dir], capture_output=True, text=True)
        if out.returncode:
            raise BenchError("scripts/kafka.sh up failed: %s" % out.stderr[-600:])
        self.address = out.stdout.strip().split("\n")[-1].split()[1]
        self.jars = subprocess.run([KAFKA_SH, "fetch"], capture_output=True, text=True,
                                   check=True).stdout.strip().split("\n")[-1]
        with open(os.path.join(self.dir, "node1", "pid")) as f:
            self.pid = int(f.read())
        self.admin = ofkafka.admin_client(self.address)
        self.runs = 0
        self.workdir = workdir

    @staticmethod
    def down(workdir):
        d = os.path.join(workdir, "kafka")
        if os.path.exists(os.path.join(d, "cluster.env")):
            log("stopping Kafka (scripts/kafka.sh down --dir %s)" % d)
            subprocess.run([KAFKA_SH, "down", "--dir", d], stdout=subprocess.DEVNULL)

    def broker_cpu(self):
        """CPU seconds the broker's JVM has used so far."""
        with open("/proc/%d/stat" % self.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def create(self, topics, partitions, log_append_time=False):
        names = list(topics.values())
        configs = {topics["dlq"]: {"max.message.bytes": dead_letter_max_bytes()}}
        if log_append_time:
            # Each record stamped with the broker's clock when appended.
            for t in (topics["in"], topics["out"]):
                configs[t] = {"message.timestamp.type": "LogAppendTime"}
        try:
            ofkafka.create_topics(self.address, names, partitions, configs=configs,
                                  leader_timeout=60, admin=self.admin)
        except ofkafka.KafkaToolError as e:
            raise BenchError("the topics %s: %s" % (names, e))

    @contextlib.contextmanager
    def session(self, partitions=None, log_append_time=False):
        self.runs += 1
        self.topics = {k: "%s-%d" % (v, self.runs) for k, v in DEFAULT_TOPICS.items()}
        self.create(self.topics, partitions or self.partitions, log_append_time)
        path = os.path.join(self.workdir, "orderflow-%d.conf" % self.runs)
        with open(path, "w") as f:
            f.write('topics: { order_created = "%s"; data_processed = "%s"; '
                    'dead_letter = "%s"; };\n' % (self.topics["in"], self.topics["out"],
                                                 self.topics["dlq"]))
        self.conf = ["-c", path]
        yield self.address


def group_id(what):
    return "bench-%s-%d-%d" % (what, os.getpid(), time.monotonic_ns())


def watermarks(brokers, topic):
    return ofkafka.count_records(brokers, topic)


class Counter(ofkafka.TopicCounter):
    """Polls a topic's high watermarks; remembers when the first record came
    and when n had."""

    def wait(self, n, timeout, proc=None):
        first = None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.count()
            now = time.monotonic()
            if got and first is None:
                first = now
            if got >= n:
                return first, now, got
            if proc is not None and proc.poll() is not None and got < n:
                raise BenchError("%s exited with %s after %d of %d records" %
                                 (proc.args[0] if isinstance(proc.args, list) else "pipeline",
                                  proc.returncode, got, n))
            time.sleep(0.05)
        raise BenchError("%s holds %d records, expected %d within %d s" %
                         (self.topic, self.count(), n, timeout))


def verify(brokers, topic, n, what, keyed=True):
    """Checks that topic holds n records with n distinct keys (committed
    records only: transactional writers leave markers and maybe aborted
    records); returns the seconds between the first and the last record's
    timestamp (CreateTime, set by the client that produced it). keyed=False: records without
    keys (ProducerPerformance), counted only."""
    # A secured node's super user (bench/sections/security.py).
    secured = ["-F", os.environ["ORDERFLOW_KAFKA_ADMIN_CONF"]] if os.environ.get(
        "ORDERFLOW_KAFKA_ADMIN_CONF") else []
    out = subprocess.run(["kcat"] + secured + ["-b", brokers, "-C", "-t", topic, "-e", "-q",
                          "-o", "beginning",
                          "-X", "isolation.level=read_committed",
                          "-f", "%T %k\n"], capture_output=True, check=True).stdout
    lines = out.split(b"\n")[:-1]
    keys = {line.split(b" ", 1)[1] for line in lines} if keyed else set(range(len(lines)))
    if len(lines) != n or len(keys) != n:
        raise BenchError("%s: %s holds %d records with %d distinct keys, expected %d" %
                         (what, topic, len(lines), len(keys), n))
    stamps = [int(line.split(b" ", 1)[0]) for line in lines]
    return max(max(stamps) - min(stamps), 1) / 1000.0


class Measured(subprocess.Popen):
    """A command run under GNU time. CPU time comes from wait4() (time's
    rusage includes the command it waited for, to the microsecond; a shell
    pipeline's sums its commands). Peak RSS comes from time's own report of
    the command (a pipeline's: its largest command), not from wait4():
    Linux carries a process's peak RSS across exec, so anything forked from
    this Python process (about 67 MB) would report at least that much.
    Signals go to the command, not to time; a command ended by SIGTERM has
    returncode 128 + SIGTERM."""

    cpu = None

    def __init__(self, cmd, shell=False, **kwargs):
        self.usage_file = tempfile.NamedTemporaryFile(prefix="bench-usage-")
        if shell:
            cmd = ["/bin/bash", "-c", cmd]
        super().__init__(["/usr/bin/time", "-f", "%M", "-o", self.usage_file.name] + cmd,
                         **kwargs)

    def _reap(self, flags):
        if self.cpu is None:
            pid, status, ru = os.wait4(self.pid, flags)
            if pid == 0:
                return False
            self.returncode = os.waitstatus_to_exitcode(status)
            self.cpu = ru.ru_utime + ru.ru_stime
        return True

    def poll(self):
        return self.returncode if self._reap(os.WNOHANG) else None

    def wait(self, timeout=None):
        self._reap(0)
        return self.returncode

    def send_signal(self, sig):
        try:
            with open("/proc/%d/task/%d/children" % (self.pid, self.pid)) as f:
                children = [int(c) for c in f.read().split()]
        except OSError:
            children = []
        for child in children:
            os.kill(child, sig)

    @property
    def usage(self):
        """(CPU seconds, peak RSS MB) once the command has ended."""
        with open(self.usage_file.name) as f:
            max_kb = int(f.read().split()[-1])
        return (self.cpu, max_kb / 1024.0)


def wait4(proc):
    proc.wait()
    return proc.usage


def start(cmd, shell=False, stdout=subprocess.DEVNULL):
    # stderr to a file, not a pipe: nobody reads it while the child runs.
    err = tempfile.TemporaryFile()
    proc = Measured(cmd, shell=shell, stdout=stdout, stderr=err, cwd=PEERS)
    proc.errfile = err
    return proc


def errtext(proc):
    proc.errfile.seek(0)
    return proc.errfile.read()[-400:].decode(errors="replace")


def figure(n, seconds, cpu, rss, broker_cpu=None):
    f = {"events_per_s": round(n / seconds), "cpu_us_per_event": round(cpu * 1e6 / n, 2),
         "peak_rss_mb": round(rss, 1), "seconds": round(seconds, 3)}
    if broker_cpu is not None:
        f["broker_cpu_us_per_event"] = round(broker_cpu * 1e6 / n, 2)
    return f


def median_of(runs):
    keys = [k for k in runs[0] if isinstance(runs[0][k], (int, float))]
    return {k: statistics.median(r[k] for r in runs) for k in keys} | {"runs": runs}


def fill(env, b, args):
    """orderflow-producer with args into this run's topics; its errors, if
    any, in the exception."""
    out = subprocess.run([env.bin_["producer"], "-b", b, "-q"] + env.conf + args,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if out.returncode:
        raise BenchError("orderflow-producer %s: exit %d: %s" % (" ".join(args), out.returncode,
                                                                  out.stderr[-600:]))
