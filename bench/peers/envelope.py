"""The orderflow envelope in Python, for the benchmark peers: the same
generator, validation and processing rules as lib/, in plain Python."""
import json
import os
import time

CURRENCIES = ["EUR", "USD", "GBP", "CHF", "SEK", "JPY"]
M64 = (1 << 64) - 1
INT64_MAX = (1 << 63) - 1
REQUIRED = ("specversion", "id", "source", "type", "time", "datacontenttype",
            "idempotencykey", "subject", "schemaversion", "data")


def _mix(x):
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def generate(seed, index):
    """Order number index (0-based) of seed, as producer/generator.c makes it."""
    r = _mix(seed ^ _mix(index))
    items = []
    for i in range(1 + (r >> 20) % 5):  # GENERATOR_MAX_ITEMS
        ri = _mix((r + i + 1) & M64)
        items.append({"sku": "SKU-%d" % (ri % 5000), "quantity": 1 + (ri >> 16) % 9,
                      "unit_price_cents": 99 + (ri >> 32) % 99901})
    return {"order_id": "G%d-%d" % (seed, index + 1), "customer_id": "C-%d" % (r % 100000),
            "currency": CURRENCIES[(r >> 8) % 6], "items": items}


def uuid7():
    ms = int(time.time() * 1000)
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms << 80) | (0x7 << 76) | ((rand >> 68) & 0xFFF) << 64 | (0b10 << 62) | (rand & ((1 << 62) - 1))
    h = "%032x" % value
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


def now_rfc3339():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % (int(t * 1000) % 1000)


def order_created(order, source="python-producer"):
    return {"specversion": "1.0", "id": uuid7(), "source": source, "type": "order_created",
            "time": now_rfc3339(), "datacontenttype": "application/json",
            "idempotencykey": "order_created:" + order["order_id"], "subject": order["order_id"],
            "schemaversion": 1, "data": order}


def validate(ev):
    """None if ev is a valid order_created envelope, else the reason."""
    if not isinstance(ev, dict):
        return "not an object"
    for name in REQUIRED:
        if name not in ev:
            return "missing " + name
    if ev["specversion"] != "1.0" or ev["type"] != "order_created" or ev["schemaversion"] != 1:
        return "unknown specversion, type or schemaversion"
    for name in REQUIRED[:8]:
        if not isinstance(ev[name], str) or not ev[name]:
            return name + " is not a non-empty string"
    key = ev["idempotencykey"]
    if len(key) > 256 or not all(32 < ord(c) < 127 for c in key):
        return "bad idempotencykey"
    d = ev["data"]
    if not isinstance(d, dict):
        return "data is not an object"
    for name in ("order_id", "customer_id", "currency"):
        if not isinstance(d.get(name), str):
            return "data.%s is not a string" % name
    if d["order_id"] != ev["subject"]:
        return "subject differs from data.order_id"
    items = d.get("items")
    if not isinstance(items, list) or len(items) > 10000:
        return "data.items is not an array of at most 10000"
    for it in items:
        if not isinstance(it, dict) or not isinstance(it.get("sku"), str):
            return "bad item"
        for name in ("quantity", "unit_price_cents"):
            v = it.get(name)
            if not isinstance(v, int) or isinstance(v, bool) or not -INT64_MAX - 1 <= v <= INT64_MAX:
                return "item %s is not an int64" % name
    return None


def process(d):
    """The data_processed payload for order data d (the rules of lib/processing)."""
    out = {"order_id": d["order_id"], "customer_id": d["customer_id"], "currency": d["currency"],
           "item_count": len(d["items"]), "quantity_total": 0, "total_cents": 0}
    reason = None
    if not d["items"]:
        reason = "order has no items"
    for i, it in enumerate(d["items"], 1):
        if reason:
            break
        if it["quantity"] < 1:
            reason = "item %d (%s): quantity %d is below 1" % (i, it["sku"], it["quantity"])
        elif it["unit_price_cents"] < 0:
            reason = "item %d (%s): negative unit price %d" % (i, it["sku"], it["unit_price_cents"])
    cur = d["currency"]
    if not reason and not (len(cur) == 3 and cur.isascii() and cur.isupper() and cur.isalpha()):
        reason = "currency '%s' is not three capital letters" % cur
    if not reason:
        q = sum(it["quantity"] for it in d["items"])
        t = sum(it["quantity"] * it["unit_price_cents"] for it in d["items"])
        if q > INT64_MAX or t > INT64_MAX:
            reason = "total overflows int64"
        else:
            out["quantity_total"], out["total_cents"] = q, t
    out["status"] = "rejected" if reason else "accepted"
    if reason:
        out["reason"] = reason
    return out


def data_processed(ev, payload, source="python-processor"):
    return {"specversion": "1.0", "id": uuid7(), "source": source, "type": "data_processed",
            "time": now_rfc3339(), "datacontenttype": "application/json",
            "idempotencykey": "data_processed:" + ev["idempotencykey"], "subject": ev["subject"],
            "correlationid": ev.get("correlationid") or ev["id"], "causationid": ev["id"],
            "schemaversion": 1, "data": payload}
