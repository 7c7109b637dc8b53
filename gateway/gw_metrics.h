/* The gateway's metrics (docs/gateway.md, "Metrics"): requests by route and
 * status, replays, conflicts, latency, requests in flight, keys dropped.
 * Every series is made at start (the registry makes series on its owner
 * thread only), so the HTTP thread only adds to them. */
#ifndef OF_GATEWAY_GW_METRICS_H
#define OF_GATEWAY_GW_METRICS_H

#include <stddef.h>

#include "metrics/metrics.h"

#define GW_ROUTES 4    /* gw_route */
#define GW_STATUSES 13 /* gw_metrics_statuses */

typedef struct gw_metrics {
    ofc_metric *requests[GW_ROUTES][GW_STATUSES];
    ofc_metric *replays;
    ofc_metric *conflicts;    /* 409 in flight and 422 another body */
    ofc_metric *latency;      /* POST /orders, request to answer */
    ofc_metric *in_flight;    /* gauge */
    ofc_metric *keys;         /* gauge: keys remembered */
    ofc_metric *keys_dropped; /* counter-like, set from the store */
} gw_metrics;

/* Returns 0, or -1 with err. */
int gw_metrics_init(gw_metrics *m, ofc_metrics *registry, char *err, size_t errlen);
/* Counts one answered request (route: gw_route). */
void gw_metrics_request(gw_metrics *m, int route, unsigned status);

#endif
