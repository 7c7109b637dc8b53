#!/usr/bin/python3
"""Reads kcat lines "KEY<TAB>IDEMPOTENCY-KEY-HEADER<TAB>VALUE" on stdin and
checks each value is a valid order_created envelope keyed by its order id.
Prints "records=N distinct_keys=N" and exits 1 on the first bad record."""
import json
import re
import sys

UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
REQUIRED = ["specversion", "id", "source", "type", "time", "datacontenttype",
            "idempotencykey", "subject", "schemaversion", "data"]

records = 0
keys = set()
ids = set()
for n, line in enumerate(sys.stdin, 1):
    key, header, value = line.rstrip("\n").split("\t", 2)
    ev = json.loads(value)
    missing = [a for a in REQUIRED if a not in ev]
    problems = []
    if missing:
        problems.append(f"missing {missing}")
    if ev.get("specversion") != "1.0":
        problems.append("specversion")
    if ev.get("type") != "order_created":
        problems.append("type")
    if not UUID7.match(ev.get("id", "")):
        problems.append("id is not a UUIDv7")
    if not TIME.match(ev.get("time", "")):
        problems.append("time")
    if ev.get("datacontenttype") != "application/json":
        problems.append("datacontenttype")
    if ev.get("schemaversion") != 1:
        problems.append("schemaversion")
    data = ev.get("data", {})
    if ev.get("subject") != key or data.get("order_id") != key:
        problems.append("record key != subject != data.order_id")
    if ev.get("idempotencykey") != "order_created:" + key or header != ev.get("idempotencykey"):
        problems.append("idempotency key (attribute/header)")
    if not data.get("items"):
        problems.append("no items")
    if problems:
        print(f"record {n}: {problems}: {value[:200]}", file=sys.stderr)
        sys.exit(1)
    records += 1
    keys.add(ev["idempotencykey"])
    ids.add(ev["id"])
if len(ids) != records:
    print(f"ids not unique: {len(ids)} ids for {records} records", file=sys.stderr)
    sys.exit(1)
print(f"records={records} distinct_keys={len(keys)}")
