/* The inputs the processor holds for an asynchronous handler
 * (async_handler.h; docs/handlers.md, "The HTTP handler"): every input
 * consumed and not yet finished, at most `capacity` of them. Two inputs
 * with the same key (the order id) are never submitted together: a later
 * one waits until the earlier one is finished (its output produced), so
 * outputs per key keep the input order. Inputs of different keys go out
 * as the handler has room and may finish in any order; the partition's
 * completion ring (partition_state.h) keeps the commits below the lowest
 * unfinished one.
 *
 * Knows nothing of Kafka: an entry carries the caller's record as an
 * opaque pointer, so unit tests drive it with a fake handler. Allocates
 * only in window_init. */
#ifndef OF_CONSUMER_WINDOW_H
#define OF_CONSUMER_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "util/hash.h"
#include "util/list.h"

typedef enum window_entry_state {
    WINDOW_FREE,      /* not in use */
    WINDOW_WAITING,   /* an earlier input with its key is unfinished */
    WINDOW_READY,     /* its key is free: to be submitted when the handler has room */
    WINDOW_SUBMITTED, /* the handler has it (its ticket) */
    WINDOW_HELD,      /* stopped for good (handler.on_exhausted = pause): keeps its key */
} window_entry_state;

typedef struct window_entry {
    uint64_t ticket; /* unique while the entry is in use: generation << 32 | slot */
    window_entry_state state;
    void *record; /* the caller's (the consumed rd_kafka_message_t) */
    int32_t partition;
    int64_t offset;
    uint64_t sequence; /* in the partition's completion ring */
    uint64_t key_hash; /* of the order id: equal hashes are serialised (a collision only waits) */
    /* Unfinished inputs with the same key, in consumption order. */
    struct window_entry *earlier, *later;
    ofc_hash_node key_node; /* in keys while this entry is its key's latest */
    ofc_list_node link;     /* in ready (READY) or spare (FREE) */
} window_entry;

typedef struct window {
    window_entry *slots;
    size_t capacity;
    size_t used;      /* entries not FREE */
    size_t submitted; /* entries SUBMITTED: calls the handler holds */
    ofc_list ready;   /* READY entries, oldest first */
    ofc_list spare;   /* FREE entries */
    ofc_hash keys;    /* key_hash -> the latest unfinished entry with it */
} window;

/* Room for capacity (> 0) entries. Returns 0, or -1 with err (out of memory). */
int window_init(window *w, size_t capacity, char *err, size_t errlen);
void window_free(window *w);

static inline int window_full(const window *w)
{
    return w->used >= w->capacity;
}

/* Takes a consumed input (the window must not be full): READY (in ready,
 * last) when no unfinished input has its key, else WAITING behind the
 * latest one that has. */
window_entry *window_add(window *w, uint64_t key_hash, int32_t partition, int64_t offset,
                         uint64_t sequence, void *record);

/* The oldest READY entry, or NULL. */
window_entry *window_next_ready(const window *w);

/* The entry was handed to the handler: READY -> SUBMITTED. */
void window_submitted(window *w, window_entry *e);

/* The entry of ticket, or NULL when it is no longer in use (a completion
 * for a cancelled input). */
window_entry *window_find(const window *w, uint64_t ticket);

/* The entry stops for good (HELD): it keeps its place and its key. */
void window_hold(window *w, window_entry *e);

/* The entry is finished (its output produced, or none needed): its slot is
 * freed and the next input with its key, if any, becomes READY. The caller
 * has taken e->record. */
void window_finish(window *w, window_entry *e);

/* Calls drop(opaque, entry) for every entry of partition (-1: of every
 * partition), then frees it as window_finish does. drop cancels a SUBMITTED
 * entry's call and releases its record. Returns how many were dropped. */
size_t window_drop_partition(window *w, int32_t partition,
                             void (*drop)(void *opaque, window_entry *e), void *opaque);

#endif
