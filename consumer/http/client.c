/* async_handler_http (../async_handler.h): one CURLM driving a pool of
 * max_in_flight reusable easy handles, one per input held, on the
 * processor's thread. Connections stay open between calls (curl's
 * connection cache: keep-alive); no thread per call. A slot holds its
 * input from submit to completion: its request (copied at submit), the
 * response buffers (grown to the largest body, kept) and its header list,
 * whose nodes live in the slot, so a warm call allocates nothing.
 *
 * A slot is FREE, QUEUED (waiting for the breaker or its turn), RUNNING,
 * WAITING (a retry's backoff), FINISHED (its completion not yet delivered)
 * or DELIVERING (inside done). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "async_handler.h"
#include "cli/log.h"
#include "util/list.h"

#include "backoff.h"
#include "breaker.h"
#include "http_metrics.h"
#include "request.h"
#include "response.h"
#include "settings.h"
#include "tls_files.h"

typedef enum slot_state {
    SLOT_FREE,
    SLOT_QUEUED,
    SLOT_RUNNING,
    SLOT_WAITING,
    SLOT_FINISHED,
    SLOT_DELIVERING,
} slot_state;

typedef struct http_client http_client;

typedef struct http_slot {
    http_client *client;
    CURL *easy;
    slot_state state;
    uint64_t ticket;
    unsigned attempts; /* calls started for this input */
    int probe;         /* RUNNING: this call is the breaker's probe */
    int64_t due_ms;    /* WAITING: when the next call may start */
    struct timespec started;
    http_request request;
    struct curl_slist header_nodes[HTTP_REQUEST_MAX_LINES];
    char *body; /* the response body, up to the limit of its status */
    size_t body_len, body_cap;
    int body_over_limit;
    char retry_after[64];
    int has_retry_after;
    char curl_error[CURL_ERROR_SIZE];
    async_verdict verdict; /* FINISHED: the completion */
    const char *data;
    size_t data_len;
    char reason[HTTP_REASON_MAX];
    ofc_list_node node; /* in queue (QUEUED) or finished (FINISHED) */
} http_slot;

struct http_client {
    http_settings settings;
    const char *target;
    unsigned max_attempts;
    size_t max_output_bytes;
    int verbose;
    CURLM *multi;
    http_slot *slots;
    size_t slot_count;
    size_t *free_slots; /* a stack of FREE slots' indexes */
    size_t free_count;
    size_t running;
    ofc_list queue;
    ofc_list finished;
    http_breaker breaker;
    of_idgen gen;
    uint64_t random;
    http_metrics metrics;
    http_classified classified; /* the call that just ended (2 KiB: not on the stack) */
    int curl_initialised;
};

static void fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(err, errlen, fmt, args);
    va_end(args);
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* ---- curl callbacks ------------------------------------------------------ */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    http_slot *slot = userdata;
    size_t n = size * nmemb;
    long status = 0;
    curl_easy_getinfo(slot->easy, CURLINFO_RESPONSE_CODE, &status);
    int success = status >= 200 && status <= 299;
    /* A success's body is the data, up to max_output_bytes; any other's is
     * quoted in a reason, its first HTTP_BODY_EXCERPT bytes. Beyond the
     * limit nothing is buffered: a success is cut (dead letter), the rest
     * of another body is read and dropped (the connection stays usable). */
    size_t limit = success ? slot->client->max_output_bytes : HTTP_BODY_EXCERPT;
    size_t take = n;
    if (slot->body_len + n > limit) {
        if (success) {
            slot->body_over_limit = 1;
            return 0; /* CURLE_WRITE_ERROR */
        }
        take = limit > slot->body_len ? limit - slot->body_len : 0;
    }
    if (take == 0) return n;
    if (slot->body_len + take + 1 > slot->body_cap) {
        size_t cap = slot->body_cap ? slot->body_cap : 1024;
        while (cap < slot->body_len + take + 1)
            cap *= 2;
        char *grown = realloc(slot->body, cap);
        if (!grown) return 0;
        slot->body = grown;
        slot->body_cap = cap;
    }
    memcpy(slot->body + slot->body_len, ptr, take);
    slot->body_len += take;
    slot->body[slot->body_len] = '\0';
    return n;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
    http_slot *slot = userdata;
    size_t n = size * nitems;
    static const char name[] = "retry-after:";
    if (n >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
        slot->has_retry_after = 0; /* a new response (after a 1xx) */
    } else if (n > sizeof(name) - 1 && strncasecmp(buf, name, sizeof(name) - 1) == 0) {
        const char *v = buf + sizeof(name) - 1;
        size_t len = n - (sizeof(name) - 1);
        while (len && (*v == ' ' || *v == '\t')) {
            v++;
            len--;
        }
        while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
            len--;
        if (len >= sizeof(slot->retry_after)) len = sizeof(slot->retry_after) - 1;
        memcpy(slot->retry_after, v, len);
        slot->retry_after[len] = '\0';
        slot->has_retry_after = 1;
    }
    return n;
}

