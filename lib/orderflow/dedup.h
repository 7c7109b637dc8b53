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
 * memory grows with the keys inserted, to ~48 bytes per window entry at most;
 * should growing fail, the set keeps a smaller window instead. */
OF_EXPORT of_dedup *of_dedup_new(size_t window);
OF_EXPORT void of_dedup_free(of_dedup *set);

/* 1 when key is among the remembered keys, else 0. */
OF_EXPORT int of_dedup_contains(const of_dedup *set, const void *key, size_t len);
/* Remembers key. Returns 1 when it was new, 0 when already remembered (then
 * nothing changes). A new key beyond the window evicts the oldest. */
OF_EXPORT int of_dedup_insert(of_dedup *set, const void *key, size_t len);
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
