/* What processor.c shares with its asynchronous stage (async_stage.c): the
 * processor's state and the few steps of processor.c that both paths take
 * (failing, reporting an event, producing an output or a dead letter,
 * readiness, housekeeping). Internal to consumer/: process.c and the tests
 * use processor.h only.
 *
 * The stage reads the state's fields directly, as it did while it was part
 * of processor.c: its counters, metrics, partition states and step are the
 * processor's own, not copies. */
#ifndef OF_CONSUMER_PROCESSOR_INTERNAL_H
#define OF_CONSUMER_PROCESSOR_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "kafka/kafka.h"
#include "metrics/metrics.h"
#include "util/timer.h"

#include "async_handler.h"
#include "guarantee.h"
#include "partition_state.h"
#include "processor.h"
#include "report.h"
#include "restore.h"
#include "retry.h"
#include "stage_metrics.h"
#include "step.h"
#include "window.h"

#define BATCH_SIZE 1000 /* records taken from the consumer queue at once */
#define WAKE_AFTER 4096 /* a backlog, not a trickle: see loop() */
/* Stopping: at most this long for the window to drain, and for the guarantee
 * to leave its assignment. */
#define CLOSE_WAIT_MS 10000

typedef struct processor {
    const processor_options *opts;
    const ofc_config *cfg;
    ofc_kafka consumer;
    ofc_kafka producer;
    rd_kafka_queue_t *queue;
    rd_kafka_topic_t *output_topic;
    rd_kafka_topic_t *dead_letter_topic;
    restorer restore;
    const guarantee_ops *guarantee; /* at_least_once or exactly_once */
    void *g;                        /* its state (NULL until open) */
    int rebalancing;                /* ofc_kafka_group_rebalancing at the last housekeeping */
    int64_t rebalancing_since_ms;   /* when that changed */
    int static_member;              /* group.instance.id set */
    int sticky;                     /* partition.assignment.strategy has cooperative-sticky */
    int assigned_once;              /* the rebalance callback has assigned (maybe nothing) */

    partition_state **states; /* by partition number; NULL when not assigned */
    int32_t partition_count;
    uint64_t states_created; /* gives each new state its own sequence range */

    step step; /* decode, dedup, handler, encode (step.h) */
    int step_ready;
    step_result result; /* the last input's, reused: nothing allocated per event */
    reporter report;
    retries retries; /* the handler's retries in progress (retry.h) */
    char
        gave_up_reason[STEP_REASON_MAX + 200]; /* the last partition paused for good, for /readyz */

    size_t max_message_bytes; /* the producer's message.max.bytes */
    int commit_interval_ms;   /* the consumer's auto.commit.interval.ms */
    processor_counters c;
    stage_metrics sm;
    stage_metrics *m; /* &sm when metrics are on, else NULL: one branch per update */
    int restoring;    /* take_partitions is reading emitted keys back */
    int32_t assigned_count;
    int fatal_status;
    ofc_timer stats_line;         /* -v: the counters line */
    ofc_timer unavailable_report; /* "brokers unreachable" */
    /* -v's counter line: printed only when one of these moved, so an idle
     * processor is silent. */
    uint64_t stats_consumed, stats_delivered;
    int stats_in_flight;
    int caught_up_said; /* "caught up" printed for the current assignment */

    /* An asynchronous handler (async_handler.h), NULL for a synchronous
     * one: inputs wait in the window for their verdicts (async_stage_loop). */
    const async_handler_ops *async;
    void *async_state;
    window window;
    int window_ready;
    int wake[2];       /* a pipe: readable when the consumer queue has something */
    int window_paused; /* the window stayed full: every assigned partition paused */
    int window_was_full;
    ofc_timer window_stall; /* due WINDOW_STALL_PAUSE_MS after the window filled */
    int breaker_open;       /* the handler's circuit breaker is open: the same */
    char breaker_why[STEP_REASON_MAX];
    ofc_metric *handler_in_flight; /* metrics on, async: calls the handler holds */
    ofc_metric *window_inputs;     /* inputs consumed and not finished */
    ofc_metric *emitted_metric;    /* outcome "emitted": the handler's data written */
} processor;

/* Records the first fatal error (later ones are consequences) and says it:
 * the loop stops at the next check of p->fatal_status. */
__attribute__((format(printf, 3, 4))) void processor_fail(processor *p, int status, const char *fmt,
                                                          ...);

/* /readyz: sets the reason the processor is not ready, or none. */
void processor_publish_readiness(processor *p);

/* The event's line (report.c) for msg: its outcome, order id, output, reason. */
void processor_report_line(processor *p, const rd_kafka_message_t *msg, const char *outcome,
                           of_str order_id, const of_processed *out, const char *reason);

/* A duplicate input, skipped (its ring entry made or marked by the caller):
 * counted, and its line; order_id of length 0 names no order. */
void processor_report_duplicate(processor *p, const rd_kafka_message_t *msg, of_str order_id,
                                const char *reason);

/* Produces one record; sequence is its input's entry in the completion ring,
 * which its delivery report completes. Takes headers in every case. Returns
 * 0, or -1 when it failed (exactly_once: the transaction aborts; otherwise
 * the processor fails). */
int processor_produce(processor *p, rd_kafka_topic_t *topic, int32_t partition, const void *key,
                      size_t key_len, const void *value, size_t value_len,
                      rd_kafka_headers_t *headers, uint64_t sequence);

/* Dead-letters msg (once: a dead letter already written is a duplicate) for
 * reason. processor_dead_letter makes the input's ring entry;
 * processor_dead_letter_at uses held, the entry an asynchronous handler's
 * input got when it was consumed. */
void processor_dead_letter(processor *p, partition_state *ps, const rd_kafka_message_t *msg,
                           const char *reason);
void processor_dead_letter_at(processor *p, partition_state *ps, const rd_kafka_message_t *msg,
                              const char *reason, uint64_t held);

/* The state of the partition a consumed record is an input of; NULL for a
 * consumer event (handled here) or a partition no longer ours. */
partition_state *processor_input_partition(processor *p, const rd_kafka_message_t *msg);

/* After each batch: delivery reports, fatal errors of either client, the
 * guarantee's timers, retries due, the periodic lines. */
void processor_housekeeping(processor *p);

/* Backpressure: 1 when too many outputs wait for the broker (it waited a
 * little and did the housekeeping: take no input this round), else 0. */
int processor_producer_behind(processor *p);

#endif
