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

#include "async_handler.h"

/* Room for a dead letter's reason: a decoder reason or a handler's reason
 * with "handler NAME: " before it. */
#define STEP_REASON_MAX 700

typedef enum step_outcome {
    STEP_ACCEPTED,    /* produce value (status accepted) to the output topic */
    STEP_REJECTED,    /* produce value (status rejected) to the output topic */
    STEP_DUPLICATE,   /* produce nothing: already emitted (or dead-lettered) */
    STEP_DEAD_LETTER, /* dead-letter the input with reason */
    STEP_RETRY,       /* the handler asked to handle the input again later */
    /* An asynchronous handler (async_handler.h): */
    STEP_CALL,      /* step_decide: decoded, not emitted: submit step_call_event */
    STEP_EMITTED,   /* step_complete: produce value, the handler's data verbatim */
    STEP_EXHAUSTED, /* step_complete: max_attempts calls failed; handler.on_exhausted decides */
} step_outcome;

typedef struct step {
    of_decoder *decoder;
    of_encoder *encoder;
    of_handler_output *output;
    of_idgen ids;
    const of_handler *handler; /* opened: handler_state is what its open gave */
    void *handler_state;
    char source[300]; /* "orderflow-consumer/<group>" */
    of_event event;   /* the last input decoded: views into its value and the decoder */
    size_t max_output_bytes;
    of_limits limits;
    void *data_check; /* yajl handle for step_complete, made on first use */
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

/* ---- an asynchronous handler (async_handler.h) ---------------------------
 * step_process in two halves around a call whose verdict comes later. The
 * processor keeps the input record until it is finished and decodes it
 * again at completion (step_complete): decoded views die at the next
 * decode, and the record is needed anyway for a dead letter. */

/* The first half: decode and the dedup decision. DUPLICATE and DEAD_LETTER
 * (a poison input) are final, as from step_process; CALL: the input is
 * decoded (order_id, key, key_hash set) and step_call_event gives what to
 * submit, valid until the next decode. */
void step_decide(step *s, const of_dedup *emitted, const step_input *in, step_result *r);

/* The handler's view of the input step_decide just decoded into CALL. */
of_handler_event step_call_event(const step *s, const step_input *in);

/* The second half: decodes the input again (it decoded once already, so a
 * failure is a DEAD_LETTER naming the decoder) and turns the completion
 * of handler `name` into EMITTED (data a JSON object, valid UTF-8, at most
 * max_output_bytes, written verbatim as the data_processed's data),
 * DEAD_LETTER ("handler NAME: REASON"), DUPLICATE (dead-lettered already)
 * or EXHAUSTED (reason "handler NAME: gave up after N attempts: REASON"). */
void step_complete(step *s, const of_dedup *emitted, const step_input *in, const char *name,
                   const async_completion *c, step_result *r);

/* 0 when data (len bytes) is one JSON object, valid UTF-8, nested at most
 * limits' max_depth, at most max_output_bytes; else -1 with one sentence
 * in err. */
int step_check_data(step *s, const char *data, size_t len, char *err, size_t errlen);

#endif
