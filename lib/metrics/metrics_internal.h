/* The registry's lists, shared by registry.c and exposition.c. */
#ifndef OF_METRICS_INTERNAL_H
#define OF_METRICS_INTERNAL_H

#include "metrics/metrics.h"

typedef struct of_metric_family {
    char *name;
    char *help;
    of_metric_type type;
    double bounds[OF_METRIC_MAX_BUCKETS];
    size_t bound_count;
    _Atomic(of_metric *) series;
    _Atomic(struct of_metric_family *) next;
} of_metric_family;

struct of_metrics {
    _Atomic(of_metric_family *) families;
};

#endif
