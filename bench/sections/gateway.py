"""Gateway section: orderflow-gateway vs a Flask + gunicorn +
confluent-kafka service with the same idempotency rules, under wrk (a key per
request): saturation and a paced 5,000 requests/s."""
import json
import os
import signal
import subprocess
import threading
import time

from .common import HERE, BenchError, errtext, log, median_of, start, watermarks

GATEWAY_PEERS = ("orderflow-gateway", "Flask + gunicorn + confluent-kafka")
GATEWAY_RATE = 5000
WRK_THREADS, WRK_CONNECTIONS = 2, 64


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree_rss_mb(pid):
    """Resident MB of pid and its descendants (gunicorn: master and workers)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            for task in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/children" % (p, task)) as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return total / 1024.0


def http_status(port, method, path, body=None, headers=None):
    import http.client
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        r.read()
        c.close()
        return r.status
    except OSError:
        return None


def gateway_server(env, peer, b, port):
    if peer == "orderflow-gateway":
        return start([env.bin_["gateway"], "-b", b, "-q", "--listen", "127.0.0.1:%d" % port] +
                     env.conf)
    topic = env.topics["in"]
    return start(["/usr/bin/python3", "/usr/bin/gunicorn", "-w", "2", "-k", "gthread",
                  "--threads", "16", "-b", "127.0.0.1:%d" % port, "--log-level", "warning",
                  "--env", "FLASK_GATEWAY_BROKERS=%s" % b, "--env", "FLASK_GATEWAY_TOPIC=%s" % topic,
                  "flask_gateway:app"])


def wrk(port, run, seconds, rate=None):
    args = ["wrk", "-t", str(WRK_THREADS), "-c", str(WRK_CONNECTIONS), "-d", "%ds" % seconds,
            "--latency", "-s", os.path.join(HERE, "gateway_post.lua"),
            "http://127.0.0.1:%d" % port, "--", run]
    if rate:
        args += [str(rate), str(WRK_THREADS)]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().split("\n")[-1])


def gateway_run(env, peer, seconds, rate):
    """One gateway peer under wrk on fresh topics: requests/s, latency, CPU
    per request (the server's process tree, from wait4), peak RSS (sampled,
    the tree's), every 202 verified as one record in order-created."""
    with env.session() as b:
        port = free_port()
        server = gateway_server(env, peer, b, port)
        try:
            deadline = time.monotonic() + 60
            warm = '{"order_id":"warm","customer_id":"C","currency":"EUR","items":[]}'
            while http_status(port, "POST", "/orders", warm, {
                    "Content-Type": "application/json", "Idempotency-Key": '"warm"'}) != 202:
                if server.poll() is not None:
                    raise BenchError("%s exited: %s" % (peer, errtext(server)))
                if time.monotonic() > deadline:
                    raise BenchError("%s did not accept an order within 60 s" % peer)
                time.sleep(0.2)
            peak = [0.0]
            stop = threading.Event()

            def sample():
                while not stop.wait(0.2):
                    peak[0] = max(peak[0], tree_rss_mb(server.pid))

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            cpu0 = proc_tree_cpu(server.pid)
            w = wrk(port, "%s-%d" % ("gw" if peer == "orderflow-gateway" else "fl", rate or 0),
                    seconds, rate)
            cpu = proc_tree_cpu(server.pid) - cpu0
            stop.set()
            sampler.join()
        finally:
            server.send_signal(signal.SIGTERM)
            if server.wait() not in (0, 128 + signal.SIGTERM, -signal.SIGTERM):
                raise BenchError("%s exited with %s: %s" % (peer, server.returncode,
                                                           errtext(server)))
        ok = w["requests"] - w["errors_status"]
        if w["errors_connect"] or w["errors_read"] or w["errors_write"] or w["errors_timeout"]:
            raise BenchError("%s: wrk saw socket errors: %s" % (peer, w))
        held = watermarks(b, env.topics["in"]) - 1  # the warm-up order
        # wrk stops at its deadline without reading the answers in flight
        # then: at most one request a connection was published unanswered.
        if not ok <= held <= ok + WRK_CONNECTIONS:
            raise BenchError("%s: %d requests answered 2xx but %s holds %d records" %
                             (peer, ok, env.topics["in"], held))
        secs = w["duration_us"] / 1e6
        return {"requests_per_s": round(w["requests"] / secs), "requests": w["requests"],
                "non_2xx": w["errors_status"], "p50_ms": w["p50_us"] / 1000.0,
                "p99_ms": w["p99_us"] / 1000.0, "p99_9_ms": w["p999_us"] / 1000.0,
                "cpu_us_per_request": round(cpu * 1e6 / max(w["requests"], 1), 1),
                "peak_rss_mb": round(peak[0], 1), "seconds": round(secs, 2),
                "offered_rate": rate}


def proc_tree_cpu(pid):
    """CPU seconds used so far by pid and its live descendants (the threads'
    utime+stime from /proc; gunicorn's workers are children)."""
    total, todo = 0.0, [pid]
    tck = os.sysconf("SC_CLK_TCK")
    while todo:
        p = todo.pop()
        try:
            with open("/proc/%d/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tck
            for task in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/children" % (p, task)) as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return total


def run_gateway(env, res, quick, runs):
    """The gateway against the Flask peer: at saturation and at a fixed
    offered rate. Skipped (and said so) without the gateway binary or wrk."""
    if not os.path.exists(env.bin_.get("gateway", "")):
        log("gateway: skipped, %s not built" % env.bin_.get("gateway"))
        return
    seconds = 5 if quick else 15
    runs = 1 if quick else min(runs, 3)
    res["gateway"] = {}
    for peer in GATEWAY_PEERS:
        for label, rate in (("saturation", None), ("%d/s" % GATEWAY_RATE, GATEWAY_RATE)):
            log("gateway: %s at %s, %d runs of %d s" % (peer, label, runs, seconds))
            res["gateway"]["%s at %s" % (peer, label)] = median_of(
                [gateway_run(env, peer, seconds, rate) for _ in range(runs)])
