#!/usr/bin/env bash
# The group's pause when a member dies (docs/operations.md, "librdkafka
# versions"): three processors share a topic of 6 partitions under a steady
# input; one is killed with kill -9. Measured on the output records'
# timestamps: the longest pause of a partition that stayed with a survivor
# (the longest gap between two outputs, and the longest wait from an
# input's production to its output, after the kill), and how long the dead
# member's partitions wait until a survivor resumes them. Also checked:
# every input has an output (kill -9 under at_least_once may double some:
# counted, not a failure).
#
#   bench/rebalance_kill.sh [RUNS]        RUNS (3) of each protocol, interleaved
#   bench/rebalance_kill.sh --one classic|consumer
#
# Each run starts its own Kafka node (scripts/kafka.sh, ORDERFLOW_KAFKA_VERSION,
# default 4: KIP-848 needs Kafka 4) on free ports. classic is the processor's
# default (cooperative-sticky, session.timeout.ms=10000); consumer is KIP-848
# (group.protocol=consumer) with the broker's defaults
# (group.consumer.session.timeout.ms=45000, heartbeat 5000). Run it with the
# librdkafka to measure, e.g. scripts/librdkafka-current.sh bench/rebalance_kill.sh 3.
# One JSON line per run on stdout; a summary (median, min-max) on stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${BUILD_DIR:-$root/build}
export ORDERFLOW_BROKER=${ORDERFLOW_BROKER:-$build/broker/orderflow-broker}
export ORDERFLOW_PRODUCER=${ORDERFLOW_PRODUCER:-$build/producer/orderflow-producer}
export ORDERFLOW_CONSUMER=${ORDERFLOW_CONSUMER:-$build/consumer/orderflow-consumer}
export ORDERFLOW_KAFKA_NODES=1
export ORDERFLOW_KAFKA_VERSION=${ORDERFLOW_KAFKA_VERSION:-4}
RATE=${RATE:-300}

if [ "${1:-}" != --one ]; then
  runs=${1:-3}
  results=$(mktemp)
  trap 'rm -f "$results" "$results.run"' EXIT
  for i in $(seq "$runs"); do
    for protocol in consumer classic; do
      echo "run $i $protocol (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
      bash "$0" --one "$protocol" >"$results.run" || echo "run $i $protocol failed (above)" >&2
      tee -a "$results" <"$results.run"
    done
  done
  /usr/bin/python3 - "$results" <<'PY' >&2
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for protocol in ("consumer", "classic"):
    mine = [r for r in rows if r["protocol"] == protocol]
    if not mine:
        continue
    print(f"{protocol} ({len(mine)} runs, librdkafka {mine[0]['librdkafka']}, Kafka {mine[0]['kafka']}):")
    for key in ("stayed_longest_gap_ms", "stayed_longest_wait_ms", "moved_resume_ms", "duplicates"):
        v = sorted(r[key] for r in mine)
        print(f"  {key}: median {statistics.median(v):.0f}, min {v[0]}, max {v[-1]}, runs {v}")
    print(f"  close hung: {sum(1 for r in mine if r['close_hung'])} of {len(mine)} runs")
PY
  exit 0
fi

protocol=${2:?--one classic|consumer}
source "$root/tests/e2e/lib.sh"
group=()
[ "$protocol" = consumer ] && group=(-X group.protocol=consumer)
start_proc() { # NAME: like lib.sh's start_processor, with the group's own defaults
  "$ORDERFLOW_CONSUMER" process -b "$BROKERS" "${group[@]}" --json -v \
    -X fetch.wait.max.ms=100 >>"$WORK/$1.out" 2>>"$WORK/$1.err" &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}

start_broker --partitions 6
# Enough input for the start, the kill, 45 s of session and the recovery.
"$ORDERFLOW_PRODUCER" -b "$BROKERS" -q --generate $((RATE * 240)) --rate "$RATE" \
  --seed "$RANDOM$RANDOM" 2>"$WORK/producer.err" &
producer=$!
PIDS+=("$producer")
start_proc a
a=$LAST_PID
start_proc b
b=$LAST_PID
start_proc c
c=$LAST_PID
wait_for_output 60 a b c
sleep 10 # the group steady: each member with its partitions

