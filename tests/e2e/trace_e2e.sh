#!/usr/bin/env bash
# W3C trace context through the pipeline (docs/architecture.md, "Trace
# context"): an order sent with --traceparent/--tracestate comes out in a
# data_processed of the same trace (same trace-id and flags, a new span id,
# tracestate unchanged, the Kafka headers equal to the envelope's); with
# producer.tracing every generated order starts its own trace and each output
# continues its input's; an input with an invalid traceparent is processed
# normally, without one, and counted; a poison record keeps its trace headers
# in the dead-letter topic.
source "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
N=50
TP=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
TS=rojo=00f067aa0ba902b7,congo=t61rcWkgMzE

# Usage errors name the option and exit 64, before any broker is asked.
usage_error() {
  local want=$1 status=0
  shift
  "$ORDERFLOW_PRODUCER" -b 127.0.0.1:1 "$@" 2>"$WORK/usage.err" >/dev/null || status=$?
  [ "$status" = 64 ] || fail "producer $* exit $status, expected 64"
  grep -qF -- "$want" "$WORK/usage.err" || fail "producer $*: $(cat "$WORK/usage.err")"
}
ORDER='{"order_id":"U-1","customer_id":"C","currency":"EUR","items":[]}'
usage_error "--traceparent '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01' is not a W3C traceparent" \
  --order "$ORDER" --traceparent 00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01
usage_error "is not a W3C traceparent" --order "$ORDER" --traceparent "ff${TP#00}"
usage_error "--traceparent applies to a single --order only" -g 1 --traceparent "$TP"
usage_error "--tracestate needs --traceparent" --order "$ORDER" --tracestate "$TS"

start_broker
metrics_port=$(free_port)
start_processor p --json --metrics "127.0.0.1:$metrics_port"

"$ORDERFLOW_PRODUCER" -b "$BROKERS" -q --traceparent "$TP" --tracestate "$TS" \
  --order '{"order_id":"T-1","customer_id":"C-1","currency":"EUR","items":[{"sku":"S-1","quantity":2,"unit_price_cents":1999}]}' ||
  fail "producer --traceparent exit $?"
printf 'producer: { tracing = true; };\n' >"$WORK/tracing.conf"
"$ORDERFLOW_PRODUCER" -b "$BROKERS" -c "$WORK/tracing.conf" -q -g "$N" --seed 5 ||
  fail "producer with producer.tracing exit $?"

# Raw records: two orders whose trace context is invalid (an uppercase
# traceparent with a tracestate; a traceparent that is a number), and a
# poison record carrying trace headers.
"$PY" - "$BROKERS" <<'PY' || fail "cannot write the raw records"
import json, sys
from confluent_kafka import Producer
p = Producer({"bootstrap.servers": sys.argv[1]})
def envelope(order_id, extra):
    ev = {"specversion": "1.0", "id": "0190b3c4-0000-7000-8000-0000000000" + order_id[-2:],
          "source": "test", "type": "order_created", "time": "2026-11-24T12:00:00.000Z",
          "datacontenttype": "application/json", "idempotencykey": "order_created:" + order_id,
          "subject": order_id, "schemaversion": 1,
          "data": {"order_id": order_id, "customer_id": "C", "currency": "EUR",
                   "items": [{"sku": "S", "quantity": 1, "unit_price_cents": 5}]}}
    ev.update(extra)
    return json.dumps(ev)
bad_tp = "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01"
p.produce("order-created", key="X-01", value=envelope("X-01", {"traceparent": bad_tp, "tracestate": "a=1"}),
          headers=[("traceparent", bad_tp), ("tracestate", "a=1")])
p.produce("order-created", key="X-02", value=envelope("X-02", {"traceparent": 42}))
p.produce("order-created", key="P-1", value="this is not JSON",
          headers=[("traceparent", "00-11111111111111111111111111111111-2222222222222222-01"),
                   ("tracestate", "vendor=x"), ("x-custom", "kept")])
assert p.flush(30) == 0
PY

wait_for_count data-processed $((N + 3)) 60
wait_for_count order-created.dlq 1 60
kill -0 "$LAST_PID" || fail "processor died: $(cat "$WORK/p.err")"

"$PY" "$here/read_topic.py" "$BROKERS" order-created >"$WORK/in.jsonl"
"$PY" "$here/read_topic.py" "$BROKERS" data-processed >"$WORK/out.jsonl"
"$PY" "$here/read_topic.py" "$BROKERS" order-created.dlq >"$WORK/dlq.jsonl"
"$PY" - "$WORK" "$N" "$TP" "$TS" <<'PY' || fail "trace context checks failed"
import json, re, sys
work, n, tp, ts = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
def records(name):
    return [json.loads(line) for line in open(f"{work}/{name}.jsonl")]
def split(value):
    m = TRACEPARENT.match(value)
    assert m, f"not a version 00 traceparent: {value!r}"
    return m.groups()

