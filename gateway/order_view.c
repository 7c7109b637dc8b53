#include <stdlib.h>
#include <string.h>

#include <orderflow/ids.h>

#include "order_view.h"
#include "response.h"

static view_entry *entry_of_age(ofc_list_node *node)
{
    return node ? OFC_CONTAINER_OF(node, view_entry, by_age) : NULL;
}

static const char *id_of(const ofc_hash_node *node, size_t *len)
{
    const view_entry *e = OFC_CONTAINER_OF(node, const view_entry, by_id);
    *len = e->order_id_len;
    return e->order_id;
}

int order_view_init(order_view *view, size_t max_orders)
{
    memset(view, 0, sizeof(*view));
    if (ofc_hash_init(&view->by_id, max_orders, id_of) != 0) return -1;
    view->max_orders = max_orders;
    pthread_mutex_init(&view->lock, NULL);
    return 0;
}

void order_view_free(order_view *view)
{
    if (!view->by_id.buckets) return;
    view_entry *e;
    while ((e = entry_of_age(ofc_list_pop_front(&view->by_age))) != NULL) {
        free(e->body);
        free(e);
    }
    ofc_hash_free(&view->by_id);
    pthread_mutex_destroy(&view->lock);
    memset(view, 0, sizeof(*view));
}

static view_entry *find(order_view *view, const char *id, size_t len)
{
    ofc_hash_node *node = ofc_hash_find(&view->by_id, id, len);
    return node ? OFC_CONTAINER_OF(node, view_entry, by_id) : NULL;
}

/* Drops the oldest orders nobody waits for while full. Lock held. */
static void make_room(order_view *view)
{
    view_entry *e = entry_of_age(view->by_age.first);
    while (e && view->by_age.count >= view->max_orders) {
        view_entry *newer = entry_of_age(e->by_age.next);
        if (!e->waiters.first) {
            ofc_hash_remove(&view->by_id, &e->by_id);
            ofc_list_remove(&view->by_age, &e->by_age);
            free(e->body);
            free(e);
        }
        e = newer;
    }
}

/* The order's entry, made when absent. Lock held; NULL out of memory. */
static view_entry *entry_for(order_view *view, const char *id, size_t len)
{
    view_entry *e = find(view, id, len);
    if (e) return e;
    make_room(view);
    e = calloc(1, sizeof(*e) + len + 1);
    if (!e) return NULL;
    memcpy(e->order_id, id, len);
    e->order_id_len = len;
    ofc_list_push_back(&view->by_age, &e->by_age);
    ofc_hash_insert(&view->by_id, &e->by_id);
    return e;
}

static void set_body(view_entry *e, const char *body, size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy) return; /* the old answer stays: stale beats none */
    memcpy(copy, body, len);
    copy[len] = '\0';
    free(e->body);
    e->body = copy;
    e->body_len = len;
}

/* Unlinks waiter from its order and the parked list and answers it with the
 * order's current body. Lock held. */
static void resume(order_view *view, view_waiter *waiter)
{
    view_entry *e = waiter->order;
    ofc_list_remove(&e->waiters, &waiter->of_order);
    ofc_list_remove(&view->parked, &waiter->parked);
    waiter->order = NULL;
    waiter->answer(waiter, e->body, e->body_len);
}

/* The pending answer: {"order_id":"...","status":"pending"}. */
static void pending_body(view_entry *e)
{
    gw_response tmp = {0};
    if (gw_status_body(&tmp, e->order_id, e->order_id_len, "pending", NULL) == 0) {
        free(e->body);
        e->body = tmp.body;
        e->body_len = tmp.len;
    }
}

void order_view_pending(order_view *view, const char *order_id, size_t len)
{
    pthread_mutex_lock(&view->lock);
    view_entry *e = entry_for(view, order_id, len);
    if (e && !e->final) pending_body(e);
    pthread_mutex_unlock(&view->lock);
}

void order_view_result(order_view *view, const char *order_id, size_t len, const char *body,
                       size_t body_len)
{
    pthread_mutex_lock(&view->lock);
    view_entry *e = entry_for(view, order_id, len);
    if (e) {
        set_body(e, body, body_len);
        e->final = 1;
        while (e->waiters.first)
            resume(view, OFC_CONTAINER_OF(e->waiters.first, view_waiter, of_order));
    }
    pthread_mutex_unlock(&view->lock);
}

view_lookup order_view_get(order_view *view, const char *order_id, size_t len, view_waiter *waiter,
                           int64_t deadline_ms, size_t max_parked, char **body, size_t *body_len)
{
    view_lookup result;
    pthread_mutex_lock(&view->lock);
    view_entry *e = find(view, order_id, len);
    if (!e || !e->body) {
        result = VIEW_UNKNOWN;
    } else if (!e->final && deadline_ms > of_monotonic_ms() && view->parked.count < max_parked) {
        waiter->deadline_ms = deadline_ms;
        waiter->order = e;
        ofc_list_push_front(&e->waiters, &waiter->of_order);
        ofc_list_push_front(&view->parked, &waiter->parked);
        result = VIEW_PARKED;
    } else {
        *body = malloc(e->body_len + 1);
        if (*body) {
            memcpy(*body, e->body, e->body_len);
            *body_len = e->body_len;
        }
        result = !e->final && deadline_ms > of_monotonic_ms() ? VIEW_FULL : VIEW_ANSWERED;
    }
    pthread_mutex_unlock(&view->lock);
    return result;
}

void order_view_expire(order_view *view, int64_t now_ms, int all)
{
    pthread_mutex_lock(&view->lock);
    ofc_list_node *node = view->parked.first;
    while (node) {
        ofc_list_node *next = node->next;
        view_waiter *waiter = OFC_CONTAINER_OF(node, view_waiter, parked);
        if (all || waiter->deadline_ms <= now_ms) resume(view, waiter);
        node = next;
    }
    pthread_mutex_unlock(&view->lock);
}
