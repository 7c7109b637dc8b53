/* The producer's metrics (docs/operations.md, "Monitoring"): events by
 * outcome, librdkafka's queue depth, delivery latency, broker state. The
 * publisher updates them behind one pointer check, so metrics off costs a
 * branch. */
#ifndef OF_PRODUCER_METRICS_H
#define OF_PRODUCER_METRICS_H

#include <librdkafka/rdkafka.h>

#include "metrics/metrics.h"
#include "metrics/server.h"

typedef struct producer_metrics {
    ofc_metrics *registry;
    ofc_health *health;
    ofc_metric *delivered, *failed, *skipped;
    ofc_metric *queue;
    ofc_metric *latency;
    ofc_metric *broker_up;
    int brokers_up; /* from the last statistics; 1 until they tell */
} producer_metrics;

/* Creates the series in registry. Returns 0, or -1 with err. */
int producer_metrics_init(producer_metrics *pm, ofc_metrics *registry, ofc_health *health,
                          const char *topic, char *err, size_t errlen);
/* Takes the broker state from a statistics callback's JSON and publishes
 * readiness (ready while a broker is up). */
void producer_metrics_statistics(producer_metrics *pm, const char *json, size_t len);

#endif
