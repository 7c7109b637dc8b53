/* The processor with an asynchronous handler (async_stage.h): inputs wait in
 * the window for their verdicts while the loop goes on consuming, producing
 * and committing (docs/handlers.md, "The HTTP handler"). Apart from
 * processor.c, whose synchronous loop has no window; what the two share is
 * processor_internal.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <orderflow/handler.h>
#include <orderflow/ids.h>

#include "cli/log.h"
#include "kafka/kafka.h"
#include "util/hash.h"
#include "util/timer.h"

#include "async_stage.h"
#include "partition_state.h"
#include "processor_internal.h"
#include "stage_metrics.h"
#include "step.h"
#include "window.h"

/* A window full this long means a stalled service: pause (async_stage_apply_fetch_pauses). */
#define WINDOW_STALL_PAUSE_MS 5000

/* ---- an asynchronous handler: the window ------------------------------------
 * docs/handlers.md, "The HTTP handler". An input is decoded and decided
 * (duplicate, poison) at once; the others go to the window (window.h),
 * which submits at most one per key at a time, as the handler has room.
 * The record stays with its entry until the input is finished and is
 * decoded again at completion (the decoded views die at the next decode;
 * the record is needed anyway for a dead letter). */

static step_input input_of(const rd_kafka_message_t *msg)
{
    return (step_input){
        .value = msg->payload,
        .len = msg->len,
        .partition = msg->partition,
        .offset = msg->offset,
        .attempt = 1,
    };
}

/* exactly_once: the transaction carries the offsets of the produced prefix
 * only (partition_state.produced_next): inputs finished out of order
 * beyond it are read again after a crash, and their outputs (committed
 * with the transaction) are then duplicates by their restored keys. */
static void note_produced_prefix(processor *p, partition_state *ps)
{
    if (ps->produced_next >= 0) p->guarantee->processed(p->g, ps, ps->produced_next - 1);
}

static void finish_entry(processor *p, window_entry *e, partition_state *ps)
{
    rd_kafka_message_t *msg = e->record;
    window_finish(&p->window, e);
    if (ps) note_produced_prefix(p, ps);
    rd_kafka_message_destroy(msg);
}

/* Cancels an entry's call and releases its record (window_drop_partition):
 * its partition was revoked or lost, or exactly_once reads it again. The
 * new owner, or the re-read, calls the service again with the same
 * Idempotency-Key. */
static void drop_entry(void *opaque, window_entry *e)
{
    processor *p = opaque;
    if (e->state == WINDOW_SUBMITTED) p->async->cancel(p->async_state, e->ticket);
    rd_kafka_message_destroy(e->record);
    e->record = NULL;
}

void async_stage_drop_partition(processor *p, int32_t partition)
{
    if (p->window_ready) window_drop_partition(&p->window, partition, drop_entry, p);
}

/* Hands e to the handler. decided: step_decide's result for e's record,
 * still decoded (the input was just consumed); NULL: decide it again (it
 * waited behind its key, and an earlier input may have emitted its key). */
static int start_call(processor *p, window_entry *e, int decided)
{
    rd_kafka_message_t *msg = e->record;
    partition_state *ps = p->states[e->partition];
    step_input in = input_of(msg);
    step_result *r = &p->result;
    if (!decided) {
        step_decide(&p->step, ps->emitted, &in, r);
        if (r->outcome == STEP_DUPLICATE) {
            partition_state_produced(ps, e->sequence, 1);
            processor_report_duplicate(p, msg, r->reason ? (of_str){NULL, 0} : r->order_id,
                                       r->reason);
            finish_entry(p, e, ps);
            return 0;
        }
        if (r->outcome != STEP_CALL) { /* decoded once already: not expected */
            processor_dead_letter_at(p, ps, msg, r->reason ? r->reason : "cannot decode again",
                                     e->sequence);
            finish_entry(p, e, ps);
            return 0;
        }
    }
    of_handler_event event = step_call_event(&p->step, &in);
    char err[512];
    if (p->async->submit(p->async_state, e->ticket, &event, err, sizeof(err)) != 0) {
        processor_fail(p, EX_SOFTWARE,
                       "handler %s: cannot take partition %" PRId32 " offset %" PRId64 ": %s",
                       p->async->name, msg->partition, msg->offset, err);
        return -1;
    }
    window_submitted(&p->window, e);
    return 0;
}

