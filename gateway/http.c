/* The HTTP side: libmicrohttpd in epoll mode with suspendable connections,
 * routing, the request body, and the answers that need no Kafka. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "auth.h"
#include "gateway.h"

/* The longest certificate or key file read. */
#define PEM_MAX (1024 * 1024)
/* Request line plus headers, per connection (libmicrohttpd's pool). */
#define CONNECTION_MEMORY_BYTES (32 * 1024)
/* Completed requests kept for the next ones (about one per connection of a
 * busy client pool), and the largest body buffer kept with one. */
#define SPARE_REQUESTS 256
#define SPARE_BODY_BYTES 16384

enum MHD_Result gw_answer(gw_request *req)
{
    req->answered = 1;
    return gw_response_queue(req->connection, &req->resp);
}

enum MHD_Result gw_answer_problem(gw_request *req, unsigned status, const char *slug,
                                  const char *title, const char *detail)
{
    gw_problem(&req->resp, status, slug, title, detail, NULL);
    return gw_answer(req);
}

/* application/json, or any application/...+json, parameters allowed. */
static int json_media_type(const char *value)
{
    if (!value) return 0;
    size_t n = strcspn(value, ";");
    while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t'))
        n--;
    if (n == 16 && strncasecmp(value, "application/json", 16) == 0) return 1;
    return n > 17 && strncasecmp(value, "application/", 12) == 0 &&
           strncasecmp(value + n - 5, "+json", 5) == 0;
}

/* The first call for a request: routes it, and answers at once what needs
 * no body. Returns 1 when answered (result set). */
static int route(gw_request *req, const char *url, const char *method, enum MHD_Result *result)
{
    gateway *gw = req->gw;
    if (ofc_metrics_serve(req->connection, url, method, gw->registry, &gw->health, result)) {
        req->route = ROUTE_ENDPOINT;
        req->answered = 1;
        return 1;
    }
    if (gw->cfg->gateway_token_count &&
        !auth_bearer_ok(MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND,
                                                    MHD_HTTP_HEADER_AUTHORIZATION),
                        gw->cfg->gateway_tokens, gw->cfg->gateway_token_count)) {
        req->resp.www_authenticate = 1;
        *result =
            gw_answer_problem(req, MHD_HTTP_UNAUTHORIZED, "unauthorized", "Unauthorized",
                              "send Authorization: Bearer <token> with a token this gateway knows");
        return 1;
    }
    if (strcmp(url, "/orders") == 0) {
        req->route = ROUTE_POST_ORDERS;
        if (strcmp(method, "POST") != 0) {
            req->resp.allow = "POST";
            *result = gw_answer_problem(req, MHD_HTTP_METHOD_NOT_ALLOWED, "method-not-allowed",
                                        "Method Not Allowed", "/orders takes POST");
            return 1;
        }
        const char *type = MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND,
                                                       MHD_HTTP_HEADER_CONTENT_TYPE);
        if (!json_media_type(type)) {
            *result = gw_answer_problem(req, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                        "unsupported-media-type", "Unsupported Media Type",
                                        "the body must be one order as application/json");
            return 1;
        }
        const char *length = MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND,
                                                         MHD_HTTP_HEADER_CONTENT_LENGTH);
        unsigned long long announced = length ? strtoull(length, NULL, 10) : 0;
        if (announced > gw->cfg->limits.max_record_bytes) {
            char detail[128];
            snprintf(detail, sizeof(detail), "the body is over %zu bytes (limits.max_record_bytes)",
                     gw->cfg->limits.max_record_bytes);
            *result = gw_answer_problem(req, 413, "too-large", "Content Too Large", detail);
            return 1;
        }
        /* The announced size, taken at its word, sizes the buffer once: an
         * order is a few hundred bytes, and a page-sized guess sent every
         * request through malloc's slow path. A wrong length only costs the
         * usual growth in append. */
        req->announced = (size_t)announced;
        return 0;
    }
    if (strncmp(url, "/orders/", 8) == 0 && url[8]) {
        req->route = ROUTE_GET_ORDER;
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
            req->resp.allow = "GET, HEAD";
            *result = gw_answer_problem(req, MHD_HTTP_METHOD_NOT_ALLOWED, "method-not-allowed",
                                        "Method Not Allowed", "/orders/<order_id> takes GET");
            return 1;
        }
        return 0; /* answered at the next call, once the (empty) upload is in */
    }
    *result = gw_answer_problem(req, MHD_HTTP_NOT_FOUND, "not-found", "Not Found",
                                "unknown path: the API is POST /orders and GET /orders/<order_id>");
    return 1;
}

