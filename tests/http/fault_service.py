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
                                  starts with prefix, on attempts <= N (0: all);
                                  the rates spare these orders
  retry_after                     the Retry-After of a 429/503 ("1", or
                                  "date:N": an HTTP-date N seconds ahead)
  hang_ms                         how long a hang lasts if the client stays

One thread (asyncio), no thread per connection, so that it is not the
slowest part of a benchmark. It records every request (arrival and finish on CLOCK_MONOTONIC, shared by
every process of the machine, so logs of a killed and restarted service
combine) and serves GET /stats; --log FILE appends each record as a JSON line,
and `fault_service.py stats FILE...` computes the same figures from logs.
Hung requests end when the client gives up (its timeout closes the
connection); they are left out of the concurrency figures, which are about
requests the client still waits for.

Usage: fault_service.py [--port N] [--config JSON] [--log FILE] [--no-stats]
       fault_service.py stats [--orders] FILE...
Prints "listening 127.0.0.1:PORT" once it accepts connections."""
import argparse
import asyncio
import email.utils
import json
import random
import socket
import struct
import sys
import time

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
           "answered_twice": [], "attempt_gaps": [], "resent": 0}
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
    # attempt; attempts of one processor life count 1, 2, 3... with no gap (a call
    # sent again with the same number is counted apart: resent).
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
            if r["attempt"] == expected - 1:
                # The same call again: libcurl re-sends a request by itself
                # when a kept-alive connection dies before any byte of the
                # answer (it cannot tell a stale connection from a reset), or
                # a processor that took the partition over calls attempt 1
                # again; the Idempotency-Key is what makes either safe.
                out["resent"] += 1
            elif r["attempt"] not in (expected, 1):
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
    def __init__(self, config, log_path, keep=True):
        self.keep = keep
        self.config = dict(DEFAULTS)
        self.configure(config)
        self.records = []
        self.log = open(log_path, "a", buffering=1) if log_path else None

    def configure(self, changes):
        self.config.update(changes)
        self.rng = random.Random(self.config["seed"])
        return dict(self.config)

    def decide(self, order_id, attempt):
        """The fault for this request: an HTTP status, "hang", "reset" or
        None (answer), its Retry-After and body, and the latency."""
        c = self.config
        latency = c["latency_ms"] + self.rng.uniform(0, c["latency_jitter_ms"])
        for rule in c["rules"]:
            if order_id.startswith(rule["prefix"]):
                if not rule.get("attempts") or attempt <= rule["attempts"]:
                    return (rule["action"], rule.get("retry_after", c["retry_after"]),
                            rule.get("body"), latency)
                return None, None, None, latency  # a rule's order: no random fault
        draw = self.rng.random()
        for action, rate in sorted(c["rates"].items()):
            if draw < rate:
                action = int(action) if action.isdigit() else action
                return action, c["retry_after"], None, latency
            draw -= rate
        return None, None, None, latency

    def record(self, r):
        if self.keep:
            self.records.append(r)
        if self.log:
            self.log.write(json.dumps(r) + "\n")


class Connection(asyncio.Protocol):
    """One client connection: HTTP/1.1 keep-alive, requests answered one at
    a time in arrival order (the handler's client does not pipeline)."""

    def __init__(self, service):
        self.service = service
        self.buffer = b""
        self.queue = asyncio.Queue()
        self.closed = asyncio.get_running_loop().create_future()
        self.worker = None

    def connection_made(self, transport):
        self.transport = transport
        self.worker = asyncio.ensure_future(self.serve())

    def connection_lost(self, exc):
        if not self.closed.done():
            self.closed.set_result(None)
        self.queue.put_nowait(None)

    def data_received(self, data):
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            lines = self.buffer[:head_end].decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length") or 0)
            if len(self.buffer) < head_end + 4 + length:
                return
            body = self.buffer[head_end + 4:head_end + 4 + length]
            self.buffer = self.buffer[head_end + 4 + length:]
            method, path = (lines[0].split(" ") + ["", ""])[:2]
            self.queue.put_nowait((method, path, headers, body))

    def reply(self, status, body, headers=()):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        head = ["HTTP/1.1 %d %s" % (status, REASONS.get(status, "OK")),
                "Content-Type: application/json", "Content-Length: %d" % len(data)]
        head += ["%s: %s" % h for h in headers]
        self.transport.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)

    async def serve(self):
        while True:
            request = await self.queue.get()
            if request is None or self.transport.is_closing():
                return
            try:
                if not await self.handle(*request):
                    return
            except Exception as e:  # a bug here must show, not hang the client
                print(f"fault_service.py: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
                self.transport.abort()
                return

    async def handle(self, method, path, h, body):
        """Answers one request; False when the connection is done."""
        svc = self.service
        if method == "GET" and path.startswith("/stats"):
            self.reply(200, stats(list(svc.records), with_orders="orders=1" in path))
            return True
        if method == "GET" and path == "/config":
            self.reply(200, svc.configure({}))
            return True
        if method == "POST" and path == "/control":
            self.reply(200, svc.configure(json.loads(body)))
            return True
        if method != "POST":
            self.reply(404, {"error": "POST an order, GET /stats or /config, POST /control"})
            return True
        arrival = time.monotonic()
        try:
            if h.get("content-type", "").startswith("application/cloudevents+json"):
                envelope = json.loads(body)
                order, ce_id, subject = envelope["data"], envelope["id"], envelope["subject"]
            else:
                order, ce_id, subject = json.loads(body), h.get("ce-id"), h.get("ce-subject")
            attempt = int(h.get("orderflow-attempt") or 0)
        except (ValueError, KeyError, TypeError) as e:
            self.reply(400, {"error": f"not a CloudEvents order: {e}"})
            return True
        rec = {"arrival": arrival, "key": subject, "order_id": order.get("order_id"),
               "idempotency_key": h.get("idempotency-key"), "ce_id": ce_id,
               "attempt": attempt, "traceparent": h.get("traceparent"),
               "ce_type": h.get("ce-type"), "path": path}
        action, retry_after, fault_body, latency = svc.decide(str(order.get("order_id")), attempt)
        if action == "hang":
            # Until the client gives up (closes) or hang_ms passes.
            try:
                await asyncio.wait_for(asyncio.shield(self.closed), svc.config["hang_ms"] / 1000)
            except asyncio.TimeoutError:
                pass
            rec.update(finish=time.monotonic(), outcome="hang")
            svc.record(rec)
            self.transport.close()
            return False
        if latency > 0:
            await asyncio.sleep(latency / 1000)
        if action == "reset":
            rec.update(finish=time.monotonic(), outcome="reset")
            svc.record(rec)
            sock = self.transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.transport.abort()
            return False
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
        return True


async def serve(port, service):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Connection(service), "127.0.0.1", port,
                                      reuse_address=True, backlog=1024)
    print("listening 127.0.0.1:%d" % server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


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
    p.add_argument("--no-stats", action="store_true",
                   help="keep no records in memory (benchmarks, long runs): /stats is empty")
    a = p.parse_args()
    try:
        config = json.loads(a.config)
    except ValueError as e:
        sys.exit(f"fault_service.py: --config: {e}")
    try:
        asyncio.run(serve(a.port, Service(config, a.log, not a.no_stats)))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
