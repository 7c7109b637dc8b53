#!/usr/bin/python3
"""A fault-injecting order service for the HTTP handler's tests and benchmarks
(docs/handlers.md, "The HTTP handler"; docs/reliability.md).

It answers CloudEvents HTTP POSTs (binary mode: ce-* headers and the order as
the body; structured mode: the whole envelope, application/cloudevents+json)
with the data_processed data computed from the order (docs/envelope.md,
"data_processed data"), so a test can check the bytes the processor emits.
Faults come from the configuration (--config JSON at start, POST /control to
change it live):

  latency_ms, latency_jitter_ms   every answer waits latency_ms + U(0, jitter)
  rates: {"500": 0.05, "503": .., "429": .., "hang": .., "reset": ..}
                                  a random fault per request (seeded)
  rules: [{"prefix": "BAD-", "action": 422 | "hang" | "reset", "attempts": N,
           "body": "...", "retry_after": "2" | "date:2"}]
                                  deterministic faults for orders whose id
                                  starts with prefix, on attempts <= N (0: all)
  retry_after                     the Retry-After of a 429/503 ("1", or
                                  "date:N": an HTTP-date N seconds ahead)
  hang_ms                         how long a hang lasts if the client stays

It records every request (arrival and finish on CLOCK_MONOTONIC, shared by
every process of the machine, so logs of a killed and restarted service
combine) and serves GET /stats; --log FILE appends each record as a JSON line,
and `fault_service.py stats FILE...` computes the same figures from logs.
Hung requests end when the client gives up (its timeout closes the
connection); they are left out of the concurrency figures, which are about
requests the client still waits for.

Usage: fault_service.py [--port N] [--config JSON] [--log FILE]
       fault_service.py stats [--orders] FILE...
Prints "listening 127.0.0.1:PORT" once it accepts connections."""
import argparse
import email.utils
import json
import random
import select
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULTS = {"latency_ms": 0, "latency_jitter_ms": 0, "rates": {}, "rules": [],
            "retry_after": None, "hang_ms": 30000, "seed": 1}
REASONS = {400: "Bad Request", 404: "Not Found", 409: "Conflict", 410: "Gone",
           413: "Payload Too Large", 415: "Unsupported Media Type",
           422: "Unprocessable Entity", 425: "Too Early", 429: "Too Many Requests",
           408: "Request Timeout", 500: "Internal Server Error", 502: "Bad Gateway",
           503: "Service Unavailable", 504: "Gateway Timeout"}


def processed_data(order):
    """The data_processed data of a valid order, as orderflow's own stage
    computes it (docs/envelope.md); the service does not judge orders."""
    items = order.get("items") or []
    return {"order_id": order["order_id"], "customer_id": order["customer_id"],
            "currency": order["currency"], "item_count": len(items),
            "quantity_total": sum(i["quantity"] for i in items),
            "total_cents": sum(i["quantity"] * i["unit_price_cents"] for i in items),
            "status": "accepted"}


def stats(records, with_orders=False):
    """The figures a test asserts on, from request records (see the module's
    docstring). Every list is sorted so that two runs compare equal."""
    out = {"requests": len(records), "by_outcome": {}, "max_concurrent": 0,
           "key_overlaps": [], "events": 0, "events_with_several_keys": [],
           "answered_twice": [], "attempt_gaps": []}
    for r in records:
        out["by_outcome"][str(r["outcome"])] = out["by_outcome"].get(str(r["outcome"]), 0) + 1
    # Concurrency by a sweep over [arrival, finish]: an end before a start at
    # the same instant (a response is recorded before its bytes leave).
    live = [r for r in records if r["outcome"] != "hang"]
    edges = sorted([(r["arrival"], 1, i) for i, r in enumerate(live)] +
                   [(r["finish"], 0, i) for i, r in enumerate(live)])
    now, by_key = 0, {}
    for _, start, i in edges:
        r = live[i]
        if start:
            now += 1
            out["max_concurrent"] = max(out["max_concurrent"], now)
            other = by_key.get(r["key"])
            if other is not None:
                out["key_overlaps"].append([r["key"], other["idempotency_key"],
                                            r["idempotency_key"]])
            by_key[r["key"]] = r
        else:
            now -= 1
            if by_key.get(r["key"]) is r:
                del by_key[r["key"]]
    # One event (its ce-id, or structured mode's id) carries one key on every
    # attempt; attempts of one processor life count 1, 2, 3... with no gap.
    by_event, answered = {}, {}
    for r in sorted(records, key=lambda r: r["arrival"]):
        by_event.setdefault(r["ce_id"], []).append(r)
        if isinstance(r["outcome"], int) and 200 <= r["outcome"] < 300:
            answered[r["idempotency_key"]] = answered.get(r["idempotency_key"], 0) + 1
    out["events"] = len(by_event)
    for ce_id, rs in by_event.items():
        if len({r["idempotency_key"] for r in rs}) != 1:
            out["events_with_several_keys"].append(ce_id)
        expected = 1
        for r in rs:
            if r["attempt"] not in (expected, 1):
                out["attempt_gaps"].append([ce_id, expected, r["attempt"]])
            expected = r["attempt"] + 1
    out["answered_twice"] = sorted(k for k, n in answered.items() if n > 1)
    out["key_overlaps"].sort()
    out["events_with_several_keys"].sort()
    if with_orders:
        # Per record key, the idempotency keys in the order of their first
        # attempt: the test compares it with the input order.
        first, seen = {}, set()
        for r in sorted(records, key=lambda r: r["arrival"]):
            if r["idempotency_key"] not in seen:
                seen.add(r["idempotency_key"])
                first.setdefault(r["key"], []).append(r["idempotency_key"])
        out["first_attempts"] = first
    return out