/* Keeps the upload, up to the record limit; the rest is read and dropped
 * (413 at the end) so the connection stays in step. */
static void append(gw_request *req, const char *data, size_t size)
{
    size_t max = req->gw->cfg->limits.max_record_bytes;
    if (req->too_large || size > max - req->len) {
        req->too_large = 1;
        return;
    }
    if (req->len + size > req->cap) {
        size_t cap = req->cap ? req->cap : req->announced ? req->announced : 4096;
        while (cap < req->len + size)
            cap *= 2;
        if (cap > max) cap = max;
        char *grown = realloc(req->body, cap);
        if (!grown) {
            req->too_large = 1; /* answered as 413: this body is more than we can hold */
            return;
        }
        req->body = grown;
        req->cap = cap;
    }
    memcpy(req->body + req->len, data, size);
    req->len += size;
}

/* A cleared request: a spare one (its body buffer kept) or a new one. HTTP
 * thread only: the spares are its own, so no lock. */
static gw_request *request_new(gateway *gw)
{
    ofc_list_node *spare = ofc_list_pop_front(&gw->spare);
    if (!spare) return calloc(1, sizeof(gw_request));
    gw_request *req = OFC_CONTAINER_OF(spare, gw_request, pub);
    char *body = req->body;
    size_t cap = req->cap;
    memset(req, 0, sizeof(*req));
    req->body = body;
    req->cap = cap;
    return req;
}

