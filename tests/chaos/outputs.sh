# Shared by the chaos runs (chaos.sh on orderflow-broker, kafka_chaos.sh on
# a Kafka cluster): reading data-processed back and judging it. Sourced after
# tests/e2e/lib.sh; expects N (orders, generated with --seed 7) and BROKERS.

# tail_all FILE [tail options]: the whole topic through tail. orderflow-broker
# may be in one of its down spells (tail then exits 69 after 2 s): try again.
tail_all() {
  local out=$1 status
  shift
  for _ in 1 2 3 4 5 6; do
    status=0
    "$ORDERFLOW_CONSUMER" tail -b "$BROKERS" -e --from-beginning --json "$@" >"$out" \
      2>"$out.err" || status=$?
    [ "$status" -ne 69 ] && break
    sleep 1
  done
  [ "$status" -eq 0 ] || fail "tail $* exited $status: $(tail -2 "$out.err")"
  grep -E ' 0 not events' "$out.err" >/dev/null ||
    fail "tail $* found records that are not events: $(tail -1 "$out.err")"
}

# judge_outputs: exactly one data_processed per input key in tail's
# deduplicated view, none missing, none unexpected, nothing dead-lettered.
# Prints the figures; sets RAW_DUPLICATES.
judge_outputs() {
  tail_all "$WORK/dedup.jsonl"
  tail_all "$WORK/raw.jsonl" --raw
  local dlq shown raw distinct missing extra
  dlq=$(topic_count order-created.dlq)
  jq -r '.idempotencykey' "$WORK/dedup.jsonl" | sort >"$WORK/out-keys"
  seq "$N" | sed 's/^/data_processed:order_created:G7-/' | sort >"$WORK/want-keys"
  shown=$(wc -l <"$WORK/dedup.jsonl")
  raw=$(wc -l <"$WORK/raw.jsonl")
  distinct=$(sort -u "$WORK/out-keys" | wc -l)
  missing=$(comm -13 <(sort -u "$WORK/out-keys") "$WORK/want-keys" | wc -l)
  extra=$(comm -23 <(sort -u "$WORK/out-keys") "$WORK/want-keys" | wc -l)
  RAW_DUPLICATES=$((raw - shown))
  echo "chaos: events lost $missing; duplicates after dedup $((shown - distinct));" \
    "raw duplicates $RAW_DUPLICATES; unexpected keys $extra; dead-lettered $dlq"
  [ "$missing" -eq 0 ] || fail "$missing input keys have no data_processed"
  [ "$shown" -eq "$distinct" ] || fail "tail's deduplicated view shows a key twice"
  [ "$extra" -eq 0 ] && [ "$dlq" -eq 0 ] || fail "unexpected outputs or dead letters"
  [ "$shown" -eq "$N" ] || fail "tail shows $shown events, expected $N"
}
