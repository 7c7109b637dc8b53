/* async_handler_http against an in-process libmicrohttpd server with
 * scripted answers (statuses, Retry-After, delays past the timeout, a
 * connection closed without an answer): the headers the server received,
 * the completions, the breaker's transitions, the bound on calls in flight,
 * keep-alive, cancel. No Kafka. */
#include <arpa/inet.h>
#include <check.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <orderflow/ids.h>
#include <orderflow/trace.h>

#include "async_handler.h"
#include "metrics/metrics.h"

#include "../../check_run.h"

/* ---- the scripted server ------------------------------------------------- */

#define MAX_SEEN 256

typedef struct seen_request {
    char idempotency_key[128];
    char attempt[16];
    char traceparent[64];
    char content_type[80];
    char ce_id[64], ce_type[32], ce_source[64], ce_time[32], ce_subject[64], ce_specversion[8];
    char ce_idempotencykey[128], ce_correlationid[64], ce_schemaversion[8];
    char body[1024];
    int64_t at_ms;
    int client_cert; /* TLS: the client showed a certificate the server trusts */
} seen_request;

typedef struct reply {
    unsigned status; /* 0: close the connection without an answer */
    const char *body;
    const char *retry_after;
    unsigned delay_ms;
} reply;

typedef struct server server;
/* Decides the answer to the n-th request (0-based) for key, attempt a. */
typedef reply script_fn(server *srv, const seen_request *req, unsigned nth);

struct server {
    struct MHD_Daemon *daemon;
    int port;
    script_fn *script;
    pthread_mutex_t lock;
    seen_request seen[MAX_SEEN];
    unsigned seen_count;
    int in_flight, max_in_flight;
    int connections;
    int tls;
    volatile int flag; /* a test's switch for its script */
};

typedef struct upload {
    char body[1024];
    size_t len;
} upload;

static void copy_header(struct MHD_Connection *conn, const char *name, char *out, size_t outlen)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
    snprintf(out, outlen, "%s", v ? v : "");
}

static int64_t now_ms(void)
{
    return of_monotonic_ms();
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    (void)url;
    (void)method;
    (void)version;
    server *srv = cls;
    upload *up = *con_cls;
    if (!up) {
        up = calloc(1, sizeof(*up));
        *con_cls = up;
        return MHD_YES;
    }
    if (*data_size) {
        size_t take = *data_size;
        if (up->len + take >= sizeof(up->body)) take = sizeof(up->body) - 1 - up->len;
        memcpy(up->body + up->len, data, take);
        up->len += take;
        *data_size = 0;
        return MHD_YES;
    }
    seen_request req;
    memset(&req, 0, sizeof(req));
    copy_header(conn, "Idempotency-Key", req.idempotency_key, sizeof(req.idempotency_key));
    copy_header(conn, "orderflow-attempt", req.attempt, sizeof(req.attempt));
    copy_header(conn, "traceparent", req.traceparent, sizeof(req.traceparent));
    copy_header(conn, "Content-Type", req.content_type, sizeof(req.content_type));
    copy_header(conn, "ce-id", req.ce_id, sizeof(req.ce_id));
    copy_header(conn, "ce-type", req.ce_type, sizeof(req.ce_type));
    copy_header(conn, "ce-source", req.ce_source, sizeof(req.ce_source));
    copy_header(conn, "ce-time", req.ce_time, sizeof(req.ce_time));
    copy_header(conn, "ce-subject", req.ce_subject, sizeof(req.ce_subject));
    copy_header(conn, "ce-specversion", req.ce_specversion, sizeof(req.ce_specversion));
    copy_header(conn, "ce-idempotencykey", req.ce_idempotencykey, sizeof(req.ce_idempotencykey));
    copy_header(conn, "ce-correlationid", req.ce_correlationid, sizeof(req.ce_correlationid));
    copy_header(conn, "ce-schemaversion", req.ce_schemaversion, sizeof(req.ce_schemaversion));
    memcpy(req.body, up->body, up->len);
    req.at_ms = now_ms();
    if (srv->tls) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
        unsigned peers = 0, status = 1;
        if (ci && gnutls_certificate_get_peers(ci->tls_session, &peers) && peers > 0 &&
            gnutls_certificate_verify_peers2(ci->tls_session, &status) == 0)
            req.client_cert = status == 0;
    }
    pthread_mutex_lock(&srv->lock);
    unsigned nth = srv->seen_count;
    if (srv->seen_count < MAX_SEEN) srv->seen[srv->seen_count++] = req;
    if (++srv->in_flight > srv->max_in_flight) srv->max_in_flight = srv->in_flight;
    pthread_mutex_unlock(&srv->lock);
    reply r = srv->script(srv, &req, nth);
    if (r.delay_ms) usleep(r.delay_ms * 1000u);
    pthread_mutex_lock(&srv->lock);
    srv->in_flight--;
    pthread_mutex_unlock(&srv->lock);
    if (r.status == 0) return MHD_NO; /* closes the connection: no answer */
    const char *body = r.body ? r.body : "";
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (r.retry_after) MHD_add_response_header(resp, "Retry-After", r.retry_after);
    enum MHD_Result ret = MHD_queue_response(conn, r.status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)conn;
    (void)socket_context;
    server *srv = cls;
    if (toe != MHD_CONNECTION_NOTIFY_STARTED) return;
    pthread_mutex_lock(&srv->lock);
    srv->connections++;
    pthread_mutex_unlock(&srv->lock);
}