static void request_free(gw_request *req)
{
    free(req->body);
    free(req->order_id);
    gw_response_clear(&req->resp);
    free(req);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **state)
{
    (void)version;
    gw_request *req = *state;
    if (!req) {
        req = request_new(cls);
        if (!req) return MHD_NO;
        req->gw = cls;
        req->connection = connection;
        req->started_ms = of_monotonic_ms();
        atomic_init(&req->refs, 1);
        *state = req;
        atomic_fetch_add(&req->gw->requests, 1);
        enum MHD_Result result;
        if (route(req, url, method, &result)) {
            slow_clients_request_in(&req->gw->slow, connection);
            return result;
        }
        return MHD_YES; /* the body follows */
    }
    if (req->answered) return gw_response_queue(connection, &req->resp);
    if (*upload_data_size) {
        append(req, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    slow_clients_request_in(&req->gw->slow, connection);
    if (req->route == ROUTE_GET_ORDER) return gw_orders_get(req, url);
    return gw_orders_post(req);
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **state,
                         enum MHD_RequestTerminationCode code)
{
    gateway *gw = cls;
    slow_clients_answered(&gw->slow, connection);
    gw_request *req = *state;
    if (!req) return;
    if (req->route != ROUTE_ENDPOINT) {
        gw_metrics_request(&gw->metrics, req->route,
                           code == MHD_REQUEST_TERMINATED_COMPLETED_OK ? req->resp.status : 0);
        if (req->route == ROUTE_POST_ORDERS)
            ofc_metric_observe(gw->metrics.latency,
                               (double)(of_monotonic_ms() - req->started_ms) / 1000.0);
    }
    *state = NULL;
    atomic_fetch_sub(&gw->requests, 1);
    if (atomic_fetch_sub(&req->refs, 1) != 1) return;
    /* Last reference, on the HTTP thread: kept for the next request, which
     * then costs no allocation (the delivery report thread frees what the
     * HTTP thread allocates, which keeps malloc's per-thread caches empty). */
    if (gw->spare.count >= SPARE_REQUESTS) {
        request_free(req);
        return;
    }
    free(req->order_id);
    req->order_id = NULL;
    gw_response_clear(&req->resp);
    if (req->cap > SPARE_BODY_BYTES) {
        free(req->body);
        req->body = NULL;
        req->cap = 0;
    }
    ofc_list_push_front(&gw->spare, &req->pub);
}

void gw_request_release(gw_request *req)
{
    if (atomic_fetch_sub(&req->refs, 1) != 1) return;
    request_free(req);
}

/* A whole PEM file, NUL-terminated, malloc'd; NULL with err. */
static char *read_pem(const char *setting, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char *text = NULL;
    size_t len = 0;
    if (f) {
        text = malloc(PEM_MAX + 1);
        if (text) len = fread(text, 1, PEM_MAX + 1, f);
        int failed = !text || ferror(f) || len > PEM_MAX || len == 0;
        fclose(f);
        if (!failed) {
            text[len] = '\0';
            return text;
        }
        free(text);
        snprintf(err, errlen, "%s %s: %s", setting, path,
                 len > PEM_MAX ? "larger than 1 MiB" : "cannot read it");
        return NULL;
    }
    snprintf(err, errlen, "%s %s: cannot open: %s", setting, path, strerror(errno));
    return NULL;
}

int gw_http_start(gateway *gw, const char *option, char *err, size_t errlen)
{
    const ofc_config *cfg = gw->cfg;
    if (!cfg->gateway_tls_cert != !cfg->gateway_tls_key) {
        snprintf(err, errlen, "gateway.tls_cert and gateway.tls_key go together: set both");
        return EX_CONFIG;
    }
    if (cfg->gateway_tls_cert) {
        gw->tls_cert = read_pem("gateway.tls_cert", cfg->gateway_tls_cert, err, errlen);
        if (!gw->tls_cert) return EX_CONFIG;
        gw->tls_key = read_pem("gateway.tls_key", cfg->gateway_tls_key, err, errlen);
        if (!gw->tls_key) return EX_CONFIG;
    }
    int ipv6 = 0;
    int fd = ofc_listen_socket(option, cfg->gateway_listen, 1024, gw->address, sizeof(gw->address),
                               &ipv6, err, errlen);
    if (fd < 0) return EX_CONFIG;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
                     (ipv6 ? MHD_USE_IPv6 : 0) | (gw->tls_cert ? MHD_USE_TLS : 0);
    struct MHD_OptionItem tls[] = {
        {gw->tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, gw->tls_cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, gw->tls_key},
        {MHD_OPTION_END, 0, NULL},
    };
    gw->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, gw, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, gw, MHD_OPTION_NOTIFY_CONNECTION,
        slow_clients_notify, &gw->slow, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)cfg->gateway_client_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)CONNECTION_MEMORY_BYTES, MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
    if (!gw->daemon) {
        snprintf(err, errlen, "%s %s: cannot start the HTTP server (libmicrohttpd%s)", option,
                 cfg->gateway_listen,
                 gw->tls_cert ? "; are gateway.tls_cert and gateway.tls_key a PEM certificate "
                                "and its key?"
                              : "");
        close(fd);
        return gw->tls_cert ? EX_CONFIG : EX_SOFTWARE;
    }
    return 0;
}

void gw_http_quiesce(gateway *gw)
{
    if (!gw->daemon) return;
    MHD_socket fd = MHD_quiesce_daemon(gw->daemon);
    if (fd != MHD_INVALID_SOCKET) close(fd);
}

void gw_http_stop(gateway *gw)
{
    if (gw->daemon) MHD_stop_daemon(gw->daemon);
    gw->daemon = NULL;
    ofc_list_node *spare;
    while ((spare = ofc_list_pop_front(&gw->spare)) != NULL)
        request_free(OFC_CONTAINER_OF(spare, gw_request, pub));
    free(gw->tls_cert);
    free(gw->tls_key);
    gw->tls_cert = gw->tls_key = NULL;
}
