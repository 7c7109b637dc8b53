#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <orderflow/ids.h>

#include "slow_clients.h"

void slow_clients_init(slow_clients *sc, int64_t timeout_ms)
{
    memset(sc, 0, sizeof(*sc));
    pthread_mutex_init(&sc->lock, NULL);
    sc->timeout_ms = timeout_ms;
}

void slow_clients_free(slow_clients *sc)
{
    /* The daemon is stopped: every connection's CLOSED came. */
    pthread_mutex_destroy(&sc->lock);
}

void slow_clients_notify(void *cls, struct MHD_Connection *connection, void **socket_context,
                         enum MHD_ConnectionNotificationCode code)
{
    slow_clients *sc = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        slow_conn *c = calloc(1, sizeof(*c));
        if (!c) return; /* unswept, still bound by the idle timeout */
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        c->fd = info ? info->connect_fd : -1;
        c->receiving = 1;
        c->since_ms = of_monotonic_ms();
        pthread_mutex_lock(&sc->lock);
        ofc_list_push_front(&sc->conns, &c->in_list);
        pthread_mutex_unlock(&sc->lock);
        *socket_context = c;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        /* Under the lock: a sweep never shuts down a descriptor number
         * libmicrohttpd has closed (and the kernel may have reused). */
        slow_conn *c = *socket_context;
        pthread_mutex_lock(&sc->lock);
        ofc_list_remove(&sc->conns, &c->in_list);
        pthread_mutex_unlock(&sc->lock);
        free(c);
        *socket_context = NULL;
    }
}

static slow_conn *conn_of(struct MHD_Connection *connection)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

void slow_clients_request_in(slow_clients *sc, struct MHD_Connection *connection)
{
    slow_conn *c = conn_of(connection);
    if (!c) return;
    pthread_mutex_lock(&sc->lock);
    c->receiving = 0;
    pthread_mutex_unlock(&sc->lock);
}

void slow_clients_answered(slow_clients *sc, struct MHD_Connection *connection)
{
    slow_conn *c = conn_of(connection);
    if (!c) return;
    pthread_mutex_lock(&sc->lock);
    c->receiving = 1;
    c->since_ms = of_monotonic_ms();
    pthread_mutex_unlock(&sc->lock);
}

void slow_clients_sweep(slow_clients *sc, int64_t now_ms)
{
    pthread_mutex_lock(&sc->lock);
    for (ofc_list_node *node = sc->conns.first; node; node = node->next) {
        slow_conn *c = OFC_CONTAINER_OF(node, slow_conn, in_list);
        if (c->receiving && !c->shut && c->fd >= 0 && now_ms - c->since_ms > sc->timeout_ms) {
            shutdown(c->fd, SHUT_RDWR);
            c->shut = 1;
            sc->swept++;
        }
    }
    pthread_mutex_unlock(&sc->lock);
}
