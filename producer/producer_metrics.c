/* The producer's series and what it takes from librdkafka's statistics; the
 * counting itself is in publisher.c and main.c. */
#include <string.h>

#include "kafka/kafka.h"

#include "producer_metrics.h"

/* Seconds from enqueueing an event to its delivery report: linger.ms (5)
 * and a broker round trip when healthy, up to message.timeout.ms when not. */
static const double latency_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                         0.25,  0.5,    1,     2.5,  5,     10,   30};
#define LATENCY_BUCKETS (sizeof(latency_buckets) / sizeof(latency_buckets[0]))

static ofc_metric *outcome(producer_metrics *pm, const char *topic, const char *name, char *err,
                           size_t errlen)
{
    const char *labels[] = {"topic", topic, "outcome", name, NULL};
    return ofc_metrics_series(pm->registry, "orderflow_producer_events_total",
                              "Orders by outcome: delivered, failed (not delivered), skipped "
                              "(bad input, never sent).",
                              OFC_METRIC_COUNTER, labels, NULL, 0, err, errlen);
}

int producer_metrics_init(producer_metrics *pm, ofc_metrics *registry, ofc_health *health,
                          const char *topic, char *err, size_t errlen)
{
    memset(pm, 0, sizeof(*pm));
    pm->registry = registry;
    pm->health = health;
    pm->brokers_up = 1;
    if (!(pm->delivered = outcome(pm, topic, "delivered", err, errlen)) ||
        !(pm->failed = outcome(pm, topic, "failed", err, errlen)) ||
        !(pm->skipped = outcome(pm, topic, "skipped", err, errlen)) ||
        !(pm->queue = ofc_metrics_series(registry, "orderflow_producer_queue_messages",
                                         "Events in librdkafka's queue, not yet acknowledged.",
                                         OFC_METRIC_GAUGE, NULL, NULL, 0, err, errlen)) ||
        !(pm->broker_up = ofc_metrics_series(registry, "orderflow_broker_up",
                                             "1 while a broker connection is up, else 0.",
                                             OFC_METRIC_GAUGE, NULL, NULL, 0, err, errlen)) ||
        !(pm->latency = ofc_metrics_series(
              registry, "orderflow_producer_delivery_latency_seconds",
              "From enqueueing an event to its delivery report (delivered or failed).",
              OFC_METRIC_HISTOGRAM, NULL, latency_buckets, LATENCY_BUCKETS, err, errlen)))
        return -1;
    ofc_metric_set(pm->queue, 0);
    ofc_metric_set(pm->broker_up, 1);
    return 0;
}

void producer_metrics_statistics(producer_metrics *pm, const char *json, size_t len)
{
    char why[256];
    int up = 0;
    if (ofc_kafka_stats_read(json, len, NULL, NULL, &up, why, sizeof(why)) != 0) return;
    pm->brokers_up = up > 0;
    ofc_metric_set(pm->broker_up, up > 0 ? 1 : 0);
    ofc_health_set_unready(pm->health, up > 0 ? NULL : "no broker reachable");
}
