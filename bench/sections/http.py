"""HTTP handler section: orderflow-consumer process --handler http://...
against the tutorial's stack (a Python confluent-kafka consumer calling the
service with requests, one event at a time: bench/peers/py_http_consumer.py)
and Confluent Parallel Consumer in KEY order with the same concurrency
(bench/peers/parallel, Maven), all calling the same order service
(tests/http/fault_service.py) answering in 5 ms and in 50 ms; the ideal
max_in_flight / latency beside them, and the service's own capacity under
wrk (what caps everyone once it binds)."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

from .common import (HERE, PEERS, TOP, BenchError, Counter, errtext, figure, fill, group_id,
                     log, start, verify, wait4)

SERVICE = os.path.join(TOP, "tests", "http", "fault_service.py")
PARALLEL_DIR = os.path.join(PEERS, "parallel")
MAX_IN_FLIGHT = 64
LATENCIES_MS = (5, 50)
OF = "orderflow-consumer process --handler http"
PY = "python confluent-kafka + requests (sequential)"
PC = "Confluent Parallel Consumer (KEY order)"


class Service:
    """The order service on a free port, answering after latency_ms."""

    def __init__(self, latency_ms):
        self.proc = subprocess.Popen(
            [sys.executable, SERVICE, "--port", "0", "--no-stats", "--config",
             json.dumps({"latency_ms": latency_ms})], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening "):
            raise BenchError("tests/http/fault_service.py did not start: %r" % line)
        self.url = "http://%s/orders" % line.split()[1]

    def cpu(self):
        """The service's CPU seconds so far (utime + stime)."""
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def build_parallel():
    for tool in ("java", "mvn"):
        if not shutil.which(tool):
            raise BenchError("%s not found: the Parallel Consumer peer needs a JDK 17 and Maven "
                             "(apt-get install openjdk-17-jdk-headless maven)" % tool)
    log("building the Parallel Consumer peer (mvn -q -B package in bench/peers/parallel)")
    out = subprocess.run(["mvn", "-q", "-B", "package"], cwd=PARALLEL_DIR, capture_output=True,
                         text=True)
    if out.returncode:
        raise BenchError("mvn package in bench/peers/parallel failed (is "
                         "io.confluent.parallelconsumer:parallel-consumer-core:0.5.3.2 "
                         "reachable on Maven Central?): %s" % (out.stdout + out.stderr)[-800:])


def command(env, peer, b, url):
    if peer == OF:
        return [env.bin_["consumer"], "process", "-b", b, "-q", "-G", group_id("of"),
                "--handler", url, "--handler-arg", "max_in_flight=%d" % MAX_IN_FLIGHT] + env.conf
    if peer == PY:
        return ["/usr/bin/python3", "py_http_consumer.py", b, group_id("py"), env.topics["in"],
                env.topics["out"], env.topics["dlq"], url]
    return ["java", "-Xms512m", "-Xmx512m",
            "-Dlog4j.configuration=file:%s" % os.path.join(PARALLEL_DIR, "log4j.properties"),
            "-cp", "%s:%s" % (os.path.join(PARALLEL_DIR, "target", "lib", "*"),
                              os.path.join(PARALLEL_DIR, "target", "parallel-http-stage-1.jar")),
            "io.orderflow.bench.ParallelHttpStage", b, group_id("pc"), env.topics["in"],
            env.topics["out"], url, str(MAX_IN_FLIGHT)]


def run(env, peer, n, latency_ms, timeout):
    service = Service(latency_ms)
    try:
        with env.session() as b:
            fill(env, b, ["--generate", str(n), "--seed", "3"])
            counter = Counter(b, env.topics["out"])
            cpu0 = service.cpu()
            proc = start(command(env, peer, b, service.url))
            try:
                counter.wait(n, timeout, proc)
            finally:
                counter.close()
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            cpu, rss = wait4(proc)
            service_cpu = service.cpu() - cpu0
            if proc.returncode not in (0, 128 + signal.SIGTERM, 143):
                raise BenchError("%s exit %d: %s" % (peer, proc.returncode, errtext(proc)))
            f = figure(n, verify(b, env.topics["out"], n, peer), cpu, rss)
            f["service_cpu_us_per_event"] = round(service_cpu * 1e6 / n, 2)
            return f
    finally:
        service.stop()


def capacity(latency_ms, seconds=5):
    """Requests/s the service answers under wrk with MAX_IN_FLIGHT connections."""
    service = Service(latency_ms)
    try:
        out = subprocess.run(["wrk", "-t", "2", "-c", str(MAX_IN_FLIGHT), "-d", "%ds" % seconds,
                              "-s", os.path.join(HERE, "service_post.lua"), service.url],
                             capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Requests/sec:"):
                return round(float(line.split()[1]))
        raise BenchError("wrk printed no Requests/sec: %s" % out[-300:])
    finally:
        service.stop()


def spread(runs, key):
    values = sorted(r[key] for r in runs)
    return [values[0], values[-1]]


def section(env, res, runs, n, workdir, quick=False):
    peers = [OF, PY]
    if env.kafka:
        build_parallel()
        peers.append(PC)
    else:
        log("http: Parallel Consumer needs real Kafka (bench/run --kafka); left out")
    fast_n = 10000 if quick else min(n, 100000)
    # One event at a time: about 10 s of it per run (2,000 events at 5 ms).
    def slow_n(latency_ms):
        return max(100, (5000 if quick else 10000) // latency_ms)
    out = {"max_in_flight": MAX_IN_FLIGHT, "events": fast_n,
           "events_sequential_peer": {"%d ms" % l: slow_n(l) for l in LATENCIES_MS},
           "service_capacity_rps": {}}
    for latency_ms in LATENCIES_MS:
        out["service_capacity_rps"]["%d ms" % latency_ms] = capacity(latency_ms)
        log("http: service capacity at %d ms, %d connections: %d requests/s" % (
            latency_ms, MAX_IN_FLIGHT, out["service_capacity_rps"]["%d ms" % latency_ms]))
    out["service_capacity_rps"]["0 ms"] = capacity(0)
    for latency_ms in LATENCIES_MS:
        by_peer = {}
        log("http: service latency %d ms, %d runs interleaved: %s" % (
            latency_ms, runs, ", ".join(peers)))
        results = {p: [] for p in peers}
        for _ in range(runs):
            for peer in peers:
                count = slow_n(latency_ms) if peer == PY else fast_n
                results[peer].append(run(env, peer, count, latency_ms,
                                         max(300, count * latency_ms / 1000 * 3
                                             if peer == PY else 300)))
                log("  %s: %s" % (peer, results[peer][-1]))
        for peer, rs in results.items():
            keys = [k for k in rs[0] if isinstance(rs[0][k], (int, float))]
            med = {k: sorted(r[k] for r in rs)[len(rs) // 2] for k in keys}
            med["events_per_s_min_max"] = spread(rs, "events_per_s")
            med["runs"] = rs
            by_peer[peer] = med
        by_peer["ideal max_in_flight / latency"] = {
            "events_per_s": round(MAX_IN_FLIGHT * 1000 / latency_ms)}
        out["%d ms" % latency_ms] = by_peer
    res["http"] = out
