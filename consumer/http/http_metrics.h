/* The HTTP handler's series (docs/operations.md, "Monitoring"): request
 * duration by outcome, retries, the breaker's state and transitions, and the
 * requests in flight. Every update is a no-op when metrics are off. */
#ifndef OF_CONSUMER_HTTP_METRICS_H
#define OF_CONSUMER_HTTP_METRICS_H

#include <stddef.h>

#include "metrics/metrics.h"

#include "breaker.h"
#include "response.h"

typedef struct http_metrics {
    ofc_metric *duration[HTTP_OUTCOMES]; /* orderflow_handler_request_duration_seconds{outcome} */
    ofc_metric *retries;                 /* orderflow_handler_retries_total */
    ofc_metric *breaker_state;           /* orderflow_handler_breaker_state: 0, 1, 2 */
    ofc_metric *transitions[3];          /* orderflow_handler_breaker_transitions_total{to} */
    ofc_metric *in_flight;               /* orderflow_handler_requests_in_flight */
} http_metrics;

/* Creates the series in registry (NULL: metrics off, every pointer NULL).
 * Returns 0, or -1 with err. */
int http_metrics_init(http_metrics *m, ofc_metrics *registry, char *err, size_t errlen);

void http_metrics_call(const http_metrics *m, http_outcome outcome, double seconds);
void http_metrics_retry(const http_metrics *m);
void http_metrics_breaker(const http_metrics *m, http_breaker_state now, int transition);
void http_metrics_in_flight(const http_metrics *m, size_t running);

#endif
