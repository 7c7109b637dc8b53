#!/usr/bin/python3
"""The fault service's own test (tests/http/fault_service.py): each fault as a
client sees it, the figures of /stats, the log's figures, a restart on the
same port. Usage: fault_service_test.py (exit 0: all passed)."""
import email.utils
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ORDER = {"order_id": "A-1", "customer_id": "C-1", "currency": "EUR",
         "items": [{"sku": "S-1", "quantity": 2, "unit_price_cents": 1999},
                   {"sku": "S-2", "quantity": 1, "unit_price_cents": 5}]}


def start(port, config, log):
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "fault_service.py"), "--port",
                          str(port), "--config", json.dumps(config), "--log", log],
                         stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    assert line.startswith("listening 127.0.0.1:"), line
    return p, int(line.split(":")[1])


def post(port, order, key, attempt=1, ce_id=None, timeout=5):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request("POST", "/orders", json.dumps(order), {
        "Content-Type": "application/json", "ce-id": ce_id or "id-" + key,
        "ce-type": "order_created", "ce-specversion": "1.0", "ce-source": "test",
        "ce-subject": order["order_id"], "Idempotency-Key": key,
        "orderflow-attempt": str(attempt)})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, r.getheader("Retry-After"), body


def get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request("GET", path)
    return json.loads(c.getresponse().read())


def control(port, changes):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request("POST", "/control", json.dumps(changes))
    return json.loads(c.getresponse().read())


def order(order_id):
    return dict(ORDER, order_id=order_id)


def main():
    work = tempfile.mkdtemp(prefix="fault-service-test.")
    log = os.path.join(work, "requests.jsonl")
    p, port = start(0, {"rules": [
        {"prefix": "BAD-", "action": 422, "body": '{"error":"sku S-1 unknown"}'},
        {"prefix": "BUSY-", "action": 429, "attempts": 2, "retry_after": "3"},
        {"prefix": "DATE-", "action": 503, "retry_after": "date:60"},
        {"prefix": "HANG-", "action": "hang", "attempts": 1},
        {"prefix": "RESET-", "action": "reset", "attempts": 1}]}, log)
    try:
        # 2xx: the data_processed data of the order, byte for byte.
        status, _, body = post(port, ORDER, "k-A-1")
        assert status == 200, status
        assert json.loads(body) == {"order_id": "A-1", "customer_id": "C-1", "currency": "EUR",
                                    "item_count": 2, "quantity_total": 3,
                                    "total_cents": 4003, "status": "accepted"}, body
        # A permanent status with its body; 429 for two attempts, then 200.
        assert post(port, order("BAD-1"), "k-BAD-1")[::2] == (422, b'{"error":"sku S-1 unknown"}')
        assert post(port, order("BUSY-1"), "k-BUSY-1", 1)[:2] == (429, "3")
        assert post(port, order("BUSY-1"), "k-BUSY-1", 2)[:2] == (429, "3")
        assert post(port, order("BUSY-1"), "k-BUSY-1", 3)[0] == 200
        status, after, _ = post(port, order("DATE-1"), "k-DATE-1")
        delay = email.utils.parsedate_to_datetime(after).timestamp() - time.time()
        assert status == 503 and 55 < delay <= 61, (status, after)
        # A reset: the client sees the connection dropped, then the retry passes.
        try:
            post(port, order("RESET-1"), "k-RESET-1", 1)
            raise AssertionError("no reset")
        except (ConnectionResetError, http.client.RemoteDisconnected):
            pass
        assert post(port, order("RESET-1"), "k-RESET-1", 2)[0] == 200
        # A hang past the client's timeout ends when the client gives up.
        t0 = time.monotonic()
        try:
            post(port, order("HANG-1"), "k-HANG-1", 1, timeout=0.3)
            raise AssertionError("no hang")
        except TimeoutError:
            pass
        assert post(port, order("HANG-1"), "k-HANG-1", 2)[0] == 200
        assert time.monotonic() - t0 < 2
        # Concurrency: 4 keys at once, then 2 calls of one key at once.
        control(port, {"latency_ms": 300})
        threads = [threading.Thread(target=post, args=(port, order(f"C-{i}"), f"k-C-{i}"))
                   for i in range(4)]
        threads += [threading.Thread(target=post, args=(port, order("C-0"), f"k-C-0-b"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # Random rates, seeded: about the configured share of 503s.
        control(port, {"latency_ms": 0, "rates": {"503": 0.5}, "seed": 7})
        codes = [post(port, order(f"R-{i}"), f"k-R-{i}")[0] for i in range(100)]
        assert 30 < codes.count(503) < 70 and codes.count(200) == 100 - codes.count(503), codes
        # One event whose second attempt carries another key, and an attempt gap.
        control(port, {"rates": {}})
        post(port, order("E-1"), "k-E-1", 1, ce_id="ev-1")
        post(port, order("E-1"), "k-E-1-other", 3, ce_id="ev-1")
        s = get(port, "/stats?orders=1")
        assert s["max_concurrent"] == 5, s["max_concurrent"]
        assert [o[0] for o in s["key_overlaps"]] == ["C-0"], s["key_overlaps"]
        assert s["events_with_several_keys"] == ["ev-1"], s["events_with_several_keys"]
        assert s["attempt_gaps"] == [["ev-1", 2, 3]], s["attempt_gaps"]
        assert s["by_outcome"]["hang"] == 1 and s["by_outcome"]["reset"] == 1, s["by_outcome"]
        assert s["by_outcome"]["422"] == 1 and s["by_outcome"]["429"] == 2, s["by_outcome"]
        assert s["first_attempts"]["C-0"] == ["k-C-0", "k-C-0-b"] or \
            s["first_attempts"]["C-0"] == ["k-C-0-b", "k-C-0"], s["first_attempts"]["C-0"]
        assert s["answered_twice"] == [], s["answered_twice"]
        # kill -9 and a restart on the same port: the logs of both lives combine.
        p.send_signal(signal.SIGKILL)
        p.wait()
        p, port2 = start(port, {}, log)
        assert port2 == port
        assert post(port, ORDER, "k-A-1")[0] == 200
        offline = json.loads(subprocess.run(
            [sys.executable, os.path.join(HERE, "fault_service.py"), "stats", log],
            check=True, capture_output=True, text=True).stdout)
        assert offline["requests"] == s["requests"] + 1, (offline["requests"], s["requests"])
        assert offline["answered_twice"] == ["k-A-1"], offline["answered_twice"]
        assert get(port, "/stats")["requests"] == 1
    finally:
        p.kill()
        p.wait()
    print(f"ok: fault service: {offline['requests']} requests, every fault, stats and log agree")


if __name__ == "__main__":
    main()
