# Shared by the HTTP handler's end-to-end tests: tests/e2e/lib.sh (broker,
# processors, cleanup) and the fault service (tests/http/fault_service.py).
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
HTTP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# start_service NAME CONFIG_JSON [PORT]: the fault service on PORT (default:
# a free one), its requests appended to $WORK/NAME.log; sets SERVICE
# (127.0.0.1:PORT) and SERVICE_PID. The same NAME and PORT again restart it
# after a kill with its log continued.
start_service() {
  local name=$1 config=$2 port=${3:-0}
  : >"$WORK/$name.out"
  "$PY" "$HTTP_DIR/fault_service.py" --port "$port" --config "$config" \
    --log "$WORK/$name.log" >"$WORK/$name.out" 2>>"$WORK/$name.err" &
  SERVICE_PID=$!
  PIDS+=("$SERVICE_PID")
  SERVICE=
  for _ in $(seq 200); do
    SERVICE=$(sed -n 's/^listening //p' "$WORK/$name.out")
    [ -n "$SERVICE" ] && return 0
    kill -0 "$SERVICE_PID" 2>/dev/null || fail "fault service $name exited: $(cat "$WORK/$name.err")"
    sleep 0.05
  done
  fail "fault service $name not listening in 10 s: $(cat "$WORK/$name.err")"
}

# service_control JSON: changes the running service's faults.
service_control() {
  curl -s -m 5 -o /dev/null -X POST --data "$1" "http://$SERVICE/control" ||
    fail "fault service at $SERVICE: POST /control failed"
}

# outputs_count: data_processed plus dead letters, read read_committed.
outputs_count() {
  local topic n=0
  for topic in data-processed order-created.dlq; do
    # A topic not created yet reads as none.
    n=$((n + $("$PY" "$HTTP_DIR/../e2e/read_topic.py" "$BROKERS" $topic 2>/dev/null | wc -l || true)))
  done
  echo $n
}

# wait_outputs N SECONDS: until data-processed and the dead letters together
# hold N records (read_committed), or fail naming what is there.
wait_outputs() {
  wait_at_least "$1" "$2" 0.5 "outputs and dead letters (read_committed records)" outputs_count
}

# wait_log FILE REGEX SECONDS: until a line of FILE matches REGEX (grep -E).
wait_log() {
  local deadline=$((SECONDS + $3))
  while [ $SECONDS -lt $deadline ]; do
    grep -Eq "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "no line matching '$2' in $1 within $3 s: $(tail -3 "$1")"
}
