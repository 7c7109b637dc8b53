/* Turns orders into order_created envelopes and publishes them: one reusable
 * encoder, an idempotent producer, and a delivery report for every event. */
#ifndef OF_PRODUCER_PUBLISHER_H
#define OF_PRODUCER_PUBLISHER_H

#include <stdint.h>
#include <stdio.h>

#include <yajl/yajl_gen.h>

#include "config/config.h"
#include <orderflow/envelope.h>
#include <orderflow/ids.h>
#include <orderflow/trace.h>
#include "kafka/kafka.h"

#include "producer_metrics.h"

/* Where an event came from, for messages about it. */
typedef struct event_origin {
    const char *input; /* file name, "-", "--order" or "--generate" */
    uint64_t line;
} event_origin;

typedef struct inflight_slot {
    char id[OF_UUID_LEN + 1];
    event_origin origin;
    int64_t enqueued_ns;        /* metrics on: when it was enqueued (monotonic) */
    struct inflight_slot *next; /* in the free list, or in the list held for re-sending */
    unsigned resends;
    /* Held for re-sending: a copy of the record (key bytes, then value bytes)
     * and its headers, owned by the slot until handed to librdkafka again. */
    char *held;
    size_t key_len, value_len;
    rd_kafka_headers_t *held_headers;
} inflight_slot;

typedef struct publisher {
    ofc_kafka kafka;
    rd_kafka_topic_t *topic;
    const char *topic_name;
    const char *source;
    of_encoder *encoder;
    of_idgen ids; /* event ids, and trace and span ids with tracing */

    /* Trace context (docs/architecture.md, "Trace context"): a fixed one for
     * every event (--traceparent, --tracestate; views the caller keeps
     * alive), else a new trace per event when tracing is set, else none. */
    of_str traceparent;
    of_str tracestate;
    int tracing;

    inflight_slot *slots; /* fixed pool: bounds what is in flight or held */
    inflight_slot *free_slots;

    /* docs/architecture.md, "Producer": events whose delivery failed only
     * because the producer's idempotence state broke are re-sent, by a new
     * producer when librdkafka declared the old one unusable. */
    rd_kafka_conf_t *conf_template; /* for that new producer */
    inflight_slot *held_first, *held_last;
    size_t held_count;
    unsigned recoveries; /* producers replaced after a fatal error */
    /* The fatal error was an authorization failure: no producer is started
     * again (it would be refused the same way) and nothing is re-sent. */
    int authorization_failed;
    uint64_t resent;

    FILE *report; /* per-event JSON lines, NULL with -q */
    yajl_gen report_json;
    FILE *failed_file; /* --failed: orders not delivered, re-publishable */
    const char *failed_path;
    int failed_write_error;

    /* An event passed all the encoder's checks: generated orders can skip them. */
    int shared_checked;

    uint64_t sent;
    uint64_t delivered;
    uint64_t failed;
    rd_kafka_resp_err_t first_failure;
    producer_metrics *metrics; /* NULL: metrics off */
} publisher;

/* Connects (waits for metadata; EX_UNAVAILABLE when no broker answers) and
 * checks the topic exists. metrics (NULL: off) must outlive the publisher;
 * with it, librdkafka's statistics are turned on for the broker state.
 * Returns 0, or a sysexits status with err. */
int publisher_open(publisher *pub, const ofc_config *cfg, FILE *report, FILE *failed_file,
                   const char *failed_path, producer_metrics *metrics, char *err, size_t errlen);
/* Sets the trace context of the events sent from now on (see the fields
 * above): traceparent and tracestate valid (of_traceparent_parse,
 * of_tracestate_valid) or absent, kept alive by the caller. */
void publisher_set_trace(publisher *pub, of_str traceparent, of_str tracestate, int tracing);

/* Encodes and enqueues one order. key_override, when present, is the caller's
 * --idempotency-key. generated: the order comes from the generator, whose
 * strings need no checking (an order read from input always gets them). Returns 0; EX_DATAERR when
 * this order cannot be published (bad idempotency key, too large: err says why, the caller counts
 * it as skipped and goes on); or another sysexits status for a fatal producer
 * error. Blocks (serving delivery
 * reports) while the in-flight pool or librdkafka's queue is full. */
int publisher_send(publisher *pub, const of_order *order, of_str key_override, int generated,
                   event_origin origin, char *err, size_t errlen);

/* Serves delivery reports for up to timeout_ms, and re-sends what they gave
 * back for re-sending (while librdkafka's queue has room). */
void publisher_poll(publisher *pub, int timeout_ms);

/* Waits until every event is delivered or failed (message.timeout.ms bounds
 * this), replacing a producer that fails fatally on the way (at most a few
 * times a run). Returns 0, or -1 when some stayed unconfirmed (counted as
 * failed). */
int publisher_flush(publisher *pub, int timeout_ms);

void publisher_close(publisher *pub);

#endif
