#!/usr/bin/env bash
# End-to-end test of orderflow-broker, driven by kcat (a third-party Kafka
# client): the ready line, topics and partition counts in the metadata, a
# round trip of 100 records, a taken port (exit 69), stopping on SIGTERM and
# SIGINT (exit 0), and that it listens on 127.0.0.1 only.
#
# Usage: broker_test.sh PATH/TO/orderflow-broker   (or ORDERFLOW_BROKER=...)
# Exit: 0 pass, 1 fail, 77 skipped (kcat missing), 99 bad usage.
set -uo pipefail

BROKER=${1:-${ORDERFLOW_BROKER:-}}
if [ -z "$BROKER" ] || [ ! -x "$BROKER" ]; then
    echo "usage: $0 PATH/TO/orderflow-broker" >&2
    exit 99
fi
if ! command -v kcat >/dev/null 2>&1; then
    echo "SKIP: kcat is not installed (Debian package kcat)" >&2
    exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/broker_test.XXXXXX")
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill -KILL "$pid" 2>/dev/null
    done
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

checks=0
fail() {
    echo "FAIL: $*" >&2
    for f in "$work"/*.err; do
        [ -s "$f" ] || continue
        echo "--- $(basename "$f")" >&2
        tail -n 20 "$f" >&2
    done
    exit 1
}
ok() {
    checks=$((checks + 1))
    echo "ok $checks - $*"
}

# A port that was free a moment ago; start_broker retries if someone else
# takes it in between.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' \
        2>/dev/null || echo $((20000 + RANDOM % 20000))
}

# start_broker NAME ARGS...: starts the broker in the background, waits for
# its ready line. Sets BROKER_PID. Returns 1 (with BROKER_STATUS) if it
# exited instead.
start_broker() {
    local name=$1
    shift
    "$BROKER" "$@" >"$work/$name.out" 2>"$work/$name.err" &
    BROKER_PID=$!
    pids+=("$BROKER_PID")
    local i
    for i in $(seq 1 100); do
        if grep -q '^ready ' "$work/$name.out"; then
            return 0
        fi
        if ! kill -0 "$BROKER_PID" 2>/dev/null; then
            BROKER_STATUS=0
            wait "$BROKER_PID" || BROKER_STATUS=$?
            return 1
        fi
        sleep 0.1
    done
    fail "$name: no ready line within 10 s"
}

# start_on_free_port NAME ARGS...: sets PORT and BROKER_PID.
start_on_free_port() {
    local name=$1
    shift
    local attempt
    for attempt in 1 2 3 4 5; do
        PORT=$(free_port)
        if start_broker "$name" --port "$PORT" "$@"; then
            return 0
        fi
        [ "$BROKER_STATUS" -eq 69 ] || fail "$name: exited with $BROKER_STATUS before ready"
    done
    fail "$name: no free port after 5 attempts"
}

# stop_broker PID SIGNAL: the broker must exit 0 within 5 s.
stop_broker() {
    local pid=$1 sig=$2 i status=0
    kill "-$sig" "$pid" || fail "cannot send SIG$sig to $pid"
    for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && fail "broker still running 5 s after SIG$sig"
    wait "$pid" || status=$?
    [ "$status" -eq 0 ] || fail "broker exited with $status after SIG$sig, expected 0"
}

kc() {
    timeout 30 kcat "$@"
}

# listen_addresses PORT: the local addresses of TCP listeners on PORT, from
# /proc (no dependency on ss/netstat), as "127.0.0.1" / "0.0.0.0" / "v6".
listen_addresses() {
    local hexport
    hexport=$(printf '%04X' "$1")
    awk -v p="$hexport" '$4 == "0A" { split($2, a, ":"); if (a[2] == p) print a[1] }' \
        /proc/net/tcp | while read -r addr; do
        # /proc/net/tcp has the IPv4 address as a little-endian hex word.
        printf '%d.%d.%d.%d\n' "0x${addr:6:2}" "0x${addr:4:2}" "0x${addr:2:2}" "0x${addr:0:2}"
    done
    awk -v p="$hexport" '$4 == "0A" { split($2, a, ":"); if (a[2] == p) print "v6" }' \
        /proc/net/tcp6 2>/dev/null
}

# ---------------------------------------------------------------- options
out=$("$BROKER" --help) || fail "--help exited non-zero"
long=$(printf '%s\n' "$out" | awk 'length > 80' | head -n 1)
[ -z "$long" ] || fail "--help has a line over 80 columns: $long"
printf '%s\n' "$out" | grep -q 'default 9092' || fail "--help does not show the default port"
ok "--help fits 80 columns and shows defaults"

out=$("$BROKER" --version) || fail "--version exited non-zero"
[[ $out =~ ^orderflow-broker\ [0-9][^\ ]*\ \(librdkafka\ [0-9][^\ ]*\)$ ]] ||
    fail "--version printed '$out'"
ok "--version: $out"

status=0
"$BROKER" --partitions 0 >"$work/bad.out" 2>"$work/bad.err" || status=$?
[ "$status" -eq 64 ] || fail "--partitions 0 exited $status, expected 64"
grep -q -- '--partitions' "$work/bad.err" || fail "--partitions 0: message does not name the option"
ok "bad option exits 64 naming the option"

# ---------------------------------------------------------- first broker
start_on_free_port b1
B1=$BROKER_PID
[ "$(cat "$work/b1.out")" = "ready 127.0.0.1:$PORT" ] ||
    fail "stdout is '$(cat "$work/b1.out")', expected exactly 'ready 127.0.0.1:$PORT'"
ok "ready line: ready 127.0.0.1:$PORT"

grep -q 'in memory' "$work/b1.err" && grep -q 'lost' "$work/b1.err" &&
    grep -q '5 MB' "$work/b1.err" ||
    fail "start-up message does not warn that data is in memory, lost on exit, ~5 MB kept"
ok "start-up message warns about memory-only data and retention"

addrs=$(listen_addresses "$PORT" | sort -u | tr '\n' ' ')
[ "$addrs" = "127.0.0.1 " ] || fail "listeners on port $PORT: '$addrs', expected only 127.0.0.1"
if command -v ss >/dev/null 2>&1; then
    ss -ltn "sport = :$PORT" | grep -q "127.0.0.1:$PORT" || fail "ss does not show 127.0.0.1:$PORT"
    ss -ltn "sport = :$PORT" | grep -E -q "(0\.0\.0\.0|\*|\[::\]):$PORT" &&
        fail "ss shows a wildcard listener on $PORT"
fi
ok "listens on 127.0.0.1:$PORT only"

kc -b "localhost:$PORT" -L >"$work/meta1.txt" 2>"$work/meta1.err" || fail "kcat -L failed"
for t in order-created data-processed order-created.dlq; do
    grep -q "^  topic \"$t\" with 6 partitions:" "$work/meta1.txt" ||
        fail "topic $t with 6 partitions not in metadata: $(cat "$work/meta1.txt")"
done
grep -E -q '^  broker 1 at 127\.0\.0\.1:[0-9]+' "$work/meta1.txt" ||
    fail "the mock broker does not advertise a 127.0.0.1 address"
ok "metadata: 3 default topics with 6 partitions, broker on 127.0.0.1"

# 100 keyed records through kcat, read back from the beginning.
run_id=$$-$RANDOM
for i in $(seq 1 100); do
    echo "order-$i:payload-$i-$run_id"
done >"$work/sent.txt"
kc -b "127.0.0.1:$PORT" -P -t order-created -K : -X acks=all <"$work/sent.txt" \
    2>"$work/produce.err" || fail "kcat -P failed: $(cat "$work/produce.err")"
kc -b "127.0.0.1:$PORT" -C -t order-created -o beginning -e -q -f '%k:%s\n' \
    >"$work/received.txt" 2>"$work/consume.err" || fail "kcat -C failed: $(cat "$work/consume.err")"
n=$(wc -l <"$work/received.txt")
[ "$n" -eq 100 ] || fail "read back $n records, expected 100"
sort "$work/sent.txt" >"$work/sent.sorted"
sort "$work/received.txt" >"$work/received.sorted"
cmp -s "$work/sent.sorted" "$work/received.sorted" ||
    fail "records read back differ: $(diff "$work/sent.sorted" "$work/received.sorted" | head -5)"
partitions_used=$(kc -b "127.0.0.1:$PORT" -C -t order-created -o beginning -e -q -f '%p\n' |
    sort -u | wc -l)
[ "$partitions_used" -gt 1 ] || fail "100 keys all landed in $partitions_used partition"
ok "100 records produced and read back exactly, over $partitions_used partitions"

# Several clients at once through the relay.
clients=()
for i in $(seq 1 20); do
    kc -b "127.0.0.1:$PORT" -L -t order-created >"$work/par$i.txt" 2>/dev/null &
    clients+=($!)
done
for i in "${!clients[@]}"; do
    wait "${clients[$i]}" || fail "concurrent kcat -L number $((i + 1)) failed"
done
for i in $(seq 1 20); do
    grep -q 'topic "order-created" with 6 partitions' "$work/par$i.txt" ||
        fail "concurrent client $i got no metadata"
done
ok "20 concurrent clients got metadata"

# A second broker on the same port must refuse to start.
status=0
"$BROKER" --port "$PORT" >"$work/b2.out" 2>"$work/b2.err" &
b2=$!
pids+=("$b2")
for i in $(seq 1 50); do
    kill -0 "$b2" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$b2" 2>/dev/null && fail "second broker on port $PORT is still running"
wait "$b2" || status=$?
[ "$status" -eq 69 ] || fail "second broker on port $PORT exited $status, expected 69"
expected="orderflow-broker: cannot listen on 127.0.0.1:$PORT: Address already in use (is another broker running? try --port)"
grep -qxF "$expected" "$work/b2.err" || fail "second broker said: $(cat "$work/b2.err")"
[ ! -s "$work/b2.out" ] || fail "second broker printed on stdout: $(cat "$work/b2.out")"
ok "second broker on the same port exits 69 with a clear message"

stop_broker "$B1" TERM
ok "SIGTERM: exit 0 within 5 s"

# ------------------------------------------------ second start, same port
# The port must be reusable at once, --partitions and --topic must apply,
# and data must not survive a restart.
start_broker b3 --port "$PORT" --partitions 3 --topic extra-topic ||
    fail "restart on port $PORT exited with $BROKER_STATUS"
B3=$BROKER_PID
kc -b "127.0.0.1:$PORT" -L >"$work/meta3.txt" 2>"$work/meta3.err" || fail "kcat -L failed"
for t in order-created data-processed order-created.dlq extra-topic; do
    grep -q "^  topic \"$t\" with 3 partitions:" "$work/meta3.txt" ||
        fail "topic $t with 3 partitions not in metadata: $(cat "$work/meta3.txt")"
done
ok "restart on the same port: 4 topics with 3 partitions"

kc -b "127.0.0.1:$PORT" -C -t order-created -o beginning -e -q >"$work/after.txt" 2>/dev/null ||
    fail "kcat -C after restart failed"
[ ! -s "$work/after.txt" ] || fail "records survived a restart: $(head -3 "$work/after.txt")"
ok "a restarted broker starts empty"

kc -b "127.0.0.1:$PORT" -L -t auto-created-topic >"$work/auto.txt" 2>/dev/null ||
    fail "kcat -L of a new topic failed"
grep -q '^  topic "auto-created-topic" with 4 partitions:' "$work/auto.txt" ||
    fail "auto-created topic does not have the documented 4 partitions: $(cat "$work/auto.txt")"
ok "unknown topics are auto-created with 4 partitions"

stop_broker "$B3" INT
ok "SIGINT: exit 0 within 5 s"

echo "broker_test: all $checks checks passed"
exit 0