/* Submits ready inputs while the handler has room. */
static void dispatch(processor *p)
{
    window_entry *e;
    while (!p->fatal_status && (e = window_next_ready(&p->window)) != NULL &&
           p->async->room(p->async_state) > 0)
        if (start_call(p, e, 0) != 0) return;
}

/* A record that came while the window was full (its partition was paused
 * after it was fetched): read it again from its offset later. */
static void refetch(processor *p, partition_state *ps, int64_t offset)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, p->cfg->topic_order_created, ps->partition)->offset =
        offset;
    rd_kafka_error_t *error = rd_kafka_seek_partitions(p->consumer.rk, list, 0);
    if (error) {
        processor_fail(p, EX_SOFTWARE,
                       "cannot seek partition %" PRId32 " back to offset %" PRId64 ": %s",
                       ps->partition, offset, rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    } else {
        ps->refetch_offset = offset;
    }
    rd_kafka_topic_partition_list_destroy(list);
}

/* One consumed record with an asynchronous handler. Returns 1 when the
 * window keeps msg (the caller must not destroy it), else 0. */
static int process_async(processor *p, rd_kafka_message_t *msg)
{
    partition_state *ps = processor_input_partition(p, msg);
    if (!ps) return 0;
    /* Stopped at an exhausted input (on_exhausted = pause): read again on a restart. */
    if (ps->gave_up) return 0;
    if (ps->refetch_offset >= 0) {
        if (msg->offset != ps->refetch_offset) return 0; /* fetched before the seek */
        ps->refetch_offset = -1;
    }
    if (window_full(&p->window)) {
        refetch(p, ps, msg->offset);
        return 0;
    }
    while (!partition_state_has_room(ps) && !p->fatal_status)
        rd_kafka_poll(p->producer.rk, 10);
    if (p->fatal_status) return 0;
    p->c.consumed++;
    if (p->m) ofc_metric_add(p->m->consumed, 1);

    step_input in = input_of(msg);
    step_result *r = &p->result;
    step_decide(&p->step, ps->emitted, &in, r);
    if (r->trace_ignored) {
        p->c.trace_invalid++;
        if (p->m) ofc_metric_add(p->m->trace_invalid, 1);
    }
    switch (r->outcome) {
    case STEP_DUPLICATE:
        partition_state_push(ps, msg->offset, 1);
        processor_report_duplicate(p, msg, r->reason ? (of_str){NULL, 0} : r->order_id, r->reason);
        note_produced_prefix(p, ps);
        return 0;
    case STEP_DEAD_LETTER:
        processor_dead_letter(p, ps, msg, r->reason);
        note_produced_prefix(p, ps);
        return 0;
    default:
        break;
    }
    uint64_t sequence = partition_state_push_unproduced(ps, msg->offset);
    if (p->m) partition_state_set_time(ps, sequence, stage_event_time_ms(r->input_time));
    window_entry *e = window_add(&p->window, ofc_fnv1a64(r->order_id.ptr, r->order_id.len),
                                 msg->partition, msg->offset, sequence, msg);
    /* Still decoded: submitted now unless its key is busy or the handler full. */
    if (e->state == WINDOW_READY && p->async->room(p->async_state) > 0) start_call(p, e, 1);
    return 1;
}

