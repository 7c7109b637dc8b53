/* The processing stage's metrics (docs/operations.md, "Monitoring"): the
 * series the loop updates, created once when metrics are on. Every update
 * site checks one pointer, so metrics off costs a branch. */
#ifndef OF_CONSUMER_STAGE_METRICS_H
#define OF_CONSUMER_STAGE_METRICS_H

#include <stdint.h>

#include <librdkafka/rdkafka.h>
#include <orderflow/envelope.h>

#include "config/config.h"
#include "metrics/metrics.h"
#include "metrics/server.h"

typedef enum stage_outcome {
    STAGE_ACCEPTED,
    STAGE_REJECTED,
    STAGE_DUPLICATE,
    STAGE_DEAD_LETTERED,
    STAGE_OUTCOMES
} stage_outcome;

typedef struct stage_metrics {
    ofc_metrics *registry;
    ofc_health *health;
    const char *input_topic;
    ofc_metric *consumed;
    ofc_metric *outcomes[STAGE_OUTCOMES];
    ofc_metric *produced_output;      /* delivered to data-processed */
    ofc_metric *produced_dead_letter; /* delivered to the dead-letter topic */
    ofc_metric *rebalances;
    ofc_metric *trace_invalid; /* inputs whose trace context was ignored */
    ofc_metric *retries;       /* handler calls that answered retry */
    ofc_metric *commit_failures;
    ofc_metric *assigned;
    ofc_metric *restore_seconds;
    ofc_metric *restore_keys;
    ofc_metric *in_flight;
    ofc_metric *broker_up;
    ofc_metric *latency;
    /* From the latest evidence: the last statistics, or an assignment
     * served after them (stage_metrics_broker_answered); 1 until either. */
    int brokers_up;
} stage_metrics;

/* Creates the series in registry. Returns 0, or -1 with err. */
int stage_metrics_init(stage_metrics *sm, ofc_metrics *registry, ofc_health *health,
                       const ofc_config *cfg, char *err, size_t errlen);
/* Takes lag and broker state from a statistics callback's JSON. */
void stage_metrics_statistics(stage_metrics *sm, const char *json, size_t len);
/* The group coordinator has just answered (an assignment was served): a
 * broker is reachable, whatever statistics taken before said. The
 * statistics are a snapshot of librdkafka's connections every second,
 * served in order with the rebalance events; one taken before the
 * consumer connected (librdkafka 2.10.0 and later replace the bootstrap
 * connection with one to the broker id the metadata names) would
 * otherwise keep /readyz at "no broker reachable" after the group was
 * joined, until the next one. */
void stage_metrics_broker_answered(stage_metrics *sm);
/* Milliseconds since the epoch of an event's RFC 3339 time, -1 if not one. */
int64_t stage_event_time_ms(of_str time);

#endif
