#include <stdio.h>

#include "gw_metrics.h"

static const unsigned statuses[GW_STATUSES] = {200, 202, 400, 401, 404, 405, 409,
                                               413, 415, 422, 500, 503, 0};
static const char *const routes[GW_ROUTES] = {"other", "post_orders", "get_order", "endpoint"};

static const double latency_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                        0.25,  0.5,    1,     2.5,  5,     10};

int gw_metrics_init(gw_metrics *m, ofc_metrics *registry, char *err, size_t errlen)
{
    for (int r = 0; r < GW_ROUTES; r++)
        for (int s = 0; s < GW_STATUSES; s++) {
            char status[16];
            if (statuses[s])
                snprintf(status, sizeof(status), "%u", statuses[s]);
            else
                snprintf(status, sizeof(status), "other");
            const char *labels[] = {"route", routes[r], "status", status, NULL};
            m->requests[r][s] = ofc_metrics_series(registry, "orderflow_gateway_requests_total",
                                                   "HTTP requests answered", OFC_METRIC_COUNTER,
                                                   labels, NULL, 0, err, errlen);
            if (!m->requests[r][s]) return -1;
        }
    m->replays = ofc_metrics_series(registry, "orderflow_gateway_replays_total",
                                    "POST /orders answered with the first response of its key",
                                    OFC_METRIC_COUNTER, NULL, NULL, 0, err, errlen);
    m->conflicts = ofc_metrics_series(
        registry, "orderflow_gateway_idempotency_conflicts_total",
        "POST /orders refused for its key: still in flight (409) or another body (422)",
        OFC_METRIC_COUNTER, NULL, NULL, 0, err, errlen);
    m->latency = ofc_metrics_series(
        registry, "orderflow_gateway_request_duration_seconds",
        "POST /orders from the request to its answer", OFC_METRIC_HISTOGRAM, NULL, latency_bounds,
        sizeof(latency_bounds) / sizeof(latency_bounds[0]), err, errlen);
    m->in_flight = ofc_metrics_series(registry, "orderflow_gateway_requests_in_flight",
                                      "POST /orders waiting for Kafka's acknowledgement",
                                      OFC_METRIC_GAUGE, NULL, NULL, 0, err, errlen);
    m->keys = ofc_metrics_series(registry, "orderflow_gateway_idempotency_keys",
                                 "Idempotency keys remembered", OFC_METRIC_GAUGE, NULL, NULL, 0,
                                 err, errlen);
    m->keys_dropped =
        ofc_metrics_series(registry, "orderflow_gateway_idempotency_keys_dropped_total",
                           "Idempotency keys forgotten for room before their retention ended",
                           OFC_METRIC_COUNTER, NULL, NULL, 0, err, errlen);
    if (!m->replays || !m->conflicts || !m->latency || !m->in_flight || !m->keys ||
        !m->keys_dropped)
        return -1;
    return 0;
}

void gw_metrics_request(gw_metrics *m, int route, unsigned status)
{
    if (!m->requests[0][0] || route < 0 || route >= GW_ROUTES) return;
    int s = 0;
    while (s < GW_STATUSES - 1 && statuses[s] != status)
        s++;
    ofc_metric_add(m->requests[route][s], 1);
}
