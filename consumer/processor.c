/* The processing stage's coordinator: consumes, applies the rules, produces,
 * and hands the guarantee's bookkeeping to the steps of guarantee.h
 * (offsets.c: at_least_once, transaction.c: exactly_once), and the
 * per-event lines to report.c. With an asynchronous handler the loop is
 * async_stage.c's. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <orderflow/envelope.h>
#include <orderflow/handler.h>
#include <orderflow/ids.h>
#include "kafka/kafka.h"

#include "cli/log.h"
#include "record/record.h"

#include "async_stage.h"
#include "guarantee.h"
#include "handler_load.h"
#include "partition_state.h"
#include "processor.h"
#include "processor_internal.h"
#include "report.h"
#include "restore.h"
#include "retry.h"
#include "cli/metrics.h"
#include "util/timer.h"
#include "stage_metrics.h"
#include "step.h"

#define RING_CAPACITY (1u << 16)
/* Stop taking input while this many outputs wait for the broker. */
#define OUTQ_HIGH_WATER 10000
#define UNAVAILABLE_REPORT_INTERVAL_MS 5000
#define RESTORE_TIMEOUT_MS 120000
#define MAX_PARTITIONS 100000
/* With metrics on: lag and broker state come from librdkafka's statistics
 * this often (readiness follows a broker outage within about this). */
#define STATISTICS_INTERVAL "1000"

/* Records the first fatal error (later ones are consequences) and says it. */
__attribute__((format(printf, 3, 4))) void processor_fail(processor *p, int status, const char *fmt,
                                                          ...)
{
    if (p->fatal_status) return;
    p->fatal_status = status;
    va_list args;
    va_start(args, fmt);
    ofc_vlog(stderr, fmt, args);
    va_end(args);
}

/* ---- metrics ------------------------------------------------------------ */

/* /readyz (docs/operations.md, "Monitoring"): joined, restored, broker up,
 * no partition paused for good by a handler's retries. */
void processor_publish_readiness(processor *p)
{
    if (!p->m) return;
    const char *reason = NULL;
    if (!p->assigned_once)
        reason = "not yet joined the consumer group";
    else if (p->restoring)
        reason = "restoring the emitted keys of assigned partitions";
    else if (!p->m->brokers_up)
        reason = "no broker reachable";
    else if (p->retries.gave_up)
        reason = p->gave_up_reason;
    else if (p->breaker_open)
        reason = p->breaker_why;
    ofc_health_set_unready(p->m->health, reason);
}

/* Served on the loop's thread (the consumer's queue), every STATISTICS_INTERVAL. */
static int on_statistics(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    (void)rk;
    processor *p = ofc_kafka_app_opaque(opaque);
    if (p && p->m) {
        stage_metrics_statistics(p->m, json, len);
        processor_publish_readiness(p);
    }
    return 0; /* librdkafka frees json */
}

static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    (void)rk;
    (void)offsets;
    processor *p = ofc_kafka_app_opaque(opaque);
    if (p && p->g) p->guarantee->commit_answered(p->g, err);
}

/* ---- delivery of outputs ---------------------------------------------- */

/* An output that will not be delivered (a failed delivery report, or a
 * producer that failed fatally): its input is never committed. */
static void stop_undelivered(processor *p, int status, const char *detail)
{
    processor_fail(p, status,
                   "output not delivered to %s; stopping without committing it (a restart "
                   "re-processes it)",
                   detail);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    (void)rk;
    processor *p = ofc_kafka_app_opaque(opaque);
    if (msg->err && p->m) ofc_cli_metrics_delivery_error(p->m->registry, msg->err);
    if (msg->err) {
        /* exactly_once: the transaction will abort and the inputs be re-read. */
        if (p->guarantee->output_failed(p->g, msg->err, 0)) return;
        /* at_least_once: its input offset is never committed, so a restart
         * re-processes it. */
        char detail[512];
        snprintf(detail, sizeof(detail), "%s [%" PRId32 "]: %s", rd_kafka_topic_name(msg->rkt),
                 msg->partition, rd_kafka_err2str(msg->err));
        stop_undelivered(p, ofc_kafka_exit_code(msg->err), detail);
        return;
    }
    p->c.delivered++;
    if (p->m)
        ofc_metric_add(
            msg->rkt == p->output_topic ? p->m->produced_output : p->m->produced_dead_letter, 1);
    if (msg->partition >= 0 && msg->partition < p->partition_count && p->states[msg->partition]) {
        partition_state *ps = p->states[msg->partition];
        uint64_t sequence = (uint64_t)(uintptr_t)msg->_private;
        if (p->m) {
            int64_t event_ms = partition_state_time(ps, sequence);
            if (event_ms >= 0)
                ofc_metric_observe(p->m->latency, (double)((int64_t)of_now_ms() - event_ms) / 1000);
        }
        partition_state_complete(ps, sequence);
    }
}

/* ---- per-event output --------------------------------------------------- */

void processor_report_line(processor *p, const rd_kafka_message_t *msg, const char *outcome,
                           of_str order_id, const of_processed *out, const char *reason)
{
    report_event(&p->report, outcome, msg->partition, msg->offset, order_id, out, reason);
}

/* A duplicate input, skipped: counted, and its line. order_id of length 0:
 * the line names no order (step's reason says why, e.g. dead-lettered before). */
void processor_report_duplicate(processor *p, const rd_kafka_message_t *msg, of_str order_id,
                                const char *reason)
{
    p->c.duplicates++;
    if (p->m) ofc_metric_add(p->m->outcomes[STAGE_DUPLICATE], 1);
    processor_report_line(p, msg, "duplicate", order_id, NULL, reason);
}

/* ofc_kafka_retry.stop: a fatal error seen (by a delivery report served
 * while waiting) ends the wait for room. */
static int produce_stopped(void *opaque)
{
    const processor *p = opaque;
    return p->fatal_status != 0;
}