static int listen_loopback(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    *port = ntohs(addr.sin_port);
    return fd;
}

static server *server_start(script_fn *script)
{
    server *srv = calloc(1, sizeof(*srv));
    pthread_mutex_init(&srv->lock, NULL);
    srv->script = script;
    int fd = listen_loopback(&srv->port);
    ck_assert_int_eq(listen(fd, 128), 0);
    srv->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL, on_request,
        srv, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_END);
    ck_assert_ptr_nonnull(srv->daemon);
    return srv;
}

static const char *tls_dir;

static char *read_text(const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", tls_dir, name);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s", path);
    static char buf[4][8192];
    static int next;
    char *out = buf[next++ % 4];
    size_t n = fread(out, 1, sizeof(buf[0]) - 1, f);
    out[n] = '\0';
    fclose(f);
    return out;
}

/* An https:// server with server.pem that trusts client.pem. */
static server *server_start_tls(script_fn *script)
{
    server *srv = calloc(1, sizeof(*srv));
    pthread_mutex_init(&srv->lock, NULL);
    srv->script = script;
    srv->tls = 1;
    int fd = listen_loopback(&srv->port);
    ck_assert_int_eq(listen(fd, 128), 0);
    const char *cert = read_text("server.pem");
    const char *key = read_text("server.key");
    const char *trust = read_text("client.pem");
    srv->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_TLS, 0, NULL,
        NULL, on_request, srv, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_HTTPS_MEM_CERT, cert,
        MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_HTTPS_MEM_TRUST, trust,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
        srv, MHD_OPTION_END);
    ck_assert_ptr_nonnull(srv->daemon);
    return srv;
}

static void server_stop(server *srv)
{
    MHD_stop_daemon(srv->daemon);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
}

/* ---- the handler's side ------------------------------------------------ */

#define MAX_DONE 256

typedef struct collected {
    uint64_t ticket;
    async_verdict verdict;
    char data[1024];
    char reason[2200];
    unsigned attempts;
} collected;

typedef struct collector {
    collected done[MAX_DONE];
    int count;
} collector;

static void on_done(void *opaque, const async_completion *c)
{
    collector *col = opaque;
    ck_assert_int_lt(col->count, MAX_DONE);
    collected *d = &col->done[col->count++];
    d->ticket = c->ticket;
    d->verdict = c->verdict;
    snprintf(d->data, sizeof(d->data), "%.*s", (int)c->data_len, c->data ? c->data : "");
    snprintf(d->reason, sizeof(d->reason), "%s", c->reason ? c->reason : "");
    d->attempts = c->attempts;
}

typedef struct fixture {
    char target[128];
    const char *keys[16];
    const char *values[16];
    of_handler_config config;
    async_handler_env env;
    ofc_metrics *metrics;
    void *h;
} fixture;

static void fixture_set(fixture *f, const char *key, const char *value)
{
    f->keys[f->config.count] = key;
    f->values[f->config.count] = value;
    f->config.count++;
}

static void fixture_init(fixture *f, int port, unsigned max_attempts)
{
    memset(f, 0, sizeof(*f));
    snprintf(f->target, sizeof(f->target), "http://127.0.0.1:%d/orders", port);
    f->config.keys = f->keys;
    f->config.values = f->values;
    f->metrics = ofc_metrics_new();
    f->env = (async_handler_env){.target = f->target,
                                 .config = &f->config,
                                 .max_attempts = max_attempts,
                                 .max_output_bytes = 65536,
                                 .metrics = f->metrics};
}

static void fixture_open(fixture *f)
{
    char err[512] = "";
    f->h = async_handler_http.open(&f->env, err, sizeof(err));
    ck_assert_msg(f->h != NULL, "open: %s", err);
}

static void fixture_close(fixture *f)
{
    if (f->h) async_handler_http.close(f->h);
    ofc_metrics_free(f->metrics);
}

/* Events: the envelope text and its decoded attributes, for key "o-N". */
typedef struct test_event {
    char value[512];
    char key[64];
    char id[64];
    char subject[32];
    of_event ev;
    of_handler_event in;
} test_event;

static void make_event(test_event *t, int n, const char *traceparent)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->key, sizeof(t->key), "order_created:o-%d", n);
    snprintf(t->id, sizeof(t->id), "0190b3c4-0000-7000-8000-%012d", n);
    snprintf(t->subject, sizeof(t->subject), "o-%d", n);
    snprintf(t->value, sizeof(t->value),
             "{\"specversion\":\"1.0\",\"id\":\"%s\",\"type\":\"order_created\",\"source\":"
             "\"/test\",\"time\":\"2026-11-24T12:00:00.123Z\",\"subject\":\"%s\","
             "\"idempotencykey\":\"%s\",\"data\":{\"order_id\":\"%s\",\"n\":%d}}",
             t->id, t->subject, t->key, t->subject, n);
    t->ev.type = OF_EVENT_ORDER_CREATED;
    t->ev.id = of_str_c(t->id);
    t->ev.source = OF_STR("/test");
    t->ev.time = OF_STR("2026-11-24T12:00:00.123Z");
    t->ev.idempotencykey = of_str_c(t->key);
    t->ev.subject = of_str_c(t->subject);
    t->ev.correlationid = OF_STR("corr 1");
    t->ev.schemaversion = 1;
    if (traceparent) t->ev.traceparent = of_str_c(traceparent);
    t->in.event = &t->ev;
    t->in.value = of_str_c(t->value);
    t->in.attempt = 1;
}

