/* What GET /orders/<order_id> answers from (docs/gateway.md): a bounded map
 * of order ids to their status, "pending" for the orders this gateway
 * published (or restored) until their data_processed arrives, then the
 * processor's result. Requests long-polling an order wait here, suspended;
 * whoever changes the order, or the deadline, resumes them. Thread-safe: the
 * HTTP thread reads and parks requests, the main thread (consumer, delivery
 * reports, deadlines) writes and resumes. */
#ifndef OF_GATEWAY_ORDER_VIEW_H
#define OF_GATEWAY_ORDER_VIEW_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct gw_request;

typedef struct view_entry {
    struct view_entry *chain;
    struct view_entry *older, *newer;
    struct gw_request *waiters; /* parked requests, linked through next_waiter */
    char *body;                 /* the GET answer's body, malloc'd */
    size_t body_len;
    int final; /* accepted or rejected: no more changes expected */
    size_t order_id_len;
    char order_id[];
} view_entry;

typedef struct order_view {
    pthread_mutex_t lock;
    view_entry **buckets;
    size_t bucket_mask;
    view_entry *oldest, *newest;
    size_t count, max_orders;
    struct gw_request *parked; /* every parked request, for deadlines and shutdown */
    size_t parked_count;
} order_view;

int order_view_init(order_view *view, size_t max_orders);
/* Resume every parked request first (order_view_resume_all). */
void order_view_free(order_view *view);

/* The order was published: "pending" unless a result is already known. */
void order_view_pending(order_view *view, const char *order_id, size_t len);
/* The processor's result: body is the whole GET answer (copied). Resumes
 * the requests waiting for this order. */
void order_view_result(order_view *view, const char *order_id, size_t len, const char *body,
                       size_t body_len);

typedef enum view_lookup {
    VIEW_UNKNOWN,
    VIEW_ANSWERED, /* *body (malloc'd copy) is the answer */
    VIEW_PARKED,   /* pending: req is parked until its deadline or the result */
    VIEW_FULL,     /* too many parked requests: answer what there is */
} view_lookup;

/* Looks order_id up. A pending order with deadline_ms > now (monotonic) and
 * room for another waiter parks req (the caller has suspended its
 * connection); else copies the current answer to *body. */
view_lookup order_view_get(order_view *view, const char *order_id, size_t len,
                           struct gw_request *req, int64_t deadline_ms, size_t max_parked,
                           char **body, size_t *body_len);

/* Resumes the parked requests whose deadline passed (now_ms monotonic), or
 * all of them with all set, each with the order's current answer. */
void order_view_expire(order_view *view, int64_t now_ms, int all);

#endif