class Service:
    def __init__(self, config, log_path):
        self.lock = threading.Lock()
        self.config = dict(DEFAULTS)
        self.configure(config)
        self.records = []
        self.log = open(log_path, "a", buffering=1) if log_path else None

    def configure(self, changes):
        with self.lock:
            self.config.update(changes)
            self.rng = random.Random(self.config["seed"])
            return dict(self.config)

    def decide(self, order_id, attempt):
        """The fault for this request: an HTTP status, "hang", "reset" or
        None (answer), its Retry-After and body, and the latency."""
        with self.lock:
            c = self.config
            latency = c["latency_ms"] + self.rng.uniform(0, c["latency_jitter_ms"])
            for rule in c["rules"]:
                if order_id.startswith(rule["prefix"]) and (
                        not rule.get("attempts") or attempt <= rule["attempts"]):
                    return (rule["action"], rule.get("retry_after", c["retry_after"]),
                            rule.get("body"), latency)
            draw = self.rng.random()
            for action, rate in sorted(c["rates"].items()):
                if draw < rate:
                    action = int(action) if action.isdigit() else action
                    return action, c["retry_after"], None, latency
                draw -= rate
            return None, None, None, latency

    def record(self, r):
        with self.lock:
            self.records.append(r)
            if self.log:
                self.log.write(json.dumps(r) + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the handler's client expects

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=()):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status, REASONS.get(status))
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        svc = self.server.service
        if self.path.startswith("/stats"):
            with svc.lock:
                records = list(svc.records)
            self.reply(200, stats(records, with_orders="orders=1" in self.path))
        elif self.path == "/config":
            self.reply(200, svc.configure({}))
        else:
            self.reply(404, {"error": "GET /stats or /config"})

    def do_POST(self):
        svc = self.server.service
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/control":
            self.reply(200, svc.configure(json.loads(body)))
            return
        arrival = time.monotonic()
        h = self.headers
        try:
            if (h.get("Content-Type") or "").startswith("application/cloudevents+json"):
                envelope = json.loads(body)
                order, ce_id, subject = envelope["data"], envelope["id"], envelope["subject"]
            else:
                order, ce_id, subject = json.loads(body), h.get("ce-id"), h.get("ce-subject")
            attempt = int(h.get("orderflow-attempt") or 0)
        except (ValueError, KeyError, TypeError) as e:
            self.reply(400, {"error": f"not a CloudEvents order: {e}"})
            return
        rec = {"arrival": arrival, "key": subject, "order_id": order.get("order_id"),
               "idempotency_key": h.get("Idempotency-Key"), "ce_id": ce_id,
               "attempt": attempt, "traceparent": h.get("traceparent"),
               "ce_type": h.get("ce-type"), "path": self.path}
        action, retry_after, fault_body, latency = svc.decide(str(order.get("order_id")), attempt)
        if action == "hang":
            # Until the client gives up (closes) or hang_ms passes.
            end = arrival + svc.config["hang_ms"] / 1000
            while time.monotonic() < end:
                ready, _, _ = select.select([self.connection], [], [], 0.002)
                if ready and not self.connection.recv(1, socket.MSG_PEEK):
                    break
            rec.update(finish=time.monotonic(), outcome="hang")
            svc.record(rec)
            self.close_connection = True
            return
        time.sleep(latency / 1000)
        if action == "reset":
            rec.update(finish=time.monotonic(), outcome="reset")
            svc.record(rec)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        headers = []
        if retry_after:
            if str(retry_after).startswith("date:"):
                when = time.time() + float(retry_after[5:])
                headers.append(("Retry-After", email.utils.formatdate(when, usegmt=True)))
            else:
                headers.append(("Retry-After", str(retry_after)))
        if action is None:
            try:
                status, answer = 200, processed_data(order)
            except (KeyError, TypeError) as e:
                status, answer = 422, {"error": f"order without {e}"}
        else:
            status = int(action)
            answer = (fault_body.encode() if fault_body is not None else
                      {"error": f"injected {status}", "order_id": order.get("order_id")})
        rec.update(finish=time.monotonic(), outcome=status)
        svc.record(rec)
        self.reply(status, answer, headers)

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except OSError:  # the reset above, or a client gone mid-answer
            self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True  # restartable on the same port
    request_queue_size = 1024


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "stats":
        p = argparse.ArgumentParser(prog="fault_service.py stats")
        p.add_argument("--orders", action="store_true")
        p.add_argument("logs", nargs="+")
        a = p.parse_args(sys.argv[2:])
        records = []
        for path in a.logs:
            with open(path) as f:
                records += [json.loads(line) for line in f if line.endswith("\n")]
        print(json.dumps(stats(records, a.orders)))
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--config", default="{}", help="JSON object: the faults (see the docstring)")
    p.add_argument("--log", help="append one JSON line per request")
    a = p.parse_args()
    try:
        config = json.loads(a.config)
    except ValueError as e:
        sys.exit(f"fault_service.py: --config: {e}")
    server = Server(("127.0.0.1", a.port), Handler)
    server.service = Service(config, a.log)
    print("listening 127.0.0.1:%d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
