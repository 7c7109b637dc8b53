#!/usr/bin/env bash
# librdkafka's log goes through orderflow's logging: a warning reads like the
# program's other lines ("orderflow-producer: librdkafka warning CONFWARN
# (rdkafka#producer-1): ..."), never librdkafka's raw "%4|...|" format, and
# -q silences it. The warning is librdkafka's own for a deprecated property.
source "$(dirname "$0")/lib.sh"

start_broker
"$ORDERFLOW_PRODUCER" -b "$BROKERS" -X socket.blocking.max.ms=100 --generate 3 \
  >"$WORK/normal.out" 2>"$WORK/normal.err" || fail "producer exit $?: $(cat "$WORK/normal.err")"
grep -q '^orderflow-producer: librdkafka warning CONFWARN (rdkafka#producer-[0-9]*): .*socket.blocking.max.ms is deprecated' "$WORK/normal.err" ||
  fail "librdkafka's warning not in orderflow's format: $(cat "$WORK/normal.err")"
grep -n '^%[0-9]|' "$WORK/normal.err" && fail "a raw librdkafka line on stderr"
[ "$(wc -l <"$WORK/normal.out")" = 3 ] || fail "producer delivered $(wc -l <"$WORK/normal.out") of 3"

"$ORDERFLOW_PRODUCER" -b "$BROKERS" -X socket.blocking.max.ms=100 --generate 3 --seed 2 -q \
  >"$WORK/quiet.out" 2>"$WORK/quiet.err" || fail "producer -q exit $?: $(cat "$WORK/quiet.err")"
[ ! -s "$WORK/quiet.err" ] || fail "producer -q printed on stderr: $(cat "$WORK/quiet.err")"
[ ! -s "$WORK/quiet.out" ] || fail "producer -q printed on stdout: $(cat "$WORK/quiet.out")"

# The processor's three clients follow -q too.
start_processor p -q -X socket.blocking.max.ms=100
wait_for_count data-processed 6 30
kill -TERM "$LAST_PID"
wait "$LAST_PID" || fail "processor exit $? after SIGTERM"
[ ! -s "$WORK/p.err" ] || fail "process -q printed on stderr: $(cat "$WORK/p.err")"
echo "ok"
