"""Latency section: producer send (the UUIDv7 time of the order_created id)
to its output, p50/p99/p99.9, at 1k/s, 10k/s (and on the mock the highest
rate sustained), with the first hop alone (send to order-created) beside it
in the same run.

On Kafka the broker is warmed first (5 s of events at the measured rate
through the same processor) and the end of each hop is the broker's
LogAppendTime of the record (the topics are created with
message.timestamp.type=LogAppendTime), read after the run: no reader runs
while the pipeline is measured, so the readers' CPU (and a reader's own
fetch wait) is off the two cores' critical path. Each rate is measured in
--runs runs; the median and the spread are reported. On the mock (which has
no LogAppendTime), kcat readers follow the topics live."""
import json
import os
import random
import select
import signal
import statistics
import subprocess
import threading
import time

from .common import BenchError, group_id, log, ofkafka, start, watermarks

WARM_SECONDS = 5

def uuid7_ms(uuid):
    return int(uuid.replace("-", "")[:12], 16)


def latency_run(env, rate, seconds, max_events):
    with env.session() as b:
        return latency_session(env, b, rate, seconds, max_events)


def latency_session(env, b, rate, seconds, max_events):
    """Producer send (the UUIDv7 time of the order_created id) to the
    receive time of its data_processed by a kcat reader on the output topic;
    beside it, in the same run, the first hop alone: the same send to the
    receive time of the order_created by a kcat reader on the input topic
    (what any Kafka pipeline pays once per hop; the processor's part is the
    rest). kcat as the reader on both sides: one client, no processing."""
    bin_ = env.bin_
    proc = reader = hop_reader = None
    try:
        # The mock answers an empty fetch only after fetch.wait.max.ms (500 ms
        # by default) even if records arrive meanwhile; Kafka answers at once.
        # A short wait keeps that artifact out of the latency figures.
        fast = [] if env.kafka else ["-X", "fetch.wait.max.ms=5"]
        group = ["-G", group_id("latency")] if env.kafka else []
        proc = start([bin_["consumer"], "process", "-b", b, "-q"] + group + fast + env.conf)

        def kcat_reader(topic):
            return start(["kcat", "-C", "-b", b, "-t", topic, "-o", "end", "-u", "-q"] + fast +
                         ["-f", "%s\n"], stdout=subprocess.PIPE)

        reader, hop_reader = kcat_reader(env.topics["out"]), kcat_reader(env.topics["in"])
        # Warm up: one order through, so that group joins are behind us.
        # Again every 5 s until the reader shows one: it starts at the end of
        # the topic, and an order processed before it has looked up where
        # that is never reaches it.
        for attempt in range(1, 13):
            subprocess.run([bin_["producer"], "-b", b, "-q"] + env.conf + ["--order",
                            '{"order_id":"W-%d","customer_id":"C","currency":"EUR",'
                            '"items":[{"sku":"S","quantity":1,"unit_price_cents":1}]}' % attempt],
                           check=True, stderr=subprocess.DEVNULL)
            if select.select([reader.stdout], [], [], 5)[0]:
                break
        else:
            raise BenchError("no warm-up event reached the reader within 60 s")
        if not reader.stdout.readline():
            raise BenchError("the reader ended before the warm-up event")
        n = min(int(rate * seconds), max_events)
        lat, hop = [], []

        def read(stream, into, id_field):
            for line in stream:
                ev = json.loads(line)
                if ev["subject"].startswith("W-"):
                    continue  # a warm-up event
                into.append(time.time() * 1000 - uuid7_ms(ev[id_field]))
                if len(into) >= n:
                    return

        threads = [threading.Thread(target=read, args=(reader.stdout, lat, "causationid"),
                                    daemon=True),
                   threading.Thread(target=read, args=(hop_reader.stdout, hop, "id"), daemon=True)]
        for t in threads:
            t.start()
        t0 = time.monotonic()
        subprocess.run([bin_["producer"], "-b", b, "-q"] + env.conf + ["--generate", str(n), "--rate",
                        str(rate), "--seed", "3"], check=True, stderr=subprocess.DEVNULL)
        for t in threads:
            t.join(timeout=n / rate + 30)
        elapsed = time.monotonic() - t0
        if len(lat) < n:
            # The pipeline fell behind for good: not a sustained rate.
            return {"rate": rate, "events": n, "arrived": len(lat), "sustained": False}

        def pct(values, p):
            values = sorted(values)
            return round(values[min(len(values) - 1, int(p / 100.0 * len(values)))], 1)

        return {"rate": rate, "events": n, "p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99),
                "p99_9_ms": pct(lat, 99.9), "max_ms": round(max(lat), 1),
                "first_hop": {"p50_ms": pct(hop, 50), "p99_ms": pct(hop, 99),
                              "p99_9_ms": pct(hop, 99.9), "events": len(hop)},
                "sustained": elapsed <= n / rate * 1.2 + 2}
    finally:
        for p in (hop_reader, reader, proc):
            if p and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait()



def pct(values, p):
    values = sorted(values)
    return round(values[min(len(values) - 1, int(p / 100.0 * len(values)))], 1)