/* Produces with retries while librdkafka's queue is full. */
int processor_produce(processor *p, rd_kafka_topic_t *topic, int32_t partition, const void *key,
                      size_t key_len, const void *value, size_t value_len,
                      rd_kafka_headers_t *headers, uint64_t sequence)
{
    const ofc_kafka_record rec = {
        .topic = topic,
        .partition = partition,
        .key = key,
        .key_len = key_len,
        .value = value,
        .value_len = value_len,
        .headers = headers,
        .opaque = (void *)(uintptr_t)sequence,
    };
    const ofc_kafka_retry retry = {
        .wait_ms = 10, .max_wait_ms = -1, .stop = produce_stopped, .opaque = p};
    rd_kafka_resp_err_t rc = ofc_kafka_produce(p->producer.rk, &rec, &retry);
    if (rc == RD_KAFKA_RESP_ERR_NO_ERROR) return 0;
    rd_kafka_headers_destroy(headers);
    /* exactly_once: the loop aborts and re-reads this input. */
    if (p->guarantee->output_failed(p->g, rc, 1)) return -1;
    char detail[512];
    if (rc == RD_KAFKA_RESP_ERR__FATAL) {
        /* The idempotent producer gave up (librdkafka 2.0.2: a sequence it
         * cannot reconcile after a leader's kill -9, #4438): what it held is
         * undelivered, so no offset past it was committed. */
        char why[256];
        rd_kafka_resp_err_t cause = rd_kafka_fatal_error(p->producer.rk, why, sizeof(why));
        snprintf(detail, sizeof(detail), "%s [%" PRId32 "]: the producer failed: %s: %s",
                 rd_kafka_topic_name(topic), partition, rd_kafka_err2name(cause), why);
        stop_undelivered(p, ofc_kafka_exit_code(rc), detail);
        return -1;
    }
    snprintf(detail, sizeof(detail), "%s [%" PRId32 "]: %s", rd_kafka_topic_name(topic), partition,
             rd_kafka_err2str(rc));
    processor_fail(p, ofc_kafka_exit_code(rc), "cannot produce to %s", detail);
    return -1;
}

/* A dead letter for an input not in the completion ring yet (the ring
 * entry is made here), or for one an asynchronous handler had (its
 * sequence). */
#define NEW_SEQUENCE UINT64_MAX

void processor_dead_letter_at(processor *p, partition_state *ps, const rd_kafka_message_t *msg,
                              const char *reason, uint64_t held)
{
    char key[32];
    size_t key_len = dead_letter_key(msg->offset, key, sizeof(key));
    if (of_dedup_contains(ps->emitted, key, key_len)) {
        /* Dead-lettered before a crash or rebalance: do not do it twice. */
        if (held == NEW_SEQUENCE)
            partition_state_push(ps, msg->offset, 1);
        else
            partition_state_produced(ps, held, 1);
        processor_report_duplicate(p, msg, (of_str){NULL, 0}, "already dead-lettered");
        return;
    }
    /* The input's own headers go along (orderflow-consumer redrive puts
     * them back), with this stage's four replacing any earlier ones. */
    rd_kafka_headers_t *headers = ofc_dead_letter_headers(msg, p->cfg->topic_order_created, reason);
    if (!headers) {
        processor_fail(p, EX_OSERR, "out of memory for the headers of a dead letter");
        return;
    }
    uint64_t sequence = held;
    if (held == NEW_SEQUENCE)
        sequence = partition_state_push(ps, msg->offset, 0);
    else
        partition_state_produced(ps, held, 0);
    /* Original key and value bytes, untouched (docs/envelope.md, "Dead letters"), when they fit. */
    if (msg->len + msg->key_len + 1024 > p->max_message_bytes) {
        /* Forwarding would fail on every retry and stop the partition: keep
         * the record's place and say where the bytes are instead. */
        char note[160];
        snprintf(note, sizeof(note),
                 "; value of %zu bytes not copied (over message.max.bytes %zu): read it at the "
                 "source offset",
                 msg->len, p->max_message_bytes);
        rd_kafka_header_remove(headers, OF_DEAD_LETTER_ERROR_HEADER);
        char full[700];
        snprintf(full, sizeof(full), "%s%s", reason, note);
        ofc_kafka_header_add(headers, OF_DEAD_LETTER_ERROR_HEADER, full, strlen(full));
        if (processor_produce(p, p->dead_letter_topic, msg->partition, msg->key, msg->key_len, NULL,
                              0, headers, sequence) != 0)
            return;
    } else if (processor_produce(p, p->dead_letter_topic, msg->partition, msg->key, msg->key_len,
                                 msg->payload, msg->len, headers, sequence) != 0) {
        return;
    }
    of_dedup_insert(ps->emitted, key, key_len);
    /* exactly_once: counted, so that a run of dead letters alone still
     * commits (and is not left open until transaction.timeout.ms). */
    p->guarantee->produced(p->g);
    p->c.dead_lettered++;
    if (p->m) ofc_metric_add(p->m->outcomes[STAGE_DEAD_LETTERED], 1);
    processor_report_line(p, msg, "dead-lettered", (of_str){NULL, 0}, NULL, reason);
}

void processor_dead_letter(processor *p, partition_state *ps, const rd_kafka_message_t *msg,
                           const char *reason)
{
    processor_dead_letter_at(p, ps, msg, reason, NEW_SEQUENCE);
}

/* Says once per assignment when every assigned partition has been consumed
 * to its end (librdkafka's partition EOF, enable.partition.eof): the backlog
 * is processed, outputs may still be in flight. */
static void note_partition_end(processor *p, const rd_kafka_message_t *msg)
{
    if (msg->partition < 0 || msg->partition >= p->partition_count || !p->states[msg->partition])
        return;
    p->states[msg->partition]->reached_end = 1;
    if (p->caught_up_said || p->opts->output == PROCESSOR_OUTPUT_NONE) return;
    for (int32_t i = 0; i < p->partition_count; i++)
        if (p->states[i] && !p->states[i]->reached_end) return;
    p->caught_up_said = 1;
    ofc_warn("caught up: all %" PRId32 " assigned partitions read to their end (%" PRIu64
             " events consumed so far); waiting for more",
             p->assigned_count, p->c.consumed);
}

