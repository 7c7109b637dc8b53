#!/usr/bin/python3
"""Reads read_topic.py lines of data-processed or the dead-letter topic on
stdin and prints them normalised for outputs_unchanged.sh, one a line, in
partition then offset order: what differs between two runs over the same
inputs (event id, time, the consumer group in source, the span id of a
traceparent) is masked; everything else is kept byte for byte. --golden
also masks what differs between two runs of the producer (the inputs' ids,
which become causationid and correlationid, and trace ids).
Usage: outputs_normalize.py [--golden] < records.jsonl"""
import json
import re
import sys

golden = "--golden" in sys.argv
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def traceparent(value):
    m = TRACEPARENT.match(value)
    if not m:
        return value
    trace = "<trace>" if golden else m.group(1)
    return f"00-{trace}-<span>-{m.group(3)}"


def event(value):
    """A data_processed value; kept as text when it is not JSON (never expected)."""
    try:
        ev = json.loads(value)
    except ValueError:
        return value
    ev["id"] = "<id>" if UUID.fullmatch(ev.get("id", "")) else ev.get("id")
    ev["time"] = "<time>"
    ev["source"] = re.sub(r"^orderflow-consumer/.*", "orderflow-consumer/<group>", ev["source"])
    if "traceparent" in ev:
        ev["traceparent"] = traceparent(ev["traceparent"])
    if golden:
        for attr in ("causationid", "correlationid"):
            if UUID.fullmatch(ev.get(attr, "")):
                ev[attr] = "<input id>"
    # Key order as written: the encoder's order is part of the bytes.
    return json.dumps(ev, ensure_ascii=False, separators=(",", ":"))


records = [json.loads(line) for line in sys.stdin]
records.sort(key=lambda r: (r["partition"], r["offset"]))
for r in records:
    headers = dict(r["headers"])
    if "traceparent" in headers:
        headers["traceparent"] = traceparent(headers["traceparent"])
    dead_letter = "orderflow-error" in headers
    if golden and dead_letter:
        # The input's own headers travel along; their trace ids are the producer's.
        for k in list(headers):
            headers[k] = UUID.sub("<input id>", headers[k])
    value = r["value"] if dead_letter else event(r["value"])
    if golden and dead_letter and value:
        value = UUID.sub("<input id>", value)
        value = re.sub(r'"time":"[^"]*"', '"time":"<time>"', value)
        value = re.sub(r"00-[0-9a-f]{32}-[0-9a-f]{16}-", "00-<trace>-<span>-", value)
    print(json.dumps({"partition": r["partition"], "key": r["key"], "headers": headers,
                      "value_len": r["value_len"] if dead_letter and not golden else None,
                      "value": value}, ensure_ascii=False, sort_keys=True))
