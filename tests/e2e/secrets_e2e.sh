#!/usr/bin/env bash
# Secrets never appear in any output: a unique value for every secret
# property, set in a config file and with -X, and every executable run in
# ways that print (-v, -vv, librdkafka debug=all, a bad value, --help).
source "$(dirname "$0")/lib.sh"
secret="Zq7-$$-never-print-me"
start_broker

cat >"$WORK/secret.conf" <<CONF
kafka: {
  properties = {
    "sasl.password" = "$secret-sasl";
    "ssl.key.password" = "$secret-sslkey";
    "ssl.keystore.password" = "$secret-keystore";
    "sasl.oauthbearer.config" = "principal=orderflow secret=$secret-oauth";
  };
};
CONF
order='{"order_id":"S-1","customer_id":"C-1","currency":"EUR","items":[{"sku":"K","quantity":1,"unit_price_cents":5}]}'
out=$WORK/all-output
: >"$out"
runs=0
run() { # run LABEL CMD...: appends stdout and stderr; any exit status is fine here
  local label=$1
  shift
  runs=$((runs + 1))
  echo "== $label" >>"$out"
  timeout 20 "$@" >>"$out" 2>&1 </dev/null || true
}

run producer-v "$ORDERFLOW_PRODUCER" -b "$BROKERS" -c "$WORK/secret.conf" -v --order "$order"
run producer-vv-debug "$ORDERFLOW_PRODUCER" -b "$BROKERS" -c "$WORK/secret.conf" -vv \
  -X debug=all -X "sasl.password=$secret-x" --order "$order"
run producer-bad-value "$ORDERFLOW_PRODUCER" -b "$BROKERS" -c "$WORK/secret.conf" \
  -X "ssl.key.password=$secret-x" -X sasl.mechanisms=NOPE --order "$order"
run producer-help "$ORDERFLOW_PRODUCER" -c "$WORK/secret.conf" --help
run tail-v-debug "$ORDERFLOW_CONSUMER" tail -b "$BROKERS" -c "$WORK/secret.conf" -v -e \
  --from-beginning -X debug=all -X "sasl.password=$secret-x" order-created
run process-v-bad "$ORDERFLOW_CONSUMER" process -b "$BROKERS" -c "$WORK/secret.conf" -v \
  -X "sasl.password=$secret-x" --guarantee nonsense
# Wrong type for a secret in the file: the error names the line, not the value.
printf 'kafka: { properties = { "sasl.password" = ("%s"); }; };\n' "$secret-list" >"$WORK/bad.conf"
run bad-conf "$ORDERFLOW_PRODUCER" -c "$WORK/bad.conf" --order "$order"
ORDERFLOW_BROKERS="$BROKERS" run env-brokers "$ORDERFLOW_PRODUCER" -c "$WORK/secret.conf" -v \
  --order "$order"
# The processor, verbose with every debug context, stopped after a moment.
runs=$((runs + 1))
echo "== process-vv-debug" >>"$out"
"$ORDERFLOW_CONSUMER" process -b "$BROKERS" -c "$WORK/secret.conf" -vv -X debug=all \
  -X "sasl.password=$secret-x" >>"$out" 2>&1 &
p=$!
PIDS+=("$p")
sleep 4
kill -TERM "$p"
wait "$p" || true

lines=$(wc -l <"$out")
[ "$lines" -gt 200 ] || fail "only $lines lines of output: too little printed to prove anything"
grep -F "[redacted]" "$out" >/dev/null || fail "no [redacted] marker: the secrets were not loaded"
grep -F "sasl.password" "$out" >/dev/null || fail "the secret properties never appear by name"
if grep -nF "$secret" "$out" >"$WORK/leaks"; then
  fail "a secret was printed: $(head -3 "$WORK/leaks")"
fi
echo "ok: $lines lines from $runs runs, no secret value among them"