static void submit(fixture *f, uint64_t ticket, int n, const char *traceparent)
{
    test_event t;
    make_event(&t, n, traceparent);
    char err[256] = "";
    ck_assert_msg(async_handler_http.submit(f->h, ticket, &t.in, err, sizeof(err)) == 0, "%s", err);
    /* The handler copied what it sends: the event may go now. */
    memset(&t, 0x5a, sizeof(t));
}

/* Runs until want completions came or deadline_ms passed. */
static void run_until(fixture *f, collector *col, int want, int deadline_ms)
{
    int64_t end = now_ms() + deadline_ms;
    while (col->count < want && now_ms() < end)
        async_handler_http.run(f->h, 50, -1, on_done, col);
}

static double metric_value(fixture *f, const char *line_prefix)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ofc_metrics_write(f->metrics, out);
    fclose(out);
    double v = -1;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        if (strncmp(line, line_prefix, strlen(line_prefix)) == 0 &&
            line[strlen(line_prefix)] == ' ')
            v = atof(line + strlen(line_prefix) + 1);
    free(text);
    return v;
}

/* ---- scripts ----------------------------------------------------------------- */

static reply answer_ok(server *srv, const seen_request *req, unsigned nth)
{
    (void)srv;
    (void)nth;
    (void)req;
    return (reply){200, "{\"order_id\":\"x\",\"status\":\"ACCEPTED\"}", NULL, 0};
}

