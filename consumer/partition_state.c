#include <stdlib.h>

#include "partition_state.h"

partition_state *partition_state_new(int32_t partition, size_t dedup_window, uint32_t capacity,
                                     uint64_t first_sequence)
{
    partition_state *ps = calloc(1, sizeof(*ps));
    if (!ps) return NULL;
    ps->partition = partition;
    ps->first_sequence = first_sequence;
    ps->head = ps->tail = ps->produced_head = first_sequence;
    ps->produced_next = -1;
    ps->refetch_offset = -1;
    ps->capacity = capacity;
    ps->committable = -1;
    ps->stored = -1;
    ps->processed = -1;
    ps->retry_offset = -1;
    ps->retry_due_ms = -1;
    ps->emitted = of_dedup_new(dedup_window);
    ps->offsets = malloc(sizeof(*ps->offsets) * capacity);
    ps->done = calloc(capacity, 1);
    if (!ps->emitted || !ps->offsets || !ps->done) {
        partition_state_free(ps);
        return NULL;
    }
    return ps;
}

void partition_state_free(partition_state *ps)
{
    if (!ps) return;
    of_dedup_free(ps->emitted);
    free(ps->offsets);
    free(ps->done);
    free(ps->event_ms);
    free(ps);
}

/* done[]'s bits: the entry's outputs are delivered (or none needed), and
 * produced. */
#define DONE 1u
#define PRODUCED 2u

int partition_state_has_room(const partition_state *ps)
{
    return ps->tail - ps->head < ps->capacity;
}

static void advance_produced(partition_state *ps)
{
    uint32_t mask = ps->capacity - 1;
    while (ps->produced_head < ps->tail && (ps->done[ps->produced_head & mask] & PRODUCED)) {
        ps->produced_next = ps->offsets[ps->produced_head & mask] + 1;
        ps->produced_head++;
    }
}

static void advance(partition_state *ps)
{
    uint32_t mask = ps->capacity - 1;
    while (ps->head < ps->tail && (ps->done[ps->head & mask] & DONE)) {
        ps->committable = ps->offsets[ps->head & mask] + 1;
        ps->head++;
    }
}

uint64_t partition_state_push(partition_state *ps, int64_t offset, int done)
{
    uint32_t mask = ps->capacity - 1;
    uint64_t sequence = ps->tail++;
    ps->offsets[sequence & mask] = offset;
    ps->done[sequence & mask] = (uint8_t)(PRODUCED | (done ? DONE : 0));
    if (ps->event_ms) ps->event_ms[sequence & mask] = 0;
    if (done && sequence == ps->head) advance(ps);
    if (sequence == ps->produced_head) advance_produced(ps);
    return sequence;
}

uint64_t partition_state_push_unproduced(partition_state *ps, int64_t offset)
{
    uint32_t mask = ps->capacity - 1;
    uint64_t sequence = ps->tail++;
    ps->offsets[sequence & mask] = offset;
    ps->done[sequence & mask] = 0;
    if (ps->event_ms) ps->event_ms[sequence & mask] = 0;
    return sequence;
}

void partition_state_produced(partition_state *ps, uint64_t sequence, int done)
{
    if (sequence < ps->head || sequence >= ps->tail) return;
    ps->done[sequence & (ps->capacity - 1)] |= (uint8_t)(PRODUCED | (done ? DONE : 0));
    if (sequence == ps->produced_head) advance_produced(ps);
    if (done && sequence == ps->head) advance(ps);
}

void partition_state_complete(partition_state *ps, uint64_t sequence)
{
    if (sequence < ps->head || sequence >= ps->tail) return; /* stale report */
    ps->done[sequence & (ps->capacity - 1)] |= DONE;
    if (sequence == ps->head) advance(ps);
}

uint64_t partition_state_pending(const partition_state *ps)
{
    return ps->tail - ps->head;
}

int partition_state_track_times(partition_state *ps)
{
    if (ps->event_ms) return 0;
    /* calloc, 0 for "none": pages are touched only as the ring fills, as
     * offsets' are (filling all 512 KB at once cost 6 MB of RSS on 12
     * partitions in bench/run). */
    ps->event_ms = calloc(ps->capacity, sizeof(*ps->event_ms));
    return ps->event_ms ? 0 : -1;
}

void partition_state_set_time(partition_state *ps, uint64_t sequence, int64_t event_ms)
{
    if (ps->event_ms && sequence >= ps->head && sequence < ps->tail)
        ps->event_ms[sequence & (ps->capacity - 1)] = event_ms > 0 ? event_ms : 0;
}

int64_t partition_state_time(const partition_state *ps, uint64_t sequence)
{
    if (!ps->event_ms || sequence < ps->head || sequence >= ps->tail) return -1;
    int64_t event_ms = ps->event_ms[sequence & (ps->capacity - 1)];
    return event_ms > 0 ? event_ms : -1;
}
