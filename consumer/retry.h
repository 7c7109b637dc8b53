/* Retries of the handler (docs/handlers.md, "Retries"), kept in partition
 * order: when the handler answers retry for an input, its partition is
 * paused and that input and every later one wait (partition_state_held);
 * when the delay is over, the partition is sought back to the input and
 * resumed, so the input comes again with the next attempt number. A
 * partition can also stay paused for good (the handler gave up:
 * handler.after_max_attempts = pause). The processor decides; this keeps
 * the count and talks to the consumer. */
#ifndef OF_CONSUMER_RETRY_H
#define OF_CONSUMER_RETRY_H

#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "partition_state.h"

typedef struct retries {
    rd_kafka_t *consumer;
    const char *topic;              /* the input topic (caller's string) */
    partition_state *const *states; /* by partition number; NULL when not assigned */
    int32_t partition_count;
    uint32_t waiting; /* partitions waiting for a retry's delay or its input */
    uint32_t gave_up; /* partitions paused for good */
} retries;

void retries_init(retries *r, rd_kafka_t *consumer, const char *topic,
                  partition_state *const *states, int32_t partition_count);

/* The attempt the input at offset of ps is: the next one when it is the
 * input being retried, else 1. */
unsigned retries_attempt(const partition_state *ps, int64_t offset);

/* The input at offset was attempt `attempt` and is to be tried again at
 * due_ms (of_monotonic_ms): pauses the partition. */
void retries_hold(retries *r, partition_state *ps, int64_t offset, unsigned attempt,
                  int64_t due_ms);

/* The handler gave up on the input at offset: the partition stays paused
 * until retries_release (a restart, a rebalance). */
void retries_give_up(retries *r, partition_state *ps, int64_t offset);

/* Forgets ps's retry (its input is finished, or the state goes away) and
 * resumes the partition if it is still paused. Returns 1 when the partition
 * had been given up (readiness changes), else 0. */
int retries_release(retries *r, partition_state *ps);

/* Every partition whose delay is over (now_ms) is sought back to its input
 * and resumed. A failed seek (logged) is tried again later. */
void retries_due(retries *r, int64_t now_ms);

#endif
