#include <stdlib.h>
#include <string.h>

#include "idem_store.h"

static idem_entry *entry_of_age(ofc_list_node *node)
{
    return node ? OFC_CONTAINER_OF(node, idem_entry, by_age) : NULL;
}

static const char *key_of(const ofc_hash_node *node, size_t *len)
{
    const idem_entry *e = OFC_CONTAINER_OF(node, const idem_entry, by_key);
    *len = e->key_len;
    return e->text;
}

int idem_store_init(idem_store *store, size_t max_keys, uint64_t retention_ms)
{
    memset(store, 0, sizeof(*store));
    if (ofc_hash_init(&store->by_key, max_keys, key_of) != 0) return -1;
    store->max_keys = max_keys;
    store->retention_ms = retention_ms;
    pthread_mutex_init(&store->lock, NULL);
    return 0;
}

void idem_store_free(idem_store *store)
{
    if (!store->by_key.buckets) return;
    idem_entry *e;
    while ((e = entry_of_age(ofc_list_pop_front(&store->by_age))) != NULL)
        free(e);
    ofc_hash_free(&store->by_key);
    pthread_mutex_destroy(&store->lock);
    memset(store, 0, sizeof(*store));
}

static idem_entry *find(idem_store *store, const char *key, size_t len)
{
    ofc_hash_node *node = ofc_hash_find(&store->by_key, key, len);
    return node ? OFC_CONTAINER_OF(node, idem_entry, by_key) : NULL;
}

/* Unlinks e from the table and the age list and frees it. Lock held. */
static void drop(idem_store *store, idem_entry *e)
{
    ofc_hash_remove(&store->by_key, &e->by_key);
    ofc_list_remove(&store->by_age, &e->by_age);
    free(e);
}

/* Drops settled keys past retention, then the oldest settled keys while the
 * store is full. A key in flight is never dropped: its delivery report will
 * come (message.timeout.ms bounds it) and gateway.max_in_flight bounds them. */
static void make_room(idem_store *store, uint64_t now_ms)
{
    idem_entry *e = entry_of_age(store->by_age.first);
    while (e) {
        idem_entry *newer = entry_of_age(e->by_age.next);
        int expired = now_ms >= e->created_ms && now_ms - e->created_ms > store->retention_ms;
        int full = store->by_age.count >= store->max_keys;
        if (!expired && !full) break;
        if (e->state == IDEM_DONE) {
            if (!expired) store->dropped++;
            drop(store, e);
        }
        e = newer;
    }
}

static idem_entry *add(idem_store *store, const char *key, size_t key_len,
                       const uint8_t *fingerprint, const char *order_id, size_t order_id_len,
                       uint64_t created_ms)
{
    idem_entry *e = malloc(sizeof(*e) + key_len + order_id_len + 2);
    if (!e) return NULL;
    memset(e, 0, sizeof(*e));
    e->created_ms = created_ms;
    memcpy(e->fingerprint, fingerprint, IDEM_FINGERPRINT_LEN);
    e->key_len = key_len;
    e->order_id_len = order_id_len;
    memcpy(e->text, key, key_len);
    e->text[key_len] = '\0';
    memcpy(e->text + key_len + 1, order_id, order_id_len);
    e->text[key_len + 1 + order_id_len] = '\0';
    ofc_list_push_back(&store->by_age, &e->by_age);
    ofc_hash_insert(&store->by_key, &e->by_key);
    return e;
}

idem_result idem_store_begin(idem_store *store, const char *key, size_t key_len,
                             const uint8_t *fingerprint, const char *order_id, size_t order_id_len,
                             uint64_t now_ms, idem_entry **entry, idem_outcome *outcome)
{
    idem_result result;
    pthread_mutex_lock(&store->lock);
    make_room(store, now_ms);
    idem_entry *e = find(store, key, key_len);
    if (!e) {
        *entry = add(store, key, key_len, fingerprint, order_id, order_id_len, now_ms);
        result = *entry ? IDEM_ADDED : IDEM_NO_ROOM;
    } else if (e->state == IDEM_IN_FLIGHT) {
        result = IDEM_BUSY;
    } else if (memcmp(e->fingerprint, fingerprint, IDEM_FINGERPRINT_LEN) != 0) {
        result = IDEM_MISMATCH;
    } else {
        outcome->partition = e->partition;
        outcome->offset = e->offset;
        memcpy(outcome->id, e->id, sizeof(outcome->id));
        result = IDEM_REPLAY;
    }
    pthread_mutex_unlock(&store->lock);
    return result;
}

void idem_store_settle(idem_store *store, idem_entry *entry, int32_t partition, int64_t offset,
                       const char *id)
{
    pthread_mutex_lock(&store->lock);
    entry->partition = partition;
    entry->offset = offset;
    memcpy(entry->id, id, OF_UUID_LEN);
    entry->id[OF_UUID_LEN] = '\0';
    entry->state = IDEM_DONE;
    pthread_mutex_unlock(&store->lock);
}

void idem_store_forget(idem_store *store, idem_entry *entry)
{
    pthread_mutex_lock(&store->lock);
    drop(store, entry);
    pthread_mutex_unlock(&store->lock);
}

int idem_store_restore(idem_store *store, const char *key, size_t key_len,
                       const uint8_t *fingerprint, const char *order_id, size_t order_id_len,
                       uint64_t created_ms, int32_t partition, int64_t offset, const char *id)
{
    int rc = 0;
    pthread_mutex_lock(&store->lock);
    make_room(store, of_now_ms());
    if (!find(store, key, key_len)) {
        idem_entry *e = add(store, key, key_len, fingerprint, order_id, order_id_len, created_ms);
        if (e) {
            e->partition = partition;
            e->offset = offset;
            memcpy(e->id, id, OF_UUID_LEN);
            e->id[OF_UUID_LEN] = '\0';
            e->state = IDEM_DONE;
        } else {
            rc = -1;
        }
    }
    pthread_mutex_unlock(&store->lock);
    return rc;
}

size_t idem_store_count(idem_store *store)
{
    pthread_mutex_lock(&store->lock);
    size_t n = store->by_age.count;
    pthread_mutex_unlock(&store->lock);
    return n;
}

uint64_t idem_store_dropped(idem_store *store)
{
    pthread_mutex_lock(&store->lock);
    uint64_t n = store->dropped;
    pthread_mutex_unlock(&store->lock);
    return n;
}
