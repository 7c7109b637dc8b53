/* What a call's result means (docs/handlers.md, "The HTTP handler", the
 * status table): emit, dead-letter now, or retry, with the reason and the
 * metrics outcome. Pure: the caller gives what curl reported. */
#ifndef OF_CONSUMER_HTTP_RESPONSE_H
#define OF_CONSUMER_HTTP_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of a body quoted in a reason. */
#define HTTP_BODY_EXCERPT 512
/* A reason: "HTTP 503: " and the excerpt, each byte up to 4 characters. */
#define HTTP_REASON_MAX (64 + 4 * HTTP_BODY_EXCERPT)

typedef enum http_action {
    HTTP_ACTION_EMIT,
    HTTP_ACTION_DEAD_LETTER,
    HTTP_ACTION_RETRY,
} http_action;

/* The request duration histogram's outcome label (http_outcome_name). */
typedef enum http_outcome {
    HTTP_OUTCOME_SUCCESS,     /* 2xx with data */
    HTTP_OUTCOME_DEAD_LETTER, /* an answer that dead-letters the input */
    HTTP_OUTCOME_RETRY,       /* an answer that asks for a retry (429, 503...) */
    HTTP_OUTCOME_TIMEOUT,     /* no complete answer within timeout_ms */
    HTTP_OUTCOME_REFUSED,     /* no connection */
    HTTP_OUTCOME_RESET,       /* the connection broke mid-call */
    HTTP_OUTCOME_ERROR,       /* any other transport failure (DNS, TLS...) */
    HTTP_OUTCOMES
} http_outcome;

const char *http_outcome_name(http_outcome outcome);

/* What one call gave. */
typedef struct http_result {
    int curl_code;          /* CURLcode: CURLE_OK when an answer came */
    const char *curl_error; /* curl's error buffer ("" or NULL: none) */
    int os_errno;           /* CURLINFO_OS_ERRNO: the socket's error (0: none) */
    long status;            /* the answer's status (curl_code CURLE_OK) */
    const char *body;       /* the bytes kept of the body */
    size_t body_len;
    int body_over_limit;     /* a 2xx body longer than max_output_bytes (the call was cut) */
    size_t max_output_bytes; /* handler.max_output_bytes */
    long timeout_ms;         /* handler.timeout_ms, for the timeout's reason */
    const char *retry_after; /* the Retry-After header's value, NULL when absent */
    int64_t now_unix_s;      /* for a Retry-After HTTP-date */
} http_result;

typedef struct http_classified {
    http_action action;
    http_outcome outcome;
    const char *data; /* EMIT: the body, or "{}" for 204 or an empty body */
    size_t data_len;
    long retry_after_ms;          /* RETRY: the server's Retry-After in ms, -1 when none */
    char reason[HTTP_REASON_MAX]; /* DEAD_LETTER and RETRY: one line */
} http_classified;

void http_classify(const http_result *result, http_classified *out);

/* Retry-After (RFC 9110 10.2.3): delta-seconds or an HTTP-date, as
 * milliseconds from now_unix_s (a date in the past: 0); -1 when value is
 * NULL or neither. */
long http_retry_after_ms(const char *value, int64_t now_unix_s);

/* Writes up to HTTP_BODY_EXCERPT bytes of body to out (outlen bytes, NUL
 * included), printable ASCII as is, every other byte as \xNN. */
void http_excerpt(const char *body, size_t len, char *out, size_t outlen);

#endif
