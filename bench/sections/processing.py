"""Processing-stage section: orderflow-consumer process (also with
--metrics, runs interleaved, for the endpoint's cost) vs the same stage in
Python vs `kcat -C | jq | kcat -P` vs a raw `kcat -C | kcat -P` relay (the
floor); on Kafka each guarantee against a Kafka Streams application's."""
import os
import shutil
import signal
import subprocess
import time

from .common import (PEERS, BenchError, Counter, errtext, figure, fill, group_id, log,
                     median_of, start, verify, wait4)

# The processor with its metrics endpoint on (docs/operations.md,
# "Monitoring"): run interleaved with the plain one, so the two figures share
# the machine's state and their difference is the metrics' cost.
METRICS_PEER = "orderflow-consumer process --metrics"
# The handler section: the processor with a plugin doing exactly what the
# built-in rules do (examples/handlers/rules_plugin.c), run interleaved with
# the built-in path, so that the difference is the plugin path's cost
# (docs/handlers.md).
HANDLER_PEER = "orderflow-consumer process --handler rules_plugin.so"
STAGES = {
    "orderflow-consumer process": None,
    METRICS_PEER: None,
    "python confluent-kafka stage": None,
    "kcat -C | jq | kcat -P": (
        "kcat -C -b {b} -t {i} -o beginning -e -q -f '%s\\n' | "
        "jq -r -f jq_stage.jq | kcat -P -b {b} -t {o} -K '\\t'"),
    "kcat -C | kcat -P relay (floor)": (
        "kcat -C -b {b} -t {i} -o beginning -e -q -f '%k\\t%s\\n' | "
        "kcat -P -b {b} -t {o} -K '\\t'"),
}


STREAMS_DIR = os.path.join(PEERS, "streams")
JVM_STREAMS_HEAP = "1g"
KAFKA_STAGES = (
    "orderflow-consumer process (at_least_once)",
    "Kafka Streams (at_least_once)",
    "orderflow-consumer process (exactly_once)",
    "Kafka Streams (exactly_once_v2)",
    "python confluent-kafka stage",
    "kcat -C | kcat -P relay (floor)",
)


def build_streams():
    """bench/peers/streams with Maven (its jars come from Maven's cache, or
    Maven Central once; target/ is never committed)."""
    for tool in ("java", "mvn"):
        if not shutil.which(tool):
            raise BenchError("%s not found: the Kafka Streams peer needs a JDK 17 and Maven "
                             "(apt-get install openjdk-17-jdk-headless maven)" % tool)
    log("building the Kafka Streams peer (mvn -q -B package in bench/peers/streams)")
    out = subprocess.run(["mvn", "-q", "-B", "package"], cwd=STREAMS_DIR, capture_output=True,
                         text=True)
    if out.returncode:
        raise BenchError("mvn package in bench/peers/streams failed: %s" %
                         (out.stdout + out.stderr)[-800:])


def stage_command(env, peer, b, workdir):
    bin_ = env.bin_
    if peer.startswith("orderflow-consumer process"):
        cmd = [bin_["consumer"], "process", "-b", b, "-q"] + env.conf
        if env.kafka:
            cmd += ["-G", group_id("of")]
        if "exactly_once" in peer:
            cmd += ["--guarantee", "exactly_once"]
        if "--metrics" in peer:
            cmd += ["--metrics", "127.0.0.1:0"]
        if "--handler" in peer:
            cmd += ["--handler", os.path.join(os.path.dirname(os.path.dirname(bin_["consumer"])),
                                              "examples", "handlers", "rules_plugin.so")]
        return cmd
    if peer.startswith("Kafka Streams"):
        guarantee = peer.split("(")[1].rstrip(")")
        return ["java", "-Xms%s" % JVM_STREAMS_HEAP, "-Xmx%s" % JVM_STREAMS_HEAP,
                "-Djava.io.tmpdir=%s" % workdir,
                "-Dlog4j.configuration=file:%s" % os.path.join(STREAMS_DIR, "log4j.properties"),
                "-cp", "%s:%s" % (os.path.join(STREAMS_DIR, "target", "lib", "*"),
                                  os.path.join(STREAMS_DIR, "target", "streams-stage-1.jar")),
                "io.orderflow.bench.StreamsStage", b, group_id("streams"), guarantee,
                env.topics["in"], env.topics["out"], env.topics["dlq"]]
    if peer == "python confluent-kafka stage":
        return ["/usr/bin/python3", "py_processor.py", b, group_id("py") if env.kafka else
                "py-processor", env.topics["in"], env.topics["out"], env.topics["dlq"]]
    return STAGES[peer].format(b=b, i=env.topics["in"], o=env.topics["out"])


def stage_run(env, peer, n, timeout, workdir, partitions=None):
    bin_ = env.bin_
    with env.session(partitions) as b:
        fill(env, b, ["--generate", str(n), "--seed", "2"])
        counter = Counter(b, env.topics["out"])
        cmd = stage_command(env, peer, b, workdir)
        cpu0 = env.broker_cpu()
        proc = start(cmd, shell=isinstance(cmd, str))
        try:
            counter.wait(n, timeout, proc)
            if env.kafka and "exactly_once" in peer:
                # Transaction markers count in the high watermark: wait until
                # it stands still (the last transaction committed).
                last, still = counter.count(), time.monotonic()
                while time.monotonic() - still < 1.0 and time.monotonic() - still < timeout:
                    time.sleep(0.1)
                    now = counter.count()
                    if now != last:
                        last, still = now, time.monotonic()
        finally:
            counter.close()
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        cpu, rss = wait4(proc)
        broker_cpu = None if cpu0 is None else env.broker_cpu() - cpu0
        if proc.returncode not in (0, 128 + signal.SIGTERM):
            raise BenchError("%s exit %d: %s" % (peer, proc.returncode, errtext(proc)))
        # From the first output's timestamp to the last one's: group joins and
        # the time to notice the end are not the stage's speed.
        return figure(n, verify(b, env.topics["out"], n, peer), cpu, rss, broker_cpu)



def section(env, res, runs, n, workdir):
    """res["processing"]: each stage's median of runs runs of n events."""
    res["processing"] = {}
    if env.kafka:
        for peer in KAFKA_STAGES:
            log("processing stage on Kafka: %s, %d runs of %d events" % (peer, runs, n))
            res["processing"][peer] = median_of(
                [stage_run(env, peer, n, 300, workdir) for _ in range(runs)])
        return
    for peer in STAGES:
        if peer == METRICS_PEER:
            continue  # measured with its pair, below
        log("processing stage: %s, %d runs of %d events" % (peer, runs, n))
        if peer != "orderflow-consumer process":
            res["processing"][peer] = median_of(
                [stage_run(env, peer, n, 300, workdir) for _ in range(runs)])
            continue
        log("  interleaved with %s" % METRICS_PEER)
        off, on = [], []
        for _ in range(runs):
            off.append(stage_run(env, peer, n, 300, workdir))
            on.append(stage_run(env, METRICS_PEER, n, 300, workdir))
        res["processing"][peer] = median_of(off)
        res["processing"][METRICS_PEER] = median_of(on)
