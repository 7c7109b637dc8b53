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

# distinct_count: input keys with a data_processed in tail's deduplicated
# (read_committed) view; 0 while the broker is away. The run waits on this,
# never on raw counts (watermarks, tail --raw): at_least_once re-emits what a
# killed processor had not committed, so raw counts reach N while inputs are
# still unprocessed, and a run that stopped then judged 461 keys "lost" (CI).
distinct_count() {
  { "$ORDERFLOW_CONSUMER" tail -b "$BROKERS" -e --from-beginning -q --json 2>/dev/null || true; } |
    wc -l
}

# wait_for_distinct SECONDS: until every one of the N input keys has its
# data_processed, or fail naming how many have one.
wait_for_distinct() {
  wait_at_least "$N" "$1" 3 "input keys with a data_processed" distinct_count
}

# report_missing: the inputs with no data_processed, where they lie in
# order-created (partition, offsets) and what each processor printed for
# them (its stdout: outcome, pPARTITION@OFFSET, order id), into
# $WORK/missing and, summed up, on stderr: a run that finds one missing
# names the records at fault.
report_missing() {
  { "$ORDERFLOW_CONSUMER" tail -b "$BROKERS" -e --from-beginning -q --json 2>/dev/null || true; } |
    jq -r '.subject' | sort -u >"$WORK/have-orders"
  seq "$N" | sed 's/^/G7-/' | sort | comm -23 - "$WORK/have-orders" >"$WORK/missing-orders"
  [ -s "$WORK/missing-orders" ] || return 0
  kcat -C -b "$BROKERS" -t order-created -e -q -f '%k p%p@%o\n' 2>/dev/null |
    awk 'NR == FNR { want[$1] = 1; next } $1 in want' "$WORK/missing-orders" - >"$WORK/missing" || true
  echo "missing, by input partition (count, first and last offset):" \
    "$(sed 's/@/ /' "$WORK/missing" | awk '{ p = $2; o = $3; n[p]++
        if (!(p in lo) || o < lo[p]) lo[p] = o; if (o > hi[p]) hi[p] = o }
      END { for (p in n) printf "%s %d %d-%d; ", p, n[p], lo[p], hi[p] }')" >&2
  local m
  for m in a b; do
    [ -f "$WORK/$m.out" ] || continue
    echo "processor $m printed for them: $(awk 'NR == FNR { want[$1] = 1; next } $3 in want { print $1 }' \
      "$WORK/missing-orders" "$WORK/$m.out" | sort | uniq -c | tr -s ' \n' ' ')" >&2
  done
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
  [ "$missing" -eq 0 ] || { report_missing; fail "$missing input keys have no data_processed"; }
  [ "$shown" -eq "$distinct" ] || fail "tail's deduplicated view shows a key twice"
  [ "$extra" -eq 0 ] && [ "$dlq" -eq 0 ] || fail "unexpected outputs or dead letters"
  [ "$shown" -eq "$N" ] || fail "tail shows $shown events, expected $N"
}
