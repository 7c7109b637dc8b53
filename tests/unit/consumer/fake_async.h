/* A fake asynchronous handler (consumer/async_handler.h) for tests: it
 * holds what is submitted and completes it from run in a pseudo-random
 * order (a seed), checking on the way what the processor promises: never
 * more than max_in_flight calls, never two calls for one key at once.
 * Its verdicts: EMIT with {"order_id":...,"attempt":N}, except for order
 * ids starting with "DL-" (DEAD_LETTER, "HTTP 422: refused") and "EX-"
 * (EXHAUSTED, "HTTP 503"). */
#ifndef OF_TEST_FAKE_ASYNC_H
#define OF_TEST_FAKE_ASYNC_H

#include <stddef.h>
#include <stdint.h>

#include "async_handler.h"

typedef struct fake_call {
    uint64_t ticket;
    char key[128]; /* the order id */
    char idempotency_key[128];
    int32_t partition;
    int64_t offset;
    int state; /* 0 in flight, 1 completed, 2 cancelled */
} fake_call;

typedef struct fake_async {
    size_t max_in_flight;
    unsigned seed;
    int stalled;      /* run completes nothing (a hung service) */
    int breaker_open; /* state() answers ASYNC_BREAKER_OPEN */
    fake_call *calls; /* every submit, in order */
    size_t count, capacity;
    size_t in_flight, max_in_flight_seen;
    size_t same_key_violations; /* a submit while a call for its key was in flight */
    size_t cancels, completions;
} fake_async;

extern const async_handler_ops fake_async_ops;

/* A fake ready for calls (the ops' open does the same from env->config:
 * max_in_flight, seed). */
void fake_async_init(fake_async *f, size_t max_in_flight, unsigned seed);
void fake_async_free(fake_async *f);

#endif