# b's partitions: those of its last 150 outputs (half a second at 300/s).
owned() { { grep '^{' "$WORK/$1.out" || true; } | tail -n "${2:-150}" | "$PY" -c '
import json, sys
print(" ".join(sorted({str(json.loads(l)["partition"]) for l in sys.stdin})))'; }
b_parts=$(owned b)
a_lines=$(wc -l <"$WORK/a.out")
c_lines=$(wc -l <"$WORK/c.out")
kill_ms=$(date +%s%3N)
kill -9 "$b"
{ wait "$b"; } 2>/dev/null || true
# Until a survivor has output for each of b's partitions (120 s at most).
for _ in $(seq 1200); do
  resumed=$({ tail -n +$((a_lines + 1)) "$WORK/a.out"; tail -n +$((c_lines + 1)) "$WORK/c.out"; } |
    { grep '^{' || true; } | "$PY" -c '
import json, sys
print(" ".join(sorted({str(json.loads(l)["partition"]) for l in sys.stdin})))')
  all=1
  for p in $b_parts; do [[ " $resumed " == *" $p "* ]] || all=0; done
  [ $all = 1 ] && break
  sleep 0.1
done
[ $all = 1 ] || fail "b's partitions ($b_parts) not resumed 120 s after the kill: $(tail -3 "$WORK/a.err")"
sleep 3
end_ms=$(date +%s%3N)
# Stopped mid-stream (its status then says so): the inputs are counted in
# the topic, each must have its output.
kill -TERM "$producer"
wait "$producer" || true
for _ in $(seq 240); do "$ORDERFLOW_CONSUMER" lag -b "$BROKERS" -q --max-lag 0 2>/dev/null && break; sleep 0.5; done
"$ORDERFLOW_CONSUMER" lag -b "$BROKERS" --max-lag 0 >/dev/null || fail "a and c did not catch up"
# SIGTERM, 30 s to exit; a survivor still there is killed and named in
# close_hung (seen with group.protocol=consumer before the processor always
# answered an assignment with rd_kafka_incremental_assign:
# rd_kafka_consumer_close never returned; docs/operations.md).
hung=()
for name in a c; do
  pid=${!name}
  kill -TERM "$pid"
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    hung+=("$name")
    kill -9 "$pid"
    { wait "$pid"; } 2>/dev/null || true
  else
    wait "$pid" || fail "processor $name exit $? after SIGTERM: $(tail -3 "$WORK/$name.err")"
  fi
done
"$PY" "$root/tests/e2e/read_topic.py" "$BROKERS" order-created >"$WORK/in.jsonl"
"$PY" "$root/tests/e2e/read_topic.py" "$BROKERS" data-processed >"$WORK/out.jsonl"
version=$("$ORDERFLOW_CONSUMER" -V 2>&1 | sed -n 's/.*librdkafka \([0-9.]*\).*/\1/p' | head -1)
kafka=$(cat "$WORK/kafka.out" "$WORK/kafka.err" | sed -n 's/.*Kafka \([0-9.]*\), .*/\1/p' | head -1)
"$PY" - "$WORK" "$kill_ms" "$end_ms" "$protocol" "$b_parts" "$version" "${kafka:-$ORDERFLOW_KAFKA_VERSION}" "${hung[*]:-}" <<'PY' || fail "checks failed"
import json, sys
work, kill_ms, end_ms, protocol, b_parts, version, kafka, hung = sys.argv[1:9]
kill_ms, end_ms = int(kill_ms), int(end_ms)
moved = {int(p) for p in b_parts.split()}
inputs = {json.loads(r["value"])["id"]: r for r in map(json.loads, open(f"{work}/in.jsonl"))}
out = [json.loads(l) for l in open(f"{work}/out.jsonl")]
causes = [json.loads(r["value"])["causationid"] for r in out]
missing = set(inputs) - set(causes)
assert not missing, f"{len(missing)} inputs without an output"
stayed = sorted({r["partition"] for r in out} - moved)
assert moved and stayed, (moved, stayed)
gap = wait = 0
resume = {}
for p in sorted({r["partition"] for r in out}):
    ts = sorted(r["timestamp"] for r in out if r["partition"] == p)
    after = [t for t in ts if t > kill_ms]
    if p in moved:
        resume[p] = after[0] - kill_ms
        continue
    window = [t for t in ts if kill_ms - 1000 <= t <= end_ms]
    gap = max([gap] + [y - x for x, y in zip(window, window[1:])])
for r, cause in zip(out, causes):
    if r["partition"] not in moved and kill_ms <= r["timestamp"] <= end_ms:
        wait = max(wait, r["timestamp"] - inputs[cause]["timestamp"])
print(json.dumps({"protocol": protocol, "librdkafka": version, "kafka": kafka,
                  "moved": sorted(moved), "stayed": stayed,
                  "stayed_longest_gap_ms": gap, "stayed_longest_wait_ms": wait,
                  "moved_resume_ms": max(resume.values()),
                  "inputs": len(inputs), "duplicates": len(causes) - len(set(causes)),
                  "close_hung": hung.split()}))
PY
