/* An intrusive chained hash table of byte-string keys: the node lives
 * inside the stored struct, which also holds the key; the table asks for it
 * through key_of. The table never allocates a node, and never frees one:
 * removing a node only unlinks it. Not thread-safe: the owner's lock covers
 * the table. */
#ifndef OFC_UTIL_HASH_H
#define OFC_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

typedef struct ofc_hash_node {
    struct ofc_hash_node *chain;
} ofc_hash_node;

/* The key of the struct holding node, and its length in *len. */
typedef const char *(*ofc_hash_key_fn)(const ofc_hash_node *node, size_t *len);

typedef struct ofc_hash {
    ofc_hash_node **buckets; /* NULL until ofc_hash_init */
    size_t bucket_mask;
    size_t count;
    ofc_hash_key_fn key_of;
} ofc_hash;

/* FNV-1a, 64 bits (offset basis 0xcbf29ce484222325, prime 0x100000001b3):
 * cheap and well spread for short keys such as ids and idempotency keys. */
uint64_t ofc_fnv1a64(const void *data, size_t len);

/* Sized for about two keys a bucket at expected keys (1,024 buckets at
 * least, 2^26 at most). Returns 0, or -1 when out of memory. */
int ofc_hash_init(ofc_hash *table, size_t expected, ofc_hash_key_fn key_of);
/* Frees the buckets, not the nodes; a zeroed table is fine. */
void ofc_hash_free(ofc_hash *table);

/* The node whose key is key (len bytes), or NULL. */
ofc_hash_node *ofc_hash_find(const ofc_hash *table, const char *key, size_t len);
/* Adds node, whose key must not be in the table yet. */
void ofc_hash_insert(ofc_hash *table, ofc_hash_node *node);
/* Unlinks node, which must be in the table. */
void ofc_hash_remove(ofc_hash *table, ofc_hash_node *node);

#endif
