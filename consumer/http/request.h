/* One input's request (docs/handlers.md, "The HTTP handler"): the CloudEvents
 * HTTP protocol binding's headers and body, copied from the event at submit
 * (the event does not outlive the call), and the two headers that change on
 * every attempt (traceparent, orderflow-attempt). Buffers grow to the
 * largest request and are kept: a warm request allocates nothing. Knows
 * nothing about curl or sockets. */
#ifndef OF_CONSUMER_HTTP_REQUEST_H
#define OF_CONSUMER_HTTP_REQUEST_H

#include <stddef.h>

#include <orderflow/handler.h>
#include <orderflow/ids.h>
#include <orderflow/trace.h>

#include "settings.h"

/* The attempt number's header: 1 on the first call, 2 on the first retry... */
#define HTTP_ATTEMPT_HEADER "orderflow-attempt"
/* Header lines of one request at most: the fixed ones and the two per
 * attempt. */
#define HTTP_REQUEST_MAX_LINES 20

typedef struct http_request {
    char *body; /* the order (binary) or the whole envelope (structured) */
    size_t body_len, body_cap;
    char *fixed; /* "Name: value\0Name: value\0...": the lines every attempt sends */
    size_t fixed_len, fixed_cap;
    size_t fixed_count;
    of_traceparent parent; /* the event's, or a new trace's root when it has none */
    char traceparent_line[16 + OF_TRACEPARENT_LEN];
    char attempt_line[sizeof(HTTP_ATTEMPT_HEADER) + 16];
    /* After http_request_attempt: every line to send, in order. */
    const char *lines[HTTP_REQUEST_MAX_LINES];
    size_t line_count;
} http_request;

typedef enum http_prepare_result {
    HTTP_PREPARE_OK = 0,
    HTTP_PREPARE_BAD_EVENT = -1, /* err: why it cannot be sent (a dead letter's reason) */
    HTTP_PREPARE_NO_MEMORY = -2,
} http_prepare_result;

/* Copies what the request of event sends (mode: binary or structured). gen
 * gives a new trace's ids when the event has no traceparent. */
http_prepare_result http_request_prepare(http_request *r, const of_handler_event *event,
                                         http_content_mode mode, of_idgen *gen, char *err,
                                         size_t errlen);

/* Sets the per-attempt lines for attempt (1, 2...): traceparent is a new
 * child span of the event's (the same trace-id and flags on every attempt),
 * then fills r->lines. */
void http_request_attempt(http_request *r, unsigned attempt, of_idgen *gen);

/* The value of header name (case-insensitive) among r->lines, as a
 * NUL-terminated string inside the line; NULL when absent. For tests and
 * logs. */
const char *http_request_header(const http_request *r, const char *name);

void http_request_free(http_request *r);

#endif
