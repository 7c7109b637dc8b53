#!/usr/bin/python3
"""Checks a run of the HTTP handler from both ends: what Kafka holds
(data-processed and order-created.dlq, read read_committed) against the
inputs produce_orders.py wrote, and what the fault service saw (its logs).

Usage: check_run.py BROKERS INPUTS.jsonl LOG... [--max-in-flight N]
         [--dead PREFIX=REGEX]... [--empty PREFIX]... [--exactly-once] [--service-away]
Asserts, and names the first input or key at fault:
- every input has an output (0 lost): a data_processed whose data is the
  service's answer for that order byte for byte (`{}` for --empty prefixes),
  or, for a --dead prefix, a dead letter whose orderflow-error matches REGEX;
  never both; with --exactly-once no input has two (raw duplicates 0);
- per record key, data-processed holds the inputs' first outputs in input order;
- the service saw each key's events first in input order, never two calls of
  one key at once, one Idempotency-Key per event (the input's) on every
  attempt, attempts numbered 1, 2, 3... (but for calls a killed service never
  saw: --service-away), at most N calls at once.
Prints one line of figures; exit 1 with "FAIL: ..." otherwise."""
import argparse
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts", "kafka"))
sys.path.insert(0, HERE)
import ofkafka  # noqa: E402
from fault_service import processed_data, stats  # noqa: E402


def fail(message):
    sys.exit("FAIL: " + message)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("brokers")
    p.add_argument("inputs")
    p.add_argument("logs", nargs="+")
    p.add_argument("--max-in-flight", type=int)
    p.add_argument("--dead", action="append", default=[])
    p.add_argument("--empty", action="append", default=[])
    p.add_argument("--exactly-once", action="store_true")
    p.add_argument("--service-away", action="store_true",
                   help="the service was killed at times: the calls it never saw leave "
                   "gaps in the attempt numbers")
    a = p.parse_args()
    dead = [tuple(d.split("=", 1)) for d in a.dead]
    with open(a.inputs) as f:
        inputs = [json.loads(line) for line in f]
    by_key = {i["idempotency_key"]: i for i in inputs}

    outputs = {}  # input idempotency key -> ["dp" | "dlq", detail]...
    order_seen = {}  # record key -> input seqs of data-processed, first outputs only
    for m in ofkafka.read_messages(a.brokers, "data-processed", group="check-run"):
        env = json.loads(m.value())
        key = env["idempotencykey"].removeprefix("data_processed:")
        if key not in by_key:
            fail(f"data-processed offset {m.partition()}/{m.offset()}: idempotency key {key!r} "
                 "is no input's")
        if key not in outputs:
            order_seen.setdefault(m.key().decode(), []).append(by_key[key]["seq"])
        outputs.setdefault(key, []).append(("dp", env["data"]))
    for m in ofkafka.read_messages(a.brokers, "order-created.dlq", group="check-run"):
        headers = {k: v.decode("utf-8", "replace") for k, v in (m.headers() or [])}
        key = headers.get("idempotency-key") or json.loads(m.value())["idempotencykey"]
        outputs.setdefault(key, []).append(("dlq", headers.get("orderflow-error", "")))

    lost, duplicates = [], 0
    for i in inputs:
        key, order_id = i["idempotency_key"], i["order"]["order_id"]
        got = outputs.get(key, [])
        if not got:
            lost.append(key)
            continue
        duplicates += len(got) - 1
        kinds = {g[0] for g in got}
        want = next((r for prefix, r in dead if order_id.startswith(prefix)), None)
        if want is not None:
            if kinds != {"dlq"}:
                fail(f"{key}: want a dead letter matching {want!r}, got {got[:2]}")
            if not re.search(want, got[0][1]):
                fail(f"{key}: orderflow-error {got[0][1]!r} does not match {want!r}")
        else:
            if kinds != {"dp"}:
                fail(f"{key}: want a data_processed, got {got[:2]}")
            expected = {} if any(order_id.startswith(e) for e in a.empty) else \
                processed_data(i["order"])
            for _, data in got:
                if data != expected:
                    fail(f"{key}: data {json.dumps(data)} is not the service's answer "
                         f"{json.dumps(expected)}")
    if lost:
        fail(f"{len(lost)} inputs lost, first {lost[:5]}")
    if a.exactly_once and duplicates:
        fail(f"{duplicates} raw duplicates under exactly_once")
    for rkey, seqs in order_seen.items():
        if seqs != sorted(seqs):
            fail(f"key {rkey}: data-processed holds its inputs in the order {seqs}")

    records = []
    for path in a.logs:
        with open(path) as f:
            records += [json.loads(line) for line in f if line.endswith("\n")]
    s = stats(records, with_orders=True)
    if s["key_overlaps"]:
        fail(f"the service saw two calls of one key at once: {s['key_overlaps'][:3]}")
    if s["events_with_several_keys"]:
        fail(f"events sent with several Idempotency-Keys: {s['events_with_several_keys'][:3]}")
    if s["attempt_gaps"] and not a.service_away:
        fail(f"attempt numbers with a gap (event, expected, got): {s['attempt_gaps'][:3]}")
    strangers = {r["idempotency_key"] for r in records} - set(by_key)
    if strangers:
        fail(f"Idempotency-Keys that are no input's: {sorted(strangers)[:3]}")
    position = {i["idempotency_key"]: i["seq"] for i in inputs}
    for rkey, keys in s["first_attempts"].items():
        seqs = [position[k] for k in keys]
        if seqs != sorted(seqs):
            fail(f"key {rkey}: the service saw its events first in the order {seqs}")
    if a.max_in_flight is not None and s["max_concurrent"] > a.max_in_flight:
        fail(f"{s['max_concurrent']} calls at once, above max_in_flight {a.max_in_flight}")
    dlq = sum(1 for g in outputs.values() for k, _ in g if k == "dlq")
    print(f"inputs={len(inputs)} processed={sum(1 for g in outputs.values() for k, _ in g if k == 'dp')}"
          f" dead={dlq} lost=0 raw_duplicates={duplicates} requests={s['requests']}"
          f" retries={s['requests'] - s['events']} events={s['events']}"
          f" resent={s['resent']} answered_twice={len(s['answered_twice'])}"
          f" max_concurrent={s['max_concurrent']}"
          f" outcomes={json.dumps(s['by_outcome'], separators=(',', ':'))}")


if __name__ == "__main__":
    main()
