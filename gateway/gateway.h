/* orderflow-gateway's shared state (docs/gateway.md): the HTTP server on
 * libmicrohttpd's epoll thread, the idempotent producer polled by the main
 * thread, and the idempotency keys between them.
 *
 * Threads: libmicrohttpd's one internal thread runs every request handler
 * (so the decoder, encoder and id generator need no lock); the main thread
 * polls the producer, whose delivery reports settle keys and resume the
 * suspended requests. A request waiting for Kafka holds no thread. */
#ifndef OF_GATEWAY_GATEWAY_H
#define OF_GATEWAY_GATEWAY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <microhttpd.h>

#include "config/config.h"
#include "kafka/kafka.h"
#include "metrics/metrics.h"
#include "metrics/server.h"
#include <orderflow/envelope.h>
#include <orderflow/ids.h>

#include "gw_metrics.h"
#include "idem_key.h"
#include "idem_store.h"
#include "order_view.h"
#include "response.h"
#include "slow_clients.h"
#include "util/list.h"

/* Seconds a client is told to wait after a 503. */
#define GW_RETRY_AFTER_S 1

typedef struct gateway {
    const ofc_config *cfg;
    ofc_kafka kafka;
    rd_kafka_topic_t *topic;
    of_encoder *encoder; /* HTTP thread only */
    of_decoder *decoder; /* HTTP thread only */
    of_idgen ids;        /* HTTP thread only */
    idem_store keys;
    order_view view;
    ofc_kafka view_kafka;       /* data-processed consumer, for GET /orders/<id> */
    of_decoder *view_decoder;   /* its thread only */
    int64_t view_since_ms;      /* wall clock: older results are not read */
    ofc_range view_range;       /* its thread only, after gw_view_open */
    ofc_range_part *view_parts; /* data-processed from the window's start, followed */
    atomic_int view_left;       /* partitions not yet read up to their end at open */
    pthread_t view_thread;
    int view_running;
    atomic_int view_stop;
    atomic_int in_flight; /* requests waiting for a delivery report */
    atomic_int requests;  /* requests begun and not completed */
    atomic_int accepting; /* keys restored: POST /orders is served */
    atomic_int refused;   /* a delivery's authorization error (rd_kafka_resp_err_t): stop, 77 */
    pthread_mutex_t pub_lock;
    ofc_list publishing; /* gw_request.pub: POST /orders waiting for Kafka, latest first */
    ofc_list spare;      /* gw_request.pub: completed requests for reuse, HTTP thread only */
    struct MHD_Daemon *daemon;
    char *tls_cert, *tls_key; /* PEM text, kept while the daemon runs */
    slow_clients slow;
    char address[80]; /* where it listens, port 0 resolved */
    ofc_metrics *registry;
    ofc_health health;
    gw_metrics metrics;
} gateway;

typedef enum gw_route {
    ROUTE_OTHER,
    ROUTE_POST_ORDERS,
    ROUTE_GET_ORDER,
    ROUTE_ENDPOINT, /* /metrics, /healthz, /readyz */
} gw_route;

/* One HTTP request, from its first header to its completion. */
typedef struct gw_request {
    gateway *gw;
    struct MHD_Connection *connection;
    gw_route route;
    int64_t started_ms;
    char *body; /* the upload, up to limits.max_record_bytes */
    size_t len, cap;
    size_t announced; /* Content-Length, 0 if none: the buffer's first size */
    int too_large;
    int answered; /* resp is ready: queue it at the next call */
    gw_response resp;
    /* POST /orders waiting for its delivery report. Set before the record is
     * handed to librdkafka; after that only the delivery report touches the
     * request until it resumes the connection. */
    idem_entry *entry;
    char key[IDEM_KEY_MAX + 1];
    size_t key_len;
    char *order_id;
    size_t order_id_len;
    char id[OF_UUID_LEN + 1];
    /* GET ?wait parked in the order view (order_view.h, under its lock). */
    view_waiter waiter;
    /* POST /orders waiting for Kafka (gateway.publishing, under pub_lock),
     * or a completed request kept for reuse (gateway.spare). */
    ofc_list_node pub;
    int64_t pub_deadline_ms; /* monotonic: answered 503 past it */
    atomic_int refs;         /* libmicrohttpd's, plus the delivery report's while it is due */
} gw_request;

/* Queues req's response (req->resp) and marks req answered (http.c). */
enum MHD_Result gw_answer(gw_request *req);
/* The same for a problem details answer (response.h, gw_problem). */
enum MHD_Result gw_answer_problem(gw_request *req, unsigned status, const char *slug,
                                  const char *title, const char *detail);

/* Drops a reference; the last frees the request. */
void gw_request_release(gw_request *req);

/* Starts the HTTP server on cfg->gateway_listen (option names its origin in
 * messages). Returns 0, or EX_CONFIG (cannot listen) / EX_SOFTWARE with err. */
int gw_http_start(gateway *gw, const char *option, char *err, size_t errlen);
/* Stops accepting connections; requests already in go on. */
void gw_http_quiesce(gateway *gw);
void gw_http_stop(gateway *gw);

/* POST /orders once its body is in: answers at once (an error, a replay) or
 * publishes and suspends the connection until the delivery report. */
enum MHD_Result gw_orders_post(gw_request *req);

/* The producer's delivery report callback: settles the key, builds the
 * answer and resumes the connection. Runs on the thread polling the
 * producer. */
void gw_orders_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque);

/* GET /orders/<order_id>[?wait=S] (url: the path, percent-decoded). */
enum MHD_Result gw_orders_get(gw_request *req, const char *url);

/* The data-processed consumer behind GET: opened (partitions assigned from
 * their end), started on its own thread, stopped (every long poll
 * answered), closed. Return 0 or a sysexits status with err. */
int gw_view_open(gateway *gw, char *err, size_t errlen);
int gw_view_start(gateway *gw, char *err, size_t errlen);
void gw_view_stop(gateway *gw);
/* 1 once the view has read every partition up to where it ended when the
 * view opened: the results of the window are in. */
int gw_view_caught_up(gateway *gw);
void gw_view_close(gateway *gw);

/* Restores the idempotency keys of order-created's last retention window
 * (docs/gateway.md, "Restart"), setting *restored to how many. Returns 0 or
 * a sysexits status with err. */
int gw_restore(gateway *gw, uint64_t *restored, char *err, size_t errlen);

/* Answers 503 the requests waiting for Kafka past their deadline
 * (gateway.request_timeout_ms; now_ms monotonic). Their keys stay in
 * flight until their delivery reports come. */
void gw_orders_expire(gateway *gw, int64_t now_ms);

/* Opens the idempotent producer and checks the topic. Returns 0 or a
 * sysexits status with err. */
int gw_kafka_open(gateway *gw, char *err, size_t errlen);
void gw_kafka_close(gateway *gw);

#endif