/* ---- slots --------------------------------------------------------------- */

static http_slot *find_ticket(http_client *c, uint64_t ticket)
{
    for (size_t i = 0; i < c->slot_count; i++)
        if (c->slots[i].state != SLOT_FREE && c->slots[i].ticket == ticket) return &c->slots[i];
    return NULL;
}

static void release_slot(http_client *c, http_slot *slot)
{
    slot->state = SLOT_FREE;
    c->free_slots[c->free_count++] = (size_t)(slot - c->slots);
}

static void finish(http_client *c, http_slot *slot, async_verdict verdict)
{
    slot->verdict = verdict;
    slot->state = SLOT_FINISHED;
    ofc_list_push_back(&c->finished, &slot->node);
}

static void log_breaker(http_client *c, const char *cause)
{
    const http_breaker *b = &c->breaker;
    http_metrics_breaker(&c->metrics, b->state, 1);
    switch (b->state) {
    case HTTP_BREAKER_OPEN:
        ofc_warn("handler http: circuit breaker open after %u consecutive failures (last: %s); "
                 "no calls to %s for %ld ms, then one probe",
                 b->consecutive, b->last_failure, c->target, c->settings.breaker_open_ms);
        break;
    case HTTP_BREAKER_HALF_OPEN:
        ofc_warn("handler http: circuit breaker half-open: one probe call to %s", c->target);
        break;
    case HTTP_BREAKER_CLOSED:
        ofc_warn("handler http: circuit breaker closed: %s", cause);
        break;
    }
}