/* Forgets ps's retry (retry.h); /readyz changes when it was given up. */
static void release_retry(processor *p, partition_state *ps)
{
    if (retries_release(&p->retries, ps)) processor_publish_readiness(p);
}

/* The handler answered retry for msg (attempt `attempt`): the partition
 * pauses and every input from msg on waits, so its order is kept; the loop
 * reads it again from msg when the delay is over (retry_due). After
 * handler.max_attempts, handler.after_max_attempts: dead-letter it, or keep
 * the partition paused (nothing skipped) and say so on /readyz. Returns 1
 * when the input is finished (dead-lettered), 0 when it waits. */
static int retry_later(processor *p, partition_state *ps, const rd_kafka_message_t *msg,
                       const step_result *r, unsigned attempt)
{
    const char *name = p->step.handler->name;
    p->c.retried++;
    if (p->m) ofc_metric_add(p->m->retries, 1);
    if (attempt >= (unsigned)p->cfg->handler_max_attempts) {
        char reason[STEP_REASON_MAX + 100];
        snprintf(reason, sizeof(reason), "handler %s: answered retry %u times: %s", name, attempt,
                 r->reason && r->reason[0] ? r->reason : "no reason given");
        if (p->cfg->handler_after_max_attempts == OFC_AFTER_MAX_ATTEMPTS_DEAD_LETTER) {
            release_retry(p, ps);
            processor_dead_letter(p, ps, msg, reason);
            return 1;
        }
        retries_give_up(&p->retries, ps, msg->offset);
        snprintf(p->gave_up_reason, sizeof(p->gave_up_reason),
                 "partition %" PRId32 " paused at offset %" PRId64 ": %s", msg->partition,
                 msg->offset, reason);
        ofc_warn("%s; its later events wait (handler.after_max_attempts = pause): fix the cause "
                 "and restart the processor",
                 p->gave_up_reason);
        processor_report_line(p, msg, "paused", r->order_id, NULL, reason);
        processor_publish_readiness(p);
        return 0;
    }
    int64_t delay =
        r->retry_delay_ms ? (int64_t)r->retry_delay_ms : (int64_t)p->cfg->handler_retry_delay_ms;
    if (delay > p->cfg->handler_retry_delay_max_ms) delay = p->cfg->handler_retry_delay_max_ms;
    retries_hold(&p->retries, ps, msg->offset, attempt, of_monotonic_ms() + delay);
    processor_report_line(p, msg, "retry", r->order_id, NULL, r->reason);
    return 0;
}

/* A consumer event that is not a record: a partition's end, or an error. */
static void consumer_event(processor *p, const rd_kafka_message_t *msg)
{
    if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        note_partition_end(p, msg);
        return;
    }
    char refused[1024]; /* retrying cannot help: exit 77 with the grant */
    if (ofc_kafka_refusal(&p->consumer, msg->err, msg->rkt ? rd_kafka_topic_name(msg->rkt) : NULL,
                          NULL, refused, sizeof(refused))) {
        processor_fail(p, EX_NOPERM, "%s", refused);
        return;
    }
    ofc_warn("consumer: %s", rd_kafka_message_errstr(msg));
    if (msg->err == RD_KAFKA_RESP_ERR__FATAL || msg->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
        msg->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
        processor_fail(p, ofc_kafka_exit_code(msg->err), "%s", rd_kafka_message_errstr(msg));
}

/* The state of the partition a consumed record is an input of; NULL for a
 * consumer event (handled here) or a partition not (or no longer) ours:
 * revoked meanwhile, the new owner processes it. */
partition_state *processor_input_partition(processor *p, const rd_kafka_message_t *msg)
{
    if (msg->err) {
        consumer_event(p, msg);
        return NULL;
    }
    if (msg->partition < 0 || msg->partition >= p->partition_count) return NULL;
    return p->states[msg->partition];
}

/* One input: decode, dedup, handler, encode (step.c), then produce. Returns
 * 1 when the input is finished (its output produced, or none needed), 0
 * when it is not (a consumer error, revoked, or waiting behind a retry). */
static int process_message(processor *p, rd_kafka_message_t *msg)
{
    partition_state *ps = processor_input_partition(p, msg);
    if (!ps) return 0;
    /* Behind a retry: read again once the retried input is finished. */
    if (partition_state_held(ps, msg->offset)) return 0;
    while (!partition_state_has_room(ps) && !p->fatal_status)
        rd_kafka_poll(p->producer.rk, 10);
    if (p->fatal_status) return 0;
    unsigned attempt = retries_attempt(ps, msg->offset);
    if (attempt == 1) {
        p->c.consumed++;
        if (p->m) ofc_metric_add(p->m->consumed, 1);
    }

    step_input in = {
        .value = msg->payload,
        .len = msg->len,
        .partition = msg->partition,
        .offset = msg->offset,
        .attempt = attempt,
    };
    step_result *r = &p->result;
    step_process(&p->step, ps->emitted, &in, r);
    if (r->trace_ignored) {
        p->c.trace_invalid++;
        if (p->m) ofc_metric_add(p->m->trace_invalid, 1);
    }
    if (r->outcome == STEP_RETRY) return retry_later(p, ps, msg, r, attempt);
    if (ps->retry_offset >= 0) release_retry(p, ps);

    switch (r->outcome) {
    case STEP_DUPLICATE:
        partition_state_push(ps, msg->offset, 1);
        processor_report_duplicate(p, msg, r->reason ? (of_str){NULL, 0} : r->order_id, r->reason);
        return 1;
    case STEP_DEAD_LETTER:
        processor_dead_letter(p, ps, msg, r->reason);
        return 1;
    case STEP_ACCEPTED:
    case STEP_REJECTED:
    case STEP_RETRY:
    case STEP_CALL: /* not from step_process */
    case STEP_EMITTED:
    case STEP_EXHAUSTED:
        break;
    }

    rd_kafka_headers_t *headers = step_output_headers(r);
    if (!headers) {
        processor_fail(p, EX_OSERR, "out of memory for the headers of an output");
        return 0;
    }
    uint64_t sequence = partition_state_push(ps, msg->offset, 0);
    if (p->m) partition_state_set_time(ps, sequence, stage_event_time_ms(r->input_time));
    if (processor_produce(p, p->output_topic, msg->partition, r->order_id.ptr, r->order_id.len,
                          r->output.value, r->output.value_len, headers, sequence) != 0)
        return 1;
    of_dedup_insert_hash(ps->emitted, r->key_hash);
    p->guarantee->produced(p->g);
    if (r->outcome == STEP_ACCEPTED) {
        p->c.accepted++;
        if (p->m) ofc_metric_add(p->m->outcomes[STAGE_ACCEPTED], 1);
        processor_report_line(p, msg, "accepted", r->order_id, r->processed, NULL);
    } else {
        p->c.rejected++;
        if (p->m) ofc_metric_add(p->m->outcomes[STAGE_REJECTED], 1);
        processor_report_line(p, msg, "rejected", r->order_id, r->processed, r->reason);
    }
    return 1;
}

