#!/usr/bin/python3
"""A client population for gateway_crash_e2e.sh: THREADS threads post N
orders in all, each with its own Idempotency-Key, and retry each one with
the same key and body until it gets a 202 (connection refused or reset,
503, 409: the gateway was killed or is restarting), as docs/gateway.md asks
of clients. Prints one line per order, "KEY STATUS REPLAYED ATTEMPTS", and
the number answered so far into PROGRESS. Exit 1 if an order got no 202
within the deadline.

usage: gateway_load_client.py ADDR:PORT N THREADS PROGRESS"""
import http.client
import json
import os
import sys
import threading
import time

host, port = sys.argv[1].rsplit(":", 1)
n, threads, progress_file = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
DEADLINE = time.monotonic() + 120
lock = threading.Lock()
done = []


def body(i):
    return json.dumps({"order_id": "L-%d" % i, "customer_id": "C-%d" % (i % 7),
                       "currency": "EUR",
                       "items": [{"sku": "S-%d" % i, "quantity": 1 + i % 3,
                                  "unit_price_cents": 100 + i}]}, separators=(",", ":"))


def post_until_accepted(i):
    key, data, attempts = "load-%d" % i, body(i), 0
    while time.monotonic() < DEADLINE:
        attempts += 1
        try:
            conn = http.client.HTTPConnection(host, int(port), timeout=10)
            conn.request("POST", "/orders", body=data,
                         headers={"Content-Type": "application/json",
                                  "Idempotency-Key": '"%s"' % key})
            r = conn.getresponse()
            answer = r.read()
            conn.close()
        except (OSError, http.client.HTTPException):
            time.sleep(0.05)  # killed or restarting: retry with the same key
            continue
        if r.status == 202:
            got = json.loads(answer)
            if got["idempotencykey"] != key or got["order_id"] != "L-%d" % i:
                sys.exit("order %d: 202 for another order: %r" % (i, answer))
            return key, r.status, r.headers.get("Idempotent-Replayed") == "true", attempts
        if r.status in (409, 503):
            time.sleep(0.05)
            continue
        sys.exit("order %d: unexpected %d %r" % (i, r.status, answer))
    return key, None, False, attempts


def worker(first):
    for i in range(first, n, threads):
        result = post_until_accepted(i)
        with lock:
            done.append(result)
            # Whole or not at all: the script reads it meanwhile.
            with open(progress_file + ".new", "w") as f:
                f.write("%d\n" % len(done))
            os.replace(progress_file + ".new", progress_file)


pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
for t in pool:
    t.start()
for t in pool:
    t.join()
for key, status, replayed, attempts in sorted(done):
    print(key, status, "replayed" if replayed else "first", attempts)
sys.exit(0 if len(done) == n and all(status == 202 for _, status, _, _ in done) else 1)
