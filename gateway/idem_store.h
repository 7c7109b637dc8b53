/* The gateway's idempotency keys (docs/gateway.md, "Idempotency"): what each
 * key's first request was (its body's SHA-256) and, once Kafka acknowledged
 * it, where its event landed, so a retry is answered with the same response.
 * Bounded by count and age, the oldest dropped first. Thread-safe: the HTTP
 * thread looks keys up and adds them, the delivery-report thread settles
 * them. */
#ifndef OF_GATEWAY_IDEM_STORE_H
#define OF_GATEWAY_IDEM_STORE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <orderflow/ids.h>

#include "util/hash.h"
#include "util/list.h"

#define IDEM_FINGERPRINT_LEN 32 /* SHA-256 */

typedef enum idem_state {
    IDEM_IN_FLIGHT, /* published, no delivery report yet */
    IDEM_DONE,      /* acknowledged: partition and offset known */
} idem_state;

typedef struct idem_entry {
    ofc_hash_node by_key;
    ofc_list_node by_age;
    uint64_t created_ms; /* wall clock, for the retention window */
    uint8_t fingerprint[IDEM_FINGERPRINT_LEN];
    idem_state state;
    int32_t partition;
    int64_t offset;
    char id[OF_UUID_LEN + 1];
    size_t key_len, order_id_len;
    char text[]; /* key, NUL, order_id, NUL */
} idem_entry;

/* What a settled key answers with (copied out of the store). */
typedef struct idem_outcome {
    int32_t partition;
    int64_t offset;
    char id[OF_UUID_LEN + 1];
} idem_outcome;

typedef enum idem_result {
    IDEM_ADDED,    /* new key, now in flight: publish it */
    IDEM_REPLAY,   /* same key, same body, settled: answer with *outcome */
    IDEM_BUSY,     /* same key, still in flight: 409 */
    IDEM_MISMATCH, /* same key, another body: 422 */
    IDEM_NO_ROOM,  /* out of memory */
} idem_result;

typedef struct idem_store {
    pthread_mutex_t lock;
    ofc_hash by_key;
    ofc_list by_age; /* oldest first */
    size_t max_keys;
    uint64_t retention_ms;
    uint64_t dropped; /* settled keys dropped for room before their retention ended */
} idem_store;

/* Returns 0, or -1 when out of memory. */
int idem_store_init(idem_store *store, size_t max_keys, uint64_t retention_ms);
void idem_store_free(idem_store *store);

/* Looks key up (now_ms: wall clock); a new key is added in flight with
 * fingerprint and order_id and returned in *entry, for idem_store_settle or
 * idem_store_forget. A settled key's outcome is copied to *outcome. Keys past
 * their retention are dropped first, and the oldest settled keys when the
 * store is full. */
idem_result idem_store_begin(idem_store *store, const char *key, size_t key_len,
                             const uint8_t *fingerprint, const char *order_id, size_t order_id_len,
                             uint64_t now_ms, idem_entry **entry, idem_outcome *outcome);
/* The key's event is in Kafka at partition/offset, with event id `id`. */
void idem_store_settle(idem_store *store, idem_entry *entry, int32_t partition, int64_t offset,
                       const char *id);
/* The key's event was not delivered: the key is free again. */
void idem_store_forget(idem_store *store, idem_entry *entry);
/* Adds a settled key found in Kafka at start (docs/gateway.md, "Restart").
 * An existing key keeps its first record. Returns 0, or -1 when out of memory. */
int idem_store_restore(idem_store *store, const char *key, size_t key_len,
                       const uint8_t *fingerprint, const char *order_id, size_t order_id_len,
                       uint64_t created_ms, int32_t partition, int64_t offset, const char *id);

size_t idem_store_count(idem_store *store);
uint64_t idem_store_dropped(idem_store *store);

#endif
