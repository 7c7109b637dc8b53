/* Building one input's request: the CloudEvents HTTP protocol binding
 * (binary content mode: one ce-NAME header per attribute, the data as the
 * body; structured: the whole envelope as the body), plus Idempotency-Key,
 * traceparent/tracestate and orderflow-attempt. No value can put a line
 * break on the wire: ce-* values are percent-encoded as the binding says,
 * and the others are checked to be printable ASCII. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "request.h"

/* Grows *buf to at least need bytes (never shrinks). */
static int reserve(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap) return 0;
    size_t grown = *cap ? *cap : 256;
    while (grown < need)
        grown *= 2;
    char *p = realloc(*buf, grown);
    if (!p) return -1;
    *buf = p;
    *cap = grown;
    return 0;
}

/* The CloudEvents HTTP binding (3.1.3.2): printable ASCII but space, '"'
 * and '%' as is, everything else (UTF-8 bytes included) as %XX. */
static int needs_percent(unsigned char c)
{
    return c <= 0x20 || c >= 0x7f || c == '"' || c == '%';
}

static size_t percent_len(of_str v)
{
    size_t n = 0;
    for (size_t i = 0; i < v.len; i++)
        n += needs_percent((unsigned char)v.ptr[i]) ? 3 : 1;
    return n;
}

typedef struct line_writer {
    http_request *r;
    int failed;
} line_writer;

/* Appends "name: " + value (percent-encoded when encode) + NUL. */
static void add_line(line_writer *w, const char *name, of_str value, int encode)
{
    if (w->failed) return;
    http_request *r = w->r;
    size_t name_len = strlen(name);
    size_t value_len = encode ? percent_len(value) : value.len;
    if (r->fixed_count >= HTTP_REQUEST_MAX_LINES - 2 ||
        reserve(&r->fixed, &r->fixed_cap, r->fixed_len + name_len + 3 + value_len) != 0) {
        w->failed = 1;
        return;
    }
    char *p = r->fixed + r->fixed_len;
    memcpy(p, name, name_len);
    p += name_len;
    *p++ = ':';
    if (value.len) *p++ = ' '; /* "Name:" alone: curl leaves that header out */
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < value.len; i++) {
        unsigned char c = (unsigned char)value.ptr[i];
        if (encode && needs_percent(c)) {
            *p++ = '%';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        } else {
            *p++ = (char)c;
        }
    }
    *p++ = '\0';
    r->fixed_len = (size_t)(p - r->fixed);
    r->fixed_count++;
}

/* 0 when v can be a header value as is: 1.. printable ASCII bytes. Else -1
 * with the reason. */
static int check_plain(of_str v, const char *attribute, const char *header, char *err,
                       size_t errlen)
{
    if (!v.ptr || v.len == 0) {
        snprintf(err, errlen, "attribute '%s' is empty: nothing to send as %s", attribute, header);
        return -1;
    }
    for (size_t i = 0; i < v.len; i++) {
        unsigned char c = (unsigned char)v.ptr[i];
        if (c < 0x20 || c > 0x7e) {
            snprintf(err, errlen,
                     "attribute '%s' byte 0x%02x at offset %zu cannot be sent in the %s header",
                     attribute, c, i, header);
            return -1;
        }
    }
    return 0;
}

