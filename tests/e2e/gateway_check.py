#!/usr/bin/env python3
"""Checks orderflow-gateway's answers (docs/gateway.md) over HTTP.

gateway_check.py ADDR:PORT post     every status of POST /orders, replays,
                                    100 concurrent requests with one key;
                                    prints "published KEY" per record made
gateway_check.py ADDR:PORT derived  keys optional: order_created:<order_id>
gateway_check.py ADDR:PORT pending  publishes P-1 and P-0 (quantity 0); with
                                    no processor running, ?wait ends pending
gateway_check.py ADDR:PORT first FILE   publishes R-1, its 202 body into FILE
gateway_check.py ADDR:PORT restored FILE (after a restart) R-1 replayed
                                    byte-identical to FILE, another body 422
gateway_check.py ADDR:PORT warm|frozen|thawed|gone  (gateway_unavailable_e2e.sh)
gateway_check.py ADDR:PORT after_restart  P-1 and P-0 results known again
gateway_check.py ADDR:PORT results  (processor running) ?wait gives P-1
                                    accepted and P-0 rejected, with results
"""
import http.client
import json
import os
import re
import sys
import threading
import time

from openapi_check import OpenApi

ADDR = sys.argv[1]
HOST, PORT = ADDR.rsplit(":", 1)
TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
# Every answer is checked against the published API document.
API = OpenApi(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
                           "gateway.openapi.yaml"))


def order(oid, quantity=2):
    return json.dumps({"order_id": oid, "customer_id": "C-1", "currency": "EUR",
                       "items": [{"sku": "S-1", "quantity": quantity,
                                  "unit_price_cents": 1999}]}, separators=(",", ":"))


def request(method, path, body=None, headers=None):
    conn = http.client.HTTPConnection(HOST, int(PORT), timeout=15)
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    h = {k: v for k, v in h.items() if v is not None}
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    try:
        API.check(method, path, r.status, r.headers, data)
    except AssertionError as e:
        sys.exit("FAIL: docs/gateway.openapi.yaml: %s" % e)
    return r.status, r.headers, data


def check(cond, what):
    if not cond:
        sys.exit("FAIL: " + what)


def post(body, key, extra=None):
    headers = {"Idempotency-Key": key}
    headers.update(extra or {})
    return request("POST", "/orders", body, headers)


def problem(status, headers, data, want, slug=None):
    check(status == want, f"status {status}, expected {want}: {data!r}")
    check(headers["Content-Type"] == "application/problem+json",
          f"{want}: Content-Type {headers['Content-Type']}")
    p = json.loads(data)
    check(p["status"] == want and p["title"] and p["detail"], f"{want}: body {p}")
    if slug:
        check(p["type"] == "urn:orderflow:problem:" + slug, f"{want}: type {p['type']}")
    return p


ACCEPTED = re.compile(
    rb'\{"order_id":"(?P<oid>[^"]*)","id":"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-'
    rb'[0-9a-f]{12}","idempotencykey":"(?P<key>[^"]*)","topic":"order-created",'
    rb'"partition":[0-9]+,"offset":[0-9]+\}$')


def accepted(status, headers, data, oid, key):
    check(status == 202, f"status {status}, expected 202: {data!r}")
    m = ACCEPTED.match(data)
    check(m is not None, f"202 body {data!r}")
    check(m["oid"].decode() == oid and m["key"].decode() == key, f"202 body {data!r}")
    check(headers["Content-Type"] == "application/json", "202 Content-Type")
    check(headers["Location"] == "/orders/" + oid, f"Location {headers['Location']}")
    check(headers["Idempotency-Key-Retention"] == "86400", "Idempotency-Key-Retention")


