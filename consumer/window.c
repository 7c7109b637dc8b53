/* The window of inputs held for an asynchronous handler (window.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "window.h"

#define SLOT_MASK 0xffffffffu

static const char *entry_key(const ofc_hash_node *node, size_t *len)
{
    const window_entry *e = OFC_CONTAINER_OF(node, window_entry, key_node);
    *len = sizeof(e->key_hash);
    return (const char *)&e->key_hash;
}

int window_init(window *w, size_t capacity, char *err, size_t errlen)
{
    memset(w, 0, sizeof(*w));
    if (capacity == 0 || capacity > SLOT_MASK) {
        snprintf(err, errlen, "window of %zu inputs: expected 1 to %u", capacity, SLOT_MASK);
        return -1;
    }
    w->slots = calloc(capacity, sizeof(*w->slots));
    if (!w->slots || ofc_hash_init(&w->keys, capacity, entry_key) != 0) {
        window_free(w);
        snprintf(err, errlen, "out of memory for a window of %zu inputs", capacity);
        return -1;
    }
    w->capacity = capacity;
    for (size_t i = 0; i < capacity; i++) {
        w->slots[i].ticket = i; /* generation 0 */
        ofc_list_push_back(&w->spare, &w->slots[i].link);
    }
    return 0;
}

void window_free(window *w)
{
    ofc_hash_free(&w->keys);
    free(w->slots);
    memset(w, 0, sizeof(*w));
}

window_entry *window_add(window *w, uint64_t key_hash, int32_t partition, int64_t offset,
                         uint64_t sequence, void *record)
{
    ofc_list_node *node = w->spare.first;
    if (!node) return NULL;
    ofc_list_remove(&w->spare, node);
    window_entry *e = OFC_CONTAINER_OF(node, window_entry, link);
    e->record = record;
    e->partition = partition;
    e->offset = offset;
    e->sequence = sequence;
    e->key_hash = key_hash;
    e->later = NULL;
    w->used++;
    ofc_hash_node *found = ofc_hash_find(&w->keys, (const char *)&key_hash, sizeof(key_hash));
    if (found) {
        /* Behind the latest unfinished input with this key. */
        window_entry *latest = OFC_CONTAINER_OF(found, window_entry, key_node);
        ofc_hash_remove(&w->keys, found);
        latest->later = e;
        e->earlier = latest;
        e->state = WINDOW_WAITING;
    } else {
        e->earlier = NULL;
        e->state = WINDOW_READY;
        ofc_list_push_back(&w->ready, &e->link);
    }
    ofc_hash_insert(&w->keys, &e->key_node);
    return e;
}

window_entry *window_next_ready(const window *w)
{
    return w->ready.first ? OFC_CONTAINER_OF(w->ready.first, window_entry, link) : NULL;
}

void window_submitted(window *w, window_entry *e)
{
    if (e->state != WINDOW_READY) return;
    ofc_list_remove(&w->ready, &e->link);
    e->state = WINDOW_SUBMITTED;
    w->submitted++;
}

window_entry *window_find(const window *w, uint64_t ticket)
{
    uint64_t slot = ticket & SLOT_MASK;
    if (slot >= w->capacity) return NULL;
    window_entry *e = &w->slots[slot];
    return e->state != WINDOW_FREE && e->ticket == ticket ? e : NULL;
}

void window_hold(window *w, window_entry *e)
{
    if (e->state == WINDOW_READY) ofc_list_remove(&w->ready, &e->link);
    if (e->state == WINDOW_SUBMITTED) w->submitted--;
    e->state = WINDOW_HELD;
}

void window_finish(window *w, window_entry *e)
{
    if (e->state == WINDOW_FREE) return;
    if (e->state == WINDOW_READY) ofc_list_remove(&w->ready, &e->link);
    if (e->state == WINDOW_SUBMITTED) w->submitted--;
    /* Out of its key's chain; the next one goes when nothing is before it. */
    window_entry *later = e->later, *earlier = e->earlier;
    if (later) {
        later->earlier = earlier;
        if (!earlier && later->state == WINDOW_WAITING) {
            later->state = WINDOW_READY;
            ofc_list_push_back(&w->ready, &later->link);
        }
    } else {
        /* e was its key's latest. */
        ofc_hash_remove(&w->keys, &e->key_node);
        if (earlier) ofc_hash_insert(&w->keys, &earlier->key_node);
    }
    if (earlier) earlier->later = later;
    e->earlier = e->later = NULL;
    e->record = NULL;
    e->state = WINDOW_FREE;
    /* A new generation: a late completion for the old ticket finds nothing. */
    e->ticket = ((((e->ticket >> 32) + 1) & SLOT_MASK) << 32) | (e->ticket & SLOT_MASK);
    ofc_list_push_back(&w->spare, &e->link);
    w->used--;
}

size_t window_drop_partition(window *w, int32_t partition,
                             void (*drop)(void *opaque, window_entry *e), void *opaque)
{
    size_t dropped = 0;
    for (size_t i = 0; i < w->capacity; i++) {
        window_entry *e = &w->slots[i];
        if (e->state == WINDOW_FREE || (partition >= 0 && e->partition != partition)) continue;
        if (drop) drop(opaque, e);
        window_finish(w, e);
        dropped++;
    }
    return dropped;
}
