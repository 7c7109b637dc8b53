/* The metrics endpoint on libmicrohttpd: its own polling thread, the
 * listening socket bound here (so a port in use is told apart, with its
 * errno), three GET paths, 404 and 405 for the rest. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>
#include <orderflow/ids.h>

#include "metrics/server.h"

#define CONTENT_TYPE_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define CONTENT_TYPE_TEXT "text/plain; charset=utf-8"

struct ofc_metrics_server {
    struct MHD_Daemon *daemon;
    int fd;
    const ofc_metrics *metrics;
    ofc_health *health;
    char address[80];
};

void ofc_health_init(ofc_health *h, int64_t stale_after_ms, const char *unready)
{
    atomic_init(&h->heartbeat_ms, of_monotonic_ms());
    atomic_init(&h->idle, 0);
    atomic_init(&h->unready, unready);
    h->stale_after_ms = stale_after_ms;
}

int ofc_listen_parse(const char *option, const char *text, struct sockaddr_storage *addr,
                     socklen_t *addr_len, char *err, size_t errlen)
{
    struct sockaddr_storage local;
    if (!addr) addr = &local;
    memset(addr, 0, sizeof(*addr));
    char host[64] = "127.0.0.1";
    const char *port_text = text;
    const char *colon = strrchr(text, ':');
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':' || (size_t)(close - text - 1) >= sizeof(host)) goto bad;
        memcpy(host, text + 1, (size_t)(close - text - 1));
        host[close - text - 1] = '\0';
        port_text = close + 2;
    } else if (colon) {
        if ((size_t)(colon - text) >= sizeof(host)) goto bad;
        if (colon > text) {
            memcpy(host, text, (size_t)(colon - text));
            host[colon - text] = '\0';
        }
        port_text = colon + 1;
    }
    char *end = NULL;
    errno = 0;
    long port = strtol(port_text, &end, 10);
    if (!*port_text || errno || *end || port < 0 || port > 65535) goto bad;
    struct sockaddr_in *v4 = (struct sockaddr_in *)addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)addr;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        if (addr_len) *addr_len = sizeof(*v4);
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        if (addr_len) *addr_len = sizeof(*v6);
    } else {
        goto bad;
    }
    return 0;
bad:
    snprintf(err, errlen,
             "%s: expected ADDR:PORT (an IP address, [IPv6]:PORT, or :PORT for loopback; port "
             "0..65535), got '%s'",
             option, text);
    return -1;
}

static enum MHD_Result respond(struct MHD_Connection *connection, unsigned status,
                               const char *content_type, char *body, size_t len, int must_free,
                               const char *allow)
{
    struct MHD_Response *response = MHD_create_response_from_buffer(
        len, body, must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
    if (!response) {
        if (must_free) free(body);
        return MHD_NO;
    }
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (allow) MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, allow);
    enum MHD_Result rc = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    return rc;
}

static enum MHD_Result respond_text(struct MHD_Connection *connection, unsigned status,
                                    const char *text)
{
    return respond(connection, status, CONTENT_TYPE_TEXT, (char *)text, strlen(text), 0, NULL);
}

static enum MHD_Result serve_metrics(ofc_metrics_server *server, struct MHD_Connection *connection)
{
    char *body = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&body, &len);
    if (!out) return respond_text(connection, 500, "out of memory\n");
    int failed = ofc_metrics_write(server->metrics, out) != 0;
    failed |= ofc_metrics_write_process(out) != 0;
    failed |= fclose(out) != 0;
    if (failed) {
        free(body);
        return respond_text(connection, 500, "cannot write the metrics\n");
    }
    return respond(connection, 200, CONTENT_TYPE_METRICS, body, len, 1, NULL);
}

static enum MHD_Result serve_health(ofc_metrics_server *server, struct MHD_Connection *connection)
{
    ofc_health *h = server->health;
    int64_t age = of_monotonic_ms() - atomic_load_explicit(&h->heartbeat_ms, memory_order_relaxed);
    if (atomic_load_explicit(&h->idle, memory_order_relaxed) || age <= h->stale_after_ms)
        return respond_text(connection, 200, "ok\n");
    char text[160];
    snprintf(text, sizeof(text), "event loop stalled: no iteration for %lld ms (bound %lld ms)\n",
             (long long)age, (long long)h->stale_after_ms);
    return respond(connection, 503, CONTENT_TYPE_TEXT, text, strlen(text), 0, NULL);
}

static enum MHD_Result serve_ready(ofc_metrics_server *server, struct MHD_Connection *connection)
{
    const char *reason = atomic_load_explicit(&server->health->unready, memory_order_relaxed);
    if (!reason) return respond_text(connection, 200, "ready\n");
    char text[256];
    snprintf(text, sizeof(text), "not ready: %s\n", reason);
    return respond(connection, 503, CONTENT_TYPE_TEXT, text, strlen(text), 0, NULL);
}

int ofc_metrics_serve(struct MHD_Connection *connection, const char *url, const char *method,
                      const ofc_metrics *metrics, ofc_health *health, enum MHD_Result *result)
{
    int known =
        strcmp(url, "/metrics") == 0 || strcmp(url, "/healthz") == 0 || strcmp(url, "/readyz") == 0;
    if (!known) return 0;
    ofc_metrics_server view = {.metrics = metrics, .health = health};
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        *result =
            respond(connection, 405, CONTENT_TYPE_TEXT, "method not allowed\n", 19, 0, "GET, HEAD");
    else if (strcmp(url, "/metrics") == 0)
        *result = serve_metrics(&view, connection);
    else if (strcmp(url, "/healthz") == 0)
        *result = serve_health(&view, connection);
    else
        *result = serve_ready(&view, connection);
    return 1;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **state)
{
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)state;
    ofc_metrics_server *server = cls;
    enum MHD_Result result;
    if (ofc_metrics_serve(connection, url, method, server->metrics, server->health, &result))
        return result;
    return respond_text(connection, 404, "not found: try /metrics, /healthz, /readyz\n");
}

int ofc_listen_socket(const char *option, const char *address, int backlog, char *bound,
                      size_t boundlen, int *ipv6, char *err, size_t errlen)
{
    struct sockaddr_storage addr;
    socklen_t addr_len = 0;
    if (ofc_listen_parse(option, address, &addr, &addr_len, err, errlen) != 0) return -1;
    int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&addr, addr_len) != 0 || listen(fd, backlog) != 0) {
        snprintf(err, errlen, "%s %s: cannot listen: %s", option, address, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    struct sockaddr_storage got;
    socklen_t got_len = sizeof(got);
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    memset(&got, 0, sizeof(got));
    if (getsockname(fd, (struct sockaddr *)&got, &got_len) == 0) {
        if (got.ss_family == AF_INET6) {
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&got)->sin6_addr, host, sizeof(host));
            port = ntohs(((struct sockaddr_in6 *)&got)->sin6_port);
        } else {
            inet_ntop(AF_INET, &((struct sockaddr_in *)&got)->sin_addr, host, sizeof(host));
            port = ntohs(((struct sockaddr_in *)&got)->sin_port);
        }
    }
    snprintf(bound, boundlen, "%s%s%s:%u", got.ss_family == AF_INET6 ? "[" : "", host,
             got.ss_family == AF_INET6 ? "]" : "", port);
    *ipv6 = addr.ss_family == AF_INET6;
    return fd;
}

ofc_metrics_server *ofc_metrics_server_start(const char *option, const char *address,
                                             const ofc_metrics *metrics, ofc_health *health,
                                             char *err, size_t errlen)
{
    ofc_metrics_server *server = calloc(1, sizeof(*server));
    if (!server) {
        snprintf(err, errlen, "out of memory starting the metrics endpoint");
        return NULL;
    }
    server->metrics = metrics;
    server->health = health;
    int ipv6 = 0;
    server->fd = ofc_listen_socket(option, address, 32, server->address, sizeof(server->address),
                                   &ipv6, err, errlen);
    if (server->fd < 0) {
        free(server);
        return NULL;
    }
    /* A scrape is one short request: a few connections at a time, and a
     * client that stalls is dropped rather than kept. */
    server->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | (ipv6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL,
        on_request, server, MHD_OPTION_LISTEN_SOCKET, server->fd, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)16, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
    if (!server->daemon) {
        snprintf(err, errlen, "%s %s: cannot start the HTTP server (libmicrohttpd)", option,
                 address);
        close(server->fd);
        free(server);
        return NULL;
    }
    return server;
}

const char *ofc_metrics_server_address(const ofc_metrics_server *server)
{
    return server->address;
}

void ofc_metrics_server_stop(ofc_metrics_server *server)
{
    if (!server) return;
    /* libmicrohttpd closes the listening socket it was given. */
    MHD_stop_daemon(server->daemon);
    free(server);
}