/* Starts the next call of slot (attempt + 1). */
static void start_call(http_client *c, http_slot *slot)
{
    slot->attempts++;
    http_request *r = &slot->request;
    http_request_attempt(r, slot->attempts, &c->gen);
    for (size_t i = 0; i < r->line_count; i++) {
        slot->header_nodes[i].data = (char *)r->lines[i];
        slot->header_nodes[i].next = i + 1 < r->line_count ? &slot->header_nodes[i + 1] : NULL;
    }
    curl_easy_setopt(slot->easy, CURLOPT_HTTPHEADER, slot->header_nodes);
    curl_easy_setopt(slot->easy, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(slot->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
    slot->body_len = 0;
    slot->body_over_limit = 0;
    slot->has_retry_after = 0;
    slot->curl_error[0] = '\0';
    clock_gettime(CLOCK_MONOTONIC, &slot->started);
    CURLMcode mc = curl_multi_add_handle(c->multi, slot->easy);
    if (mc != CURLM_OK) {
        /* Only a misuse or no memory: the input is not lost, the processor
         * applies on_exhausted. */
        snprintf(slot->reason, sizeof(slot->reason), "cannot start the call: %s",
                 curl_multi_strerror(mc));
        if (slot->probe) http_breaker_release_probe(&c->breaker);
        slot->probe = 0;
        finish(c, slot, ASYNC_EXHAUSTED);
        return;
    }
    slot->state = SLOT_RUNNING;
    c->running++;
}

/* Moves due retries to the queue and starts what the breaker lets go. */
static void start_ready(http_client *c, int64_t now_ms)
{
    for (size_t i = 0; i < c->slot_count; i++) {
        http_slot *slot = &c->slots[i];
        if (slot->state == SLOT_WAITING && slot->due_ms <= now_ms) {
            slot->state = SLOT_QUEUED;
            ofc_list_push_back(&c->queue, &slot->node);
        }
    }
    while (c->queue.first) {
        int probe = 0, changed = 0;
        int go = http_breaker_acquire(&c->breaker, now_ms, &probe, &changed);
        if (changed) log_breaker(c, "");
        if (!go) break;
        http_slot *slot = OFC_CONTAINER_OF(ofc_list_pop_front(&c->queue), http_slot, node);
        slot->probe = probe;
        start_call(c, slot);
    }
    http_metrics_in_flight(&c->metrics, c->running);
}

/* A call of slot ended with code. */
static void end_call(http_client *c, http_slot *slot, CURLcode code)
{
    curl_multi_remove_handle(c->multi, slot->easy);
    c->running--;
    double seconds = seconds_since(&slot->started);
    long status = 0, os_errno = 0;
    curl_easy_getinfo(slot->easy, CURLINFO_RESPONSE_CODE, &status);
    if (code != CURLE_OK) curl_easy_getinfo(slot->easy, CURLINFO_OS_ERRNO, &os_errno);
    http_result result = {
        .curl_code = (int)code,
        .curl_error = slot->curl_error,
        .os_errno = (int)os_errno,
        .status = status,
        .body = slot->body,
        .body_len = slot->body_len,
        .body_over_limit = slot->body_over_limit,
        .max_output_bytes = c->max_output_bytes,
        .timeout_ms = c->settings.timeout_ms,
        .retry_after = slot->has_retry_after ? slot->retry_after : NULL,
        .now_unix_s = (int64_t)time(NULL),
    };
    http_classified *v = &c->classified;
    http_classify(&result, v);
    http_metrics_call(&c->metrics, v->outcome, seconds);
    int64_t now_ms = of_monotonic_ms();
    int was_probe = slot->probe;
    slot->probe = 0;
    if (v->action == HTTP_ACTION_RETRY) {
        if (http_breaker_failure(&c->breaker, now_ms, v->reason)) log_breaker(c, "");
    } else if (http_breaker_success(&c->breaker)) {
        char cause[96];
        snprintf(cause, sizeof(cause), "%s call answered HTTP %ld", was_probe ? "the probe" : "a",
                 status);
        log_breaker(c, cause);
    }
    snprintf(slot->reason, sizeof(slot->reason), "%s", v->reason);
    switch (v->action) {
    case HTTP_ACTION_EMIT:
        slot->data = v->data == slot->body ? slot->body : "{}";
        slot->data_len = v->data_len;
        finish(c, slot, ASYNC_EMIT);
        return;
    case HTTP_ACTION_DEAD_LETTER:
        finish(c, slot, ASYNC_DEAD_LETTER);
        return;
    case HTTP_ACTION_RETRY:
        break;
    }
    if (slot->attempts >= c->max_attempts) {
        finish(c, slot, ASYNC_EXHAUSTED);
        return;
    }
    long delay =
        http_backoff_delay_ms(c->settings.backoff_ms, c->settings.backoff_max_ms, slot->attempts,
                              v->retry_after_ms, http_random_next(&c->random));
    http_metrics_retry(&c->metrics);
    if (c->verbose)
        ofc_warn("handler http: call %u of ticket %" PRIu64 " failed (%s); next call in %ld ms",
                 slot->attempts, slot->ticket, slot->reason, delay);
    slot->due_ms = now_ms + delay;
    slot->state = SLOT_WAITING;
}

static void collect_ended(http_client *c)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(c->multi, &left))) {
        if (msg->msg != CURLMSG_DONE) continue;
        http_slot *slot = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&slot);
        if (slot && slot->state == SLOT_RUNNING) end_call(c, slot, msg->data.result);
    }
}

