/* The breaker's states and transitions; the client logs each transition
 * once and sets the gauge from b->state. */
#include <stdio.h>

#include "breaker.h"

const char *http_breaker_state_name(http_breaker_state state)
{
    switch (state) {
    case HTTP_BREAKER_CLOSED:
        return "closed";
    case HTTP_BREAKER_OPEN:
        return "open";
    case HTTP_BREAKER_HALF_OPEN:
        return "half-open";
    }
    return "unknown";
}

void http_breaker_init(http_breaker *b, unsigned threshold, int64_t open_ms)
{
    *b = (http_breaker){.threshold = threshold ? threshold : 1, .open_ms = open_ms};
}

int http_breaker_acquire(http_breaker *b, int64_t now_ms, int *probe, int *changed)
{
    *probe = 0;
    *changed = 0;
    if (b->state == HTTP_BREAKER_CLOSED) return 1;
    if (b->state == HTTP_BREAKER_OPEN) {
        if (now_ms < b->probe_at_ms) return 0;
        b->state = HTTP_BREAKER_HALF_OPEN;
        b->probe_out = 0;
        *changed = 1;
    }
    if (b->probe_out) return 0;
    b->probe_out = 1;
    *probe = 1;
    return 1;
}

int http_breaker_success(http_breaker *b)
{
    b->consecutive = 0;
    b->probe_out = 0;
    if (b->state == HTTP_BREAKER_CLOSED) return 0;
    b->state = HTTP_BREAKER_CLOSED;
    return 1;
}

int http_breaker_failure(http_breaker *b, int64_t now_ms, const char *reason)
{
    if (b->consecutive < UINT32_MAX) b->consecutive++;
    snprintf(b->last_failure, sizeof(b->last_failure), "%s", reason ? reason : "");
    if (b->state == HTTP_BREAKER_OPEN) return 0;
    if (b->state == HTTP_BREAKER_CLOSED && b->consecutive < b->threshold) return 0;
    b->state = HTTP_BREAKER_OPEN;
    b->probe_out = 0;
    b->probe_at_ms = now_ms + b->open_ms;
    return 1;
}

void http_breaker_release_probe(http_breaker *b)
{
    b->probe_out = 0;
}

int64_t http_breaker_wait_ms(const http_breaker *b, int64_t now_ms)
{
    if (b->state == HTTP_BREAKER_CLOSED) return 0;
    if (b->state == HTTP_BREAKER_OPEN) return b->probe_at_ms > now_ms ? b->probe_at_ms - now_ms : 0;
    return b->probe_out ? -1 : 0;
}
