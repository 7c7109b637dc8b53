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

#include "util/hash.h"
#include "util/list.h"

typedef struct view_waiter view_waiter;

/* Answers a parked waiter with its order's current answer (body, body_len:
 * the view's, to copy), once: when the order's result arrives, or at its
 * deadline. Called under the view's lock: it must not call the view. */
typedef void (*view_answer_fn)(view_waiter *waiter, const char *body, size_t body_len);

/* A request waiting for an order, owned by the request (gw_request holds
 * one); the view links it while it is parked and touches nothing else of
 * the request. */
struct view_waiter {
    view_answer_fn answer;  /* set by the owner before order_view_get */
    ofc_list_node of_order; /* the order's waiters */
    ofc_list_node parked;   /* every parked waiter */
    struct view_entry *order;
    int64_t deadline_ms; /* monotonic */
};

typedef struct view_entry {
    ofc_hash_node by_id;
    ofc_list_node by_age;
    ofc_list waiters; /* view_waiter.of_order, latest first */
    char *body;       /* the GET answer's body, malloc'd */
    size_t body_len;
    int final; /* accepted or rejected: no more changes expected */
    size_t order_id_len;
    char order_id[];
} view_entry;

typedef struct order_view {
    pthread_mutex_t lock;
    ofc_hash by_id;  /* buckets NULL until order_view_init */
    ofc_list by_age; /* oldest first */
    size_t max_orders;
    ofc_list parked; /* view_waiter.parked, every parked waiter: for deadlines and shutdown */
} order_view;

int order_view_init(order_view *view, size_t max_orders);
/* Resume every parked request first (order_view_expire with all). */
void order_view_free(order_view *view);

/* The order was published: "pending" unless a result is already known. */
void order_view_pending(order_view *view, const char *order_id, size_t len);
/* The processor's result: body is the whole GET answer (copied). Answers
 * the waiters of this order. */
void order_view_result(order_view *view, const char *order_id, size_t len, const char *body,
                       size_t body_len);

typedef enum view_lookup {
    VIEW_UNKNOWN,
    VIEW_ANSWERED, /* *body (malloc'd copy) is the answer */
    VIEW_PARKED,   /* pending: waiter is parked until its deadline or the result */
    VIEW_FULL,     /* too many parked requests: answer what there is */
} view_lookup;

/* Looks order_id up. A pending order with deadline_ms > now (monotonic) and
 * room for another waiter parks waiter (the caller has suspended its
 * connection; waiter->answer answers it later); else copies the current
 * answer to *body. */
view_lookup order_view_get(order_view *view, const char *order_id, size_t len, view_waiter *waiter,
                           int64_t deadline_ms, size_t max_parked, char **body, size_t *body_len);

/* Answers the parked waiters whose deadline passed (now_ms monotonic), or
 * all of them with all set, each with the order's current answer. */
void order_view_expire(order_view *view, int64_t now_ms, int all);

#endif