inputs = {}
for r in records("in"):
    ev = json.loads(r["value"]) if r["key"] != "P-1" else None
    if ev:
        inputs[ev["id"]] = (r, ev)
outputs = {}
for r in records("out"):
    ev = json.loads(r["value"])
    assert ev["causationid"] not in outputs, "two outputs for one input"
    outputs[ev["causationid"]] = (r, ev)
assert len(outputs) == n + 3, len(outputs)

def check_continued(in_rec, in_ev, out_rec, out_ev):
    # The producer's header mirrors its envelope, and so does the processor's.
    assert in_rec["headers"].get("traceparent") == in_ev["traceparent"], in_rec["headers"]
    assert out_rec["headers"].get("traceparent") == out_ev["traceparent"], out_rec["headers"]
    trace_in, span_in, flags_in = split(in_ev["traceparent"])
    trace_out, span_out, flags_out = split(out_ev["traceparent"])
    assert trace_out == trace_in, (in_ev["traceparent"], out_ev["traceparent"])
    assert span_out != span_in, "the output reuses the input's span id"
    assert flags_out == flags_in, (flags_in, flags_out)
    return trace_in

by_key = {ev["subject"]: (r, ev, *outputs[ev["id"]]) for r, ev in inputs.values()}
# --traceparent / --tracestate
in_rec, in_ev, out_rec, out_ev = by_key["T-1"]
assert in_ev["traceparent"] == tp and in_ev["tracestate"] == ts, in_ev
check_continued(in_rec, in_ev, out_rec, out_ev)
assert out_ev["tracestate"] == ts and out_rec["headers"]["tracestate"] == ts, out_ev
assert in_rec["headers"]["tracestate"] == ts, in_rec["headers"]
assert out_ev["data"]["status"] == "accepted", out_ev

# producer.tracing: a trace of its own per event, each continued.
traces = set()
for key, (in_rec, in_ev, out_rec, out_ev) in by_key.items():
    if not key.startswith("G"):
        continue
    trace = check_continued(in_rec, in_ev, out_rec, out_ev)
    assert split(in_ev["traceparent"])[2] == "01", in_ev["traceparent"]
    assert "tracestate" not in out_ev and "tracestate" not in out_rec["headers"], out_ev
    traces.add(trace)
assert len(traces) == n, f"{len(traces)} distinct trace-ids over {n} generated orders"

# Invalid trace context: processed as usual, with none.
for key in ("X-01", "X-02"):
    in_rec, in_ev, out_rec, out_ev = by_key[key]
    assert out_ev["data"]["status"] == "accepted", out_ev
    assert "traceparent" not in out_ev and "tracestate" not in out_ev, out_ev
    assert "traceparent" not in out_rec["headers"] and "tracestate" not in out_rec["headers"], out_rec

# The dead letter keeps the input's bytes and headers, plus orderflow-*.
dlq = records("dlq")
assert len(dlq) == 1, dlq
h = dlq[0]["headers"]
assert dlq[0]["key"] == "P-1" and dlq[0]["value"] == "this is not JSON", dlq[0]
assert h["traceparent"] == "00-11111111111111111111111111111111-2222222222222222-01", h
assert h["tracestate"] == "vendor=x" and h["x-custom"] == "kept", h
assert "not JSON" in h["orderflow-error"] and h["orderflow-source-topic"] == "order-created", h
print("trace ok:", len(outputs), "outputs,", len(traces), "generated traces, 1 dead letter")
PY

# tail -v shows the trace-id of each event.
"$ORDERFLOW_CONSUMER" tail -b "$BROKERS" -e --from-beginning -v >"$WORK/tail.out" 2>"$WORK/tail.err" ||
  fail "tail exit $?: $(tail -3 "$WORK/tail.err")"
grep -Eq '^T-1 .*  trace 4bf92f3577b34da6a3ce929d0e0e4736$' "$WORK/tail.out" ||
  fail "tail -v shows no trace-id for T-1: $(grep T-1 "$WORK/tail.out")"
grep -Eq '^X-01 .*  trace -$' "$WORK/tail.out" || fail "tail -v: $(grep X-01 "$WORK/tail.out")"

# The ignored trace contexts are counted for monitoring too.
invalid=$(curl -sf "http://127.0.0.1:$metrics_port/metrics" |
  sed -n 's/^orderflow_trace_context_invalid_total \([0-9]*\)$/\1/p')
[ "$invalid" = 2 ] || fail "orderflow_trace_context_invalid_total is '$invalid', want 2"

kill -TERM "$LAST_PID"
wait "$LAST_PID" || fail "processor exit $? after SIGTERM"
grep -q "$((N + 4)) consumed, $((N + 3)) accepted, 0 rejected, 0 duplicates skipped, 1 dead-lettered, 2 with an invalid trace context ignored" "$WORK/p.err" ||
  fail "processor summary: $(tail -2 "$WORK/p.err")"
echo "ok"