/* Milliseconds until the next retry is due or the breaker lets a call go;
 * -1 when no timer is pending. */
static int64_t next_timer_ms(const http_client *c, int64_t now_ms)
{
    int64_t next = -1;
    for (size_t i = 0; i < c->slot_count; i++) {
        if (c->slots[i].state != SLOT_WAITING) continue;
        int64_t in = c->slots[i].due_ms > now_ms ? c->slots[i].due_ms - now_ms : 0;
        if (next < 0 || in < next) next = in;
    }
    if (c->queue.first) {
        int64_t in = http_breaker_wait_ms(&c->breaker, now_ms);
        if (in >= 0 && (next < 0 || in < next)) next = in;
    }
    return next;
}

static int deliver(http_client *c, async_done_fn *done, void *opaque)
{
    int delivered = 0;
    ofc_list_node *node;
    while ((node = ofc_list_pop_front(&c->finished))) {
        http_slot *slot = OFC_CONTAINER_OF(node, http_slot, node);
        uint64_t ticket = slot->ticket;
        slot->state = SLOT_DELIVERING;
        async_completion completion = {
            .ticket = ticket,
            .verdict = slot->verdict,
            .data = slot->verdict == ASYNC_EMIT ? slot->data : NULL,
            .data_len = slot->verdict == ASYNC_EMIT ? slot->data_len : 0,
            .reason = slot->verdict == ASYNC_EMIT ? NULL : slot->reason,
            .attempts = slot->attempts,
        };
        done(opaque, &completion);
        delivered++;
        /* done may have cancelled it, and a submit reused the slot. */
        if (slot->state == SLOT_DELIVERING && slot->ticket == ticket) release_slot(c, slot);
    }
    return delivered;
}

/* ---- async_handler_ops ------------------------------------------------------ */

static void http_close(void *self);