/* ---- assignment ---------------------------------------------------------- */

static void release_partitions(processor *p, const rd_kafka_topic_partition_list_t *parts)
{
    for (int i = 0; i < parts->cnt; i++) {
        int32_t n = parts->elems[i].partition;
        if (n >= 0 && n < p->partition_count) {
            if (p->states[n]) {
                p->assigned_count--;
                release_retry(p, p->states[n]);
                async_stage_drop_partition(p, n);
            }
            partition_state_free(p->states[n]);
            p->states[n] = NULL;
        }
    }
    if (p->m) ofc_metric_set(p->m->assigned, p->assigned_count);
}

/* "1,3,5" (cut with "..." when long), for -v. */
static const char *partition_list(const rd_kafka_topic_partition_list_t *parts, char *out,
                                  size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < parts->cnt; i++) {
        int n = snprintf(out + used, outlen - used, "%s%" PRId32, i ? "," : "",
                         parts->elems[i].partition);
        if (n < 0 || (size_t)n >= outlen - used) {
            snprintf(out + (outlen > 4 ? outlen - 4 : 0), outlen > 4 ? 4 : outlen, "...");
            break;
        }
        used += (size_t)n;
    }
    return out;
}

static int take_partitions(processor *p, const rd_kafka_topic_partition_list_t *parts)
{
    partition_state **fresh = calloc((size_t)parts->cnt + 1, sizeof(*fresh));
    size_t count = 0;
    int status = fresh ? 0 : -1;
    for (int i = 0; i < parts->cnt && status == 0; i++) {
        int32_t n = parts->elems[i].partition;
        if (n < 0 || n >= p->partition_count) continue;
        if (p->states[n]) {
            /* Read again from the committed offset (exactly_once's rewind):
             * a retry starts over at attempt 1. */
            p->assigned_count--;
            release_retry(p, p->states[n]);
            async_stage_drop_partition(p, n);
        }
        partition_state_free(p->states[n]);
        /* 2^40 sequences per state: more inputs than one assignment sees. */
        p->states[n] =
            partition_state_new(n, p->cfg->dedup_window, RING_CAPACITY, ++p->states_created << 40);
        if (p->states[n]) p->assigned_count++;
        if (!p->states[n] || (p->m && partition_state_track_times(p->states[n]) != 0))
            status = -1;
        else
            fresh[count++] = p->states[n];
    }
    if (p->m) ofc_metric_set(p->m->assigned, p->assigned_count);
    if (status != 0) {
        processor_fail(p, EX_OSERR, "out of memory for partition state");
        free(fresh);
        return -1;
    }
    size_t before = p->restore.records_read;
    char err[512];
    int64_t start = of_monotonic_ms();
    p->restoring = 1;
    processor_publish_readiness(p);
    int restored = restorer_restore(&p->restore, fresh, count, p->opts->stop, RESTORE_TIMEOUT_MS,
                                    err, sizeof(err));
    p->restoring = 0;
    if (restored != 0) {
        if (!*p->opts->stop)
            processor_fail(p, restored == EX_NOPERM ? EX_NOPERM : EX_UNAVAILABLE, "%s", err);
        free(fresh);
        return -1;
    }
    size_t keys = 0;
    for (size_t i = 0; i < count; i++)
        keys += of_dedup_count(fresh[i]->emitted);
    p->c.restored_keys += keys;
    if (p->m) {
        ofc_metric_set(p->m->restore_seconds, (double)(of_monotonic_ms() - start) / 1000);
        ofc_metric_set(p->m->restore_keys, (double)keys);
    }
    if (p->opts->verbose && count > 0) {
        char list[256];
        ofc_warn("assigned partitions %s; restored %zu keys from %zu records in %" PRId64 " ms",
                 partition_list(parts, list, sizeof(list)), keys, p->restore.records_read - before,
                 of_monotonic_ms() - start);
    }
    free(fresh);
    return 0;
}

/* Outputs of an aborted transaction are invisible to the next read_committed
 * restore: rebuilds the emitted sets of everything assigned. When that fails
 * the partitions are dropped, as an assignment that cannot be restored is
 * (processing them could emit twice); the failure is already recorded. */
