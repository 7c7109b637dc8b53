/* FIFO window of key hashes with an open-addressing index (linear probing,
 * backward-shift deletion so eviction leaves no tombstones). */
#include <stdlib.h>
#include <string.h>

#include <orderflow/dedup.h>

#include "hash128.h"

#define EMPTY_SLOT UINT32_MAX

/* A new set starts this small and doubles as keys arrive, up to the window:
 * a processor holds one set per partition, most of which never fill. */
#define INITIAL_CAPACITY 1024

struct of_dedup {
    of_hash128 *ring; /* capacity entries, oldest at `oldest` */
    size_t capacity;  /* < window only until the first eviction */
    size_t window;
    size_t count;
    size_t oldest;
    uint32_t *index; /* ring positions, or EMPTY_SLOT */
    size_t slots;    /* index size: 2 * capacity */
};

/* An index of twice capacity slots, all empty. Not rounded up to a power of
 * two: at the default window (100,000) that would be 2.6 slots a key, 25%
 * more memory for no fewer cache misses (an empty slot is found at once at
 * either load). */
static int new_index(of_dedup *set, size_t capacity)
{
    size_t slots = capacity * 2 < 16 ? 16 : capacity * 2;
    uint32_t *index = malloc(slots * sizeof(*index));
    if (!index) return -1;
    memset(index, 0xff, slots * sizeof(*index));
    free(set->index);
    set->index = index;
    set->slots = slots;
    return 0;
}

of_dedup *of_dedup_new(size_t window)
{
    if (window == 0 || window > (size_t)UINT32_MAX / 2) return NULL;
    of_dedup *set = calloc(1, sizeof(*set));
    if (!set) return NULL;
    set->window = window;
    set->capacity = window < INITIAL_CAPACITY ? window : INITIAL_CAPACITY;
    set->ring = malloc(set->capacity * sizeof(*set->ring));
    if (!set->ring || new_index(set, set->capacity) != 0) {
        of_dedup_free(set);
        return NULL;
    }
    return set;
}

void of_dedup_free(of_dedup *set)
{
    if (!set) return;
    free(set->ring);
    free(set->index);
    free(set);
}

static int same(of_hash128 a, of_hash128 b)
{
    return a.lo == b.lo && a.hi == b.hi;
}

/* Where h's probe starts: the top 32 bits of h.lo scaled to [0, slots)
 * (slots < 2^32, as the window is < 2^31), a multiply instead of a
 * division. */
static size_t home_slot(const of_dedup *set, of_hash128 h)
{
    return (size_t)(((h.lo >> 32) * (uint64_t)set->slots) >> 32);
}

static size_t next_slot(const of_dedup *set, size_t slot)
{
    return slot + 1 == set->slots ? 0 : slot + 1;
}

/* The index slot holding h, or the empty slot where it would go. */
static size_t find_slot(const of_dedup *set, of_hash128 h)
{
    size_t slot = home_slot(set, h);
    while (set->index[slot] != EMPTY_SLOT && !same(set->ring[set->index[slot]], h))
        slot = next_slot(set, slot);
    return slot;
}

static void remove_slot(of_dedup *set, size_t hole)
{
    size_t slot = hole;
    for (;;) {
        slot = next_slot(set, slot);
        if (set->index[slot] == EMPTY_SLOT) break;
        size_t home = home_slot(set, set->ring[set->index[slot]]);
        /* Move the entry back into the hole unless its home lies cyclically
         * in (hole, slot], where moving it would put it before its home. */
        int home_between =
            hole <= slot ? (home > hole && home <= slot) : (home > hole || home <= slot);
        if (!home_between) {
            set->index[hole] = set->index[slot];
            hole = slot;
        }
    }
    set->index[hole] = EMPTY_SLOT;
}

of_dedup_hash of_dedup_hash_key(const void *key, size_t len)
{
    of_hash128 h = of_hash128_bytes(key, len);
    return (of_dedup_hash){h.lo, h.hi};
}

int of_dedup_contains_hash(const of_dedup *set, of_dedup_hash hash)
{
    return set->index[find_slot(set, (of_hash128){hash.lo, hash.hi})] != EMPTY_SLOT;
}

int of_dedup_contains(const of_dedup *set, const void *key, size_t len)
{
    return of_dedup_contains_hash(set, of_dedup_hash_key(key, len));
}

void of_dedup_prefetch(const of_dedup *set, const void *key, size_t len)
{
    of_hash128 h = of_hash128_bytes(key, len);
    __builtin_prefetch(&set->index[home_slot(set, h)]);
}

/* Resizes the ring to capacity (<= window) and rebuilds the index. Only
 * called before the first eviction, so the entries sit at positions
 * 0..count-1. */
static int resize(of_dedup *set, size_t capacity)
{
    of_hash128 *ring = realloc(set->ring, capacity * sizeof(*ring));
    if (!ring) return -1;
    set->ring = ring;
    if (new_index(set, capacity) != 0) return -1;
    set->capacity = capacity;
    for (size_t i = 0; i < set->count; i++)
        set->index[find_slot(set, set->ring[i])] = (uint32_t)i;
    return 0;
}

static int grow(of_dedup *set)
{
    return resize(set, set->capacity * 2 < set->window ? set->capacity * 2 : set->window);
}

int of_dedup_reserve(of_dedup *set, size_t keys)
{
    size_t capacity = keys < set->window ? keys : set->window;
    if (capacity <= set->capacity) return 0;
    /* On failure the old index and capacity are untouched (the ring may
     * just be larger): the set stays usable as it was. */
    return resize(set, capacity);
}

int of_dedup_insert(of_dedup *set, const void *key, size_t len)
{
    return of_dedup_insert_hash(set, of_dedup_hash_key(key, len));
}

int of_dedup_insert_hash(of_dedup *set, of_dedup_hash hash)
{
    of_hash128 h = {hash.lo, hash.hi};
    size_t slot = find_slot(set, h);
    if (set->index[slot] != EMPTY_SLOT) return 0;
    if (set->count == set->capacity && set->capacity < set->window) {
        /* Out of memory: keep the keys it has, as a smaller window. */
        if (grow(set) != 0) set->window = set->capacity;
        slot = find_slot(set, h);
    }
    size_t position;
    if (set->count == set->window) {
        position = set->oldest;
        remove_slot(set, find_slot(set, set->ring[position]));
        set->oldest = (set->oldest + 1) % set->window;
        slot = find_slot(set, h); /* the shift may have moved the empty slot */
    } else {
        position = (set->oldest + set->count) % set->window;
        set->count++;
    }
    set->ring[position] = h;
    set->index[slot] = (uint32_t)position;
    return 1;
}

size_t of_dedup_count(const of_dedup *set)
{
    return set->count;
}

void of_dedup_clear(of_dedup *set)
{
    memset(set->index, 0xff, set->slots * sizeof(*set->index));
    set->count = 0;
    set->oldest = 0;
}
