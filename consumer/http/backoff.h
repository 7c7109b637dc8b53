/* When to call again (docs/handlers.md, "The HTTP handler", retries):
 * exponential backoff with full jitter, or the server's Retry-After. Pure
 * but for the caller's random state. */
#ifndef OF_CONSUMER_HTTP_BACKOFF_H
#define OF_CONSUMER_HTTP_BACKOFF_H

#include <stdint.h>

/* min(max_ms, base_ms * 2^(attempt - 1)) for the retry after call number
 * attempt (1, 2...), without overflow. */
long http_backoff_bound_ms(long base_ms, long max_ms, unsigned attempt);

/* The wait before the next call after call number attempt failed: the
 * server's Retry-After (retry_after_ms >= 0) bounded by max_ms; else full
 * jitter, uniform in [0, http_backoff_bound_ms] drawn from random. */
long http_backoff_delay_ms(long base_ms, long max_ms, unsigned attempt, long retry_after_ms,
                           uint64_t random);

/* splitmix64: the next of a sequence of random numbers from *state. */
uint64_t http_random_next(uint64_t *state);

#endif
