/* The metrics endpoint (docs/operations.md, "Monitoring"): GET /metrics,
 * /healthz and /readyz served by libmicrohttpd from its own thread. The
 * event loop shares state with it only through the registry's atomics and
 * ofc_health, so a slow or stuck scraper never holds the loop up. */
#ifndef OFC_METRICS_SERVER_H
#define OFC_METRICS_SERVER_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "metrics/metrics.h"

/* Liveness and readiness as the loop publishes them. */
typedef struct ofc_health {
    _Atomic int64_t heartbeat_ms;  /* of_monotonic_ms() of the loop's last iteration */
    _Atomic int idle;              /* 1: blocked waiting for input, which is not a wedge */
    _Atomic(const char *) unready; /* NULL: ready; else a one-line reason (static string) */
    int64_t stale_after_ms;        /* /healthz says 503 past this heartbeat age */
} ofc_health;

/* Starts with the heartbeat now and the given reason for not being ready. */
void ofc_health_init(ofc_health *h, int64_t stale_after_ms, const char *unready);

static inline void ofc_health_beat(ofc_health *h, int64_t now_ms)
{
    atomic_store_explicit(&h->heartbeat_ms, now_ms, memory_order_relaxed);
}

static inline void ofc_health_set_unready(ofc_health *h, const char *reason)
{
    atomic_store_explicit(&h->unready, reason, memory_order_relaxed);
}

/* Parses ADDR:PORT, [IPV6]:PORT, :PORT or PORT (loopback, 127.0.0.1), PORT
 * 0..65535 (0: any free port). Returns 0, or -1 with err naming option
 * ("--metrics: ..."). addr may be NULL to only check the text. */
int ofc_listen_parse(const char *option, const char *text, struct sockaddr_storage *addr,
                     socklen_t *addr_len, char *err, size_t errlen);

/* Binds and listens on address (ofc_listen_parse syntax) with the given
 * backlog: a port in use is told apart here, with its errno, before an HTTP
 * server takes the socket. Returns the socket, the address actually bound
 * in bound ("127.0.0.1:41234", port 0 resolved) and whether it is IPv6; or
 * -1 with err naming option and address. */
int ofc_listen_socket(const char *option, const char *address, int backlog, char *bound,
                      size_t boundlen, int *ipv6, char *err, size_t errlen);

/* For another libmicrohttpd server that serves the endpoint's paths beside
 * its own (the gateway): when url is /metrics, /healthz or /readyz, queues
 * the answer (405 + Allow for a method other than GET or HEAD), sets
 * *result and returns 1; else returns 0 and queues nothing. */
int ofc_metrics_serve(struct MHD_Connection *connection, const char *url, const char *method,
                      const ofc_metrics *metrics, ofc_health *health, enum MHD_Result *result);

typedef struct ofc_metrics_server ofc_metrics_server;

/* Binds address (ofc_listen_parse syntax) and serves metrics and health from
 * libmicrohttpd's thread until ofc_metrics_server_stop. Both must outlive the
 * server. Returns NULL with err naming option and the address when it cannot
 * listen (in use, no such address) or is out of memory. */
ofc_metrics_server *ofc_metrics_server_start(const char *option, const char *address,
                                             const ofc_metrics *metrics, ofc_health *health,
                                             char *err, size_t errlen);
/* The address actually bound ("127.0.0.1:41234"), port 0 resolved. */
const char *ofc_metrics_server_address(const ofc_metrics_server *server);
/* Stops the thread and closes the socket; NULL is allowed. */
void ofc_metrics_server_stop(ofc_metrics_server *server);

#endif