static void restore_assigned(processor *p)
{
    rd_kafka_topic_partition_list_t *assigned = NULL;
    if (rd_kafka_assignment(p->consumer.rk, &assigned) != RD_KAFKA_RESP_ERR_NO_ERROR || !assigned)
        return;
    if (take_partitions(p, assigned) != 0) release_partitions(p, assigned);
    rd_kafka_topic_partition_list_destroy(assigned);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    processor *p = ofc_kafka_app_opaque(opaque);
    int cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    p->c.rebalances++;
    if (p->m) ofc_metric_add(p->m->rebalances, 1);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (p->m) stage_metrics_broker_answered(p->m);
        int taken = take_partitions(p, parts) == 0;
        p->assigned_once = 1;
        if (taken) {
            p->caught_up_said = 0;
            processor_publish_readiness(p);
            p->guarantee->assigned(p->g, parts);
        } else {
            /* Without restored state processing could emit twice: no state
             * is kept for them, so nothing read from them is processed or
             * committed, and the processor is stopping (a stop signal cut
             * the restore short, or its failure is recorded). librdkafka is
             * still told: its group waits for the callback's assign, and
             * the revoke that follows names these partitions too; an
             * unassign of partitions never assigned fails ("not in the
             * current assignment") and leaves rd_kafka_consumer_close
             * waiting forever (seen with group.protocol=consumer, whose
             * assignments come with a heartbeat, after the stop). */
            release_partitions(p, parts);
        }
        rd_kafka_error_t *error = NULL;
        rd_kafka_resp_err_t rc = RD_KAFKA_RESP_ERR_NO_ERROR;
        if (cooperative)
            error = rd_kafka_incremental_assign(rk, parts);
        else
            rc = rd_kafka_assign(rk, parts);
        if (error || rc)
            processor_fail(p, EX_SOFTWARE, "cannot assign partitions: %s",
                           error ? rd_kafka_error_string(error) : rd_kafka_err2str(rc));
        if (error) rd_kafka_error_destroy(error);
        /* The window full or the breaker open: the new partitions wait too. */
        if (taken && p->async && !error && !rc) async_stage_apply_fetch_pauses(p);
        return;
    }
    /* Revoked: finish what was taken from these partitions so the next owner
     * starts exactly behind it. Lost (the group moved on without us, e.g.
     * after a session timeout): their new owner may already be at work, so
     * nothing of ours may commit for them. */
    int lost = rd_kafka_assignment_lost(rk);
    int64_t start = of_monotonic_ms();
    p->guarantee->revoking(p->g, lost);
    release_partitions(p, parts);
    if (cooperative) {
        rd_kafka_error_t *error = rd_kafka_incremental_unassign(rk, parts);
        if (error) rd_kafka_error_destroy(error);
    } else {
        rd_kafka_assign(rk, NULL);
    }
    /* exactly_once: an aborted transaction also held outputs of partitions
     * we keep (cooperative protocol): read those inputs again. */
    p->guarantee->settle(p->g);
    if (p->opts->verbose && parts->cnt > 0) {
        char list[256];
        ofc_warn("%s partitions %s; settled in %" PRId64 " ms", lost ? "lost" : "revoked",
                 partition_list(parts, list, sizeof(list)), of_monotonic_ms() - start);
    }
}

/* The guarantee has processed the input (exactly_once: it is part of the
 * open transaction). */
static void note_processed(processor *p, const rd_kafka_message_t *msg)
{
    if (msg->err || msg->partition < 0 || msg->partition >= p->partition_count) return;
    partition_state *ps = p->states[msg->partition];
    if (ps) p->guarantee->processed(p->g, ps, msg->offset);
}

static void rebuild_assigned(void *opaque)
{
    restore_assigned(opaque);
}

/* ---- set-up ------------------------------------------------------------ */

static int check_topics(processor *p, char *err, size_t errlen)
{
    ofc_topic_info topics[] = {
        {p->cfg->topic_order_created, 0},
        {p->cfg->topic_data_processed, 0},
        {p->cfg->topic_dead_letter, 0},
    };
    int status = ofc_kafka_describe_topics(&p->producer, p->cfg->brokers, topics, 3,
                                           p->cfg->producer_timeout_ms, err, errlen);
    if (status) return status;
    for (int i = 0; i < 3; i++) {
        if (topics[i].partition_count == 0) {
            snprintf(err, errlen,
                     "topic '%s' does not exist on %s; create the three topics with the same "
                     "partition count (see kafka-compose.yml) or name others in the topics "
                     "group of the config file",
                     topics[i].name, p->cfg->brokers);
            return EX_UNAVAILABLE;
        }
    }
    /* Kafka can add partitions but never remove them: the advice grows the
     * smaller topics to the largest count. */
    int most = 0;
    for (int i = 0; i < 3; i++)
        if (topics[i].partition_count > topics[most].partition_count) most = i;
    for (int i = 0; i < 3; i++) {
        if (topics[i].partition_count != topics[most].partition_count) {
            snprintf(err, errlen,
                     "topics are not co-partitioned: '%s' has %d partitions but '%s' has %d; "
                     "output partition N must match input partition N, so give '%s' %d "
                     "partitions (kafka-topics.sh --bootstrap-server %s --alter --topic %s "
                     "--partitions %d)",
                     topics[i].name, topics[i].partition_count, topics[most].name,
                     topics[most].partition_count, topics[i].name, topics[most].partition_count,
                     p->cfg->brokers, topics[i].name, topics[most].partition_count);
            return EX_CONFIG;
        }
    }
    if (topics[0].partition_count > MAX_PARTITIONS) {
        snprintf(err, errlen, "topic '%s' has %d partitions; at most %d are supported",
                 topics[0].name, topics[0].partition_count, MAX_PARTITIONS);
        return EX_CONFIG;
    }
    p->partition_count = topics[0].partition_count;
    return 0;
}

