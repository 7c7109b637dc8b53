/* An asynchronous handler: the processor hands it inputs and collects each
 * input's verdict later, so one slow call never holds the loop or the other
 * keys (docs/handlers.md, "The HTTP handler"). The HTTP handler
 * (consumer/http/) is the one implementation; C plugins stay synchronous
 * (<orderflow/handler.h>).
 *
 * Who does what:
 * - the processor keeps the order: it never submits two inputs with the same
 *   record key at once, produces each output when its input completes,
 *   commits only below the lowest unfinished input of each partition, stops
 *   fetching while the handler has no room, and applies
 *   handler.on_exhausted to an EXHAUSTED completion;
 * - the handler keeps the calls: the request, its timeout, retries with
 *   backoff (the same request again, attempt + 1) up to env->max_attempts,
 *   and the circuit breaker (while open it starts no request; submitted ones
 *   wait, none is failed for it).
 *
 * Threading: every function is called on the processor's thread; completions
 * are delivered from inside run, never from another thread. */
#ifndef OF_CONSUMER_ASYNC_HANDLER_H
#define OF_CONSUMER_ASYNC_HANDLER_H

#include <stddef.h>
#include <stdint.h>

#include <orderflow/handler.h>

#include "metrics/metrics.h"

/* What the processor tells the handler at open; all of it outlives close. */
typedef struct async_handler_env {
    const char *target; /* --handler / consumer.handler, e.g. "http://127.0.0.1:8081/orders" */
    const of_handler_config
        *config;             /* the handler group's own keys (timeout_ms, max_in_flight...) */
    unsigned max_attempts;   /* handler.max_attempts: calls per input before EXHAUSTED */
    size_t max_output_bytes; /* handler.max_output_bytes: a longer body is a DEAD_LETTER */
    ofc_metrics *metrics;    /* NULL: metrics off; else the handler adds its series here */
    int verbose;
} async_handler_env;

typedef enum async_verdict {
    ASYNC_EMIT = 1,        /* data: the data_processed's data, one JSON object's text */
    ASYNC_DEAD_LETTER = 2, /* reason: dead-letter the input now */
    ASYNC_EXHAUSTED = 3,   /* reason: max_attempts calls failed; on_exhausted decides */
} async_verdict;

typedef struct async_completion {
    uint64_t ticket; /* as submitted */
    async_verdict verdict;
    const char *data; /* EMIT: the body (not checked beyond "a complete response": the processor
                         validates) */
    size_t data_len;
    const char *reason; /* DEAD_LETTER / EXHAUSTED: one line, e.g. "HTTP 422: {\"error\":...}" */
    unsigned attempts;  /* calls made for this input */
} async_completion;

/* Called from run for each finished input; the completion's strings are
 * valid only during the call. */
typedef void async_done_fn(void *opaque, const async_completion *completion);

typedef enum async_state {
    ASYNC_READY,        /* calls go out (or the probe may go and no input is held: fetch one) */
    ASYNC_BREAKER_OPEN, /* no calls until the probe succeeds: pause fetching */
} async_state;

typedef struct async_handler_ops {
    const char *name;    /* "http", in logs, metrics and reasons */
    const char *version; /* e.g. "libcurl/7.88.1" */
    /* Checks every setting and prepares max_in_flight connections' worth of
     * buffers. Returns the state, or NULL with one sentence in err naming the
     * setting at fault (the processor exits 78 before joining its group). */
    void *(*open)(const async_handler_env *env, char *err, size_t errlen);
    /* How many more inputs submit takes now (max_in_flight minus those it
     * holds, in flight, waiting for a retry or for the breaker). */
    size_t (*room)(void *self);
    /* Takes one input, identified by ticket (the processor's, unique while
     * it is held). event is valid during the call only: the handler copies
     * what it sends. Returns 0, or -1 with err when it cannot (no room: a
     * processor bug; out of memory): the processor stops. */
    int (*submit)(void *self, uint64_t ticket, const of_handler_event *event, char *err,
                  size_t errlen);
    /* Forgets ticket (its partition was revoked, or exactly_once rewinds):
     * stops its call if one is running; its completion never comes. */
    void (*cancel)(void *self, uint64_t ticket);
    /* Moves the calls on: waits up to timeout_ms for a response, a timer or
     * wake_fd (-1: none) becoming readable (the Kafka queue's event fd), then
     * calls done for every input finished meanwhile. Returns the number of
     * completions delivered. */
    int (*run)(void *self, int timeout_ms, int wake_fd, async_done_fn *done, void *opaque);
    /* READY or BREAKER_OPEN; why (may be NULL) gets one line for /readyz and
     * the log, e.g. "handler http: circuit breaker open after 5 consecutive
     * failures (last: connection refused); next probe in 1200 ms". The probe
     * is a held input's call: when the probe may go and no input is held
     * (every failed one was exhausted), state is READY although the breaker
     * is not closed, so that the processor fetches an input to probe with
     * (paused, it would wait for ever); BREAKER_OPEN again once it is held.
     * Ask after each run. */
    async_state (*state)(void *self, char *why, size_t whylen);
    /* Stops every call (no completion comes) and frees everything. */
    void (*close)(void *self);
} async_handler_ops;

/* consumer/http/: http:// and https:// targets. */
extern const async_handler_ops async_handler_http;

#endif