def kafka_latency_run(env, rate, seconds):
    """One run on Kafka (see the module's docstring): a fresh processor on
    fresh LogAppendTime topics, warmed by WARM_SECONDS of events at rate,
    then rate * seconds events measured."""
    bin_ = env.bin_
    n = rate * seconds
    warm = rate * WARM_SECONDS
    seeds = random.sample(range(1, 1 << 30), 2)  # fresh: no key seen before
    with env.session(log_append_time=True) as b:
        t = env.topics
        proc = start([bin_["consumer"], "process", "-b", b, "-q", "-G", group_id("latency")] +
                     env.conf)
        try:
            def produce(count, seed):
                subprocess.run([bin_["producer"], "-b", b, "-q"] + env.conf +
                               ["--generate", str(count), "--rate", str(rate), "--seed",
                                str(seed)], check=True, stderr=subprocess.DEVNULL)

            def wait_out(count, timeout):
                deadline = time.monotonic() + timeout
                while watermarks(b, t["out"]) < count:
                    if proc.poll() is not None:
                        raise BenchError("the processor exited %s" % proc.returncode)
                    if time.monotonic() > deadline:
                        return False
                    time.sleep(0.5)
                return True

            produce(warm, seeds[0])
            if not wait_out(warm, 120):
                raise BenchError("the warm-up's %d events were not processed in 120 s" % warm)
            start_ms = time.time() * 1000
            t0 = time.monotonic()
            produce(n, seeds[1])
            produced_s = time.monotonic() - t0
            arrived = wait_out(warm + n, 60)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait()
        lat, hop = [], []
        for m in ofkafka.read_messages(b, t["out"], group=group_id("latency-read")):
            ev = json.loads(m.value())
            sent = uuid7_ms(ev["causationid"])
            if sent >= start_ms:
                lat.append(m.timestamp()[1] - sent)
        for m in ofkafka.read_messages(b, t["in"], group=group_id("latency-read")):
            sent = uuid7_ms(json.loads(m.value())["id"])
            if sent >= start_ms:
                hop.append(m.timestamp()[1] - sent)
    if not arrived or len(lat) < n:
        return {"rate": rate, "events": n, "arrived": len(lat), "sustained": False}
    return {"rate": rate, "events": n, "p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99),
            "p99_9_ms": pct(lat, 99.9), "max_ms": round(max(lat), 1),
            "first_hop": {"p50_ms": pct(hop, 50), "p99_ms": pct(hop, 99),
                          "p99_9_ms": pct(hop, 99.9), "events": len(hop)},
            "sustained": produced_s <= seconds * 1.2 + 2,
            "load_average": os.getloadavg()[0]}


def kafka_latency(env, rate, seconds, runs):
    """runs runs at rate: the median of each figure, every run's p99s and
    the load average after each, for the spread."""
    done = [kafka_latency_run(env, rate, seconds) for _ in range(runs)]
    ok = [r for r in done if "p99_ms" in r]
    if len(ok) < len(done):
        return {"rate": rate, "events": rate * seconds, "sustained": False, "runs": done}
    med = lambda f: round(statistics.median(f(r) for r in ok), 1)  # noqa: E731
    return {"rate": rate, "events": rate * seconds, "p50_ms": med(lambda r: r["p50_ms"]),
            "p99_ms": med(lambda r: r["p99_ms"]), "p99_9_ms": med(lambda r: r["p99_9_ms"]),
            "max_ms": med(lambda r: r["max_ms"]),
            "first_hop": {"p50_ms": med(lambda r: r["first_hop"]["p50_ms"]),
                          "p99_ms": med(lambda r: r["first_hop"]["p99_ms"]),
                          "p99_9_ms": med(lambda r: r["first_hop"]["p99_9_ms"])},
            "p99_runs_ms": [r["p99_ms"] for r in ok],
            "first_hop_p99_runs_ms": [r["first_hop"]["p99_ms"] for r in ok],
            "load_averages": [r["load_average"] for r in ok],
            "sustained": all(r["sustained"] for r in ok), "runs": done}


def section(env, res, latency_seconds, runs=1):
    res["latency"] = []
    if env.kafka:
        for rate in (1000, 10000):
            log("latency on Kafka at %d events/s: %d runs of %d s, warmed %d s, read after" %
                (rate, runs, latency_seconds, WARM_SECONDS))
            res["latency"].append(kafka_latency(env, rate, latency_seconds, runs))
        return
    # Within what the mock keeps (~5 MB a partition, ~600-byte records).
    max_events = env.partitions * 4000
    for rate in (1000, 10000):
        log("latency at %d events/s for %d s" % (rate, latency_seconds))
        res["latency"].append(latency_run(env, rate, latency_seconds, max_events))
    # The highest sustained rate: from the slower of the two stages down,
    # in steps, until every event arrives on time with p99 under a second.
    if "producer" in res and "processing" in res:
        rate = min(res["producer"]["orderflow-producer"]["events_per_s"],
                   res["processing"]["orderflow-consumer process"]["events_per_s"]
                   ) // 1000 * 1000
        while rate > 10000:
            log("latency at %d events/s (highest sustained?)" % rate)
            l = latency_run(env, rate, latency_seconds, max_events)
            if l["sustained"] and l["p99_ms"] < 1000:
                res["latency"].append(l | {"highest_sustained": True})
                break
            res["latency"].append(l)
            rate = int(rate * 0.7) // 1000 * 1000
