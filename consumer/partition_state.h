/* What the processor keeps per assigned input partition: the keys it has
 * emitted (restored from Kafka on assignment) and which input offsets are
 * finished, so the committed offset never passes an undelivered output. */
#ifndef OF_CONSUMER_PARTITION_STATE_H
#define OF_CONSUMER_PARTITION_STATE_H

#include <stdint.h>

#include <orderflow/dedup.h>

typedef struct partition_state {
    int32_t partition;
    /* Unique to this state: tells it from an earlier state of the same
     * partition (a record taken under that one is stale, processor.c). */
    uint64_t first_sequence;
    of_dedup *emitted; /* output idempotency keys and "dlq:<offset>" keys */

    /* Completion ring: input offsets in consumption order; an entry is done
     * when its output is delivered (or it needed none). */
    int64_t *offsets;
    uint8_t *done;
    uint32_t capacity;   /* power of two */
    uint64_t head;       /* sequence of the oldest unfinished entry */
    uint64_t tail;       /* sequence the next entry gets */
    int64_t committable; /* next offset to commit, -1 if nothing finished yet */
    int64_t stored;      /* last committable passed to librdkafka */
    int64_t processed;   /* exactly_once: offset after the last input processed, -1 none */
    int64_t *event_ms;   /* metrics on: each entry's input event time (ms since epoch), 0 none */
    /* An asynchronous handler finishes inputs out of order: produced_head
     * is the sequence of the oldest entry whose outputs are not produced
     * yet, produced_next the offset after the produced prefix (-1: none),
     * what exactly_once's transaction may carry (async_stage.c). */
    uint64_t produced_head;
    int64_t produced_next;
    int fetch_paused; /* paused by the processor's window or breaker (async_stage.c) */
    /* A record came while the window was full: the partition is read again
     * from this offset, and records before it comes are dropped (-1: none). */
    int64_t refetch_offset;

    /* The handler answered retry for the input at retry_offset (-1: none):
     * the partition is paused and every input from retry_offset on waits,
     * so its order is kept (processor.c). retry_due_ms (monotonic) is when
     * the partition is read again from retry_offset, -1 once it has been;
     * retry_attempt is the attempt that reading is. gave_up: the handler
     * answered retry handler.max_attempts times and the partition stays
     * paused (handler.after_max_attempts = pause). */
    int64_t retry_offset;
    int64_t retry_due_ms;
    unsigned retry_attempt;
    int gave_up;
    int reached_end; /* consumed to the partition's end at least once since assigned */
} partition_state;

/* NULL when out of memory. Sequences start at first_sequence: give each new
 * state of a partition a range no earlier state used, so that a delivery
 * report for an output of a previous assignment (late, after a revoke that
 * could not wait for it) is recognised as stale instead of completing the
 * wrong entry and letting the commit pass an undelivered output. */
partition_state *partition_state_new(int32_t partition, size_t dedup_window, uint32_t capacity,
                                     uint64_t first_sequence);
void partition_state_free(partition_state *ps);

/* 1 when another entry fits. */
int partition_state_has_room(const partition_state *ps);
/* Appends input offset, its outputs produced; returns its sequence. done:
 * no output to wait for. */
uint64_t partition_state_push(partition_state *ps, int64_t offset, int done);
/* Appends input offset, its outputs not produced yet (an asynchronous
 * handler has it): partition_state_produced when they are. */
uint64_t partition_state_push_unproduced(partition_state *ps, int64_t offset);
/* The entry's outputs are produced (done: and none to wait for): advances
 * produced_next past every produced prefix. */
void partition_state_produced(partition_state *ps, uint64_t sequence, int done);
/* Marks the entry done and advances committable past every finished prefix. */
void partition_state_complete(partition_state *ps, uint64_t sequence);
/* Metrics: keeps an event time per entry from now on. Returns 0 or -1 (ENOMEM). */
int partition_state_track_times(partition_state *ps);
/* Sets, or reads (-1: not kept, or the sequence is not in the ring), the
 * event time of an entry. */
void partition_state_set_time(partition_state *ps, uint64_t sequence, int64_t event_ms);
int64_t partition_state_time(const partition_state *ps, uint64_t sequence);
/* 1 when the input at offset waits behind a retry (see retry_offset). */
static inline int partition_state_held(const partition_state *ps, int64_t offset)
{
    return ps->retry_offset >= 0 &&
           (ps->retry_due_ms >= 0 || ps->gave_up || offset != ps->retry_offset);
}

/* Entries not yet finished. */
uint64_t partition_state_pending(const partition_state *ps);

#endif