def run_post():
    published = []
    # 202, then a replay with the same bytes; the trace context is kept.
    body = order("A-1")
    s, h, first = post(body, '"k-1"', {"traceparent": TP})
    accepted(s, h, first, "A-1", "k-1")
    check(h["Idempotent-Replayed"] is None, "first answer says replayed")
    published.append("k-1")
    s, h, again = post(body, '"k-1"')
    accepted(s, h, again, "A-1", "k-1")
    check(again == first, f"replay {again!r} != first {first!r}")
    check(h["Idempotent-Replayed"] == "true", "replay without Idempotent-Replayed: true")
    # Same key, another body: 422.
    problem(*post(order("A-1", 3), '"k-1"'), 422, "idempotency-key-reused")
    # A bare token is a key too (Stripe's style); an sf-string escape is read.
    s, h, data = post(order("A-2"), "tok-2")
    accepted(s, h, data, "A-2", "tok-2")
    published.append("tok-2")
    s, h, data = post(order("A-3"), r'"k\"3"')
    accepted(s, h, data.replace(b'\\"', b"~"), "A-3", "k~3")
    published.append('k"3')
    # Quantity 0 is the processor's business, not a 422 here.
    s, h, data = post(order("A-4", 0), '"k-4"')
    accepted(s, h, data, "A-4", "k-4")
    published.append("k-4")
    # Order ids that need escaping in Location.
    s, h, data = post(order("B 1/é"), '"k-5"')
    check(s == 202 and h["Location"] == "/orders/B%201%2F%C3%A9", f"Location {h['Location']}")
    published.append("k-5")

    # 400: key missing, key malformed, body not JSON.
    problem(*request("POST", "/orders", order("E-1")), 400, "idempotency-key-missing")
    problem(*post(order("E-1"), '"open'), 400, "idempotency-key-invalid")
    problem(*post(order("E-1"), '"' + "x" * 256 + '"'), 400, "idempotency-key-invalid")
    problem(*post(order("E-1"), '""'), 400, "idempotency-key-invalid")
    problem(*post('{"order_id":', '"e-2"'), 400, "malformed-json")
    # 422: an invalid order names the field with a JSON Pointer, in the
    # producer's words.
    bad = '{"order_id":"E-3","customer_id":"C","currency":"EUR","items":[{"sku":"S","quantity":"2","unit_price_cents":1}]}'
    p = problem(*post(bad, '"e-3"'), 422, "invalid-order")
    check(p["errors"] == [{"pointer": "/items/0/quantity",
                           "detail": "items[0].quantity: expected an integer, got string"}],
          f"errors {p.get('errors')}")
    p = problem(*post('{"order_id":"E-4"}', '"e-4"'), 422, "invalid-order")
    check(p["errors"][0]["pointer"] == "/customer_id", f"errors {p['errors']}")
    # 413: over limits.max_record_bytes (4096 in this test).
    big = order("E-5").replace('"C-1"', '"' + "c" * 5000 + '"')
    problem(*post(big, '"e-5"'), 413, "too-large")
    # 415, 404, 405 + Allow.
    problem(*request("POST", "/orders", order("E-6"),
                     {"Content-Type": "text/plain", "Idempotency-Key": '"e-6"'}), 415,
            "unsupported-media-type")
    problem(*request("GET", "/nowhere"), 404, "not-found")
    s, h, data = request("DELETE", "/orders")
    problem(s, h, data, 405, "method-not-allowed")
    check(h["Allow"] == "POST", f"Allow {h['Allow']}")
    s, h, data = request("POST", "/orders/A-1", order("A-1"))
    problem(s, h, data, 405, "method-not-allowed")
    check(h["Allow"] == "GET, HEAD", f"Allow {h['Allow']}")

    # 100 concurrent requests with one key: one 202 that is not a replay;
    # the rest 409 (still in flight) or replays of the same bytes.
    body = order("CONC-1")
    results = []
    lock = threading.Lock()
    start = threading.Barrier(100)

    def one():
        start.wait()
        r = post(body, '"conc-1"')
        with lock:
            results.append(r)

    threads = [threading.Thread(target=one) for _ in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    fresh = [r for r in results if r[0] == 202 and r[1]["Idempotent-Replayed"] is None]
    replays = [r for r in results if r[0] == 202 and r[1]["Idempotent-Replayed"] == "true"]
    busy = [r for r in results if r[0] == 409]
    check(len(results) == 100, f"{len(results)} answers")
    check(len(fresh) == 1, f"{len(fresh)} first answers among 100 concurrent requests")
    check(len(fresh) + len(replays) + len(busy) == 100,
          "other statuses: " + str(sorted({r[0] for r in results})))
    for r in replays:
        check(r[2] == fresh[0][2], "a replay differs from the first answer")
    for r in busy:
        problem(*r, 409, "idempotency-key-in-flight")
    published.append("conc-1")
    print(f"concurrent: 1 accepted, {len(replays)} replayed, {len(busy)} conflicts")

    # Health and metrics on the same port.
    s, _, data = request("GET", "/healthz")
    check(s == 200, f"/healthz {s}")
    s, _, data = request("GET", "/readyz")
    check(s == 200, f"/readyz {s} {data!r}")
    s, _, data = request("GET", "/metrics")
    text = data.decode()
    check(s == 200 and re.search(r"^orderflow_gateway_replays_total ([1-9][0-9]*)$", text, re.M),
          "no replays counted in /metrics")
    check(re.search(r'^orderflow_gateway_requests_total\{route="post_orders",status="409"\} '
                    f"{len(busy)}$", text, re.M), "409s not counted")
    for key in published:
        print("published", key)


def run_derived():
    s, h, data = request("POST", "/orders", order("D-1"))
    accepted(s, h, data, "D-1", "order_created:D-1")
    s, h, again = request("POST", "/orders", order("D-1"))
    check(again == data and h["Idempotent-Replayed"] == "true", "derived key replay")


def get_json(path, want=200):
    s, h, data = request("GET", path)
    check(s == want, f"GET {path}: {s} {data!r}")
    return json.loads(data), h


def run_pending():
    for oid, q in (("P-1", 2), ("P-0", 0)):
        s, h, data = post(order(oid, q), f'"{oid}"')
        accepted(s, h, data, oid, oid)
    body, h = get_json("/orders/P-1")
    check(body == {"order_id": "P-1", "status": "pending"}, f"P-1 {body}")
    check(h["Content-Type"] == "application/json", "GET Content-Type")
    t0 = time.monotonic()
    body, _ = get_json("/orders/P-1?wait=1")
    took = time.monotonic() - t0
    check(body["status"] == "pending" and 0.9 <= took < 5, f"?wait=1: {body} after {took:.2f} s")
    problem(*request("GET", "/orders/NOPE"), 404, "unknown-order")
    problem(*request("GET", "/orders/NOPE?wait=1"), 404, "unknown-order")
    problem(*request("GET", "/orders/P-1?wait=31"), 400, "bad-wait")
    problem(*request("GET", "/orders/P-1?wait=x"), 400, "bad-wait")


def run_results():
    t0 = time.monotonic()
    body, _ = get_json("/orders/P-1?wait=10")
    check(body["status"] == "accepted", f"P-1 after {time.monotonic() - t0:.2f} s: {body}")
    check(body["result"] == {"order_id": "P-1", "customer_id": "C-1", "currency": "EUR",
                             "item_count": 1, "quantity_total": 2, "total_cents": 3998,
                             "status": "accepted"}, f"P-1 result {body['result']}")
    body, _ = get_json("/orders/P-0?wait=10")
    check(body["status"] == "rejected" and body["result"]["status"] == "rejected" and
          "quantity 0" in body["result"]["reason"], f"P-0: {body}")
    # A long poll answered by the result as it arrives, not by its deadline.
    s, h, data = post(order("P-2"), '"P-2"')
    accepted(s, h, data, "P-2", "P-2")
    t0 = time.monotonic()
    body, _ = get_json("/orders/P-2?wait=20")
    took = time.monotonic() - t0
    check(body["status"] == "accepted" and took < 15, f"P-2: {body} after {took:.2f} s")


def run_first():
    s, h, data = post(order("R-1"), '"r-1"')
    accepted(s, h, data, "R-1", "r-1")
    open(sys.argv[3], "wb").write(data)


def run_restored():
    first = open(sys.argv[3], "rb").read()
    s, h, data = post(order("R-1"), '"r-1"')
    accepted(s, h, data, "R-1", "r-1")
    check(data == first, f"after the restart {data!r}, before {first!r}")
    check(h["Idempotent-Replayed"] == "true", "no Idempotent-Replayed after the restart")
    problem(*post(order("R-1", 5), '"r-1"'), 422, "idempotency-key-reused")
    body, _ = get_json("/orders/R-1")
    check(body == {"order_id": "R-1", "status": "pending"}, f"R-1 restored as {body}")


def unavailable(r, within, took):
    s, h, data = r
    problem(s, h, data, 503, "unavailable")
    check(h["Retry-After"] == "1", f"Retry-After {h['Retry-After']}")
    check(took < within, f"503 after {took:.2f} s, bound {within} s")


def run_warm():
    s, h, data = post(order("W-1"), '"w-1"')
    accepted(s, h, data, "W-1", "w-1")


def run_frozen():
    # One request waits for the frozen broker (max_in_flight = 1).
    out = []
    t0 = time.monotonic()
    waiting = threading.Thread(target=lambda: out.append(post(order("F-1"), '"f-1"')))
    waiting.start()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        _, _, data = request("GET", "/metrics")
        if re.search(rb"^orderflow_gateway_requests_in_flight 1$", data, re.M):
            break
        time.sleep(0.02)
    else:
        sys.exit("FAIL: the first request never went in flight")
    # Its key is in flight: 409. Another key: over max_in_flight, 503 at once.
    problem(*post(order("F-1"), '"f-1"'), 409, "idempotency-key-in-flight")
    t1 = time.monotonic()
    r = post(order("F-2"), '"f-2"')
    unavailable(r, 1.0, time.monotonic() - t1)
    check("max_in_flight" in json.loads(r[2])["detail"], f"detail {r[2]!r}")
    waiting.join()
    # request_timeout_ms = 1500: the delivery report says timed out soon after.
    unavailable(out[0], 4.0, time.monotonic() - t0)


def run_thawed():
    # The key freed by the 503 publishes on retry once the broker is back.
    deadline = time.monotonic() + 15
    while True:
        s, h, data = post(order("F-1"), '"f-1"')
        if s == 202 or time.monotonic() > deadline:
            break
        check(s == 503, f"retry: {s} {data!r}")
        time.sleep(0.2)
    accepted(s, h, data, "F-1", "f-1")


def run_gone():
    t0 = time.monotonic()
    unavailable(post(order("G-9"), '"g-9"'), 4.0, time.monotonic() - t0)


def run_after_restart():
    # Results processed before the restart are read back from data-processed.
    body, _ = get_json("/orders/P-1")
    check(body["status"] == "accepted" and body["result"]["total_cents"] == 3998, f"P-1: {body}")
    body, _ = get_json("/orders/P-0")
    check(body["status"] == "rejected", f"P-0: {body}")


{"post": run_post, "after_restart": run_after_restart, "warm": run_warm, "frozen": run_frozen, "thawed": run_thawed,
 "gone": run_gone, "first": run_first, "restored": run_restored, "derived": run_derived, "pending": run_pending,
 "results": run_results}[sys.argv[2]]()
