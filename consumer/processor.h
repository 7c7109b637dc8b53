/* The processing stage: consume order_created, apply the rules, publish one
 * data_processed per logical event to the same partition number of the
 * output topic, dead-letter poison records, and commit offsets only behind
 * delivered outputs (at_least_once) or inside a transaction (exactly_once). */
#ifndef OF_CONSUMER_PROCESSOR_H
#define OF_CONSUMER_PROCESSOR_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config.h"
#include "metrics/metrics.h"
#include "metrics/server.h"

typedef enum processor_output {
    PROCESSOR_OUTPUT_NONE,  /* -q */
    PROCESSOR_OUTPUT_HUMAN, /* a line per event, for people */
    PROCESSOR_OUTPUT_JSON,  /* --json */
} processor_output;

typedef struct processor_counters {
    uint64_t consumed;
    uint64_t accepted;
    uint64_t rejected;
    uint64_t duplicates; /* idempotency key already emitted: skipped */
    uint64_t dead_lettered;
    /* Inputs processed without their traceparent or tracestate, which were
     * invalid (docs/envelope.md, "Trace context"); never dead-lettered. */
    uint64_t trace_invalid;
    /* Calls of the handler that answered retry (docs/handlers.md, "Retries"). */
    uint64_t retried;
    /* An asynchronous handler's data written as a data_processed (whose
     * data need not carry the rules' fields: no accepted or rejected). */
    uint64_t emitted;
    uint64_t delivered;     /* outputs acknowledged by the broker */
    uint64_t restored_keys; /* keys read back from Kafka on assignment */
    uint64_t rebalances;
    uint64_t transactions_committed; /* exactly_once */
    uint64_t transactions_aborted;
} processor_counters;

typedef struct processor_options {
    const ofc_config *cfg;
    processor_output output;
    FILE *out;
    int verbose;
    int stats_interval_ms;       /* -v: counters on stderr this often */
    volatile sig_atomic_t *stop; /* set by a signal handler */
    ofc_metrics *metrics;        /* NULL: metrics off; else the series are added here */
    ofc_health *health;          /* with metrics: heartbeat and readiness to publish */
    /* The opened handler (handler_load.h); NULL: the built-in rules. */
    const struct loaded_handler *handler;
} processor_options;

/* Runs until *opts->stop or a fatal error, then delivers what is in flight,
 * commits, and leaves the group. Returns a sysexits status; counters (may be
 * NULL) receive the totals. Errors are printed to stderr with their cause. */
int processor_run(const processor_options *opts, processor_counters *counters);

#endif