/* async_done_fn: an input's verdict, from inside run. */
static void on_complete(void *opaque, const async_completion *c)
{
    processor *p = opaque;
    window_entry *e = window_find(&p->window, c->ticket);
    if (!e || e->state != WINDOW_SUBMITTED || p->fatal_status) return;
    rd_kafka_message_t *msg = e->record;
    partition_state *ps = p->states[e->partition];
    p->guarantee->begin(p->g);
    step_input in = input_of(msg);
    step_result *r = &p->result;
    step_complete(&p->step, ps->emitted, &in, p->async->name, c, r);
    switch (r->outcome) {
    case STEP_EMITTED: {
        rd_kafka_headers_t *headers = step_output_headers(r);
        if (!headers) {
            processor_fail(p, EX_OSERR, "out of memory for the headers of an output");
            return;
        }
        partition_state_produced(ps, e->sequence, 0);
        if (processor_produce(p, p->output_topic, msg->partition, r->order_id.ptr, r->order_id.len,
                              r->output.value, r->output.value_len, headers, e->sequence) != 0)
            return;
        of_dedup_insert_hash(ps->emitted, r->key_hash);
        p->guarantee->produced(p->g);
        p->c.emitted++;
        if (p->emitted_metric) ofc_metric_add(p->emitted_metric, 1);
        processor_report_line(p, msg, "emitted", r->order_id, NULL, NULL);
        break;
    }
    case STEP_DUPLICATE: /* dead-lettered before */
        partition_state_produced(ps, e->sequence, 1);
        processor_report_duplicate(p, msg, (of_str){NULL, 0}, r->reason);
        break;
    case STEP_EXHAUSTED:
        if (p->cfg->handler_after_max_attempts != OFC_AFTER_MAX_ATTEMPTS_DEAD_LETTER) {
            /* handler.on_exhausted = pause: the partition stops at this
             * input, whose place in the ring holds its commits back. */
            window_hold(&p->window, e);
            retries_give_up(&p->retries, ps, msg->offset);
            snprintf(p->gave_up_reason, sizeof(p->gave_up_reason),
                     "partition %" PRId32 " paused at offset %" PRId64 ": %s", msg->partition,
                     msg->offset, r->reason);
            ofc_warn("%s; its later events wait (handler.on_exhausted = pause): fix the cause and "
                     "restart the processor",
                     p->gave_up_reason);
            processor_report_line(p, msg, "paused", r->order_id, NULL, r->reason);
            processor_publish_readiness(p);
            return;
        }
        processor_dead_letter_at(p, ps, msg, r->reason, e->sequence);
        break;
    default: /* DEAD_LETTER */
        processor_dead_letter_at(p, ps, msg, r->reason, e->sequence);
        break;
    }
    finish_entry(p, e, ps);
}

static void set_fetch_paused(processor *p, partition_state *ps, int pause)
{
    if (ps->fetch_paused == pause) return;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, p->cfg->topic_order_created, ps->partition);
    rd_kafka_resp_err_t rc = pause ? rd_kafka_pause_partitions(p->consumer.rk, list)
                                   : rd_kafka_resume_partitions(p->consumer.rk, list);
    if (!rc) rc = list->elems[0].err;
    if (rc)
        ofc_warn("cannot %s partition %" PRId32 ": %s", pause ? "pause" : "resume", ps->partition,
                 rd_kafka_err2str(rc));
    else
        ps->fetch_paused = pause;
    rd_kafka_topic_partition_list_destroy(list);
}

/* While the window is full the loop takes no records (async_stage_loop): what
 * librdkafka prefetched waits in its queue, bounded by
 * queued.max.messages.kbytes, and is taken as soon as inputs finish.
 * Pausing the partitions at every full window instead makes librdkafka
 * drop what it prefetched and fetch it again on resume, which 2.0.2 does up
 * to a second late (OFC_KAFKA_BUG_FETCH_BACKOFF_1S): one window a second.
 * So the partitions pause only when the window stays full for
 * WINDOW_STALL_PAUSE_MS (a stalled service: the loop must go on polling
 * within max.poll.interval.ms) or the breaker is open, and resume below half
 * the window or when the breaker closes. A partition stopped at an
 * exhausted input stays paused. */
