"""Latency section: producer send (the UUIDv7 time of the order_created id)
to a kcat reader's receive of its output, p50/p99/p99.9, at 1k/s, 10k/s (and
on the mock the highest rate sustained), with the first hop alone (send to a
reader of order-created) beside it."""
import json
import select
import signal
import subprocess
import threading
import time

from .common import BenchError, group_id, log, start

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



def section(env, res, latency_seconds):
    res["latency"] = []
    if env.kafka:
        for rate in (1000, 10000):
            log("latency on Kafka at %d events/s for %d s" % (rate, latency_seconds))
            res["latency"].append(latency_run(env, rate, latency_seconds,
                                              rate * latency_seconds))
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
