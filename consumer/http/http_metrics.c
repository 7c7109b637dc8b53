/* The HTTP handler's series; orderflow_handler_retries_total is the family
 * the processor's stage metrics declare too (the same series: a plugin's
 * retries or the HTTP handler's). */
#include <string.h>

#include "http_metrics.h"

/* A call takes from a millisecond (a local service) to timeout_ms. */
static const double duration_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                          0.25,  0.5,    1,     2.5,  5,     10,   30};
#define DURATION_BUCKETS (sizeof(duration_buckets) / sizeof(duration_buckets[0]))

int http_metrics_init(http_metrics *m, ofc_metrics *registry, char *err, size_t errlen)
{
    memset(m, 0, sizeof(*m));
    if (!registry) return 0;
    for (int i = 0; i < HTTP_OUTCOMES; i++) {
        const char *labels[] = {"outcome", http_outcome_name((http_outcome)i), NULL};
        m->duration[i] = ofc_metrics_series(
            registry, "orderflow_handler_request_duration_seconds",
            "Calls of the HTTP handler by outcome (success, dead_letter, retry, timeout, refused, "
            "reset, error), from the start of the call to its end.",
            OFC_METRIC_HISTOGRAM, labels, duration_buckets, DURATION_BUCKETS, err, errlen);
        if (!m->duration[i]) return -1;
    }
    static const char *const to_names[3] = {"closed", "open", "half_open"};
    for (int i = 0; i < 3; i++) {
        const char *labels[] = {"to", to_names[i], NULL};
        m->transitions[i] = ofc_metrics_series(
            registry, "orderflow_handler_breaker_transitions_total",
            "Transitions of the HTTP handler's circuit breaker, by the state entered.",
            OFC_METRIC_COUNTER, labels, NULL, 0, err, errlen);
        if (!m->transitions[i]) return -1;
    }
    if (!(m->retries = ofc_metrics_series(registry, "orderflow_handler_retries_total",
                                          "Calls of the handler that answered retry (the event is "
                                          "handled again later; its partition waits).",
                                          OFC_METRIC_COUNTER, NULL, NULL, 0, err, errlen)) ||
        !(m->breaker_state = ofc_metrics_series(
              registry, "orderflow_handler_breaker_state",
              "The HTTP handler's circuit breaker: 0 closed, 1 open, 2 half-open.",
              OFC_METRIC_GAUGE, NULL, NULL, 0, err, errlen)) ||
        !(m->in_flight = ofc_metrics_series(registry, "orderflow_handler_requests_in_flight",
                                            "Calls of the HTTP handler running now.",
                                            OFC_METRIC_GAUGE, NULL, NULL, 0, err, errlen)))
        return -1;
    ofc_metric_set(m->breaker_state, 0);
    ofc_metric_set(m->in_flight, 0);
    return 0;
}

void http_metrics_call(const http_metrics *m, http_outcome outcome, double seconds)
{
    if (m->duration[0] && outcome < HTTP_OUTCOMES)
        ofc_metric_observe(m->duration[outcome], seconds);
}

void http_metrics_retry(const http_metrics *m)
{
    if (m->retries) ofc_metric_add(m->retries, 1);
}

void http_metrics_breaker(const http_metrics *m, http_breaker_state now, int transition)
{
    if (!m->breaker_state) return;
    ofc_metric_set(m->breaker_state, (double)now);
    if (transition && (unsigned)now < 3) ofc_metric_add(m->transitions[now], 1);
}

void http_metrics_in_flight(const http_metrics *m, size_t running)
{
    if (m->in_flight) ofc_metric_set(m->in_flight, (double)running);
}