void async_stage_apply_fetch_pauses(processor *p)
{
    int64_t now = of_monotonic_ms();
    int full = window_full(&p->window);
    if (full && !p->window_was_full)
        ofc_timer_start_after(&p->window_stall, WINDOW_STALL_PAUSE_MS, now);
    p->window_was_full = full;
    if (full && ofc_timer_due(&p->window_stall, now))
        p->window_paused = 1;
    else if (p->window.used <= p->window.capacity / 2)
        p->window_paused = 0;
    int all = p->window_paused || p->breaker_open;
    for (int32_t i = 0; i < p->partition_count; i++) {
        partition_state *ps = p->states[i];
        if (ps) set_fetch_paused(p, ps, all || ps->gave_up);
    }
}

/* The handler's circuit breaker (it logs its own transitions): fetching
 * pauses while it is open, and /readyz says why. */
static void watch_breaker(processor *p)
{
    char why[STEP_REASON_MAX] = "";
    int open = p->async->state(p->async_state, why, sizeof(why)) == ASYNC_BREAKER_OPEN;
    if (open && !why[0])
        snprintf(why, sizeof(why), "handler %s: circuit breaker open", p->async->name);
    if (open == p->breaker_open && (!open || strcmp(why, p->breaker_why) == 0)) return;
    if (open != p->breaker_open && p->opts->verbose) {
        if (open)
            ofc_warn("fetching paused: %s", why);
        else
            ofc_warn("fetching resumed: handler %s takes calls again", p->async->name);
    }
    p->breaker_open = open;
    snprintf(p->breaker_why, sizeof(p->breaker_why), "%s", open ? why : "");
    processor_publish_readiness(p);
}

static void async_housekeeping(processor *p)
{
    watch_breaker(p);
    async_stage_apply_fetch_pauses(p);
    if (p->handler_in_flight) {
        ofc_metric_set(p->handler_in_flight, (double)p->window.submitted);
        ofc_metric_set(p->window_inputs, (double)p->window.used);
    }
}

/* Empties the wake pipe; the queue is then read until empty, so a record
 * enqueued later writes to it again (librdkafka writes when the queue
 * turns non-empty). */
static void drain_wake(processor *p)
{
    char buf[64];
    while (read(p->wake[0], buf, sizeof(buf)) > 0) {
    }
}

int async_stage_open_window(processor *p, char *err, size_t errlen)
{
    /* room() right after open is max_in_flight: twice that may wait
     * (behind their keys, or for room), so the next inputs are at hand
     * when calls finish, and no more (docs/handlers.md, "The HTTP handler"). */
    size_t max_in_flight = p->async->room(p->async_state);
    if (window_init(&p->window, 2 * (max_in_flight ? max_in_flight : 1), err, errlen) != 0)
        return EX_OSERR;
    p->window_ready = 1;
    if (pipe(p->wake) != 0) {
        snprintf(err, errlen, "cannot make a pipe for the consumer queue: %s", strerror(errno));
        p->wake[0] = p->wake[1] = -1;
        return EX_OSERR;
    }
    for (int i = 0; i < 2; i++) {
        fcntl(p->wake[i], F_SETFL, fcntl(p->wake[i], F_GETFL) | O_NONBLOCK);
        fcntl(p->wake[i], F_SETFD, FD_CLOEXEC);
    }
    if (p->m) {
        const char *labels[] = {"outcome", "emitted", NULL};
        p->emitted_metric = ofc_metrics_series(
            p->m->registry, "orderflow_processed_events_total",
            "Input records by outcome: accepted, rejected (an output either way), duplicate "
            "(skipped), dead_lettered.",
            OFC_METRIC_COUNTER, labels, NULL, 0, err, errlen);
        p->handler_in_flight = ofc_metrics_series(
            p->m->registry, "orderflow_handler_window_submitted",
            "Inputs of the window the handler holds (in flight, waiting for a retry or the "
            "breaker).",
            OFC_METRIC_GAUGE, NULL, NULL, 0, err, errlen);
        p->window_inputs = ofc_metrics_series(
            p->m->registry, "orderflow_handler_window_inputs",
            "Inputs consumed and not finished (at most twice the handler's max_in_flight).",
            OFC_METRIC_GAUGE, NULL, NULL, 0, err, errlen);
        if (!p->emitted_metric || !p->handler_in_flight || !p->window_inputs) return EX_OSERR;
    }
    return 0;
}