START_TEST(emit_with_headers)
{
    server *srv = server_start(answer_ok);
    fixture f;
    fixture_init(&f, srv->port, 5);
    fixture_open(&f);
    ck_assert_uint_eq(async_handler_http.room(f.h), 64);
    submit(&f, 11, 1, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    submit(&f, 12, 2, NULL);
    ck_assert_uint_eq(async_handler_http.room(f.h), 62);
    collector col = {0};
    run_until(&f, &col, 2, 5000);
    ck_assert_int_eq(col.count, 2);
    for (int i = 0; i < 2; i++) {
        ck_assert(col.done[i].ticket == 11 || col.done[i].ticket == 12);
        ck_assert_int_eq(col.done[i].verdict, ASYNC_EMIT);
        ck_assert_str_eq(col.done[i].data, "{\"order_id\":\"x\",\"status\":\"ACCEPTED\"}");
        ck_assert_uint_eq(col.done[i].attempts, 1);
    }
    ck_assert_uint_eq(async_handler_http.room(f.h), 64);
    ck_assert_uint_eq(srv->seen_count, 2);
    for (unsigned i = 0; i < 2; i++) {
        const seen_request *r = &srv->seen[i];
        int n = strcmp(r->idempotency_key, "order_created:o-1") == 0 ? 1 : 2;
        char want[64];
        snprintf(want, sizeof(want), "order_created:o-%d", n);
        ck_assert_str_eq(r->idempotency_key, want);
        ck_assert_str_eq(r->ce_idempotencykey, want);
        ck_assert_str_eq(r->attempt, "1");
        ck_assert_str_eq(r->content_type, "application/json");
        ck_assert_str_eq(r->ce_specversion, "1.0");
        ck_assert_str_eq(r->ce_type, "order_created");
        ck_assert_str_eq(r->ce_source, "/test");
        ck_assert_str_eq(r->ce_time, "2026-11-24T12:00:00.123Z");
        ck_assert_str_eq(r->ce_correlationid, "corr%201");
        ck_assert_str_eq(r->ce_schemaversion, "1");
        snprintf(want, sizeof(want), "o-%d", n);
        ck_assert_str_eq(r->ce_subject, want);
        snprintf(want, sizeof(want), "0190b3c4-0000-7000-8000-%012d", n);
        ck_assert_str_eq(r->ce_id, want);
        snprintf(want, sizeof(want), "{\"order_id\":\"o-%d\",\"n\":%d}", n, n);
        ck_assert_str_eq(r->body, want);
        ck_assert_int_eq(of_traceparent_parse(of_str_c(r->traceparent), NULL), 0);
        if (n == 1)
            ck_assert_int_eq(strncmp(r->traceparent, "00-0af7651916cd43dd8448eb211c80319c-", 36),
                             0);
    }
    ck_assert_double_eq(
        metric_value(&f, "orderflow_handler_request_duration_seconds_count{outcome=\"success\"}"),
        2);
    ck_assert_double_eq(metric_value(&f, "orderflow_handler_requests_in_flight"), 0);
    char why[512];
    ck_assert_int_eq(async_handler_http.state(f.h, why, sizeof(why)), ASYNC_READY);
    fixture_close(&f);
    server_stop(srv);
}
END_TEST

/* 503, then 429 with Retry-After: 1, then 200. */
static reply answer_retry_twice(server *srv, const seen_request *req, unsigned nth)
{
    (void)srv;
    (void)req;
    if (nth == 0) return (reply){503, "busy", NULL, 0};
    if (nth == 1) return (reply){429, "slow down", "1", 0};
    return (reply){200, "{\"order_id\":\"o-1\"}", NULL, 0};
}

START_TEST(retries_same_key_new_spans)
{
    server *srv = server_start(answer_retry_twice);
    fixture f;
    fixture_init(&f, srv->port, 5);
    fixture_set(&f, "backoff_ms", "20");
    fixture_set(&f, "backoff_max_ms", "2000");
    fixture_open(&f);
    submit(&f, 7, 1, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    collector col = {0};
    run_until(&f, &col, 1, 8000);
    ck_assert_int_eq(col.count, 1);
    ck_assert_int_eq(col.done[0].verdict, ASYNC_EMIT);
    ck_assert_str_eq(col.done[0].data, "{\"order_id\":\"o-1\"}");
    ck_assert_uint_eq(col.done[0].attempts, 3);
    ck_assert_uint_eq(srv->seen_count, 3);
    for (unsigned i = 0; i < 3; i++) {
        char want[8];
        snprintf(want, sizeof(want), "%u", i + 1);
        ck_assert_str_eq(srv->seen[i].attempt, want);
        ck_assert_str_eq(srv->seen[i].idempotency_key, "order_created:o-1");
        ck_assert_int_eq(strncmp(srv->seen[i].traceparent, srv->seen[0].traceparent, 36), 0);
        for (unsigned j = 0; j < i; j++)
            ck_assert_str_ne(srv->seen[i].traceparent, srv->seen[j].traceparent);
    }
    /* The backoff after the 503 is at most 20 ms plus the run's latency;
     * Retry-After: 1 holds the third call back a whole second. */
    ck_assert_int_ge(srv->seen[2].at_ms - srv->seen[1].at_ms, 990);
    ck_assert_double_eq(metric_value(&f, "orderflow_handler_retries_total"), 2);
    ck_assert_double_eq(
        metric_value(&f, "orderflow_handler_request_duration_seconds_count{outcome=\"retry\"}"), 2);
    fixture_close(&f);
    server_stop(srv);
}
END_TEST

static reply answer_by_key(server *srv, const seen_request *req, unsigned nth)
{
    (void)srv;
    (void)nth;
    if (strcmp(req->idempotency_key, "order_created:o-1") == 0)
        return (reply){422, "{\"error\":\"bad sku\"}", NULL, 0};
    if (strcmp(req->idempotency_key, "order_created:o-2") == 0)
        return (reply){500, "boom", NULL, 0};
    if (strcmp(req->idempotency_key, "order_created:o-3") == 0) return (reply){0, NULL, NULL, 0};
    if (strcmp(req->idempotency_key, "order_created:o-4") == 0)
        return (reply){200, "[1,2]", NULL, 0};
    if (strcmp(req->idempotency_key, "order_created:o-5") == 0)
        return (reply){200, "{\"big\":\"0123456789012345678901234567890123456789\"}", NULL, 0};
    if (strcmp(req->idempotency_key, "order_created:o-6") == 0) return (reply){204, NULL, NULL, 0};
    return (reply){200, "{}", NULL, 1500}; /* o-7: past the timeout */
}

static const collected *by_ticket(const collector *col, uint64_t ticket)
{
    for (int i = 0; i < col->count; i++)
        if (col->done[i].ticket == ticket) return &col->done[i];
    ck_abort_msg("no completion for ticket %llu", (unsigned long long)ticket);
    return NULL;
}

START_TEST(status_table_end_to_end)
{
    server *srv = server_start(answer_by_key);
    fixture f;
    fixture_init(&f, srv->port, 2);
    f.env.max_output_bytes = 40;
    fixture_set(&f, "backoff_ms", "10");
    fixture_set(&f, "timeout_ms", "300");
    fixture_set(&f, "breaker_failures", "1000");
    fixture_open(&f);
    for (int n = 1; n <= 7; n++)
        submit(&f, (uint64_t)n, n, NULL);
    collector col = {0};
    run_until(&f, &col, 7, 8000);
    ck_assert_int_eq(col.count, 7);
    const collected *c = by_ticket(&col, 1);
    ck_assert_int_eq(c->verdict, ASYNC_DEAD_LETTER);
    ck_assert_str_eq(c->reason, "HTTP 422: {\"error\":\"bad sku\"}");
    ck_assert_uint_eq(c->attempts, 1);
    c = by_ticket(&col, 2);
    ck_assert_int_eq(c->verdict, ASYNC_EXHAUSTED);
    ck_assert_str_eq(c->reason, "HTTP 500: boom");
    ck_assert_uint_eq(c->attempts, 2);
    c = by_ticket(&col, 3);
    ck_assert_int_eq(c->verdict, ASYNC_EXHAUSTED);
    ck_assert_msg(strncmp(c->reason, "connection reset: ", 18) == 0, "%s", c->reason);
    c = by_ticket(&col, 4);
    ck_assert_int_eq(c->verdict, ASYNC_DEAD_LETTER);
    ck_assert_str_eq(c->reason, "HTTP 200: the body is not a JSON object: [1,2]");
    c = by_ticket(&col, 5);
    ck_assert_int_eq(c->verdict, ASYNC_DEAD_LETTER);
    ck_assert_str_eq(c->reason, "HTTP 200: the body is longer than handler.max_output_bytes = 40 "
                                "bytes");
    c = by_ticket(&col, 6);
    ck_assert_int_eq(c->verdict, ASYNC_EMIT);
    ck_assert_str_eq(c->data, "{}");
    c = by_ticket(&col, 7);
    ck_assert_int_eq(c->verdict, ASYNC_EXHAUSTED);
    ck_assert_str_eq(c->reason, "timeout: no complete answer within handler.timeout_ms = 300 ms");
    ck_assert_uint_eq(c->attempts, 2);
    ck_assert_double_eq(
        metric_value(&f, "orderflow_handler_request_duration_seconds_count{outcome=\"timeout\"}"),
        2);
    ck_assert_double_eq(
        metric_value(&f, "orderflow_handler_request_duration_seconds_count{outcome=\"reset\"}"), 2);
    fixture_close(&f);
    server_stop(srv);
}
END_TEST

START_TEST(connection_refused)
{
    int port;
    int fd = listen_loopback(&port); /* bound, never listening: refused */
    fixture f;
    fixture_init(&f, port, 3);
    fixture_set(&f, "backoff_ms", "5");
    fixture_open(&f);
    submit(&f, 1, 1, NULL);
    collector col = {0};
    run_until(&f, &col, 1, 5000);
    ck_assert_int_eq(col.count, 1);
    ck_assert_int_eq(col.done[0].verdict, ASYNC_EXHAUSTED);
    ck_assert_uint_eq(col.done[0].attempts, 3);
    ck_assert_msg(strncmp(col.done[0].reason, "connection refused: ", 20) == 0 &&
                      strstr(col.done[0].reason, "(Connection refused)"),
                  "%s", col.done[0].reason);
    fixture_close(&f);
    close(fd);
}
END_TEST

/* Fails until srv->flag is set; counts as one call each. */
static reply answer_until_flag(server *srv, const seen_request *req, unsigned nth)
{
    (void)req;
    (void)nth;
    if (!srv->flag) return (reply){503, "down", NULL, 0};
    return (reply){200, "{\"ok\":1}", NULL, 0};
}

START_TEST(breaker_opens_probes_closes)
{
    server *srv = server_start(answer_until_flag);
    fixture f;
    fixture_init(&f, srv->port, 100);
    fixture_set(&f, "backoff_ms", "0");
    fixture_set(&f, "backoff_max_ms", "0");
    fixture_set(&f, "breaker_failures", "3");
    fixture_set(&f, "breaker_open_ms", "300");
    fixture_open(&f);
    submit(&f, 1, 1, NULL);
    collector col = {0};
    char why[512];
    int64_t end = now_ms() + 5000;
    while (async_handler_http.state(f.h, NULL, 0) == ASYNC_READY && now_ms() < end)
        async_handler_http.run(f.h, 20, -1, on_done, &col);
    ck_assert_int_eq(async_handler_http.state(f.h, why, sizeof(why)), ASYNC_BREAKER_OPEN);
    ck_assert_msg(strncmp(why,
                          "handler http: circuit breaker open after 3 consecutive failures "
                          "(last: HTTP 503: down); next probe in ",
                          100) == 0,
                  "%s", why);
    ck_assert_uint_eq(srv->seen_count, 3);
    ck_assert_double_eq(metric_value(&f, "orderflow_handler_breaker_state"), 1);
    /* Open: no call for breaker_open_ms after the third failure (which
     * came after the server saw the third call), then one probe, which
     * fails. */
    while (srv->seen_count < 4 && now_ms() < end)
        async_handler_http.run(f.h, 20, -1, on_done, &col);
    ck_assert_uint_eq(srv->seen_count, 4);
    ck_assert_int_ge(srv->seen[3].at_ms - srv->seen[2].at_ms, 300);
    while (metric_value(&f, "orderflow_handler_breaker_transitions_total{to=\"open\"}") < 2 &&
           now_ms() < end)
        async_handler_http.run(f.h, 20, -1, on_done, &col);
    ck_assert_double_eq(
        metric_value(&f, "orderflow_handler_breaker_transitions_total{to=\"open\"}"), 2);
    /* The service is back: the next probe closes the breaker. */
    srv->flag = 1;
    run_until(&f, &col, 1, 3000);
    ck_assert_int_eq(col.count, 1);
    ck_assert_int_eq(col.done[0].verdict, ASYNC_EMIT);
    ck_assert_uint_eq(col.done[0].attempts, 5);
    ck_assert_uint_eq(srv->seen_count, 5);
    ck_assert_int_eq(async_handler_http.state(f.h, why, sizeof(why)), ASYNC_READY);
    ck_assert_double_eq(metric_value(&f, "orderflow_handler_breaker_state"), 0);
    ck_assert_double_eq(
        metric_value(&f, "orderflow_handler_breaker_transitions_total{to=\"half_open\"}"), 2);
    ck_assert_double_eq(
        metric_value(&f, "orderflow_handler_breaker_transitions_total{to=\"closed\"}"), 1);
    fixture_close(&f);
    server_stop(srv);
}
END_TEST

/* Every held input exhausted when the breaker opens: once the probe may go
 * the state is READY, so that the processor fetches an input to probe
 * with; that call closes the breaker. */
START_TEST(breaker_probe_with_nothing_held)
{
    server *srv = server_start(answer_until_flag);
    fixture f;
    fixture_init(&f, srv->port, 1);
    fixture_set(&f, "breaker_failures", "2");
    fixture_set(&f, "breaker_open_ms", "200");
    fixture_open(&f);
    submit(&f, 1, 1, NULL);
    submit(&f, 2, 2, NULL);
    collector col = {0};
    run_until(&f, &col, 2, 5000);
    ck_assert_int_eq(col.count, 2);
    ck_assert_int_eq(col.done[0].verdict, ASYNC_EXHAUSTED);
    ck_assert_int_eq(col.done[1].verdict, ASYNC_EXHAUSTED);
    char why[512];
    ck_assert_int_eq(async_handler_http.state(f.h, why, sizeof(why)), ASYNC_BREAKER_OPEN);
    int64_t end = now_ms() + 3000;
    while (async_handler_http.state(f.h, why, sizeof(why)) != ASYNC_READY && now_ms() < end)
        async_handler_http.run(f.h, 20, -1, on_done, &col);
    ck_assert_str_eq(why, "handler http: circuit breaker open after 2 consecutive failures (last: "
                          "HTTP 503: down); the next call is the probe");
    srv->flag = 1;
    submit(&f, 3, 3, NULL);
    run_until(&f, &col, 3, 3000);
    ck_assert_int_eq(col.count, 3);
    ck_assert_int_eq(col.done[2].verdict, ASYNC_EMIT);
    ck_assert_int_eq(async_handler_http.state(f.h, why, sizeof(why)), ASYNC_READY);
    char want[256];
    snprintf(want, sizeof(want), "handler http: calls go out to %s", f.target);
    ck_assert_str_eq(why, want);
    fixture_close(&f);
    server_stop(srv);
}
END_TEST

static reply answer_slowly(server *srv, const seen_request *req, unsigned nth)
{
    (void)srv;
    (void)req;
    (void)nth;
    return (reply){200, "{}", NULL, 30};
}

START_TEST(in_flight_bound_and_keep_alive)
{
    server *srv = server_start(answer_slowly);
    fixture f;
    fixture_init(&f, srv->port, 3);
    fixture_set(&f, "max_in_flight", "4");
    fixture_open(&f);
    collector col = {0};
    uint64_t next = 1;
    int64_t end = now_ms() + 10000;
    while (col.count < 40 && now_ms() < end) {
        while (next <= 40 && async_handler_http.room(f.h) > 0)
            submit(&f, next, (int)next, NULL), next++;
        ck_assert_double_le(metric_value(&f, "orderflow_handler_requests_in_flight"), 4);
        async_handler_http.run(f.h, 50, -1, on_done, &col);
    }
    ck_assert_int_eq(col.count, 40);
    ck_assert_uint_eq(srv->seen_count, 40);
    ck_assert_int_le(srv->max_in_flight, 4);
    ck_assert_int_ge(srv->max_in_flight, 2);
    /* Keep-alive: four connections at most for forty calls. */
    ck_assert_int_le(srv->connections, 4);
    /* No room: submit says so instead of taking a fifth. */
    for (uint64_t t = 100; t < 104; t++)
        submit(&f, t, 1, NULL);
    ck_assert_uint_eq(async_handler_http.room(f.h), 0);
    test_event t;
    make_event(&t, 9, NULL);
    char err[256];
    ck_assert_int_eq(async_handler_http.submit(f.h, 200, &t.in, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "handler http: no room for ticket 200 (4 held)");
    fixture_close(&f);
    server_stop(srv);
}
END_TEST

static reply answer_after_400ms(server *srv, const seen_request *req, unsigned nth)
{
    (void)srv;
    (void)req;
    (void)nth;
    return (reply){200, "{}", NULL, 400};
}

START_TEST(cancel_gives_no_completion)
{
    server *srv = server_start(answer_after_400ms);
    fixture f;
    fixture_init(&f, srv->port, 3);
    fixture_open(&f);
    submit(&f, 1, 1, NULL);
    submit(&f, 2, 2, NULL);
    collector col = {0};
    int64_t end = now_ms() + 3000;
    while (srv->seen_count < 2 && now_ms() < end)
        async_handler_http.run(f.h, 20, -1, on_done, &col);
    ck_assert_uint_eq(srv->seen_count, 2);
    async_handler_http.cancel(f.h, 1);
    async_handler_http.cancel(f.h, 99); /* unknown: nothing */
    ck_assert_uint_eq(async_handler_http.room(f.h), 63);
    run_until(&f, &col, 2, 1500);
    ck_assert_int_eq(col.count, 1);
    ck_assert_uint_eq(col.done[0].ticket, 2);
    /* A queued one, cancelled before its call. */
    submit(&f, 3, 3, NULL);
    async_handler_http.cancel(f.h, 3);
    run_until(&f, &col, 2, 300);
    ck_assert_int_eq(col.count, 1);
    ck_assert_uint_eq(srv->seen_count, 2);
    ck_assert_uint_eq(async_handler_http.room(f.h), 64);
    fixture_close(&f);
    server_stop(srv);
}
END_TEST

START_TEST(wake_fd_ends_the_wait)
{
    server *srv = server_start(answer_ok);
    fixture f;
    fixture_init(&f, srv->port, 3);
    fixture_open(&f);
    int efd = eventfd(0, EFD_NONBLOCK);
    ck_assert_int_ge(efd, 0);
    uint64_t one = 1;
    ck_assert_int_eq(write(efd, &one, sizeof(one)), 8);
    collector col = {0};
    int64_t start = now_ms();
    ck_assert_int_eq(async_handler_http.run(f.h, 5000, efd, on_done, &col), 0);
    ck_assert_int_lt(now_ms() - start, 2500);
    close(efd);
    fixture_close(&f);
    server_stop(srv);
}
END_TEST

START_TEST(structured_mode)
{
    server *srv = server_start(answer_ok);
    fixture f;
    fixture_init(&f, srv->port, 3);
    fixture_set(&f, "content_mode", "structured");
    fixture_open(&f);
    submit(&f, 1, 1, NULL);
    collector col = {0};
    run_until(&f, &col, 1, 5000);
    ck_assert_int_eq(col.count, 1);
    test_event t;
    make_event(&t, 1, NULL);
    ck_assert_str_eq(srv->seen[0].body, t.value);
    ck_assert_str_eq(srv->seen[0].content_type, "application/cloudevents+json; charset=utf-8");
    ck_assert_str_eq(srv->seen[0].ce_id, "");
    ck_assert_str_eq(srv->seen[0].idempotency_key, "order_created:o-1");
    fixture_close(&f);
    server_stop(srv);
}
END_TEST

START_TEST(open_refuses_bad_settings)
{
    fixture f;
    fixture_init(&f, 1, 3);
    fixture_set(&f, "max_inflight", "8");
    char err[512];
    ck_assert_ptr_null(async_handler_http.open(&f.env, err, sizeof(err)));
    ck_assert_msg(strncmp(err,
                          "'handler.max_inflight' is not a setting of the http handler; did "
                          "you mean 'handler.max_in_flight'?",
                          93) == 0,
                  "%s", err);
    fixture_close(&f);
    fixture_init(&f, 1, 3);
    snprintf(f.target, sizeof(f.target), "https://127.0.0.1:1/x");
    fixture_set(&f, "ca_location", "/nonexistent/ca.pem");
    ck_assert_ptr_null(async_handler_http.open(&f.env, err, sizeof(err)));
    ck_assert_str_eq(err, "'handler.ca_location' /nonexistent/ca.pem: cannot read: No such file "
                          "or directory");
    fixture_close(&f);
}
END_TEST

static char tls_path[4][512];

static const char *tls_file(int i, const char *name)
{
    snprintf(tls_path[i], sizeof(tls_path[i]), "%s/%s", tls_dir, name);
    return tls_path[i];
}

START_TEST(tls_verified_with_client_certificate)
{
    server *srv = server_start_tls(answer_ok);
    char pw_path[] = "/tmp/of-http-test-pw-XXXXXX";
    int fd = mkstemp(pw_path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "client-pw\n", 10), 10);
    close(fd);
    fixture f;
    fixture_init(&f, srv->port, 1);
    snprintf(f.target, sizeof(f.target), "https://127.0.0.1:%d/orders", srv->port);
    fixture_set(&f, "ca_location", tls_file(0, "server.pem"));
    fixture_set(&f, "cert_location", tls_file(1, "client.pem"));
    fixture_set(&f, "key_location", tls_file(2, "client.key"));
    fixture_set(&f, "key_password_file", pw_path);
    fixture_open(&f);
    submit(&f, 1, 1, NULL);
    collector col = {0};
    run_until(&f, &col, 1, 5000);
    ck_assert_int_eq(col.count, 1);
    ck_assert_msg(col.done[0].verdict == ASYNC_EMIT, "%s", col.done[0].reason);
    ck_assert_uint_eq(srv->seen_count, 1);
    ck_assert_int_eq(srv->seen[0].client_cert, 1);
    ck_assert_str_eq(srv->seen[0].idempotency_key, "order_created:o-1");
    fixture_close(&f);
    unlink(pw_path);
    server_stop(srv);
}
END_TEST

START_TEST(tls_unknown_server_refused_unless_told)
{
    server *srv = server_start_tls(answer_ok);
    fixture f;
    fixture_init(&f, srv->port, 1);
    snprintf(f.target, sizeof(f.target), "https://127.0.0.1:%d/orders", srv->port);
    fixture_open(&f);
    submit(&f, 1, 1, NULL);
    collector col = {0};
    run_until(&f, &col, 1, 5000);
    ck_assert_int_eq(col.count, 1);
    ck_assert_int_eq(col.done[0].verdict, ASYNC_EXHAUSTED);
    ck_assert_msg(strstr(col.done[0].reason, "SSL certificate problem: self-signed certificate"),
                  "%s", col.done[0].reason);
    ck_assert_uint_eq(srv->seen_count, 0);
    fixture_close(&f);
    fixture_init(&f, srv->port, 1);
    snprintf(f.target, sizeof(f.target), "https://127.0.0.1:%d/orders", srv->port);
    fixture_set(&f, "tls_verify", "false");
    fixture_open(&f);
    submit(&f, 1, 1, NULL);
    memset(&col, 0, sizeof(col));
    run_until(&f, &col, 1, 5000);
    ck_assert_int_eq(col.count, 1);
    ck_assert_int_eq(col.done[0].verdict, ASYNC_EMIT);
    ck_assert_int_eq(srv->seen[0].client_cert, 0);
    fixture_close(&f);
    server_stop(srv);
}
END_TEST

START_TEST(tls_files_checked_at_open)
{
    fixture f;
    char err[512];
    unsetenv("ORDERFLOW_HTTP_KEY_PASSWORD");
    fixture_init(&f, 1, 1);
    snprintf(f.target, sizeof(f.target), "https://127.0.0.1:1/x");
    fixture_set(&f, "cert_location", tls_file(0, "client.pem"));
    fixture_set(&f, "key_location", tls_file(1, "client.key"));
    ck_assert_ptr_null(async_handler_http.open(&f.env, err, sizeof(err)));
    char want[2048];
    snprintf(want, sizeof(want),
             "'handler.key_location' %s: cannot read the private key (not PEM, or encrypted and "
             "the password from handler.key_password_file or ORDERFLOW_HTTP_KEY_PASSWORD is "
             "missing)",
             tls_path[1]);
    ck_assert_str_eq(err, want);
    fixture_close(&f);
    setenv("ORDERFLOW_HTTP_KEY_PASSWORD", "not-it", 1);
    fixture_init(&f, 1, 1);
    snprintf(f.target, sizeof(f.target), "https://127.0.0.1:1/x");
    fixture_set(&f, "cert_location", tls_file(0, "client.pem"));
    fixture_set(&f, "key_location", tls_file(1, "client.key"));
    ck_assert_ptr_null(async_handler_http.open(&f.env, err, sizeof(err)));
    ck_assert_msg(strstr(err, "is wrong)") && !strstr(err, "not-it"), "%s", err);
    fixture_close(&f);
    setenv("ORDERFLOW_HTTP_KEY_PASSWORD", "client-pw", 1);
    fixture_init(&f, 1, 1);
    snprintf(f.target, sizeof(f.target), "https://127.0.0.1:1/x");
    fixture_set(&f, "cert_location", tls_file(0, "server.pem"));
    fixture_set(&f, "key_location", tls_file(1, "client.key"));
    ck_assert_ptr_null(async_handler_http.open(&f.env, err, sizeof(err)));
    snprintf(want, sizeof(want),
             "'handler.key_location' %s is not the key of 'handler.cert_location' %s", tls_path[1],
             tls_path[0]);
    ck_assert_str_eq(err, want);
    fixture_close(&f);
    unsetenv("ORDERFLOW_HTTP_KEY_PASSWORD");
    fixture_init(&f, 1, 1);
    snprintf(f.target, sizeof(f.target), "https://127.0.0.1:1/x");
    fixture_set(&f, "ca_location", tls_file(0, "README.md"));
    ck_assert_ptr_null(async_handler_http.open(&f.env, err, sizeof(err)));
    snprintf(want, sizeof(want), "'handler.ca_location' %s: no PEM certificate in it", tls_path[0]);
    ck_assert_str_eq(err, want);
    fixture_close(&f);
}
END_TEST

int main(int argc, char **argv)
{
    /* argv[1]: tests/unit/http/tls, the test-only certificates. */
    tls_dir = argc > 1 ? argv[1] : "tests/unit/http/tls";
    /* The service is on the loopback: no proxy of the environment. */
    unsetenv("http_proxy");
    unsetenv("HTTP_PROXY");
    unsetenv("https_proxy");
    unsetenv("HTTPS_PROXY");
    unsetenv("all_proxy");
    unsetenv("ALL_PROXY");
    Suite *s = suite_create("http_client");
    TCase *tc = tcase_create("client");
    tcase_set_timeout(tc, 30);
    check_tcase_add_test(tc, emit_with_headers);
    check_tcase_add_test(tc, retries_same_key_new_spans);
    check_tcase_add_test(tc, status_table_end_to_end);
    check_tcase_add_test(tc, connection_refused);
    check_tcase_add_test(tc, breaker_opens_probes_closes);
    check_tcase_add_test(tc, breaker_probe_with_nothing_held);
    check_tcase_add_test(tc, in_flight_bound_and_keep_alive);
    check_tcase_add_test(tc, cancel_gives_no_completion);
    check_tcase_add_test(tc, wake_fd_ends_the_wait);
    check_tcase_add_test(tc, structured_mode);
    check_tcase_add_test(tc, open_refuses_bad_settings);
    check_tcase_add_test(tc, tls_verified_with_client_certificate);
    check_tcase_add_test(tc, tls_unknown_server_refused_unless_told);
    check_tcase_add_test(tc, tls_files_checked_at_open);
    suite_add_tcase(s, tc);
    return check_run_suite(s);
}
