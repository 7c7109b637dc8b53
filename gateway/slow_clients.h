/* Slow clients (docs/gateway.md, "Security"): libmicrohttpd's connection
 * timeout is an idle timeout, which a client sending a byte a second never
 * reaches. Here every connection must deliver each request whole (headers
 * and body) within gateway.client_timeout_s of its opening or of its
 * previous answer; a sweep shuts down the socket of one that does not, and
 * libmicrohttpd closes it. Requests waiting for Kafka or a result are whole
 * already and never swept. */
#ifndef OF_GATEWAY_SLOW_CLIENTS_H
#define OF_GATEWAY_SLOW_CLIENTS_H

#include <pthread.h>
#include <stdint.h>

#include <microhttpd.h>

#include "util/list.h"

typedef struct slow_conn {
    ofc_list_node in_list;
    int fd;
    int receiving;    /* a request is (or may be) on its way in */
    int64_t since_ms; /* monotonic: when it began to be awaited */
    int shut;         /* swept already */
} slow_conn;

typedef struct slow_clients {
    pthread_mutex_t lock;
    ofc_list conns; /* slow_conn.in_list, latest first */
    int64_t timeout_ms;
    uint64_t swept;
} slow_clients;

void slow_clients_init(slow_clients *sc, int64_t timeout_ms);
void slow_clients_free(slow_clients *sc);

/* libmicrohttpd's MHD_OPTION_NOTIFY_CONNECTION callback (cls: the
 * slow_clients). */
void slow_clients_notify(void *cls, struct MHD_Connection *connection, void **socket_context,
                         enum MHD_ConnectionNotificationCode code);
/* The connection's request is whole (receiving stops) or answered (the next
 * one is awaited from now). */
void slow_clients_request_in(slow_clients *sc, struct MHD_Connection *connection);
void slow_clients_answered(slow_clients *sc, struct MHD_Connection *connection);
/* Shuts down the connections past their bound (now_ms monotonic). */
void slow_clients_sweep(slow_clients *sc, int64_t now_ms);

#endif