static int open_clients(processor *p, char *err, size_t errlen)
{
    const ofc_config *cfg = p->cfg;

    /* Room to dead-letter a record at the size limit, plus headers. */
    char message_max[32];
    snprintf(message_max, sizeof(message_max), "%zu",
             ofc_kafka_dead_letter_message_max(cfg->limits.max_record_bytes));
    /* The guarantee's settings are appended below, each as a whole entry: a
     * NULL key ends the table, so a conditional key must never be one. */
    ofc_kafka_setting producer_defaults[8] = {
        {"message.max.bytes", message_max},
        {"linger.ms", "5"},
        {"batch.num.messages", "10000"},
        {"queue.buffering.max.messages", "500000"},
    };
    size_t defaults_used = 4;
    char guarantee_scratch[400];
    p->guarantee->producer_defaults(cfg, producer_defaults, &defaults_used, guarantee_scratch,
                                    sizeof(guarantee_scratch));
    producer_defaults[defaults_used] = (ofc_kafka_setting){NULL, NULL};
    rd_kafka_conf_t *conf = ofc_kafka_producer_conf_new(cfg, producer_defaults, err, errlen);
    if (!conf) return EX_CONFIG;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    char max_bytes[32];
    size_t max_bytes_len = sizeof(max_bytes);
    if (rd_kafka_conf_get(conf, "message.max.bytes", max_bytes, &max_bytes_len) == RD_KAFKA_CONF_OK)
        p->max_message_bytes = (size_t)strtoull(max_bytes, NULL, 10);
    if (ofc_kafka_new(&p->producer, RD_KAFKA_PRODUCER, conf, p, err, errlen) != 0)
        return EX_SOFTWARE;

    char commit_interval[24];
    snprintf(commit_interval, sizeof(commit_interval), "%d", cfg->commit_interval_ms);
    ofc_kafka_setting consumer_defaults[11] = {
        {"group.id", cfg->consumer_group},
        {"auto.offset.reset", "earliest"},
        {"session.timeout.ms", "10000"},
        {"heartbeat.interval.ms", "1000"},
        {"auto.commit.interval.ms", commit_interval},
        /* librdkafka 2.0.2 waits up to 1 s before fetching again once this
         * much is prefetched; loop() wakes it instead (ofc_kafka_wake_fetcher),
         * so 8 MB no longer caps a backlog's pace (docs/benchmarks.md). */
        {"queued.max.messages.kbytes", "8192"},
        {"max.partition.fetch.bytes", "262144"}, /* 12 partitions: 3 MB a fetch, not 12 */
        /* A member joining or leaving moves only the partitions that change
         * owner; the others keep being processed (docs/operations.md,
         * "Rebalances"). */
        {"partition.assignment.strategy", "cooperative-sticky"},
        {"enable.partition.eof", "true"}, /* for "caught up" (note_partition_end) */
    };
    size_t consumer_defaults_used = 9;
    if (cfg->consumer_instance_id)
        consumer_defaults[consumer_defaults_used++] =
            (ofc_kafka_setting){"group.instance.id", cfg->consumer_instance_id};
    if (p->m)
        consumer_defaults[consumer_defaults_used++] =
            (ofc_kafka_setting){"statistics.interval.ms", STATISTICS_INTERVAL};
    consumer_defaults[consumer_defaults_used] = (ofc_kafka_setting){NULL, NULL};
    /* at_least_once: we store an offset only when every output before it is
     * delivered, and commit the stored offsets every auto.commit.interval.ms
     * (offsets.c says why not librdkafka's own timer).
     * exactly_once: offsets go into the transaction instead. */
    conf = ofc_kafka_member_conf_new(cfg, consumer_defaults, p->guarantee->consumer_forced, err,
                                     errlen);
    if (!conf) return EX_CONFIG;
    char interval[24];
    size_t interval_len = sizeof(interval);
    p->commit_interval_ms = cfg->commit_interval_ms;
    if (rd_kafka_conf_get(conf, "auto.commit.interval.ms", interval, &interval_len) ==
        RD_KAFKA_CONF_OK)
        p->commit_interval_ms = atoi(interval);
    char instance[256];
    size_t instance_len = sizeof(instance);
    p->static_member =
        rd_kafka_conf_get(conf, "group.instance.id", instance, &instance_len) == RD_KAFKA_CONF_OK &&
        instance[0] != '\0';
    char strategy[256];
    size_t strategy_len = sizeof(strategy);
    p->sticky = rd_kafka_conf_get(conf, "partition.assignment.strategy", strategy, &strategy_len) ==
                    RD_KAFKA_CONF_OK &&
                strstr(strategy, "cooperative-sticky") != NULL;
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    if (p->m) {
        rd_kafka_conf_set_stats_cb(conf, on_statistics);
        rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
    }
    if (ofc_kafka_new_member(&p->consumer, conf, p, err, errlen) != 0) return EX_SOFTWARE;
    if (restorer_open(&p->restore, cfg, err, errlen) != 0) return EX_CONFIG;
    return 0;
}

