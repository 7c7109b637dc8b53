/* The circuit breaker (docs/handlers.md, "The HTTP handler"): after
 * threshold consecutive failed calls it opens and no call starts; open_ms
 * later one probe goes (half-open); the probe's success closes it, its
 * failure opens it again. Pure: the caller gives the time and logs the
 * transitions each function reports. */
#ifndef OF_CONSUMER_HTTP_BREAKER_H
#define OF_CONSUMER_HTTP_BREAKER_H

#include <stdint.h>

typedef enum http_breaker_state {
    HTTP_BREAKER_CLOSED = 0, /* the orderflow_handler_breaker_state gauge's values */
    HTTP_BREAKER_OPEN = 1,
    HTTP_BREAKER_HALF_OPEN = 2,
} http_breaker_state;

typedef struct http_breaker {
    unsigned threshold;
    int64_t open_ms;
    http_breaker_state state;
    unsigned consecutive; /* failures since the last success */
    int64_t probe_at_ms;  /* OPEN: when the probe may go */
    int probe_out;        /* HALF_OPEN: the probe is running */
    char last_failure[256];
} http_breaker;

/* "closed", "open", "half-open". */
const char *http_breaker_state_name(http_breaker_state state);

void http_breaker_init(http_breaker *b, unsigned threshold, int64_t open_ms);

/* 1 when a call may start at now_ms (closed; or half-open with no probe
 * out, and this call becomes the probe: *probe = 1); 0 when not. Sets
 * *changed when it moved the breaker from open to half-open. */
int http_breaker_acquire(http_breaker *b, int64_t now_ms, int *probe, int *changed);

/* The service answered (whatever the status but a retryable one): closes
 * the breaker. Returns 1 when that changed the state. */
int http_breaker_success(http_breaker *b);

/* A call failed retryably with reason: counts; opens the breaker at the
 * threshold, or again when half-open. Returns 1 when the state changed. */
int http_breaker_failure(http_breaker *b, int64_t now_ms, const char *reason);

/* The probe's call was cancelled before its result: another may go. */
void http_breaker_release_probe(http_breaker *b);

/* Milliseconds until a call may start: 0 now, -1 not by time (a probe is
 * out: its result decides). */
int64_t http_breaker_wait_ms(const http_breaker *b, int64_t now_ms);

#endif