#define SET(easy, option, value)                                                                   \
    do {                                                                                           \
        CURLcode set_rc = curl_easy_setopt((easy), (option), (value));                             \
        if (set_rc != CURLE_OK) {                                                                  \
            fail(err, errlen, "libcurl refuses %s: %s", #option, curl_easy_strerror(set_rc));      \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)

static int setup_easy(http_client *c, http_slot *slot, char *err, size_t errlen)
{
    const http_settings *s = &c->settings;
    CURL *e = slot->easy;
    SET(e, CURLOPT_URL, c->target);
    SET(e, CURLOPT_POST, 1L);
    SET(e, CURLOPT_NOSIGNAL, 1L);
    SET(e, CURLOPT_TIMEOUT_MS, s->timeout_ms);
    SET(e, CURLOPT_TCP_KEEPALIVE, 1L);
    SET(e, CURLOPT_TCP_NODELAY, 1L);
    SET(e, CURLOPT_USERAGENT, "orderflow-consumer (libcurl/" LIBCURL_VERSION ")");
    SET(e, CURLOPT_WRITEFUNCTION, on_body);
    SET(e, CURLOPT_WRITEDATA, slot);
    SET(e, CURLOPT_HEADERFUNCTION, on_header);
    SET(e, CURLOPT_HEADERDATA, slot);
    SET(e, CURLOPT_ERRORBUFFER, slot->curl_error);
    SET(e, CURLOPT_PRIVATE, (char *)slot);
    if (strncasecmp(c->target, "https://", 8) == 0) {
        SET(e, CURLOPT_SSL_VERIFYPEER, s->tls_verify ? 1L : 0L);
        SET(e, CURLOPT_SSL_VERIFYHOST, s->tls_verify ? 2L : 0L);
        if (s->ca_location) SET(e, CURLOPT_CAINFO, s->ca_location);
        if (s->cert_location) SET(e, CURLOPT_SSLCERT, s->cert_location);
        if (s->key_location) SET(e, CURLOPT_SSLKEY, s->key_location);
        if (s->key_password) SET(e, CURLOPT_KEYPASSWD, s->key_password);
    }
    return 0;
}

static void *http_open(const async_handler_env *env, char *err, size_t errlen)
{
    http_client *c = calloc(1, sizeof(*c));
    if (!c) {
        fail(err, errlen, "out of memory");
        return NULL;
    }
    if (http_settings_read(&c->settings, env->target, env->config, err, errlen) != 0) {
        free(c);
        return NULL;
    }
    const http_settings *s = &c->settings;
    if (http_tls_files_check(s, err, errlen) != 0) goto failed;
    c->target = env->target;
    c->max_attempts = env->max_attempts ? env->max_attempts : 1;
    c->max_output_bytes =
        env->max_output_bytes ? env->max_output_bytes : OF_HANDLER_DEFAULT_MAX_OUTPUT_BYTES;
    c->verbose = env->verbose;
    http_breaker_init(&c->breaker, s->breaker_failures, s->breaker_open_ms);
    if (of_idgen_init(&c->gen, err, errlen) != 0) goto failed;
    if (getrandom(&c->random, sizeof(c->random), 0) != (ssize_t)sizeof(c->random))
        c->random = (uint64_t)of_now_ms() ^ (uint64_t)getpid();
    if (http_metrics_init(&c->metrics, env->metrics, err, errlen) != 0) goto failed;
    CURLcode gc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (gc != CURLE_OK) {
        fail(err, errlen, "libcurl cannot start: %s", curl_easy_strerror(gc));
        goto failed;
    }
    c->curl_initialised = 1;
    if (!(c->multi = curl_multi_init())) {
        fail(err, errlen, "out of memory");
        goto failed;
    }
    /* Every slot may hold a connection: the cache keeps them all open. */
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)s->max_in_flight);
    c->slot_count = s->max_in_flight;
    c->slots = calloc(c->slot_count, sizeof(*c->slots));
    c->free_slots = calloc(c->slot_count, sizeof(*c->free_slots));
    if (!c->slots || !c->free_slots) {
        fail(err, errlen, "out of memory");
        goto failed;
    }
    for (size_t i = c->slot_count; i-- > 0;) {
        http_slot *slot = &c->slots[i];
        slot->client = c;
        if (!(slot->easy = curl_easy_init())) {
            fail(err, errlen, "out of memory");
            goto failed;
        }
        if (setup_easy(c, slot, err, errlen) != 0) goto failed;
        c->free_slots[c->free_count++] = i;
    }
    return c;
failed:
    http_close(c);
    return NULL;
}

static size_t http_room(void *self)
{
    http_client *c = self;
    return c->free_count;
}

static int http_submit(void *self, uint64_t ticket, const of_handler_event *event, char *err,
                       size_t errlen)
{
    http_client *c = self;
    if (c->free_count == 0) {
        fail(err, errlen, "handler http: no room for ticket %" PRIu64 " (%zu held)", ticket,
             c->slot_count);
        return -1;
    }
    http_slot *slot = &c->slots[c->free_slots[c->free_count - 1]];
    char why[256];
    http_prepare_result pr = http_request_prepare(&slot->request, event, c->settings.content_mode,
                                                  &c->gen, why, sizeof(why));
    if (pr == HTTP_PREPARE_NO_MEMORY) {
        fail(err, errlen, "handler http: out of memory copying ticket %" PRIu64 "'s request",
             ticket);
        return -1;
    }
    c->free_count--;
    slot->ticket = ticket;
    slot->attempts = 0;
    slot->probe = 0;
    if (pr == HTTP_PREPARE_BAD_EVENT) {
        snprintf(slot->reason, sizeof(slot->reason), "%s", why);
        finish(c, slot, ASYNC_DEAD_LETTER);
        return 0;
    }
    slot->state = SLOT_QUEUED;
    ofc_list_push_back(&c->queue, &slot->node);
    return 0;
}

static void http_cancel(void *self, uint64_t ticket)
{
    http_client *c = self;
    http_slot *slot = find_ticket(c, ticket);
    if (!slot) return;
    switch (slot->state) {
    case SLOT_RUNNING:
        curl_multi_remove_handle(c->multi, slot->easy);
        c->running--;
        if (slot->probe) http_breaker_release_probe(&c->breaker);
        slot->probe = 0;
        http_metrics_in_flight(&c->metrics, c->running);
        break;
    case SLOT_QUEUED:
        ofc_list_remove(&c->queue, &slot->node);
        break;
    case SLOT_FINISHED:
        ofc_list_remove(&c->finished, &slot->node);
        break;
    case SLOT_WAITING:
    case SLOT_DELIVERING:
    case SLOT_FREE:
        break;
    }
    release_slot(c, slot);
}

static int http_run(void *self, int timeout_ms, int wake_fd, async_done_fn *done, void *opaque)
{
    http_client *c = self;
    int still = 0;
    start_ready(c, of_monotonic_ms());
    curl_multi_perform(c->multi, &still);
    collect_ended(c);
    if (!c->finished.first) {
        int64_t wait = timeout_ms > 0 ? timeout_ms : 0;
        int64_t timer = next_timer_ms(c, of_monotonic_ms());
        if (timer >= 0 && timer < wait) wait = timer;
        struct curl_waitfd extra = {.fd = wake_fd, .events = CURL_WAIT_POLLIN};
        curl_multi_poll(c->multi, wake_fd >= 0 ? &extra : NULL, wake_fd >= 0 ? 1u : 0u, (int)wait,
                        NULL);
        curl_multi_perform(c->multi, &still);
        collect_ended(c);
    }
    /* Retries due now and calls the breaker lets go start before the
     * processor comes back. */
    start_ready(c, of_monotonic_ms());
    curl_multi_perform(c->multi, &still);
    return deliver(c, done, opaque);
}

static async_state http_state(void *self, char *why, size_t whylen)
{
    http_client *c = self;
    const http_breaker *b = &c->breaker;
    int64_t wait_ms = http_breaker_wait_ms(b, of_monotonic_ms());
    if (b->state == HTTP_BREAKER_CLOSED) {
        if (why && whylen) snprintf(why, whylen, "handler http: calls go out to %s", c->target);
        return ASYNC_READY;
    }
    if (wait_ms == 0 && c->free_count == c->slot_count) {
        /* The probe may go and no input is held to make it: one must be
         * fetched (async_handler.h, state). */
        if (why && whylen)
            snprintf(why, whylen,
                     "handler http: circuit breaker %s after %u consecutive failures (last: %s); "
                     "the next call is the probe",
                     http_breaker_state_name(b->state), b->consecutive, b->last_failure);
        return ASYNC_READY;
    }
    if (why && whylen) {
        if (b->state == HTTP_BREAKER_OPEN)
            snprintf(why, whylen,
                     "handler http: circuit breaker open after %u consecutive failures (last: "
                     "%s); next probe in %" PRId64 " ms",
                     b->consecutive, b->last_failure, wait_ms);
        else
            snprintf(why, whylen,
                     "handler http: circuit breaker half-open after %u consecutive failures "
                     "(last: %s); the probe call is out",
                     b->consecutive, b->last_failure);
    }
    return ASYNC_BREAKER_OPEN;
}

static void http_close(void *self)
{
    http_client *c = self;
    if (!c) return;
    for (size_t i = 0; c->slots && i < c->slot_count; i++) {
        http_slot *slot = &c->slots[i];
        if (slot->easy) {
            if (slot->state == SLOT_RUNNING) curl_multi_remove_handle(c->multi, slot->easy);
            curl_easy_cleanup(slot->easy);
        }
        http_request_free(&slot->request);
        free(slot->body);
    }
    if (c->multi) curl_multi_cleanup(c->multi);
    if (c->curl_initialised) curl_global_cleanup();
    free(c->slots);
    free(c->free_slots);
    http_settings_free(&c->settings);
    free(c);
}

const async_handler_ops async_handler_http = {
    .name = "http",
    .version = "libcurl/" LIBCURL_VERSION,
    .open = http_open,
    .room = http_room,
    .submit = http_submit,
    .cancel = http_cancel,
    .run = http_run,
    .state = http_state,
    .close = http_close,
};
