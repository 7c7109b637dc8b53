/* The processing stage's pure step (docs/handlers.md): one input record's
 * value in, one decision out. Decodes and validates the order_created,
 * decides on deduplication against the partition's emitted keys, calls the
 * handler, checks its output and encodes the data_processed envelope with
 * its record headers, or says why the input is dead-lettered. Knows
 * nothing about Kafka's consumer or producer and changes no state but its
 * own buffers (the caller inserts keys into the dedup set once an output is
 * produced), so unit tests drive it without a broker. */
#ifndef OF_CONSUMER_STEP_H
#define OF_CONSUMER_STEP_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include <orderflow/dedup.h>
#include <orderflow/envelope.h>
#include <orderflow/handler.h>
#include <orderflow/ids.h>
#include <orderflow/trace.h>

#include "record/record.h"

/* Room for a dead letter's reason: a decoder reason or a handler's reason
 * with "handler NAME: " before it. */
#define STEP_REASON_MAX 700

typedef enum step_outcome {
    STEP_ACCEPTED,    /* produce value (status accepted) to the output topic */
    STEP_REJECTED,    /* produce value (status rejected) to the output topic */
    STEP_DUPLICATE,   /* produce nothing: already emitted (or dead-lettered) */
    STEP_DEAD_LETTER, /* dead-letter the input with reason */
    STEP_RETRY,       /* the handler asked to handle the input again later */
} step_outcome;

typedef struct step {
    of_decoder *decoder;
    of_encoder *encoder;
    of_handler_output *output;
    of_idgen ids;
    const of_handler *handler; /* opened: handler_state is what its open gave */
    void *handler_state;
    char source[300]; /* "orderflow-consumer/<group>" */
} step;

typedef struct step_input {
    const void *value; /* the record value */
    size_t len;
    int32_t partition;
    int64_t offset;
    unsigned attempt; /* 1 the first time; the retry loop counts on */
} step_input;

typedef struct step_result {
    step_outcome outcome;
    /* Decoded: the order id (the output's record key), else {NULL, 0}. */
    of_str order_id;
    /* Decoded: the input's time attribute (for the latency metric). */
    of_str input_time;
    /* The input's traceparent or tracestate was invalid and ignored. */
    int trace_ignored;
    /* ACCEPTED / REJECTED: the data written (for the per-event line), the
     * data_processed record (output.value, output.value_len: the encoded
     * envelope, valid until the next step_process; output.ev: its
     * attributes, for ofc_record_headers), its idempotency key and that
     * key's hash (insert it into the dedup set once the output is
     * produced). */
    const of_processed *processed;
    ofc_processed_record output;
    char key[OF_IDEMPOTENCY_KEY_MAX + 1];
    size_t key_len;
    of_dedup_hash key_hash;
    /* DEAD_LETTER: the orderflow-error header; DUPLICATE: why (NULL for a
     * data_processed already emitted, "already dead-lettered" for a dead
     * letter); REJECTED: data.reason; RETRY: the handler's reason (may be
     * ""). */
    const char *reason;
    char reason_text[STEP_REASON_MAX];
    /* DEAD_LETTER: the dedup key that marks the input as dead-lettered
     * (insert it once the dead letter is produced). */
    char dead_letter_key[32];
    size_t dead_letter_key_len;
    /* RETRY: the handler's delay hint in ms (0: none). */
    uint32_t retry_delay_ms;
    /* ACCEPTED / REJECTED / DEAD_LETTER from the handler: its verdict. */
    of_handler_verdict verdict;
} step_result;

/* Ready to process inputs within limits (copied), writing source
 * "orderflow-consumer/<group>", calling handler (already opened, its state
 * handler_state) with outputs of up to max_output_bytes (0: the default).
 * Returns 0, or -1 with err (out of memory, no randomness for ids). */
int step_init(step *s, const of_limits *limits, const char *group, const of_handler *handler,
              void *handler_state, size_t max_output_bytes, char *err, size_t errlen);
void step_free(step *s);

/* Decides what one input becomes; emitted is the input partition's set of
 * emitted keys (only read). Fills *r; r's views stay valid until the next
 * call, and some point into r itself (reason, output): keep r where it is,
 * do not copy it. Never fails: a fault of the input or the handler's
 * output is a DEAD_LETTER outcome with its reason. */
void step_process(step *s, const of_dedup *emitted, const step_input *in, step_result *r);

/* The data_processed record's headers for an ACCEPTED or REJECTED result
 * (ofc_record_headers of r->output.ev): the caller owns them. NULL when out
 * of memory. */
rd_kafka_headers_t *step_output_headers(const step_result *r);

#endif
