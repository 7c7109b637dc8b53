/* A bounded set of recently seen keys: the last `window` keys inserted, FIFO
 * eviction. Stores a 128-bit hash of each key, not the key, so memory is
 * 16 bytes plus table overhead per entry whatever the key length. */
#ifndef ORDERFLOW_DEDUP_H
#define ORDERFLOW_DEDUP_H

#include <orderflow/export.h>

#include <stddef.h>
#include <stdint.h>

OF_BEGIN_DECLS

typedef struct of_dedup of_dedup;

/* A set remembering up to window (>= 1) keys. NULL when out of memory. The
 * memory grows with the keys inserted, to 24 bytes per window entry at most
 * (the hash and two 4-byte index slots);
 * should growing fail, the set keeps a smaller window instead. */
OF_EXPORT of_dedup *of_dedup_new(size_t window);
OF_EXPORT void of_dedup_free(of_dedup *set);
/* Makes room for keys (up to the window) at once, so that inserting them
 * rehashes nothing: for a caller that knows how many keys are coming, e.g.
 * a restore that knows its record count. 0, or -1 when out of memory (the
 * set keeps what it had and still grows with use). */
OF_EXPORT int of_dedup_reserve(of_dedup *set, size_t keys);

/* 1 when key is among the remembered keys, else 0. */
OF_EXPORT int of_dedup_contains(const of_dedup *set, const void *key, size_t len);
/* Remembers key. Returns 1 when it was new, 0 when already remembered (then
 * nothing changes). A new key beyond the window evicts the oldest. */
OF_EXPORT int of_dedup_insert(of_dedup *set, const void *key, size_t len);
/* Starts loading the memory that inserting or looking up key will touch
 * first, and returns at once: a caller with a batch of keys calls it a few
 * keys ahead, so that the cache misses (the most of an insert's time once a
 * set outgrows the cache) overlap instead of coming one after the other. */
OF_EXPORT void of_dedup_prefetch(const of_dedup *set, const void *key, size_t len);
/* The same with the key's hash, from of_dedup_hash_key: a caller that checks
 * a key and later remembers it hashes it once. */
typedef struct of_dedup_hash {
    uint64_t lo, hi;
} of_dedup_hash;
OF_EXPORT of_dedup_hash of_dedup_hash_key(const void *key, size_t len);
OF_EXPORT int of_dedup_contains_hash(const of_dedup *set, of_dedup_hash hash);
OF_EXPORT int of_dedup_insert_hash(of_dedup *set, of_dedup_hash hash);
OF_EXPORT size_t of_dedup_count(const of_dedup *set);
/* Forgets everything (keeps the memory). */
OF_EXPORT void of_dedup_clear(of_dedup *set);

OF_END_DECLS

#endif
