#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

uint64_t ofc_fnv1a64(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

int ofc_hash_init(ofc_hash *table, size_t expected, ofc_hash_key_fn key_of)
{
    memset(table, 0, sizeof(*table));
    size_t buckets = 1024;
    while (buckets < expected / 2 && buckets < ((size_t)1 << 26))
        buckets <<= 1;
    table->buckets = calloc(buckets, sizeof(*table->buckets));
    if (!table->buckets) return -1;
    table->bucket_mask = buckets - 1;
    table->key_of = key_of;
    return 0;
}

void ofc_hash_free(ofc_hash *table)
{
    free(table->buckets);
    memset(table, 0, sizeof(*table));
}

/* Where key is, or the empty slot at the end of its chain. */
static ofc_hash_node **slot_of(const ofc_hash *table, const char *key, size_t len)
{
    ofc_hash_node **p = &table->buckets[ofc_fnv1a64(key, len) & table->bucket_mask];
    for (; *p; p = &(*p)->chain) {
        size_t node_len;
        const char *node_key = table->key_of(*p, &node_len);
        if (node_len == len && memcmp(node_key, key, len) == 0) break;
    }
    return p;
}

ofc_hash_node *ofc_hash_find(const ofc_hash *table, const char *key, size_t len)
{
    return *slot_of(table, key, len);
}

void ofc_hash_insert(ofc_hash *table, ofc_hash_node *node)
{
    size_t len;
    const char *key = table->key_of(node, &len);
    ofc_hash_node **bucket = &table->buckets[ofc_fnv1a64(key, len) & table->bucket_mask];
    node->chain = *bucket;
    *bucket = node;
    table->count++;
}

void ofc_hash_remove(ofc_hash *table, ofc_hash_node *node)
{
    size_t len;
    const char *key = table->key_of(node, &len);
    ofc_hash_node **p = &table->buckets[ofc_fnv1a64(key, len) & table->bucket_mask];
    while (*p && *p != node)
        p = &(*p)->chain;
    if (*p) {
        *p = node->chain;
        node->chain = NULL;
        table->count--;
    }
}
