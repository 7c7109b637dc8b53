#!/usr/bin/env bash
# Every executable's --help fits an 80-column terminal, shows defaults and an
# example; usage errors exit 64 and point at --help.
source "$(dirname "$0")/lib.sh"
check_help() {
  local name=$1
  shift
  "$@" --help >"$WORK/help" || fail "$name --help exit $?"
  local widest
  widest=$(awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }' "$WORK/help")
  [ "$widest" -le 80 ] || fail "$name --help is $widest columns wide"
  [ "$(wc -l <"$WORK/help")" -le 40 ] || fail "$name --help is longer than 40 lines"
  grep -q "Example" "$WORK/help" || fail "$name --help shows no example"
  set +e
  "$@" --no-such-option 2>"$WORK/usage" >/dev/null
  local status=$?
  set -e
  [ "$status" -eq 64 ] || fail "$name: unknown option exits $status, expected 64"
  grep -q -- "--help" "$WORK/usage" || fail "$name: usage error does not point at --help"
}
check_help producer "$ORDERFLOW_PRODUCER"
check_help consumer "$ORDERFLOW_CONSUMER"
check_help process "$ORDERFLOW_CONSUMER" process
check_help tail "$ORDERFLOW_CONSUMER" tail
check_help redrive "$ORDERFLOW_CONSUMER" redrive
check_help lag "$ORDERFLOW_CONSUMER" lag
check_help doctor "$ORDERFLOW_CONSUMER" doctor
check_help broker "$ORDERFLOW_BROKER"
check_help gateway "$ORDERFLOW_GATEWAY"
for exe in "$ORDERFLOW_PRODUCER" "$ORDERFLOW_CONSUMER" "$ORDERFLOW_BROKER" "$ORDERFLOW_GATEWAY"; do
  "$exe" --version | grep "0\.[0-9]" >/dev/null || fail "$exe --version"
done
grep -q "default localhost:9092" <("$ORDERFLOW_PRODUCER" --help) || fail "producer help lacks the broker default"
grep -q "default orderflow-processor" <("$ORDERFLOW_CONSUMER" process --help) || fail "process help lacks the group default"
# A mistyped long option gets the closest one, as a mistyped config key does.
did_you_mean() {
  local typed=$1 expected=$2
  shift 2
  set +e
  "$@" "$typed" >/dev/null 2>"$WORK/usage"
  local status=$?
  set -e
  [ "$status" -eq 64 ] || fail "$* $typed exits $status, expected 64"
  grep -qF "option '$typed' is unknown; did you mean '$expected'?" "$WORK/usage" ||
    fail "$* $typed: no 'did you mean $expected': $(cat "$WORK/usage")"
}
did_you_mean --brokrs=x --brokers "$ORDERFLOW_PRODUCER"
did_you_mean --gurantee --guarantee "$ORDERFLOW_CONSUMER" process
did_you_mean --from-begining --from-beginning "$ORDERFLOW_CONSUMER" tail
did_you_mean --dryrun --dry-run "$ORDERFLOW_CONSUMER" redrive
did_you_mean --grop --group "$ORDERFLOW_CONSUMER" lag
did_you_mean --listn --listen "$ORDERFLOW_GATEWAY"
"$ORDERFLOW_CONSUMER" process --xyzzy 2>"$WORK/usage" >/dev/null && fail "--xyzzy accepted"
grep -qF "option '--xyzzy' is unknown or needs a value" "$WORK/usage" || fail "--xyzzy: $(cat "$WORK/usage")"
echo "ok: help texts fit 80 columns, show defaults and examples; usage errors exit 64"
