#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "order_view.h"

static uint64_t hash_id(const char *id, size_t len)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)id[i];
        h *= 1099511628211ULL;
    }
    return h;
}

int order_view_init(order_view *view, size_t max_orders)
{
    memset(view, 0, sizeof(*view));
    size_t buckets = 1024;
    while (buckets < max_orders / 2 && buckets < ((size_t)1 << 26))
        buckets <<= 1;
    view->buckets = calloc(buckets, sizeof(*view->buckets));
    if (!view->buckets) return -1;
    view->bucket_mask = buckets - 1;
    view->max_orders = max_orders;
    pthread_mutex_init(&view->lock, NULL);
    return 0;
}

void order_view_free(order_view *view)
{
    if (!view->buckets) return;
    view_entry *e = view->oldest;
    while (e) {
        view_entry *next = e->newer;
        free(e->body);
        free(e);
        e = next;
    }
    free(view->buckets);
    pthread_mutex_destroy(&view->lock);
    memset(view, 0, sizeof(*view));
}

static view_entry **slot_of(order_view *view, const char *id, size_t len)
{
    view_entry **p = &view->buckets[hash_id(id, len) & view->bucket_mask];
    while (*p && !((*p)->order_id_len == len && memcmp((*p)->order_id, id, len) == 0))
        p = &(*p)->chain;
    return p;
}

/* Drops the oldest orders nobody waits for while full. Lock held. */
static void make_room(order_view *view)
{
    view_entry *e = view->oldest;
    while (e && view->count >= view->max_orders) {
        view_entry *newer = e->newer;
        if (!e->waiters) {
            view_entry **p = slot_of(view, e->order_id, e->order_id_len);
            if (*p == e) *p = e->chain;
            if (e->older)
                e->older->newer = e->newer;
            else
                view->oldest = e->newer;
            if (e->newer)
                e->newer->older = e->older;
            else
                view->newest = e->older;
            view->count--;
            free(e->body);
            free(e);
        }
        e = newer;
    }
}

/* The order's entry, made when absent. Lock held; NULL out of memory. */
static view_entry *entry_for(order_view *view, const char *id, size_t len)
{
    view_entry **slot = slot_of(view, id, len);
    if (*slot) return *slot;
    make_room(view);
    slot = slot_of(view, id, len);
    view_entry *e = calloc(1, sizeof(*e) + len + 1);
    if (!e) return NULL;
    memcpy(e->order_id, id, len);
    e->order_id_len = len;
    e->older = view->newest;
    if (view->newest)
        view->newest->newer = e;
    else
        view->oldest = e;
    view->newest = e;
    *slot = e;
    view->count++;
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

/* Unlinks req from the parked list. Lock held. */
static void unpark(order_view *view, gw_request *req)
{
    if (req->parked_prev)
        req->parked_prev->parked_next = req->parked_next;
    else
        view->parked = req->parked_next;
    if (req->parked_next) req->parked_next->parked_prev = req->parked_prev;
    req->parked_prev = req->parked_next = NULL;
    req->waiting_on = NULL;
    view->parked_count--;
}

/* Answers req with e's current body and resumes it. Lock held. */
static void resume(gw_request *req, const view_entry *e)
{
    gw_response_clear(&req->resp);
    req->resp.status = MHD_HTTP_OK;
    req->resp.content_type = CONTENT_TYPE_JSON;
    req->resp.body = malloc(e->body_len + 1);
    if (req->resp.body) {
        memcpy(req->resp.body, e->body, e->body_len);
        req->resp.len = e->body_len;
    } else {
        gw_problem(&req->resp, 500, "internal", "Internal Server Error", "out of memory", NULL);
    }
    req->answered = 1;
    MHD_resume_connection(req->connection);
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
        while (e->waiters) {
            gw_request *req = e->waiters;
            e->waiters = req->next_waiter;
            req->next_waiter = NULL;
            unpark(view, req);
            resume(req, e);
        }
    }
    pthread_mutex_unlock(&view->lock);
}

view_lookup order_view_get(order_view *view, const char *order_id, size_t len, gw_request *req,
                           int64_t deadline_ms, size_t max_parked, char **body, size_t *body_len)
{
    view_lookup result;
    pthread_mutex_lock(&view->lock);
    view_entry *e = *slot_of(view, order_id, len);
    if (!e || !e->body) {
        result = VIEW_UNKNOWN;
    } else if (!e->final && deadline_ms > of_monotonic_ms() && view->parked_count < max_parked) {
        req->deadline_ms = deadline_ms;
        req->waiting_on = e;
        req->next_waiter = e->waiters;
        e->waiters = req;
        req->parked_prev = NULL;
        req->parked_next = view->parked;
        if (view->parked) view->parked->parked_prev = req;
        view->parked = req;
        view->parked_count++;
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
    gw_request *req = view->parked;
    while (req) {
        gw_request *next = req->parked_next;
        if (all || req->deadline_ms <= now_ms) {
            view_entry *e = req->waiting_on;
            gw_request **p = &e->waiters;
            while (*p && *p != req)
                p = &(*p)->next_waiter;
            if (*p) *p = req->next_waiter;
            req->next_waiter = NULL;
            unpark(view, req);
            resume(req, e);
        }
        req = next;
    }
    pthread_mutex_unlock(&view->lock);
}
