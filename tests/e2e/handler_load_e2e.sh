#!/usr/bin/env bash
# orderflow-consumer process --handler: a handler that cannot run stops the
# start-up with exit 78 and one line naming the file and the reason, before
# any broker is contacted (the -b here answers nothing); one that loads is
# named with its version by -v, with its settings from the configuration
# file's handler group and --handler-arg (which wins).
# Expects ORDERFLOW_HANDLERS (examples/handlers) and ORDERFLOW_TEST_HANDLERS
# (tests/e2e/handlers) build directories.
source "$(dirname "$0")/lib.sh"
: "${ORDERFLOW_HANDLERS:?run through meson test}"
: "${ORDERFLOW_TEST_HANDLERS:?run through meson test}"
PREFIX="orderflow-consumer process: "

# refused WANT_LINE ARGS...: exit 78 and exactly WANT_LINE (a glob) on stderr.
refused() {
  local want=$1 status
  shift
  set +e
  timeout 20 "$ORDERFLOW_CONSUMER" process -b 127.0.0.1:9 -q "$@" >"$WORK/out" 2>"$WORK/err"
  status=$?
  set -e
  [ "$status" -eq 78 ] || fail "$* exited $status, expected 78: $(cat "$WORK/err")"
  [ "$(wc -l <"$WORK/err")" -eq 1 ] || fail "$*: expected one line, got: $(cat "$WORK/err")"
  # shellcheck disable=SC2053 # $want is a glob on purpose
  [[ "$(cat "$WORK/err")" == $want ]] || fail "$*: got '$(cat "$WORK/err")', expected '$want'"
  [ ! -s "$WORK/out" ] || fail "$*: wrote to stdout: $(cat "$WORK/out")"
}

refused "${PREFIX}handler $WORK/missing.so: cannot load: $WORK/missing.so: cannot open shared object file: No such file or directory" \
  --handler "$WORK/missing.so"
echo "not a shared object" >"$WORK/text.so"
refused "${PREFIX}handler $WORK/text.so: cannot load: $WORK/text.so: *" --handler "$WORK/text.so"
refused "${PREFIX}handler $ORDERFLOW_TEST_HANDLERS/no_entry.so: no entry symbol of_handler_entry: *undefined symbol: of_handler_entry" \
  --handler "$ORDERFLOW_TEST_HANDLERS/no_entry.so"
refused "${PREFIX}handler $ORDERFLOW_TEST_HANDLERS/wrong_abi.so: built for handler ABI version 2; this orderflow-consumer takes version 1 (rebuild it against this orderflow's <orderflow/handler.h>)" \
  --handler "$ORDERFLOW_TEST_HANDLERS/wrong_abi.so"
refused "${PREFIX}handler 'tax.so': not a built-in handler (rules) nor a path to a shared object (write ./tax.so for a file in this directory)" \
  --handler tax.so
refused "${PREFIX}handler $ORDERFLOW_HANDLERS/tax.so (tax 1.0.0): open failed: no currency rates configured (handler group, e.g. EUR = 19.0)" \
  --handler "$ORDERFLOW_HANDLERS/tax.so"

# The configuration file: consumer.handler and the handler group reach open.
cat >"$WORK/tax.conf" <<CONF
consumer: { handler = "$ORDERFLOW_HANDLERS/tax.so"; };
handler: { EUR = 19.0; GBP = "twenty"; max_attempts = 3; };
CONF
refused "${PREFIX}handler $ORDERFLOW_HANDLERS/tax.so (tax 1.0.0): open failed: rate of GBP must be a percentage from 0 to 100 with at most two decimals, got \"twenty\"" \
  -c "$WORK/tax.conf"
refused "${PREFIX}handler $ORDERFLOW_HANDLERS/scorer.so (scorer 1.0.0): open failed: threshold must be a non-negative integer, got \"high\"" \
  --handler "$ORDERFLOW_HANDLERS/scorer.so" --handler-arg threshold=high
# orderflow's own settings of the group are checked with their origin.
cat >"$WORK/bad.conf" <<CONF
handler: {
  after_max_attempts = "skip";
};
CONF
refused "${PREFIX}$WORK/bad.conf:2: 'handler.after_max_attempts' must be \"pause\" or \"dead_letter\", got \"skip\"" \
  -c "$WORK/bad.conf"

# --handler-arg replaces the file's value: tax opens, and -v names it.
start_broker --partitions 2
start_processor tax -c "$WORK/tax.conf" --handler-arg GBP=20 -v
pid=$LAST_PID
for _ in $(seq 100); do
  grep -q "handler tax 1.0.0 from $ORDERFLOW_HANDLERS/tax.so" "$WORK/tax.err" && break
  kill -0 "$pid" 2>/dev/null || fail "processor exited: $(cat "$WORK/tax.err")"
  sleep 0.1
done
grep -q "^${PREFIX}handler tax 1.0.0 from $ORDERFLOW_HANDLERS/tax.so\$" "$WORK/tax.err" ||
  fail "-v does not name the handler: $(cat "$WORK/tax.err")"
grep -q '^ *"GBP" = "20";$' "$WORK/tax.err" || fail "-v does not show GBP = \"20\" from --handler-arg"
grep -q '^ *max_attempts = 3;$' "$WORK/tax.err" || fail "-v does not show max_attempts = 3 from the file"
wait_until_handles_sigterm "$pid"
kill -TERM "$pid"
set +e
wait "$pid"
status=$?
set -e
[ "$status" -eq 0 ] || fail "processor with the tax handler exited $status: $(tail -3 "$WORK/tax.err")"
echo "ok: 9 refused handlers exit 78 with their reason; a loaded one is named by -v"