/* An asynchronous handler: never blocks on the service. The consumer
 * queue is read without waiting; then the handler's run waits for a
 * response, a timer, or the queue's event pipe (rd_kafka_queue_io_event_enable). */
int async_stage_loop(processor *p)
{
    rd_kafka_message_t *batch[BATCH_SIZE];
    unsigned wake_cursor = 0; /* bench tuning: see ofc_kafka_wake_fetcher */
    size_t drained = 0;       /* records since the queue was last empty */
    while (!*p->opts->stop && !p->fatal_status) {
        if (processor_producer_behind(p)) continue;
        p->guarantee->begin(p->g);
        drain_wake(p);
        /* No more records than the window takes (async_stage_apply_fetch_pauses); once
         * paused, what still comes is read again later (process_async). */
        size_t room = p->window.capacity - p->window.used;
        size_t want = p->window_paused ? BATCH_SIZE : room < BATCH_SIZE ? room : BATCH_SIZE;
        ssize_t n = want ? rd_kafka_consume_batch_queue(p->queue, 0, batch, want) : 0;
        if (n < 0) n = 0;
        if (n == 0 && drained >= WAKE_AFTER) ofc_kafka_wake_fetcher(p->consumer.rk, &wake_cursor);
        drained = n == 0 ? 0 : drained + (size_t)n;
        for (ssize_t i = 0; i < n; i++) {
            int kept = 0;
            if (!p->fatal_status) {
                p->guarantee->begin(p->g);
                kept = process_async(p, batch[i]);
            }
            if (!kept) rd_kafka_message_destroy(batch[i]);
        }
        dispatch(p);
        /* A full batch: more is queued, do not wait. Outputs in flight:
         * their delivery reports are served soon (housekeeping). */
        int more = n > 0 && (size_t)n == want;
        int timeout = more ? 0 : rd_kafka_outq_len(p->producer.rk) > 0 ? 5 : 100;
        /* Full: the queue's pipe may stay readable, wait for the handler alone. */
        int wake = more || window_full(&p->window) ? -1 : p->wake[0];
        if (!p->fatal_status) p->async->run(p->async_state, timeout, wake, on_complete, p);
        dispatch(p);
        if (p->opts->out) fflush(p->opts->out);
        async_housekeeping(p);
        processor_housekeeping(p);
        /* exactly_once: an output failed; abort_and_rewind (which drops the window). */
        p->guarantee->settle(p->g);
    }
    return p->fatal_status;
}

/* Stopping: the inputs the handler has finish (up to CLOSE_WAIT_MS, not
 * while its breaker is open) so that their outputs commit; what is left is
 * cancelled and read again by the next owner (same Idempotency-Key). */
void async_stage_drain_window(processor *p)
{
    if (!p->async || !p->window_ready) return;
    int64_t deadline = of_monotonic_ms() + CLOSE_WAIT_MS;
    while (!p->fatal_status && p->window.used > 0 && of_monotonic_ms() < deadline) {
        /* A held input (on_exhausted = pause) never finishes. */
        size_t held = 0;
        for (size_t i = 0; i < p->window.capacity; i++)
            held += p->window.slots[i].state == WINDOW_HELD;
        if (held == p->window.used) break;
        /* With the breaker open no call finishes before the deadline. */
        if (p->async->state(p->async_state, NULL, 0) == ASYNC_BREAKER_OPEN) break;
        dispatch(p);
        p->async->run(p->async_state, 50, -1, on_complete, p);
        rd_kafka_poll(p->producer.rk, 0);
    }
    size_t left = window_drop_partition(&p->window, -1, drop_entry, p);
    if (left && p->opts->verbose)
        ofc_warn("%zu inputs unfinished at shutdown; they stay uncommitted and are read again",
                 left);
}

void async_stage_free_window(processor *p)
{
    if (p->window_ready) window_free(&p->window);
    for (int i = 0; i < 2; i++)
        if (p->wake[i] >= 0) close(p->wake[i]);
}
