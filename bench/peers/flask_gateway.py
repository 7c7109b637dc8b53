"""Peer for orderflow-gateway: the seed-style service, Flask plus
confluent-kafka, doing the same POST /orders with the same idempotency rules
(docs/gateway.md): a request becomes one order_created event, answered 202
once Kafka acknowledged it (acks=all, idempotent producer); the same
Idempotency-Key with the same body replays the first response, with another
body gets 422, while the first is in flight gets 409; no key gets 400.

Run it as a team would in production, under gunicorn (Debian's package):
  FLASK_GATEWAY_BROKERS=B gunicorn -w 2 -k gthread --threads 16 \
      --chdir bench/peers flask_gateway:app
Keys live in each worker's memory (a dict and a lock): with 2 workers a key
is only known to the worker that served it, the usual weakness of this
design, which orderflow-gateway avoids by keeping keys in Kafka. The
benchmark gives every request its own key, so it does not change the
figures."""
import hashlib
import json
import os
import threading

from confluent_kafka import Producer
from flask import Flask, Response, request

from envelope import order_created

BROKERS = os.environ.get("FLASK_GATEWAY_BROKERS", "127.0.0.1:9092")
TOPIC = os.environ.get("FLASK_GATEWAY_TOPIC", "order-created")
TIMEOUT_S = float(os.environ.get("FLASK_GATEWAY_TIMEOUT_S", "5"))
RETENTION_S = 86400

app = Flask(__name__)
_producer = None
_producer_lock = threading.Lock()
_keys = {}  # key -> ("in_flight", fingerprint) | ("done", fingerprint, status, body)
_keys_lock = threading.Lock()


def producer():
    """One producer per worker process, created after gunicorn forked it."""
    global _producer
    with _producer_lock:
        if _producer is None:
            _producer = Producer({"bootstrap.servers": BROKERS, "enable.idempotence": True,
                                  "acks": "all", "linger.ms": 5,
                                  "message.timeout.ms": int(TIMEOUT_S * 1000)})
            threading.Thread(target=_poll_forever, daemon=True).start()
        return _producer


def _poll_forever():
    while True:
        _producer.poll(0.1)


def problem(status, title, detail, headers=None):
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail})
    return Response(body, status=status, mimetype="application/problem+json", headers=headers)


def parse_key(raw):
    if raw is None:
        return None
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        raw = raw[1:-1]
    if not 1 <= len(raw) <= 255 or not all(32 <= ord(c) < 127 for c in raw):
        raise ValueError("Idempotency-Key must be 1..255 printable ASCII characters")
    return raw


def invalid_order(order):
    """(pointer, detail) of the first structural fault, or None."""
    if not isinstance(order, dict):
        return ("", "expected an object")
    for name in ("order_id", "customer_id", "currency"):
        if not isinstance(order.get(name), str):
            return ("/" + name, "expected a string")
    if not order["order_id"]:
        return ("/order_id", "must not be empty")
    items = order.get("items")
    if not isinstance(items, list):
        return ("/items", "expected an array")
    for i, it in enumerate(items):
        if not isinstance(it, dict) or not isinstance(it.get("sku"), str):
            return ("/items/%d/sku" % i, "expected a string")
        for name in ("quantity", "unit_price_cents"):
            v = it.get(name)
            if not isinstance(v, int) or isinstance(v, bool):
                return ("/items/%d/%s" % (i, name), "expected an integer")
    return None


@app.post("/orders")
def create_order():
    if request.mimetype != "application/json":
        return problem(415, "Unsupported Media Type", "send application/json")
    body = request.get_data()
    try:
        key = parse_key(request.headers.get("Idempotency-Key"))
    except ValueError as e:
        return problem(400, "Bad Request", str(e))
    if key is None:
        return problem(400, "Bad Request", "the Idempotency-Key header is required")
    fingerprint = hashlib.sha256(body).hexdigest()
    with _keys_lock:
        seen = _keys.get(key)
        if seen is not None:
            if seen[1] != fingerprint:
                return problem(422, "Unprocessable Content",
                               "Idempotency-Key was used with another request body")
            if seen[0] == "in_flight":
                return problem(409, "Conflict", "a request with this Idempotency-Key is in flight")
            return Response(seen[3], status=seen[2], mimetype="application/json",
                            headers={"Idempotent-Replayed": "true",
                                     "Location": "/orders/" + json.loads(seen[3])["order_id"],
                                     "Idempotency-Key-Retention": str(RETENTION_S)})
        _keys[key] = ("in_flight", fingerprint)
    try:
        try:
            order = json.loads(body)
        except ValueError as e:
            return problem(400, "Bad Request", "malformed JSON: %s" % e)
        fault = invalid_order(order)
        if fault:
            r = problem(422, "Unprocessable Content", "invalid order")
            r.set_data(json.dumps({"type": "about:blank", "title": "Unprocessable Content",
                                   "status": 422, "detail": "invalid order",
                                   "errors": [{"pointer": fault[0], "detail": fault[1]}]}))
            return r
        ev = order_created(order, source="flask-gateway")
        ev["idempotencykey"] = key
        done = threading.Event()
        outcome = {}

        def delivered(err, msg):
            outcome["err"], outcome["msg"] = err, msg
            done.set()

        value = json.dumps(ev, separators=(",", ":"))
        try:
            producer().produce(TOPIC, value, key=ev["subject"], on_delivery=delivered,
                               headers=[("content-type",
                                         b"application/cloudevents+json; charset=utf-8"),
                                        ("idempotency-key", key.encode()),
                                        ("idempotency-fingerprint", fingerprint.encode())])
        except BufferError:
            return problem(503, "Service Unavailable", "producer queue full",
                           {"Retry-After": "1"})
        if not done.wait(TIMEOUT_S + 1) or outcome["err"] is not None:
            return problem(503, "Service Unavailable", "Kafka did not acknowledge the event",
                           {"Retry-After": "1"})
        msg = outcome["msg"]
        resp = json.dumps({"order_id": order["order_id"], "id": ev["id"], "idempotencykey": key,
                           "topic": TOPIC, "partition": msg.partition(),
                           "offset": msg.offset()}, separators=(",", ":"))
        with _keys_lock:
            _keys[key] = ("done", fingerprint, 202, resp)
        return Response(resp, status=202, mimetype="application/json",
                        headers={"Location": "/orders/" + order["order_id"],
                                 "Idempotency-Key-Retention": str(RETENTION_S)})
    finally:
        with _keys_lock:
            if _keys.get(key, ("",))[0] == "in_flight":
                del _keys[key]  # not published: a retry may try again