static int setup(processor *p, char *err, size_t errlen)
{
    int status = open_clients(p, err, errlen);
    if (status) return status;
    if ((status = check_topics(p, err, errlen)) != 0) return status;
    p->states = calloc((size_t)p->partition_count, sizeof(*p->states));
    int report_failed = reporter_init(&p->report, p->opts->output, p->opts->out);
    p->output_topic = rd_kafka_topic_new(p->producer.rk, p->cfg->topic_data_processed, NULL);
    p->dead_letter_topic = rd_kafka_topic_new(p->producer.rk, p->cfg->topic_dead_letter, NULL);
    if (!p->states || report_failed || !p->output_topic || !p->dead_letter_topic) {
        snprintf(err, errlen, "out of memory setting up the processor");
        return EX_OSERR;
    }
    /* The handler is opened already (process.c, before the group is joined). */
    const loaded_handler *h = p->opts->handler;
    if (step_init(&p->step, &p->cfg->limits, p->cfg->consumer_group,
                  h && h->handler ? h->handler : of_handler_rules(), h ? h->state : NULL,
                  p->cfg->handler_max_output_bytes, err, errlen) != 0)
        return EX_OSERR;
    p->step_ready = 1;
    if (p->async) {
        int window_status = async_stage_open_window(p, err, errlen);
        if (window_status) return window_status;
    }
    retries_init(&p->retries, p->consumer.rk, p->cfg->topic_order_created, p->states,
                 p->partition_count);
    const guarantee_env env = {
        .producer = &p->producer,
        .consumer = &p->consumer,
        .cfg = p->cfg,
        .states = p->states,
        .partition_count = p->partition_count,
        .commit_interval_ms = p->commit_interval_ms,
        .static_member = p->static_member,
        .verbose = p->opts->verbose,
        .rebuild_assigned = rebuild_assigned,
        .opaque = p,
    };
    int open_status = EX_UNAVAILABLE;
    p->g = p->guarantee->open(&env, &open_status, err, errlen);
    if (!p->g) return open_status;

    rd_kafka_poll_set_consumer(p->consumer.rk);
    p->queue = rd_kafka_queue_get_consumer(p->consumer.rk);
    /* async_stage_loop waits in the handler's run for a response or this. */
    if (p->async) rd_kafka_queue_io_event_enable(p->queue, p->wake[1], "1", 1);
    rd_kafka_topic_partition_list_t *subscription = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(subscription, p->cfg->topic_order_created,
                                      RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t rc = rd_kafka_subscribe(p->consumer.rk, subscription);
    rd_kafka_topic_partition_list_destroy(subscription);
    if (rc) {
        snprintf(err, errlen, "cannot subscribe to '%s': %s", p->cfg->topic_order_created,
                 rd_kafka_err2str(rc));
        return ofc_kafka_exit_code(rc);
    }
    return 0;
}

/* ---- the loop ------------------------------------------------------------ */

static void print_stats(processor *p, FILE *f)
{
    report_counters(f, &p->c, rd_kafka_outq_len(p->producer.rk));
}

void processor_housekeeping(processor *p)
{
    int64_t now = of_monotonic_ms();
    rd_kafka_poll(p->producer.rk, 0);
    if (p->m) {
        ofc_health_beat(p->m->health, now);
        ofc_metric_set(p->m->in_flight, rd_kafka_outq_len(p->producer.rk));
        guarantee_stats stats;
        p->guarantee->stats(p->g, &stats);
        atomic_store_explicit(&p->m->commit_failures->value, stats.commit_failures,
                              memory_order_relaxed);
    }
    char refused[1024];
    if (p->producer.fatal &&
        ofc_kafka_refusal(&p->producer, p->producer.last_error, p->cfg->topic_data_processed, NULL,
                          refused, sizeof(refused)))
        processor_fail(p, EX_NOPERM, "%s", refused);
    if (p->producer.fatal)
        processor_fail(p, ofc_kafka_exit_code(p->producer.last_error), "producer: %s",
                       p->producer.last_error_text);
    if (p->consumer.fatal)
        processor_fail(p, ofc_kafka_exit_code(p->consumer.last_error), "consumer: %s",
                       p->consumer.last_error_text);
    if (ofc_kafka_group_protocol_refused(&p->consumer))
        processor_fail(
            p, EX_CONFIG,
            "group.protocol=consumer (KIP-848): the broker does not serve it (Kafka 4.0 or "
            "later does); remove the setting to join with the classic protocol");
    int rebalancing = ofc_kafka_group_rebalancing(&p->consumer);
    if (rebalancing != p->rebalancing) {
        if (p->opts->verbose && rebalancing)
            ofc_warn("group rebalancing: offset commits wait");
        else if (p->opts->verbose)
            ofc_warn("group stable again after %" PRId64 " ms", now - p->rebalancing_since_ms);
        p->rebalancing = rebalancing;
        p->rebalancing_since_ms = now;
    }
    retries_due(&p->retries, now);
    p->guarantee->tick(p->g, now);
    const char *guarantee_failed = p->guarantee->fatal(p->g);
    if (guarantee_failed) processor_fail(p, EX_SOFTWARE, "%s", guarantee_failed);
    /* Say once per interval, not per event, that the cluster is away. */
    int producer_away =
        ofc_kafka_unreachable_due(&p->producer, now, UNAVAILABLE_REPORT_INTERVAL_MS);
    int consumer_away =
        ofc_kafka_unreachable_due(&p->consumer, now, UNAVAILABLE_REPORT_INTERVAL_MS);
    if ((producer_away || consumer_away) && ofc_timer_due(&p->unavailable_report, now)) {
        ofc_warn("brokers unreachable (%s); retrying, %d outputs waiting",
                 producer_away ? p->producer.last_error_text : p->consumer.last_error_text,
                 rd_kafka_outq_len(p->producer.rk));
    }
    if (p->opts->verbose && ofc_timer_due(&p->stats_line, now)) {
        int in_flight = rd_kafka_outq_len(p->producer.rk);
        if (p->c.consumed != p->stats_consumed || p->c.delivered != p->stats_delivered ||
            in_flight != p->stats_in_flight) {
            p->stats_consumed = p->c.consumed;
            p->stats_delivered = p->c.delivered;
            p->stats_in_flight = in_flight;
            print_stats(p, stderr);
        }
    }
}

/* Backpressure: while the broker is behind on outputs, take no input and
 * let it catch up. Returns 1 when it was behind (the loop goes round again). */
int processor_producer_behind(processor *p)
{
    if (rd_kafka_outq_len(p->producer.rk) <= OUTQ_HIGH_WATER) return 0;
    rd_kafka_poll(p->producer.rk, 50);
    processor_housekeeping(p);
    return 1;
}

/* The state a record's partition has now: its first sequence, 0 when the
 * record is a consumer event or its partition is not ours. */
static uint64_t taken_under(const processor *p, const rd_kafka_message_t *msg)
{
    if (msg->err || msg->partition < 0 || msg->partition >= p->partition_count) return 0;
    const partition_state *ps = p->states[msg->partition];
    return ps ? ps->first_sequence : 0;
}

static int loop(processor *p)
{
    rd_kafka_message_t *batch[BATCH_SIZE];
    unsigned wake_cursor = 0; /* bench tuning: see ofc_kafka_wake_fetcher */
    size_t drained = 0;       /* events since the queue was last empty */
    while (!*p->opts->stop && !p->fatal_status) {
        if (processor_producer_behind(p)) continue;
        p->guarantee->begin(p->g);
        /* Wait for one message, then take what else is there without
         * waiting: rd_kafka_consume_batch_queue alone holds a part batch
         * back until its timeout, which a low rate pays as latency. */
        ssize_t n = 0;
        batch[0] = rd_kafka_consume_queue(p->queue, drained >= WAKE_AFTER ? 10 : 100);
        if (!batch[0] && drained >= WAKE_AFTER)
            ofc_kafka_wake_fetcher(p->consumer.rk, &wake_cursor);
        if (!batch[0]) drained = 0;
        if (batch[0]) {
            uint64_t first_state = taken_under(p, batch[0]);
            ssize_t more = rd_kafka_consume_batch_queue(p->queue, 0, batch + 1, BATCH_SIZE - 1);
            n = 1 + (more > 0 ? more : 0);
            drained += (size_t)n;
            /* A rebalance that call served gave batch[0]'s partition a new
             * state (revoked or lost, then assigned again): librdkafka drops
             * that call's records of the old assignment (its barrier), not
             * batch[0], taken before. Processed now, it would enter the new
             * ring ahead of the records read again from the committed offset,
             * and the commit could pass inputs not yet processed. Read again
             * from the committed offset, or processed already by another member. */
            if (taken_under(p, batch[0]) != first_state) {
                if (p->opts->verbose)
                    ofc_warn("record %" PRId32 "@%" PRId64 " was taken before its partition was "
                             "assigned again: left to the new assignment",
                             batch[0]->partition, batch[0]->offset);
                rd_kafka_message_destroy(batch[0]);
                batch[0] = NULL;
            }
        }
        for (ssize_t i = 0; i < n; i++) {
            if (!batch[i]) continue;
            if (!p->fatal_status) {
                /* A rebalance callback served while this batch was fetched
                 * may have committed the transaction. */
                p->guarantee->begin(p->g);
                if (process_message(p, batch[i])) note_processed(p, batch[i]);
            }
            rd_kafka_message_destroy(batch[i]);
        }
        /* One write per batch: readers of a pipe see events as they happen. */
        if (n > 0 && p->opts->out) fflush(p->opts->out);
        processor_housekeeping(p);
        /* exactly_once: an output failed; abort_and_rewind. */
        p->guarantee->settle(p->g);
    }
    return p->fatal_status;
}

static void shutdown_stage(processor *p)
{
    async_stage_drain_window(p);
    int status = p->guarantee->finish(p->g, !p->fatal_status);
    if (status && !p->fatal_status) p->fatal_status = status;
    if (p->queue) rd_kafka_queue_destroy(p->queue);
    p->queue = NULL;
    if (p->consumer.rk) {
        p->guarantee->leave(p->g, CLOSE_WAIT_MS);
        /* Commits the stored offsets (revoke callback) and leaves the group. */
        rd_kafka_resp_err_t rc = rd_kafka_consumer_close(p->consumer.rk);
        if (rc) ofc_warn("leaving the group: %s", rd_kafka_err2str(rc));
    }
}

static void teardown(processor *p)
{
    restorer_close(&p->restore);
    if (p->output_topic) rd_kafka_topic_destroy(p->output_topic);
    if (p->dead_letter_topic) rd_kafka_topic_destroy(p->dead_letter_topic);
    if (p->sticky && !p->assigned_once &&
        ofc_kafka_has_bug(OFC_KAFKA_BUG_STICKY_CLOSE_UNASSIGNED)) {
        /* librdkafka before 2.3.0 aborts when it destroys a cooperative-sticky
         * consumer that joined but was never assigned (the assignor's state
         * is set by the first assignment; librdkafka issue #4381): seen when a processor stopped
         * past its session was told to stop before it got partitions again. The consumer is closed
         * (offsets committed, group left); the process exits now, so its
         * handle is left to the exit. */
        ofc_kafka_leave_to_exit(&p->consumer);
    }
    ofc_kafka_destroy(&p->consumer);
    if (p->g) p->guarantee->close(p->g);
    p->g = NULL;
    ofc_kafka_destroy(&p->producer);
    for (int32_t i = 0; p->states && i < p->partition_count; i++)
        partition_state_free(p->states[i]);
    free(p->states);
    if (p->step_ready) step_free(&p->step);
    async_stage_free_window(p);
    reporter_close(&p->report);
}

int processor_run(const processor_options *opts, processor_counters *counters)
{
    processor p = {
        .opts = opts,
        .cfg = opts->cfg,
        .guarantee = opts->cfg->guarantee == OFC_EXACTLY_ONCE ? &guarantee_exactly_once
                                                              : &guarantee_at_least_once,
        .async = opts->handler ? opts->handler->async : NULL,
        .async_state = opts->handler ? opts->handler->async_state : NULL,
        .wake = {-1, -1},
    };
    ofc_timer_start(&p.stats_line, opts->stats_interval_ms);
    ofc_timer_start(&p.unavailable_report, UNAVAILABLE_REPORT_INTERVAL_MS);
    char err[1024];
    int status = 0;
    if (opts->metrics) {
        if (stage_metrics_init(&p.sm, opts->metrics, opts->health, opts->cfg, err, sizeof(err)) !=
            0)
            status = EX_OSERR;
        p.m = &p.sm;
    }
    if (!status) status = setup(&p, err, sizeof(err));
    processor_publish_readiness(&p);
    if (status) {
        ofc_warn("%s", err);
    } else {
        if (opts->verbose)
            ofc_warn("group '%s', %s, %s -> %s (dead letters: %s), %d partitions",
                     opts->cfg->consumer_group, p.guarantee->name, opts->cfg->topic_order_created,
                     opts->cfg->topic_data_processed, opts->cfg->topic_dead_letter,
                     p.partition_count);
        status = p.async ? async_stage_loop(&p) : loop(&p);
        if (p.m) ofc_health_set_unready(opts->health, "shutting down");
        shutdown_stage(&p);
        if (!status) status = p.fatal_status;
        if (opts->verbose) print_stats(&p, stderr);
    }
    if (opts->out) fflush(opts->out);
    if (p.g) {
        guarantee_stats stats;
        p.guarantee->stats(p.g, &stats);
        p.c.transactions_committed = stats.transactions_committed;
        p.c.transactions_aborted = stats.transactions_aborted;
    }
    if (counters) *counters = p.c;
    teardown(&p);
    return status;
}