http_prepare_result http_request_prepare(http_request *r, const of_handler_event *event,
                                         http_content_mode mode, of_idgen *gen, char *err,
                                         size_t errlen)
{
    const of_event *ev = event->event;
    r->fixed_len = 0;
    r->fixed_count = 0;
    r->line_count = 0;
    r->body_len = 0;
    if (check_plain(ev->idempotencykey, "idempotencykey", "Idempotency-Key", err, errlen) != 0)
        return HTTP_PREPARE_BAD_EVENT;
    int has_tracestate = ev->tracestate.ptr && ev->tracestate.len > 0;
    if (of_traceparent_parse(ev->traceparent, &r->parent) != 0) {
        /* No (valid) parent: the attempts become children of a new trace's
         * root, so that all of them share one trace-id. A tracestate
         * without its traceparent means nothing and is left out. */
        of_trace_start(gen, &r->parent);
        has_tracestate = 0;
    }
    if (has_tracestate && check_plain(ev->tracestate, "tracestate", "tracestate", err, errlen) != 0)
        return HTTP_PREPARE_BAD_EVENT;

    of_str body =
        mode == HTTP_CONTENT_STRUCTURED ? event->value : of_handler_event_data_json(event);
    if (!body.ptr) {
        snprintf(err, errlen, "the event has no data object to send");
        return HTTP_PREPARE_BAD_EVENT;
    }
    if (reserve(&r->body, &r->body_cap, body.len + 1) != 0) return HTTP_PREPARE_NO_MEMORY;
    memcpy(r->body, body.ptr, body.len);
    r->body[body.len] = '\0';
    r->body_len = body.len;

    line_writer w = {r, 0};
    if (mode == HTTP_CONTENT_STRUCTURED) {
        add_line(&w, "Content-Type", OF_STR("application/cloudevents+json; charset=utf-8"), 0);
    } else {
        char schema[24];
        snprintf(schema, sizeof(schema), "%" PRId64, ev->schemaversion);
        add_line(&w, "Content-Type", OF_STR("application/json"), 0);
        add_line(&w, "ce-specversion", OF_STR("1.0"), 0);
        add_line(&w, "ce-id", ev->id, 1);
        add_line(&w, "ce-type", of_str_c(of_event_type_name(ev->type)), 1);
        add_line(&w, "ce-source", ev->source, 1);
        add_line(&w, "ce-time", ev->time, 1);
        add_line(&w, "ce-subject", ev->subject, 1);
        if (ev->correlationid.ptr) add_line(&w, "ce-correlationid", ev->correlationid, 1);
        if (ev->causationid.ptr) add_line(&w, "ce-causationid", ev->causationid, 1);
        add_line(&w, "ce-idempotencykey", ev->idempotencykey, 1);
        if (ev->schemaversion > 0) add_line(&w, "ce-schemaversion", of_str_c(schema), 0);
    }
    add_line(&w, "Idempotency-Key", ev->idempotencykey, 0);
    if (has_tracestate) add_line(&w, "tracestate", ev->tracestate, 0);
    /* curl would send "Expect: 100-continue" for a body over 1 KiB and wait
     * for the answer: a round trip per call for nothing. */
    add_line(&w, "Expect", OF_STR(""), 0);
    if (w.failed) return HTTP_PREPARE_NO_MEMORY;
    return HTTP_PREPARE_OK;
}

void http_request_attempt(http_request *r, unsigned attempt, of_idgen *gen)
{
    of_traceparent span;
    of_trace_continue(gen, &r->parent, &span);
    char tp[OF_TRACEPARENT_LEN + 1];
    of_traceparent_format(&span, tp);
    snprintf(r->traceparent_line, sizeof(r->traceparent_line), "traceparent: %s", tp);
    snprintf(r->attempt_line, sizeof(r->attempt_line), HTTP_ATTEMPT_HEADER ": %u", attempt);
    r->line_count = 0;
    const char *p = r->fixed;
    for (size_t i = 0; i < r->fixed_count; i++) {
        r->lines[r->line_count++] = p;
        p += strlen(p) + 1;
    }
    r->lines[r->line_count++] = r->traceparent_line;
    r->lines[r->line_count++] = r->attempt_line;
}

const char *http_request_header(const http_request *r, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < r->line_count; i++)
        if (strncasecmp(r->lines[i], name, n) == 0 && r->lines[i][n] == ':')
            return r->lines[i][n + 1] == ' ' ? r->lines[i] + n + 2 : r->lines[i] + n + 1;
    return NULL;
}

void http_request_free(http_request *r)
{
    free(r->body);
    free(r->fixed);
    memset(r, 0, sizeof(*r));
}
